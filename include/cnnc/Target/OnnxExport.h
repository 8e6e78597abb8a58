//===- OnnxExport.h - cnn IR written as an ONNX model -----------*- C++ -*-===//
//
// Writes a model as imported (the cnn IR before the graph passes: the ops the
// ONNX importer and the DSL produce) as an ONNX ModelProto at opset 13, with
// every cnn.param as an initializer of the parameter's name. Trained libraries
// of DSL models embed it so that cnnc-train --export writes their trained
// weights into a graph ONNX Runtime and PyTorch's exporter agree on.
//
//===----------------------------------------------------------------------===//

#ifndef CNNC_TARGET_ONNXEXPORT_H
#define CNNC_TARGET_ONNXEXPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

#include <cstdint>
#include <string>

namespace cnnc {

struct OnnxExportOptions {
  /// Seed of the initial values of parameters described by `init` (the
  /// DSL's), as `cnnc --seed` gives it to codegen.
  uint64_t seed = 0;
  /// The producer_version written into the model.
  std::string producerVersion;
};

/// Serializes the `main` function of `module` as an ONNX model into `bytes`.
/// An op that has no ONNX form is reported at its location. The result passes
/// libonnx's checker and strict shape inference; where it would not, that is
/// reported as an internal error instead of writing a model others reject.
mlir::LogicalResult exportOnnx(mlir::ModuleOp module,
                               const OnnxExportOptions &options,
                               std::string &bytes);

} // namespace cnnc

#endif // CNNC_TARGET_ONNXEXPORT_H
