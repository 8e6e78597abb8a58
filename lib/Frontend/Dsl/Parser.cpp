//===- Parser.cpp - recursive-descent parser of the cnnc model DSL --------===//
//
// The grammar is in docs/dsl.md. Each statement sits on its own line, so
// after an error the parser skips to the next line and goes on: one run
// reports the independent mistakes of a file, up to a limit. The parser
// checks syntax and literal values; names, shapes and groups are the
// ModelBuilder's job.
//
//===----------------------------------------------------------------------===//
#include "Lexer.h"
#include "ModelBuilder.h"

#include "cnnc/Dialect/CNN/CNNDialect.h"
#include "cnnc/Frontend/DslParser.h"
#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cmath>
#include <cstdlib>

using namespace mlir;
using namespace cnnc;
using namespace cnnc::dsl;

static const char *const kStatementHelp =
    "a layer 'NAME = op(...)' or one of model, input, output, group, train";
static const llvm::StringRef kStatementKeywords[] = {"model", "input", "output",
                                                     "group", "train"};
static const llvm::StringRef kPlanKeywords[] = {
    "loss", "optimizer", "lr", "epochs", "batch", "unfreeze"};
/// Deeper lists than this are no model's and would only risk the stack.
static constexpr int kMaxListDepth = 4;
/// Largest input dimension (as int32 indexing in generated code).
static constexpr int64_t kMaxDimension = (int64_t(1) << 31) - 1;

namespace {

class Parser {
public:
  Parser(DiagReporter &diag, ModelBuilder &model, llvm::StringRef buffer)
      : diag(diag), model(model), lexer(buffer) {
    consume();
  }

  /// Parses the whole file; returns where it ended (for "missing" errors).
  llvm::SMLoc parseFile();

private:
  //===--- Tokens ---------------------------------------------------------===//
  void consume() {
    lastWasNewline = tok.is(TokenKind::Newline);
    tok = lexer.next();
    // A bad character or number is reported once, where it is; the parser
    // then meets a token that fits nowhere and recovers.
    if (tok.is(TokenKind::Error))
      diag.error(tok.getLoc()) << tok.message;
  }
  /// The token after the current one, without reporting lexer errors twice.
  Token peekNext() const {
    Lexer copy = lexer;
    return copy.next();
  }
  bool consumeIf(TokenKind kind) {
    if (!tok.is(kind))
      return false;
    consume();
    return true;
  }
  void skipNewlines() {
    while (tok.is(TokenKind::Newline))
      consume();
  }
  /// Reports "expected X, got Y" at the current token, unless the lexer has
  /// already reported that token as invalid.
  bool expected(const llvm::Twine &what) {
    if (!tok.is(TokenKind::Error))
      diag.error(tok.getLoc())
          << "expected " << what << ", got " << tok.describe();
    return false;
  }
  bool expect(TokenKind kind, const llvm::Twine &what) {
    if (consumeIf(kind))
      return true;
    return expected(what);
  }
  bool parseName(Name &name, const llvm::Twine &what) {
    if (!tok.is(TokenKind::Identifier))
      return expected(what);
    name.text = tok.spelling.str();
    name.loc = tok.getLoc();
    consume();
    return true;
  }
  /// Skips the rest of the statement that started at `start` after an
  /// error. Stops before a `}` that may close the enclosing block, and does
  /// not skip at all when the error was found at the start of a later line
  /// (a missing `)` at the end of a line must not swallow the statement on
  /// the next one).
  void recover(const char *start) {
    if (lastWasNewline && !tok.is(TokenKind::Newline) &&
        tok.spelling.data() != start)
      return;
    while (!tok.is(TokenKind::Newline) && !tok.is(TokenKind::Eof) &&
           !(blockDepth > 0 && tok.is(TokenKind::RBrace)))
      consume();
    consumeIf(TokenKind::Newline);
  }
  /// A statement ends at a line break, or at the `}` of its block.
  bool parseEndOfStatement(const llvm::Twine &what) {
    if (consumeIf(TokenKind::Newline) ||
        (blockDepth > 0 && tok.is(TokenKind::RBrace)))
      return true;
    return expected("end of line after " + what);
  }

