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
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

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
  /// Shapes that replace those of named graph inputs (cnnc --input-shape),
  /// -1 for a dynamic batch (first dimension).
  std::vector<std::pair<std::string, std::vector<int64_t>>> inputShapes;
  /// Every other graph input's first dimension becomes the dynamic batch
  /// (cnnc --dynamic-batch): files exported with a fixed batch, PyTorch's
  /// default, run at any batch.
  bool dynamicBatch = false;
};

/// Reads, checks (onnx::checker, shape inference) and imports `path`.
/// Returns null after emitting diagnostics when the model cannot be imported;
/// every unsupported op of the graph is listed in ONE diagnostic.
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxFile(mlir::MLIRContext *context, llvm::StringRef path,
               const OnnxImportOptions &options = {});

/// The ONNX operators cnnc imports, each with what of it is not supported
/// (cnnc --list-ops); `markdown`: as a table (docs/supported-ops.md).
void printSupportedOnnxOps(llvm::raw_ostream &os, bool markdown);

} // namespace cnnc

#endif // CNNC_FRONTEND_ONNXIMPORTER_H
