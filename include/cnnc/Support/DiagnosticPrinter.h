//===- DiagnosticPrinter.h - how cnnc tools print diagnostics ---*- C++ -*-===//
//
// Diagnostics with a real source position (the DSL, .mlir files) print with
// the source line and a caret, as MLIR's SourceMgrDiagnosticHandler does.
// Diagnostics located in a binary file (ONNX: line 0) print as
// `model.onnx: error: node "conv1": ...` instead of a meaningless `:0:0`.
// Source lines longer than a terminal's show only the part around the
// column, and after kMaxErrors errors the rest are counted, not printed, so
// a hostile file cannot make the output grow with the square of its size.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_SUPPORT_DIAGNOSTICPRINTER_H
#define CNNC_SUPPORT_DIAGNOSTICPRINTER_H

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/SourceMgr.h"

namespace cnnc {

class DiagnosticPrinter {
public:
  DiagnosticPrinter(llvm::SourceMgr &sourceMgr, mlir::MLIRContext *context,
                    llvm::raw_ostream &os);
  ~DiagnosticPrinter();

  /// Number of errors reported so far.
  unsigned getNumErrors() const { return numErrors; }

  /// Errors printed before the rest are only counted.
  static constexpr unsigned kMaxErrors = 50;

private:
  /// Prints `diag` located at line `line` of a SourceMgr buffer whose line
  /// is too long to repeat whole; false if the buffer is not found.
  bool printExcerpt(mlir::Diagnostic &diag, llvm::StringRef file, unsigned line,
                    unsigned column);

  llvm::SourceMgr &sourceMgr;
  mlir::SourceMgrDiagnosticHandler sourceMgrHandler;
  mlir::MLIRContext *context;
  mlir::DiagnosticEngine::HandlerID id;
  llvm::raw_ostream &os;
  unsigned numErrors = 0;
  unsigned numSuppressed = 0;
};

} // namespace cnnc

#endif // CNNC_SUPPORT_DIAGNOSTICPRINTER_H