  //===--- Statements -----------------------------------------------------===//
  bool parseStatement(bool inGroup);
  bool parseModel();
  bool parseInput();
  bool parseOutput();
  bool parseGroup(bool inGroup);
  bool parseLayer();
  bool parseTrain();
  /// `{ item* }`, each item on its own line; recovers inside the block.
  bool parseBlock(llvm::SMLoc keywordLoc, const llvm::Twine &what,
                  llvm::function_ref<bool()> parseItem);

  //===--- Values ---------------------------------------------------------===//
  /// `callee(args)`; with `parensOptional`, a bare `callee` is a call
  /// without arguments.
  bool parseCall(Call &call, const llvm::Twine &calleeWhat,
                 bool parensOptional = false);
  bool parseValue(ArgValue &value, const llvm::Twine &what, int depth = 0);
  bool parseNumber(ArgValue &value, const llvm::Twine &what);

  //===--- Training plan --------------------------------------------------===//
  bool parsePlanItem();
  bool parsePlanNumber(double &out, double min, const llvm::Twine &what);
  bool parsePlanInteger(int64_t &out, llvm::SMLoc &loc, int64_t min,
                        const llvm::Twine &what);
  bool applyOptimizer(const Call &call);

  DiagReporter &diag;
  ModelBuilder &model;
  Lexer lexer;
  Token tok;
  bool lastWasNewline = true;
  int blockDepth = 0;
  /// The plan being read, and the settings it has given so far.
  TrainPlan *plan = nullptr;
  llvm::StringMap<llvm::SMLoc> planKeys;
};

} // namespace

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

llvm::SMLoc Parser::parseFile() {
  skipNewlines();
  if (tok.is(TokenKind::Eof)) {
    diag.error(tok.getLoc())
        << "the file is empty: expected a model, starting with a line "
           "'input NAME: [N, C, H, W]' (see docs/dsl.md)";
    return tok.getLoc();
  }
  while (!tok.is(TokenKind::Eof) && !diag.tooManyErrors()) {
    if (tok.is(TokenKind::RBrace)) {
      diag.error(tok.getLoc())
          << "unexpected '}' (no block is open): expected " << kStatementHelp;
      const char *start = tok.spelling.data();
      consume();
      recover(start);
    } else {
      const char *start = tok.spelling.data();
      if (!parseStatement(/*inGroup=*/false))
        recover(start);
    }
    skipNewlines();
  }
  if (diag.tooManyErrors())
    emitError(diag.getLoc(tok.getLoc())) << "too many errors, stopping here";
  return tok.getLoc();
}

bool Parser::parseStatement(bool inGroup) {
  if (!tok.is(TokenKind::Identifier))
    return expected(kStatementHelp);
  // Keywords are keywords only at the start of a statement and only when no
  // `=` follows, so a layer may be called `output` (as LeNet-5's last one).
  Token next = peekNext();
  if (next.is(TokenKind::Equal))
    return parseLayer();
  llvm::StringRef word = tok.spelling;
  if (word == "group")
    return parseGroup(inGroup);
  if (llvm::is_contained(kStatementKeywords, word)) {
    if (inGroup) {
      diag.error(tok.getLoc())
          << "'" << word
          << "' cannot appear inside a group: expected a layer 'NAME = "
             "op(...)' or '}'";
      return false;
    }
    if (word == "model")
      return parseModel();
    if (word == "input")
      return parseInput();
    if (word == "output")
      return parseOutput();
    return parseTrain();
  }
  std::string hint = closestMatch(word, kStatementKeywords);
  auto d = diag.error(tok.getLoc());
  if (!hint.empty()) {
    d << "unknown statement '" << word << "': expected " << kStatementHelp
      << " (did you mean '" << hint << "'?)";
  } else {
    d << "expected '=' after '" << word << "' (a layer is written 'NAME = "
      << "op(...)'), or a statement: model, input, output, group, train";
  }
  return false;
}

bool Parser::parseModel() {
  consume(); // model
  Name name;
  if (!parseName(name, "the model's name after 'model'"))
    return false;
  model.setModelName(name);
  return parseEndOfStatement("the model's name");
}

