//===- DslParser.h - cnnc DSL (.cnn) -> cnn dialect -------------*- C++ -*-===//
//
// Parses the cnnc model DSL (docs/dsl.md) into a module holding one
// `func @main` over the `cnn` dialect plus the module-level `cnn.group` and
// `cnn.train_plan` ops of its fine-tuning plan. Errors are MLIR diagnostics at
// file:line:col saying what was expected; the parser returns null.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_FRONTEND_DSLPARSER_H
#define CNNC_FRONTEND_DSLPARSER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

namespace llvm {
class SourceMgr;
}

namespace cnnc {

/// Parses the main buffer of `sourceMgr` (its identifier is the file name used
/// in locations and for resolving relative backbone paths).
mlir::OwningOpRef<mlir::ModuleOp> parseDslSource(mlir::MLIRContext *context,
                                                 llvm::SourceMgr &sourceMgr);

/// Convenience: reads `path` and parses it.
mlir::OwningOpRef<mlir::ModuleOp> parseDslFile(mlir::MLIRContext *context,
                                               llvm::StringRef path);

} // namespace cnnc

#endif // CNNC_FRONTEND_DSLPARSER_H
