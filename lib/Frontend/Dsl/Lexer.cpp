//===- Lexer.cpp - tokens of the cnnc model DSL ---------------------------===//
#include "Lexer.h"

#include "llvm/ADT/StringExtras.h"

using namespace cnnc::dsl;

std::string Token::describe() const {
  switch (kind) {
  case TokenKind::Eof:
    return "end of file";
  case TokenKind::Newline:
    return "end of line";
  case TokenKind::String:
    return "string " + spelling.str();
  case TokenKind::Error:
    return "invalid input";
  default:
    return "'" + spelling.str() + "'";
  }
}

Lexer::Lexer(llvm::StringRef buffer)
    : buffer(buffer), cur(buffer.begin()), lastTokenEnd(buffer.begin()) {
  // Some editors start UTF-8 files with a byte order mark.
  if (buffer.startswith("\xEF\xBB\xBF"))
    cur = lastTokenEnd = buffer.begin() + 3;
}

static bool isIdentStart(char c) { return llvm::isAlpha(c) || c == '_'; }
static bool isIdentChar(char c) { return llvm::isAlnum(c) || c == '_'; }

void Lexer::skipSpaceAndComments() {
  while (cur < buffer.end()) {
    char c = *cur;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      ++cur;
    } else if (c == '#') {
      while (cur < buffer.end() && *cur != '\n')
        ++cur;
    } else if (c == '\\' && cur + 1 < buffer.end() && cur[1] == '\n') {
      // Python's explicit line continuation.
      cur += 2;
    } else {
      return;
    }
  }
}

Token Lexer::make(TokenKind kind, const char *start) {
  Token tok;
  tok.kind = kind;
  tok.spelling = llvm::StringRef(start, cur - start);
  lastTokenEnd = cur;
  lastWasNewline = false;
  return tok;
}

Token Lexer::makeError(const char *start, const char *end,
                       std::string message) {
  cur = end;
  Token tok = make(TokenKind::Error, start);
  tok.message = std::move(message);
  return tok;
}

Token Lexer::next() {
  while (true) {
    skipSpaceAndComments();
    if (cur >= buffer.end()) {
      // Every statement ends with a line break, even on a last line without
      // one; then Eof, at the end of the last token (where a truncated file
      // is missing something).
      Token tok;
      tok.kind = lastWasNewline ? TokenKind::Eof : TokenKind::Newline;
      tok.spelling = llvm::StringRef(lastTokenEnd, 0);
      lastWasNewline = true;
      return tok;
    }
    if (*cur == '\n') {
      ++cur;
      if (lastWasNewline)
        continue; // Blank lines are not statements.
      lastWasNewline = true;
      Token tok;
      tok.kind = TokenKind::Newline;
      tok.spelling = llvm::StringRef(lastTokenEnd, 0);
      return tok;
    }
    break;
  }

  const char *start = cur;
  char c = *cur++;
  switch (c) {
  case '(':
    return make(TokenKind::LParen, start);
  case ')':
    return make(TokenKind::RParen, start);
  case '[':
    return make(TokenKind::LBracket, start);
  case ']':
    return make(TokenKind::RBracket, start);
  case '{':
    return make(TokenKind::LBrace, start);
  case '}':
    return make(TokenKind::RBrace, start);
  case ',':
    return make(TokenKind::Comma, start);
  case '=':
    return make(TokenKind::Equal, start);
  case ':':
    return make(TokenKind::Colon, start);
  case '.':
    if (cur < buffer.end() && llvm::isDigit(*cur))
      return lexNumber(start);
    return make(TokenKind::Dot, start);
  case '-':
    return make(TokenKind::Minus, start);
  case '?':
    return make(TokenKind::Question, start);
  case '"':
    return lexString(start);
  default:
    break;
  }
  if (llvm::isDigit(c))
    return lexNumber(start);
  if (isIdentStart(c)) {
    while (cur < buffer.end() && isIdentChar(*cur))
      ++cur;
    return make(TokenKind::Identifier, start);
  }
  // Show unprintable bytes (a binary file given by mistake) as hex.
  std::string shown = llvm::isPrint(c)
                          ? std::string("'") + c + "'"
                          : "byte 0x" + llvm::utohexstr((unsigned char)c);
  return makeError(start, cur, "unexpected character " + shown);
}

Token Lexer::lexNumber(const char *start) {
  cur = start;
  bool isFloat = false;
  auto digits = [&] {
    const char *begin = cur;
    while (cur < buffer.end() && llvm::isDigit(*cur))
      ++cur;
    return cur != begin;
  };
  digits();
  if (cur < buffer.end() && *cur == '.') {
    ++cur;
    isFloat = true;
    digits();
  }
  bool badExponent = false;
  if (cur < buffer.end() && (*cur == 'e' || *cur == 'E')) {
    const char *save = cur++;
    if (cur < buffer.end() && (*cur == '+' || *cur == '-'))
      ++cur;
    if (digits())
      isFloat = true;
    else if (cur < buffer.end() && isIdentChar(*cur))
      cur = save; // `5e` followed by letters: reported below as a whole.
    else
      badExponent = true;
  }
  // A number glued to letters or more dots (`5x5`, `1.2.3`, `3e`) is one bad
  // token rather than a number followed by a name: that is what was meant.
  if (badExponent ||
      (cur < buffer.end() && (isIdentChar(*cur) || *cur == '.'))) {
    while (cur < buffer.end() && (isIdentChar(*cur) || *cur == '.'))
      ++cur;
    llvm::StringRef text(start, cur - start);
    std::string hint;
    if (text.contains('x') && !text.contains('.'))
      hint = " (write a pair as (5, 5))";
    return makeError(start, cur, "invalid number '" + text.str() + "'" + hint);
  }
  return make(isFloat ? TokenKind::Float : TokenKind::Integer, start);
}

Token Lexer::lexString(const char *start) {
  while (cur < buffer.end()) {
    char c = *cur;
    if (c == '"') {
      ++cur;
      return make(TokenKind::String, start);
    }
    if (c == '\n')
      break;
    if (c == '\\' && cur + 1 < buffer.end() && cur[1] != '\n')
      ++cur;
    ++cur;
  }
  return makeError(start, cur,
                   "unterminated string: expected '\"' before the end of the "
                   "line");
}