/// `input NAME: [N, 1, 28, 28]`; N or ? is a dynamic (batch) dimension.
bool Parser::parseInput() {
  consume(); // input
  Name name;
  if (!parseName(name, "the input's name after 'input'") ||
      !expect(TokenKind::Colon, "':' and the shape after the input's name, "
                                "e.g. 'input image: [N, 1, 28, 28]'") ||
      !expect(TokenKind::LBracket,
              "'[' to start the shape of input '" + name.text + "'"))
    return false;
  SmallVector<int64_t, 4> shape;
  while (true) {
    if (tok.is(TokenKind::Question) || tok.isIdentifier("N")) {
      shape.push_back(ShapedType::kDynamicSize);
      consume();
    } else if (tok.is(TokenKind::Integer)) {
      int64_t d;
      if (tok.spelling.getAsInteger(10, d) || d < 1 || d > kMaxDimension) {
        diag.error(tok.getLoc())
            << "dimension " << tok.spelling << " of input '" << name.text
            << "' is out of range: expected a size from 1 to " << kMaxDimension;
        return false;
      }
      shape.push_back(d);
      consume();
    } else {
      return expected("a size or N (the batch size) in the shape of input '" +
                      name.text + "'");
    }
    if (consumeIf(TokenKind::RBracket))
      break;
    if (!expect(TokenKind::Comma,
                "',' or ']' in the shape of input '" + name.text + "'"))
      return false;
  }
  if (shape.size() > 8) {
    diag.error(name.loc) << "input '" << name.text << "' has " << shape.size()
                         << " dimensions: expected at most 8";
    return false;
  }
  model.addInput(name, shape);
  return parseEndOfStatement("the shape of input '" + name.text + "'");
}

/// `output VALUE` or `output NAME = VALUE`.
bool Parser::parseOutput() {
  consume(); // output
  Name name;
  if (!parseName(name, "the name of the value to output after 'output'"))
    return false;
  Name value = name;
  if (consumeIf(TokenKind::Equal) &&
      !parseName(value, "the name of the value to output after '='"))
    return false;
  model.addOutput(name, value);
  return parseEndOfStatement("output '" + name.text + "'");
}

/// `group NAME [frozen] { layers }` or
/// `group NAME [frozen] = backbone.group, ...`.
bool Parser::parseGroup(bool inGroup) {
  llvm::SMLoc keywordLoc = tok.getLoc();
  if (inGroup)
    diag.error(keywordLoc) << "groups cannot be nested: expected '}' to "
                              "close the enclosing group first";
  consume(); // group
  Name name;
  if (!parseName(name, "the group's name after 'group'"))
    return false;
  bool frozen = false;
  if (tok.isIdentifier("frozen")) {
    frozen = true;
    consume();
  }
  if (!inGroup && consumeIf(TokenKind::Equal)) {
    std::vector<std::pair<Name, Name>> members;
    do {
      Name backbone, group;
      if (!parseName(backbone, "a backbone group 'BACKBONE.GROUP' (e.g. "
                               "features.conv1)") ||
          !expect(TokenKind::Dot, "'.' and a group name after backbone '" +
                                      backbone.text + "'") ||
          !parseName(group, "a group name after '" + backbone.text + ".'"))
        return false;
      members.emplace_back(backbone, group);
    } while (consumeIf(TokenKind::Comma));
    model.adoptGroups(name, frozen, members);
    return parseEndOfStatement("the groups of '" + name.text + "'");
  }
  if (!tok.is(TokenKind::LBrace))
    return expected("'{' to start the layers of group '" + name.text +
                    "', or '=' to take in backbone groups");
  // A nested group is parsed (to keep the braces balanced) as part of the
  // enclosing one.
  if (!inGroup)
    model.beginGroupBlock(name, frozen);
  bool ok = parseBlock(keywordLoc, "group '" + name.text + "'",
                       [&] { return parseStatement(/*inGroup=*/true); });
  if (!inGroup)
    model.endGroupBlock();
  return ok && !inGroup;
}

bool Parser::parseBlock(llvm::SMLoc keywordLoc, const llvm::Twine &what,
                        llvm::function_ref<bool()> parseItem) {
  std::string name = what.str();
  consume(); // {
  ++blockDepth;
  while (true) {
    skipNewlines();
    if (tok.is(TokenKind::RBrace))
      break;
    if (tok.is(TokenKind::Eof) || diag.tooManyErrors()) {
      --blockDepth;
      if (tok.is(TokenKind::Eof)) {
        auto d = diag.error(tok.getLoc());
        d << "expected '}' to close " << name << " before the end of the file";
        d.attachNote(diag.getLoc(keywordLoc)) << name << " starts here";
      }
      return false;
    }
    const char *start = tok.spelling.data();
    if (!parseItem())
      recover(start);
  }
  --blockDepth;
  consume(); // }
  return parseEndOfStatement("'}' of " + name);
}

