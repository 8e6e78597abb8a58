//===- FreezeParams.cpp - mark parameters frozen by name prefix -----------===//
#include "PassDetail.h"
#include "cnnc/Transforms/Passes.h"

#include "llvm/ADT/StringMap.h"

using namespace mlir;
using namespace cnnc::cnn;

namespace {
struct FreezeParamsPass : public FreezeParamsBase<FreezeParamsPass> {
  // IR dumps (--print-ir-after-all) name the pass as users invoke it.
  StringRef getName() const override { return getArgument(); }
  FreezeParamsPass() = default;
  explicit FreezeParamsPass(const std::vector<std::string> &p) { prefixes = p; }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    Builder b(module.getContext());
    llvm::StringMap<unsigned> matches;
    for (const std::string &p : prefixes)
      matches[p] = 0;
    // Per group: does it still hold a trainable parameter?
    llvm::StringMap<bool> groupHasTrainable;
    module.walk([&](ParamOp param) {
      for (const std::string &p : prefixes) {
        if (param.isInGroupOrPrefix(p)) {
          ++matches[p];
          param.setFrozenAttr(b.getUnitAttr());
        }
      }
      if (auto g = param.getGroupAttr()) {
        bool &trainable = groupHasTrainable[g.getValue()];
        trainable = trainable || !param.getFrozen();
      }
    });
    bool failedMatch = false;
    for (const std::string &p : prefixes) {
      if (matches[p] == 0) {
        module.emitError("--freeze prefix '")
            << p << "' matches no parameter of the model";
        failedMatch = true;
      }
    }
    if (failedMatch)
      return signalPassFailure();
    if (prefixes.empty())
      return;
    module.walk([&](GroupOp group) {
      auto it = groupHasTrainable.find(group.getSymName());
      if (it != groupHasTrainable.end() && !it->second)
        group.setFrozenAttr(b.getUnitAttr());
    });
  }
};
} // namespace

std::unique_ptr<Pass> cnnc::cnn::createFreezeParamsPass() {
  return std::make_unique<FreezeParamsPass>();
}

std::unique_ptr<Pass>
cnnc::cnn::createFreezeParamsPass(const std::vector<std::string> &prefixes) {
  return std::make_unique<FreezeParamsPass>(prefixes);
}
