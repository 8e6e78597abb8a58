//===- Passes.h - cnn dialect passes ----------------------------*- C++ -*-===//
#ifndef CNNC_TRANSFORMS_PASSES_H
#define CNNC_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"
#include "llvm/ADT/ArrayRef.h"
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cnnc {
namespace cnn {

std::unique_ptr<mlir::Pass> createFreezeParamsPass();
std::unique_ptr<mlir::Pass>
createFreezeParamsPass(llvm::ArrayRef<std::string> prefixes,
                       llvm::ArrayRef<std::string> unfreezeAt = {});

std::unique_ptr<mlir::Pass> createFoldBatchNormPass();
std::unique_ptr<mlir::Pass> createFoldBatchNormPass(bool training);
std::unique_ptr<mlir::Pass> createFuseOpsPass();
std::unique_ptr<mlir::Pass> createFuseOpsPass(bool remarks, bool training,
                                              bool inputAffine = false);

std::unique_ptr<mlir::Pass> createDeriveTrainingPass();
std::unique_ptr<mlir::Pass> createSplitFrozenPrefixPass();
std::unique_ptr<mlir::Pass> createDeriveTrainingPass(const std::string &loss);

std::unique_ptr<mlir::Pass> createPackConvWeightsPass();
std::unique_ptr<mlir::Pass>
createPackConvWeightsPass(int64_t lanes, bool fusePadding,
                          bool winograd = false, bool flattenPointwise = false);

std::unique_ptr<mlir::Pass> createInitParamsPass();
std::unique_ptr<mlir::Pass> createInitParamsPass(uint64_t seed);

#define GEN_PASS_REGISTRATION
#include "cnnc/Transforms/Passes.h.inc"

} // namespace cnn
} // namespace cnnc

#endif // CNNC_TRANSFORMS_PASSES_H