/// `NAME = op(inputs..., key=value...)`.
bool Parser::parseLayer() {
  Name name;
  parseName(name, "a layer name");
  consume(); // =
  Call call;
  if (!parseCall(call, "a layer type after '" + name.text +
                           " =', e.g. conv2d(...)")) {
    // Later uses of the name fail quietly rather than as "undefined".
    model.poisonName(name);
    return false;
  }
  model.addLayer(name, call);
  return parseEndOfStatement("layer '" + name.text + "'");
}

//===----------------------------------------------------------------------===//
// Calls and values
//===----------------------------------------------------------------------===//

bool Parser::parseCall(Call &call, const llvm::Twine &calleeWhat,
                       bool parensOptional) {
  if (!parseName(call.callee, calleeWhat))
    return false;
  const std::string &callee = call.callee.text;
  if (parensOptional && !tok.is(TokenKind::LParen)) {
    call.closeLoc = call.callee.loc;
    return true;
  }
  if (!expect(TokenKind::LParen, "'(' after '" + callee + "'"))
    return false;
  skipNewlines();
  llvm::SMLoc misplaced;
  while (!tok.is(TokenKind::RParen)) {
    if (tok.is(TokenKind::Identifier) && peekNext().is(TokenKind::Equal)) {
      KeywordArg kw;
      parseName(kw.key, "");
      consume(); // =
      skipNewlines();
      if (!parseValue(kw.value, "a value for '" + kw.key.text + "'"))
        return false;
      call.keywords.push_back(std::move(kw));
    } else {
      ArgValue value;
      if (!parseValue(value, "an argument of " + callee + " or ')'"))
        return false;
      if (!call.keywords.empty())
        misplaced = value.loc;
      call.positional.push_back(std::move(value));
    }
    // Arguments may continue on the next line; a line that ends without
    // `,` or `)` is the usual way to forget the `)`, so that is reported at
    // the end of that line.
    Token lineEnd = tok;
    skipNewlines();
    bool separated = tok.is(TokenKind::Comma) || tok.is(TokenKind::RParen);
    if (!separated &&
        (lineEnd.is(TokenKind::Newline) || tok.is(TokenKind::Eof))) {
      diag.error(lineEnd.getLoc())
          << "expected ')' after arguments of " << callee;
      return false;
    }
    if (!separated)
      return expected("',' or ')' after an argument of " + callee);
    // Reported only now: a truncated `key=val` reads as a positional `key`.
    if (misplaced.isValid()) {
      diag.error(misplaced) << "positional argument after keyword "
                               "arguments: expected key=value (inputs come "
                               "first)";
      return false;
    }
    if (tok.is(TokenKind::RParen))
      break;
    consume(); // ,
    skipNewlines();
  }
  call.closeLoc = tok.getLoc();
  consume(); // )
  return true;
}

bool Parser::parseNumber(ArgValue &value, const llvm::Twine &what) {
  value.loc = tok.getLoc(); // at the '-' of a negative number
  bool negative = consumeIf(TokenKind::Minus);
  if (!tok.is(TokenKind::Integer) && !tok.is(TokenKind::Float))
    return expected(negative ? llvm::Twine("a number after '-'") : what);
  if (tok.is(TokenKind::Integer)) {
    uint64_t magnitude;
    if (tok.spelling.getAsInteger(10, magnitude) ||
        magnitude > uint64_t(INT64_MAX)) {
      diag.error(tok.getLoc())
          << "integer " << tok.spelling << " is too large: expected at most "
          << INT64_MAX;
      return false;
    }
    value.kind = ArgValue::Kind::Integer;
    value.intValue = negative ? -int64_t(magnitude) : int64_t(magnitude);
    value.floatValue = double(value.intValue);
  } else {
    // strtod needs a terminated string; the token is a slice of the file.
    std::string text = tok.spelling.str();
    double x = std::strtod(text.c_str(), nullptr);
    if (!std::isfinite(x)) {
      diag.error(tok.getLoc()) << "number " << tok.spelling
                               << " is out of range: expected a finite value";
      return false;
    }
    value.kind = ArgValue::Kind::Float;
    value.floatValue = negative ? -x : x;
  }
  consume();
  return true;
}

