//===- OnnxImporter.h - ONNX model -> cnn dialect ---------------*- C++ -*-===//
//
// Imports an ONNX ModelProto (opsets 7 to 17) into a module holding one
// `func @main` over the `cnn` dialect. Errors are reported as MLIR
// diagnostics on the context (the caller installs a handler) and the
// importer returns null; it never aborts on bad input.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_FRONTEND_ONNXIMPORTER_H
#define CNNC_FRONTEND_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace cnnc {

struct OnnxImportOptions {
  /// When set, the graph is cut: the imported function returns the (single)
  /// data input of the node with this name instead of the graph outputs, and
  /// only what that value depends on is imported. Used for backbones.
  std::string cutBefore;
  /// When set, the function returns the first output of the node with this
  /// name. At most one of cutBefore and cutAfter may be set.
  std::string cutAfter;
  /// Upper bound on the size of the file and on all tensor data together, so
  /// a hostile file cannot make the importer allocate without bound.
  uint64_t maxModelBytes = 2ull << 30;
  /// Name of the module (`module @name`); defaults to the file's stem.
  std::string moduleName;
};

/// Reads, checks (onnx::checker, shape inference) and imports `path`.
/// Returns null after emitting diagnostics when the model cannot be imported;
/// every unsupported op of the graph is listed in ONE diagnostic.
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxFile(mlir::MLIRContext *context, llvm::StringRef path,
               const OnnxImportOptions &options = {});

} // namespace cnnc

#endif // CNNC_FRONTEND_ONNXIMPORTER_H
