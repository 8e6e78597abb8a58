//===- Syntax.h - what the DSL parser hands to the model builder -*- C++
//-*-===//
//
// The parser reads a statement and passes its pieces (names with source
// positions, call arguments) to the ModelBuilder, which checks the meaning
// and builds ops. Both report errors through one DiagReporter so the error
// count and the file:line:col locations are shared.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_LIB_FRONTEND_DSL_SYNTAX_H
#define CNNC_LIB_FRONTEND_DSL_SYNTAX_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SMLoc.h"
#include "llvm/Support/SourceMgr.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cnnc {
namespace dsl {

/// Turns source pointers into FileLineColLoc and counts the errors, so that
/// the parser can stop after too many and return null after any.
class DiagReporter {
public:
  DiagReporter(mlir::MLIRContext *context, llvm::SourceMgr &sourceMgr);

  mlir::MLIRContext *getContext() const { return context; }
  llvm::StringRef getFileName() const { return fileName; }

  mlir::Location getLoc(llvm::SMLoc loc) const;

  /// Emits an error; the returned diagnostic takes `<<` for more text.
  mlir::InFlightDiagnostic error(llvm::SMLoc loc);
  mlir::InFlightDiagnostic error(mlir::Location loc);
  mlir::InFlightDiagnostic warning(llvm::SMLoc loc);
  /// Counts an error that something else (shape inference, the ONNX
  /// importer, the verifier) has already reported.
  void countError() { ++numErrors; }

  unsigned getNumErrors() const { return numErrors; }
  /// Beyond this many errors the rest are mostly follow-on noise.
  bool tooManyErrors() const { return numErrors >= 20; }

private:
  mlir::MLIRContext *context;
  llvm::SourceMgr &sourceMgr;
  unsigned bufferId;
  std::string fileName;
  unsigned numErrors = 0;
};

/// `x` as a user would write it (0.5, 1e-05), not as printf's %e.
std::string formatNumber(double x);

/// A name as written in the source.
struct Name {
  std::string text;
  llvm::SMLoc loc;
};

/// A literal or name in an argument list.
struct ArgValue {
  enum class Kind { Integer, Float, Identifier, String, List };
  Kind kind = Kind::Integer;
  llvm::SMLoc loc;
  int64_t intValue = 0;
  double floatValue = 0.0; ///< Also set for integers.
  std::string text;        ///< Identifier or decoded string.
  std::vector<ArgValue> elements;

  bool isNumber() const { return kind == Kind::Integer || kind == Kind::Float; }
  /// `true`/`false` are identifiers; the builder decides where they mean
  /// booleans.
  bool isBool() const {
    return kind == Kind::Identifier && (text == "true" || text == "false");
  }
  /// For messages: "integer 5", "name 'relu'", "list of 2 elements", ...
  std::string describe() const;
};

struct KeywordArg {
  Name key;
  ArgValue value;
};

/// `op(positional..., key=value...)`.
struct Call {
  Name callee;
  std::vector<ArgValue> positional;
  std::vector<KeywordArg> keywords;
  llvm::SMLoc closeLoc;
};

} // namespace dsl
} // namespace cnnc

#endif // CNNC_LIB_FRONTEND_DSL_SYNTAX_H