bool Parser::parseValue(ArgValue &value, const llvm::Twine &what, int depth) {
  value.loc = tok.getLoc();
  switch (tok.kind) {
  case TokenKind::Integer:
  case TokenKind::Float:
  case TokenKind::Minus:
    return parseNumber(value, what);
  case TokenKind::Identifier:
    value.kind = ArgValue::Kind::Identifier;
    value.text = tok.spelling.str();
    consume();
    return true;
  case TokenKind::String: {
    value.kind = ArgValue::Kind::String;
    llvm::StringRef body = tok.spelling.drop_front().drop_back();
    for (size_t i = 0; i < body.size(); ++i) {
      if (body[i] == '\\' && i + 1 < body.size())
        ++i;
      value.text.push_back(body[i]);
    }
    consume();
    return true;
  }
  case TokenKind::LParen:
  case TokenKind::LBracket: {
    TokenKind close =
        tok.is(TokenKind::LParen) ? TokenKind::RParen : TokenKind::RBracket;
    const char *closeText = close == TokenKind::RParen ? "')'" : "']'";
    if (depth >= kMaxListDepth) {
      diag.error(tok.getLoc()) << "lists nest too deeply: expected at most "
                               << kMaxListDepth << " levels";
      return false;
    }
    consume();
    value.kind = ArgValue::Kind::List;
    skipNewlines();
    while (!tok.is(close)) {
      ArgValue element;
      if (!parseValue(element, llvm::Twine("a list element or ") + closeText,
                      depth + 1))
        return false;
      value.elements.push_back(std::move(element));
      skipNewlines();
      if (!consumeIf(TokenKind::Comma)) {
        if (!tok.is(close))
          return expected(llvm::Twine("',' or ") + closeText + " in a list");
        break;
      }
      skipNewlines();
    }
    consume(); // ) or ]
    return true;
  }
  default:
    return expected(what);
  }
}

//===----------------------------------------------------------------------===//
// Training plan
//===----------------------------------------------------------------------===//

bool Parser::parseTrain() {
  llvm::SMLoc loc = tok.getLoc();
  consume(); // train
  TrainPlan &modelPlan = model.getTrainPlan();
  // A second plan is reported and then read into a scratch plan, so that
  // its lines do not add errors of their own.
  TrainPlan scratch;
  bool duplicate = modelPlan.present;
  if (duplicate) {
    auto d = diag.error(loc);
    d << "the training plan is already given: expected one 'train' block";
    d.attachNote(diag.getLoc(modelPlan.loc)) << "the first 'train' block";
  }
  plan = duplicate ? &scratch : &modelPlan;
  planKeys.clear();
  plan->present = true;
  plan->loc = loc;
  if (!tok.is(TokenKind::LBrace))
    return expected("'{' after 'train'");
  bool ok =
      parseBlock(loc, "the training plan", [&] { return parsePlanItem(); });
  plan = &modelPlan;
  if (!ok || duplicate)
    return false;
  // Settings given with a wrong value were reported where they are.
  static const char *const required[][2] = {
      {"loss", "'loss = cross_entropy' or 'loss = mse'"},
      {"optimizer", "'optimizer = sgd', 'adam' or 'adamw'"},
      {"lr", "a base learning rate such as 'lr = 0.001'"}};
  for (auto &setting : required)
    if (!planKeys.count(setting[0]))
      diag.error(loc) << "the training plan has no " << setting[0]
                      << ": expected " << setting[1];
  return true;
}

bool Parser::parsePlanNumber(double &out, double min, const llvm::Twine &what) {
  ArgValue v;
  if (!parseNumber(v, what))
    return false;
  if (!(v.floatValue >= min)) {
    diag.error(v.loc) << "expected " << what << " of at least "
                      << formatNumber(min) << ", got "
                      << formatNumber(v.floatValue);
    return false;
  }
  out = v.floatValue;
  return true;
}

bool Parser::parsePlanInteger(int64_t &out, llvm::SMLoc &loc, int64_t min,
                              const llvm::Twine &what) {
  ArgValue v;
  if (!parseNumber(v, what))
    return false;
  loc = v.loc;
  if (v.kind != ArgValue::Kind::Integer || v.intValue < min ||
      v.intValue > kMaxDimension) {
    diag.error(v.loc) << "expected " << what << " (an integer of at least "
                      << min << "), got " << v.describe();
    return false;
  }
  out = v.intValue;
  return true;
}

