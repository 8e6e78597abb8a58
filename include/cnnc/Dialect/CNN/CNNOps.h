//===- CNNOps.h - cnn dialect operations ------------------------*- C++ -*-===//
#ifndef CNNC_DIALECT_CNN_CNNOPS_H
#define CNNC_DIALECT_CNN_CNNOPS_H

#include "cnnc/Dialect/CNN/CNNDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "cnnc/Dialect/CNN/CNNOps.h.inc"

namespace cnnc {
namespace cnn {

/// Output extent of one spatial axis of a convolution or pooling window, or
/// ShapedType::kDynamicSize when `in` is dynamic. Returns failure (with a
/// message in `error`) when the window does not fit.
mlir::FailureOr<int64_t> windowOutputSize(int64_t in, int64_t kernel,
                                          int64_t stride, int64_t padBegin,
                                          int64_t padEnd, int64_t dilation,
                                          bool ceilMode, std::string &error);

/// The gradual-unfreezing schedule of a module: (group, 1-based epoch) from
/// the `cnn.group` ops' `unfreeze_epoch`, which the DSL's plan and
/// `cnn-freeze-params{unfreeze-at=...}` (`cnnc --unfreeze-at`) both write.
std::vector<std::pair<std::string, int64_t>>
unfreezeSchedule(mlir::ModuleOp module);

} // namespace cnn
} // namespace cnnc

#endif // CNNC_DIALECT_CNN_CNNOPS_H
