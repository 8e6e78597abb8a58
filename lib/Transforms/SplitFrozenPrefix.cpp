//===- SplitFrozenPrefix.cpp - outline a training step's frozen prefix ----===//
//
// A training step whose trainable parameters all come after a frozen prefix
// computes the same prefix output for a sample at every step. This pass
// outlines that prefix into `@<step>_features(inputs) -> features` and the
// rest into `@<step>_head(features, labels) -> (results of the step)`, so
// the runtime can compute the features once per sample and train on them
// (the feature cache of transfer learning).
//
//===----------------------------------------------------------------------===//
#include "PassDetail.h"
#include "cnnc/Transforms/Passes.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/BlockAndValueMapping.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace cnnc::cnn;

namespace {

/// Does the value of `param` change from one step to the next?
static bool changesPerStep(ParamOp param) {
  return kRngAttr.isSetOn(param) || (!param.getFrozen() && !param.getBuffer());
}

struct SplitFrozenPrefixPass
    : public SplitFrozenPrefixBase<SplitFrozenPrefixPass> {
  // IR dumps (--print-ir-after-all) name the pass as users invoke it.
  StringRef getName() const override { return getArgument(); }
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<FuncOp> steps;
    for (FuncOp fn : module.getOps<FuncOp>())
      if (kTrainStepAttr.isSetOn(fn) && !kFeaturesAttr.isSetOn(fn) &&
          !kNoCacheAttr.isSetOn(fn))
        steps.push_back(fn);
    for (FuncOp fn : steps) {
      std::string why = split(fn);
      if (!why.empty())
        kNoCacheAttr.set(fn, StringAttr::get(&getContext(), why));
    }
  }

  /// Outlines the frozen prefix of `fn`; returns why it cannot, or "".
  std::string split(FuncOp fn) {
    Block &body = fn.getBody().front();
    BlockArgument labels = body.getArguments().back();
    // Values that change per step: trainable parameters, the dropout
    // generator, the labels, and everything computed from them.
    llvm::DenseSet<Value> varying = {labels};
    // Values computed from the inputs alone (the candidates to cache).
    llvm::DenseSet<Value> prefix;
    for (BlockArgument arg : body.getArguments())
      if (arg != labels)
        prefix.insert(arg);
    for (Operation &op : body.without_terminator()) {
      if (auto param = dyn_cast<ParamOp>(op)) {
        if (changesPerStep(param))
          varying.insert(param.getResult());
        continue;
      }
      // Batch statistics mix the samples of a batch (and of the other
      // replicas'): never cached.
      bool anyVarying = isa<BatchNormStatsOp, ReplicaReduceOp>(op) ||
                        llvm::any_of(op.getOperands(), [&](Value v) {
                          return varying.contains(v);
                        });
      bool anyPrefix = llvm::any_of(
          op.getOperands(), [&](Value v) { return prefix.contains(v); });
      for (Value r : op.getResults()) {
        if (anyVarying)
          varying.insert(r);
        else if (anyPrefix)
          prefix.insert(r);
      }
    }
    // The boundary: prefix values that a per-step computation uses.
    llvm::SetVector<Value> boundary;
    for (Operation &op : body) {
      bool isVarying =
          isa<ReturnOp>(op) || llvm::any_of(op.getResults(), [&](Value r) {
            return varying.contains(r);
          });
      if (!isVarying)
        continue;
      for (Value v : op.getOperands())
        if (prefix.contains(v))
          boundary.insert(v);
    }
    if (boundary.empty())
      return "no layer before the first trainable one";
    if (boundary.size() > 1)
      return std::to_string(boundary.size()) +
             " tensors cross from the frozen prefix to the trained part";
    Value features = boundary.front();
    if (features.isa<BlockArgument>())
      return "the first trainable layer reads the model's input";
    auto type = features.getType().dyn_cast<RankedTensorType>();
    auto inType = body.getArgument(0).getType().dyn_cast<RankedTensorType>();
    if (!type || !type.getElementType().isF32() || type.getRank() < 1 ||
        !inType || type.getDimSize(0) != inType.getDimSize(0))
      return "the frozen prefix's output is not one f32 tensor per sample";

    OpBuilder b(fn);
    b.setInsertionPointAfter(fn);
    std::string base = fn.getName().str();
    // @<step>_features: the prefix, returning the boundary value.
    auto inputTypes = fn.getType().getInputs().drop_back();
    SmallVector<Type> inputs(inputTypes.begin(), inputTypes.end());
    auto featuresFn = b.create<FuncOp>(fn.getLoc(), base + "_features",
                                       b.getFunctionType(inputs, {type}));
    for (unsigned i = 0; i < inputs.size(); ++i)
      featuresFn.setArgAttrs(i, fn.getArgAttrs(i));
    featuresFn.setResultAttr(0, kNameAttr, b.getStringAttr("features"));
    {
      Block *entry = featuresFn.addEntryBlock();
      OpBuilder fb = OpBuilder::atBlockEnd(entry);
      BlockAndValueMapping map;
      for (unsigned i = 0; i < inputs.size(); ++i)
        map.map(body.getArgument(i), entry->getArgument(i));
      llvm::DenseSet<Operation *> needed;
      collect(features.getDefiningOp(), needed);
      for (Operation &op : body.without_terminator())
        if (needed.contains(&op))
          fb.clone(op, map);
      fb.create<ReturnOp>(fn.getLoc(), map.lookup(features));
    }
    // @<step>_head: everything that is not the prefix, on the features.
    SmallVector<Type> headInputs = {type, labels.getType()};
    auto headFn = b.create<FuncOp>(
        fn.getLoc(), base + "_head",
        b.getFunctionType(headInputs, fn.getType().getResults()));
    headFn.setArgAttr(0, kNameAttr, b.getStringAttr("features"));
    headFn.setArgAttrs(1, fn.getArgAttrs(labels.getArgNumber()));
    for (unsigned i = 0; i < fn.getNumResults(); ++i)
      headFn.setResultAttrs(i, fn.getResultAttrs(i));
    {
      Block *entry = headFn.addEntryBlock();
      OpBuilder hb = OpBuilder::atBlockEnd(entry);
      BlockAndValueMapping map;
      map.map(features, entry->getArgument(0));
      map.map(labels, entry->getArgument(1));
      auto ret = cast<ReturnOp>(body.getTerminator());
      llvm::DenseSet<Operation *> needed;
      for (Value v : ret.getOperands())
        if (Operation *def = v.getDefiningOp())
          collect(def, needed, features);
      for (Operation &op : body.without_terminator())
        if (needed.contains(&op))
          hb.clone(op, map);
      SmallVector<Value> results;
      for (Value v : ret.getOperands())
        results.push_back(map.lookupOrDefault(v));
      hb.create<ReturnOp>(fn.getLoc(), results);
    }
    kFeaturesAttr.set(fn, SymbolRefAttr::get(featuresFn));
    kHeadAttr.set(fn, SymbolRefAttr::get(headFn));
    return "";
  }

  /// `op` and what it depends on, not looking past `stop` (if given).
  static void collect(Operation *op, llvm::DenseSet<Operation *> &out,
                      Value stop = Value()) {
    if (!op || !out.insert(op).second)
      return;
    for (Value v : op->getOperands())
      if (v != stop)
        collect(v.getDefiningOp(), out, stop);
  }
};
} // namespace

std::unique_ptr<Pass> cnnc::cnn::createSplitFrozenPrefixPass() {
  return std::make_unique<SplitFrozenPrefixPass>();
}