bool Parser::parsePlanItem() {
  TrainPlan &plan = *this->plan;
  Name key;
  if (!parseName(key, "a training setting: loss, optimizer, lr, epochs, "
                      "batch or unfreeze"))
    return false;
  if (!llvm::is_contained(kPlanKeywords, key.text)) {
    auto d = diag.error(key.loc);
    d << "unknown training setting '" << key.text
      << "': expected loss, optimizer, lr, epochs, batch or unfreeze";
    std::string hint = closestMatch(key.text, kPlanKeywords);
    if (!hint.empty())
      d << " (did you mean '" << hint << "'?)";
    return false;
  }

  // lr GROUP = 1e-4
  if (key.text == "lr" && tok.is(TokenKind::Identifier)) {
    TrainPlan::GroupLr entry;
    parseName(entry.group, "");
    if (!expect(TokenKind::Equal, "'=' after 'lr " + entry.group.text + "'") ||
        !parsePlanNumber(entry.lr, 0.0, "a learning rate"))
      return false;
    plan.groupLrs.push_back(entry);
    return parseEndOfStatement("the learning rate");
  }
  // unfreeze GROUP, GROUP at epoch 6
  if (key.text == "unfreeze") {
    std::vector<Name> names;
    do {
      Name group;
      if (!parseName(group, "a group name after 'unfreeze'"))
        return false;
      names.push_back(group);
    } while (consumeIf(TokenKind::Comma));
    if (!tok.isIdentifier("at"))
      return expected("'at epoch N' after the groups to unfreeze");
    consume();
    if (!tok.isIdentifier("epoch"))
      return expected("'epoch' after 'at'");
    consume();
    int64_t epoch;
    llvm::SMLoc epochLoc;
    if (!parsePlanInteger(epoch, epochLoc, 1, "an epoch number"))
      return false;
    for (Name &group : names)
      plan.unfreezes.push_back({group, epoch, epochLoc});
    return parseEndOfStatement("the unfreeze epoch");
  }

  auto seen = planKeys.try_emplace(key.text, key.loc);
  if (!seen.second) {
    auto d = diag.error(key.loc);
    d << "'" << key.text << "' is already set: expected it once";
    d.attachNote(diag.getLoc(seen.first->second)) << "first set here";
    return false;
  }
  if (!expect(TokenKind::Equal, "'=' after '" + key.text + "'"))
    return false;

  if (key.text == "loss") {
    Name loss;
    if (!parseName(loss, "a loss: cross_entropy or mse"))
      return false;
    if (loss.text != "cross_entropy" && loss.text != "mse") {
      diag.error(loss.loc) << "unknown loss '" << loss.text
                           << "': expected cross_entropy or mse";
      return false;
    }
    plan.loss = loss.text;
  } else if (key.text == "optimizer") {
    Call call;
    if (!parseCall(call, "an optimizer: sgd, adam or adamw",
                   /*parensOptional=*/true) ||
        !applyOptimizer(call))
      return false;
  } else if (key.text == "lr") {
    double lr;
    if (!parsePlanNumber(lr, 0.0, "a learning rate"))
      return false;
    plan.lr = lr;
  } else if (key.text == "epochs") {
    int64_t n;
    llvm::SMLoc loc;
    if (!parsePlanInteger(n, loc, 1, "a number of epochs"))
      return false;
    plan.epochs = n;
  } else {
    int64_t n;
    llvm::SMLoc loc;
    if (!parsePlanInteger(n, loc, 1, "a batch size"))
      return false;
    plan.batch = n;
  }
  return parseEndOfStatement("'" + key.text + "'");
}

