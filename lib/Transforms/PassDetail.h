//===- PassDetail.h - generated pass base classes ---------------*- C++ -*-===//
#ifndef CNNC_LIB_TRANSFORMS_PASSDETAIL_H
#define CNNC_LIB_TRANSFORMS_PASSDETAIL_H

#include "cnnc/Dialect/CNN/CNNOps.h"
#include "mlir/Pass/Pass.h"

namespace cnnc {
namespace cnn {
#define GEN_PASS_CLASSES
#include "cnnc/Transforms/Passes.h.inc"
} // namespace cnn
} // namespace cnnc

#endif // CNNC_LIB_TRANSFORMS_PASSDETAIL_H
