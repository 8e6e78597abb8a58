//===- DiagnosticPrinter.h - how cnnc tools print diagnostics ---*- C++ -*-===//
//
// Diagnostics with a real source position (the DSL, .mlir files) print with
// the source line and a caret, as MLIR's SourceMgrDiagnosticHandler does.
// Diagnostics located in a binary file (ONNX: line 0) print as
// `model.onnx: error: node "conv1": ...` instead of a meaningless `:0:0`.
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

private:
  mlir::SourceMgrDiagnosticHandler sourceMgrHandler;
  mlir::MLIRContext *context;
  mlir::DiagnosticEngine::HandlerID id;
  llvm::raw_ostream &os;
  unsigned numErrors = 0;
};

} // namespace cnnc

#endif // CNNC_SUPPORT_DIAGNOSTICPRINTER_H