/// `sgd(momentum=0.9, nesterov=true, weight_decay=1e-4)`,
/// `adam(betas=(0.9, 0.999), eps=1e-8, weight_decay=0)`, `adamw(...)`.
bool Parser::applyOptimizer(const Call &call) {
  TrainPlan &plan = *this->plan;
  const std::string &name = call.callee.text;
  bool isSgd = name == "sgd";
  if (!isSgd && name != "adam" && name != "adamw") {
    diag.error(call.callee.loc)
        << "unknown optimizer '" << name << "': expected sgd, adam or adamw";
    return false;
  }
  if (!call.positional.empty()) {
    diag.error(call.positional[0].loc)
        << "expected keyword arguments for " << name << ", e.g. "
        << (isSgd ? "momentum=0.9" : "betas=(0.9, 0.999)");
    return false;
  }
  plan.optimizer = name;
  bool ok = true;
  llvm::StringMap<bool> seen;
  auto number = [&](const KeywordArg &kw, double min, double max,
                    bool maxOpen) -> llvm::Optional<double> {
    const ArgValue &v = kw.value;
    if (!v.isNumber() || !(v.floatValue >= min) ||
        !(maxOpen ? v.floatValue < max : v.floatValue <= max)) {
      diag.error(v.loc) << "expected a number in [" << formatNumber(min) << ", "
                        << formatNumber(max) << (maxOpen ? ")" : "]")
                        << " for '" << kw.key.text << "', got " << v.describe();
      ok = false;
      return llvm::None;
    }
    return v.floatValue;
  };
  for (const KeywordArg &kw : call.keywords) {
    const std::string &k = kw.key.text;
    if (!seen.try_emplace(k, true).second) {
      diag.error(kw.key.loc) << "'" << k << "' is given twice";
      ok = false;
      continue;
    }
    if (k == "weight_decay") {
      plan.weightDecay = number(kw, 0.0, 1.0, false);
    } else if (isSgd && k == "momentum") {
      plan.momentum = number(kw, 0.0, 1.0, true);
    } else if (isSgd && k == "nesterov") {
      if (!kw.value.isBool()) {
        diag.error(kw.value.loc) << "expected true or false for 'nesterov', "
                                    "got "
                                 << kw.value.describe();
        ok = false;
      }
      plan.nesterov = kw.value.text == "true";
    } else if (!isSgd && (k == "beta1" || k == "beta2")) {
      (k == "beta1" ? plan.beta1 : plan.beta2) = number(kw, 0.0, 1.0, true);
    } else if (!isSgd && k == "betas") {
      const ArgValue &v = kw.value;
      if (v.kind != ArgValue::Kind::List || v.elements.size() != 2) {
        diag.error(v.loc) << "expected a pair (beta1, beta2) for 'betas', got "
                          << v.describe();
        ok = false;
        continue;
      }
      KeywordArg b1{kw.key, v.elements[0]}, b2{kw.key, v.elements[1]};
      plan.beta1 = number(b1, 0.0, 1.0, true);
      plan.beta2 = number(b2, 0.0, 1.0, true);
    } else if (!isSgd && k == "eps") {
      plan.eps = number(kw, 1e-30, 1.0, false);
    } else {
      diag.error(kw.key.loc)
          << "unknown argument '" << k << "' of " << name << ": expected "
          << (isSgd ? "momentum, nesterov or weight_decay"
                    : "betas, beta1, beta2, eps or weight_decay");
      ok = false;
    }
  }
  // As torch.optim.SGD: Nesterov momentum needs a momentum.
  if (ok && plan.nesterov && !(plan.momentum && *plan.momentum > 0.0)) {
    diag.error(call.callee.loc)
        << "nesterov=true needs a momentum: expected momentum=0.9 (or "
           "another value above 0)";
    ok = false;
  }
  return ok;
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

OwningOpRef<ModuleOp> cnnc::parseDslSource(MLIRContext *context,
                                           llvm::SourceMgr &sourceMgr) {
  context->loadDialect<cnn::CNNDialect, StandardOpsDialect>();
  if (sourceMgr.getNumBuffers() == 0) {
    emitError(UnknownLoc::get(context)) << "no DSL source to parse";
    return nullptr;
  }
  DiagReporter diag(context, sourceMgr);
  const llvm::MemoryBuffer *buffer =
      sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
  // `module @lenet5` unless the file says `model NAME`.
  std::string stem = llvm::sys::path::stem(diag.getFileName()).str();
  ModelBuilder model(diag, stem.empty() ? "model" : stem);
  Parser parser(diag, model, buffer->getBuffer());
  llvm::SMLoc end = parser.parseFile();
  if (diag.tooManyErrors())
    return nullptr;
  OwningOpRef<ModuleOp> module = model.finish(end);
  if (diag.getNumErrors())
    return nullptr;
  return module;
}

OwningOpRef<ModuleOp> cnnc::parseDslFile(MLIRContext *context,
                                         llvm::StringRef path) {
  auto file = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!file) {
    emitError(FileLineColLoc::get(context, path, 0, 0))
        << "cannot read '" << path << "': " << file.getError().message();
    return nullptr;
  }
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*file), llvm::SMLoc());
  return parseDslSource(context, sourceMgr);
}
