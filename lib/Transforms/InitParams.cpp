//===- InitParams.cpp - materialize the parameters' initial values --------===//
#include "PassDetail.h"
#include "cnnc/Transforms/Passes.h"

#include "mlir/IR/BuiltinAttributes.h"

#include <vector>

using namespace mlir;
using namespace cnnc::cnn;

namespace {
struct InitParamsPass : public InitParamsBase<InitParamsPass> {
  // IR dumps (--print-ir-after-all) name the pass as users invoke it.
  StringRef getName() const override { return getArgument(); }
  InitParamsPass() = default;
  explicit InitParamsPass(uint64_t s) { seed = s; }

  void runOnOperation() override {
    WalkResult result = getOperation().walk([&](ParamOp param) {
      if (param.getValue() || !param.getInit())
        return WalkResult::advance();
      auto type = param.getType().cast<RankedTensorType>();
      if (!type.getElementType().isF32()) {
        param.emitError("parameter '")
            << param.getName() << "' has an initializer but is not f32";
        return WalkResult::interrupt();
      }
      std::vector<float> values(type.getNumElements());
      param.materializeInit(seed, values.data());
      param.setValueAttr(
          DenseElementsAttr::get(type, llvm::makeArrayRef(values)));
      param->removeAttr(param.getInitAttrName());
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace

std::unique_ptr<Pass> cnnc::cnn::createInitParamsPass() {
  return std::make_unique<InitParamsPass>();
}

std::unique_ptr<Pass> cnnc::cnn::createInitParamsPass(uint64_t seed) {
  return std::make_unique<InitParamsPass>(seed);
}
