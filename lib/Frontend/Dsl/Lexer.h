//===- Lexer.h - tokens of the cnnc model DSL -------------------*- C++ -*-===//
//
// The DSL is line oriented like Python: a line break ends a statement, so the
// lexer returns line breaks as tokens (the parser skips them inside argument
// lists, which may span lines). Malformed input (a stray character, an
// unterminated string, `5x5` where a number was meant) becomes an Error token
// with a message, so the parser reports it at the right column and goes on.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_LIB_FRONTEND_DSL_LEXER_H
#define CNNC_LIB_FRONTEND_DSL_LEXER_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SMLoc.h"

#include <string>

namespace cnnc {
namespace dsl {

enum class TokenKind {
  Eof,
  Newline,
  Identifier,
  Integer,
  Float,
  String,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Equal,
  Colon,
  Dot,
  Minus,
  Question,
  Error,
};

struct Token {
  TokenKind kind = TokenKind::Eof;
  /// The characters of the token; for Newline and Eof an empty range at the
  /// end of the line's last token, where a missing `)` belongs.
  llvm::StringRef spelling;
  /// For Error tokens: what is wrong.
  std::string message;

  bool is(TokenKind k) const { return kind == k; }
  bool isIdentifier(llvm::StringRef name) const {
    return kind == TokenKind::Identifier && spelling == name;
  }
  llvm::SMLoc getLoc() const {
    return llvm::SMLoc::getFromPointer(spelling.data());
  }
  /// The token's spelling for messages: `')'`, `end of line`, ...
  std::string describe() const;
};

class Lexer {
public:
  /// `buffer` must stay alive and be NUL-terminated (llvm::MemoryBuffer is).
  explicit Lexer(llvm::StringRef buffer);

  Token next();

private:
  Token make(TokenKind kind, const char *start);
  Token makeError(const char *start, const char *end, std::string message);
  Token lexNumber(const char *start);
  Token lexString(const char *start);
  void skipSpaceAndComments();

  llvm::StringRef buffer;
  const char *cur;
  /// End of the previous non-newline token: a Newline token is placed there
  /// so "expected ')'" points at the end of the code, not of a comment.
  const char *lastTokenEnd;
  bool lastWasNewline = true;
};

} // namespace dsl
} // namespace cnnc

#endif // CNNC_LIB_FRONTEND_DSL_LEXER_H
