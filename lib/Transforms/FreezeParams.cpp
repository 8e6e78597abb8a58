//===- FreezeParams.cpp - freeze parameters, plan their unfreezing --------===//
#include "PassDetail.h"
#include "cnnc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace cnnc::cnn;

namespace {
struct FreezeParamsPass : public FreezeParamsBase<FreezeParamsPass> {
  // IR dumps (--print-ir-after-all) name the pass as users invoke it.
  StringRef getName() const override { return getArgument(); }
  FreezeParamsPass() = default;
  FreezeParamsPass(ArrayRef<std::string> p, ArrayRef<std::string> u) {
    prefixes = p;
    unfreezeAt = u;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::StringSet<> unfrozenLater;
    for (const std::string &entry : unfreezeAt) {
      auto [epochText, prefix] = StringRef(entry).split(':');
      int64_t epoch = 0;
      if (prefix.empty() || epochText.getAsInteger(10, epoch) || epoch < 1 ||
          epoch > 1000000) {
        module.emitError("--unfreeze-at expects EPOCH:PREFIX with EPOCH >= "
                         "1, got '")
            << entry << "'";
        return signalPassFailure();
      }
      if (failed(planUnfreezing(module, prefix, epoch, unfrozenLater)))
        return signalPassFailure();
    }
    // A parameter also unfrozen at an epoch is frozen only until then: its
    // group says so; the parameter stays trainable for the later phases,
    // however broad the --freeze prefix that also matches it.
    if (failed(freeze(module, unfrozenLater)))
      signalPassFailure();
  }

  LogicalResult freeze(ModuleOp module, const llvm::StringSet<> &planned) {
    ArrayRef<std::string> frozen = prefixes;
    Builder b(module.getContext());
    llvm::StringMap<unsigned> matches;
    for (const std::string &p : frozen)
      matches[p] = 0;
    // Per group: does it still hold a trainable parameter?
    llvm::StringMap<bool> groupHasTrainable;
    module.walk([&](ParamOp param) {
      for (const std::string &p : frozen) {
        if (param.isInGroupOrPrefix(p)) {
          ++matches[p];
          if (!planned.contains(param.getName()))
            param.setFrozenAttr(b.getUnitAttr());
        }
      }
      if (auto g = param.getGroupAttr()) {
        bool &trainable = groupHasTrainable[g.getValue()];
        trainable = trainable || !param.getFrozen();
      }
    });
    bool failedMatch = false;
    for (const std::string &p : frozen) {
      if (matches[p] == 0) {
        module.emitError("--freeze prefix '")
            << p << "' matches no parameter of the model";
        failedMatch = true;
      }
    }
    if (failedMatch)
      return failure();
    if (frozen.empty())
      return success();
    module.walk([&](GroupOp group) {
      auto it = groupHasTrainable.find(group.getSymName());
      if (it != groupHasTrainable.end() && !it->second)
        group.setFrozenAttr(b.getUnitAttr());
    });
    return success();
  }

  /// Writes "frozen until `epoch`" for the parameters `prefix` selects as
  /// the DSL does: on their groups, splitting off a new group where the
  /// prefix takes part of one.
  LogicalResult planUnfreezing(ModuleOp module, StringRef prefix, int64_t epoch,
                               llvm::StringSet<> &planned) {
    Builder b(module.getContext());
    SymbolTable symbols(module);
    // The selected parameters by group (in order), and every group's size.
    llvm::MapVector<StringRef, SmallVector<ParamOp>> selected;
    llvm::StringMap<llvm::StringSet<>> groupNames;
    llvm::StringSet<> selectedNames;
    module.walk([&](ParamOp param) {
      StringRef group =
          param.getGroupAttr() ? param.getGroupAttr().getValue() : StringRef();
      groupNames[group].insert(param.getName());
      if (param.isInGroupOrPrefix(prefix)) {
        selected[group].push_back(param);
        selectedNames.insert(param.getName());
        planned.insert(param.getName());
      }
    });
    if (selected.empty())
      return module.emitError("--unfreeze-at prefix '")
             << prefix << "' matches no parameter or group of the model";
    auto plan = [&](GroupOp group) {
      group.setFrozenAttr(b.getUnitAttr());
      group.setUnfreezeEpochAttr(b.getI64IntegerAttr(epoch));
    };
    GroupOp splitOff;
    for (auto &[groupName, params] : selected) {
      for (ParamOp param : params)
        param->removeAttr("frozen");
      bool whole = !groupName.empty() &&
                   llvm::all_of(groupNames[groupName].keys(), [&](StringRef n) {
                     return selectedNames.contains(n);
                   });
      auto group =
          groupName.empty() ? GroupOp() : symbols.lookup<GroupOp>(groupName);
      if (whole && group) {
        plan(group);
        continue;
      }
      // Part of a group (or no group): a group of their own, named after
      // the prefix, at the learning rate they had.
      Optional<double> lr;
      if (group && group.getLr())
        lr = group.getLr()->convertToDouble();
      if (splitOff) {
        Optional<double> other;
        if (splitOff.getLr())
          other = splitOff.getLr()->convertToDouble();
        if (other != lr)
          return module.emitError("--unfreeze-at prefix '")
                 << prefix
                 << "' takes parameters from groups with different learning "
                    "rates; name each group instead";
      } else {
        OpBuilder builder(module.getBodyRegion());
        builder.setInsertionPointToStart(module.getBody());
        splitOff = builder.create<GroupOp>(
            module.getLoc(), builder.getStringAttr(prefix),
            /*frozen=*/nullptr, lr ? builder.getF64FloatAttr(*lr) : FloatAttr(),
            /*unfreeze_epoch=*/nullptr);
        symbols.insert(splitOff, module.getBody()->begin());
        plan(splitOff);
      }
      for (ParamOp param : params)
        param.setGroupAttr(FlatSymbolRefAttr::get(splitOff.getSymNameAttr()));
    }
    return success();
  }
};
} // namespace

std::unique_ptr<Pass> cnnc::cnn::createFreezeParamsPass() {
  return std::make_unique<FreezeParamsPass>();
}

std::unique_ptr<Pass>
cnnc::cnn::createFreezeParamsPass(ArrayRef<std::string> prefixes,
                                  ArrayRef<std::string> unfreezeAt) {
  return std::make_unique<FreezeParamsPass>(prefixes, unfreezeAt);
}
