//===- FuseOps.cpp - grow fused conv/gemm kernels -------------------------===//
//
// A fused op is grown from its root through single-use consumers, in the
// order the fused kernel computes them. Growth stops at the first consumer
// that does not fit; with remarks on, the reason is reported at the
// candidate's location.
//
//===----------------------------------------------------------------------===//
#include "PassDetail.h"
#include "cnnc/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include <cmath>

using namespace mlir;
using namespace cnnc::cnn;

namespace {

/// The activation `op` computes, if it is one of the activation ops.
static bool matchActivation(Operation *op, ActivationSpec &act) {
  act = ActivationSpec::of(op);
  return act.kind != Activation::None;
}

/// The single user of `v`, or null (with a remark when several users keep
/// the candidate from growing).
static Operation *soleUser(Value v, Operation *root, bool remarks) {
  if (v.use_empty())
    return nullptr;
  if (!v.hasOneUse()) {
    if (remarks)
      root->emitRemark("not fused further: the value is used by ")
          << std::distance(v.use_begin(), v.use_end())
          << " ops and must stay in memory";
    return nullptr;
  }
  return *v.getUsers().begin();
}

/// Per-channel scale and shift of an inference BatchNorm whose parameters
/// are all constant (not trainable): s = gamma / sqrt(var + eps),
/// t = beta - mean * s, as new constants before the BatchNorm.
/// With `training`, parameters change at run time unless frozen.
static LogicalResult bnScaleShift(PatternRewriter &rewriter, BatchNormOp bn,
                                  bool training, Value &scale, Value &shift) {
  auto values = [&](Value v) -> Optional<std::vector<float>> {
    ElementsAttr attr;
    if (auto p = v.getDefiningOp<ParamOp>()) {
      if (training && !p.getFrozen())
        return llvm::None;
      attr = p.getValueAttr();
    } else if (auto c = v.getDefiningOp<cnnc::cnn::ConstantOp>()) {
      attr = c.getValue();
    }
    auto dense = attr.dyn_cast_or_null<DenseElementsAttr>();
    if (!dense || !dense.getType().getElementType().isF32())
      return llvm::None;
    auto r = dense.getValues<float>();
    return std::vector<float>(r.begin(), r.end());
  };
  auto gamma = values(bn.getScale()), beta = values(bn.getBias()),
       mean = values(bn.getMean()), var = values(bn.getVariance());
  if (!gamma || !beta || !mean || !var)
    return failure();
  size_t c = gamma->size();
  std::vector<float> s(c), t(c);
  float eps = bn.getEpsilon().convertToFloat();
  for (size_t i = 0; i < c; ++i) {
    double si = (double)(*gamma)[i] / std::sqrt((double)(*var)[i] + eps);
    s[i] = (float)si;
    t[i] = (float)((double)(*beta)[i] - (double)(*mean)[i] * si);
  }
  auto type = RankedTensorType::get({(int64_t)c}, rewriter.getF32Type());
  rewriter.setInsertionPoint(bn);
  scale = rewriter.create<cnnc::cnn::ConstantOp>(
      bn.getLoc(), type, DenseElementsAttr::get(type, llvm::makeArrayRef(s)));
  shift = rewriter.create<cnnc::cnn::ConstantOp>(
      bn.getLoc(), type, DenseElementsAttr::get(type, llvm::makeArrayRef(t)));
  return success();
}

static Location fusedLoc(ArrayRef<Operation *> ops) {
  SmallVector<Location> locs;
  for (Operation *op : ops)
    locs.push_back(op->getLoc());
  return FusedLoc::get(ops.front()->getContext(), locs);
}

struct FuseConv : public OpRewritePattern<Conv2dOp> {
  FuseConv(MLIRContext *ctx, bool remarks, bool training)
      : OpRewritePattern<Conv2dOp>(ctx), remarks(remarks), training(training) {}

  LogicalResult matchAndRewrite(Conv2dOp conv,
                                PatternRewriter &rewriter) const override {
    SmallVector<Operation *> absorbed = {conv};
    Value current = conv.getResult();
    Value residual;
    ActivationSpec act;
    Operation *pool = nullptr;
    Operation *user = soleUser(current, conv, remarks);
    if (auto add = dyn_cast_or_null<AddOp>(user)) {
      Value other = add.getLhs() == current ? add.getRhs() : add.getLhs();
      if (other != current && other.getType() == current.getType() &&
          add.getType() == current.getType()) {
        residual = other;
        absorbed.push_back(add);
        current = add.getResult();
        user = soleUser(current, conv, remarks);
      } else if (remarks) {
        conv.emitRemark("residual add not fused: it broadcasts or changes "
                        "the shape");
      }
    }
    if (user && matchActivation(user, act)) {
      absorbed.push_back(user);
      current = user->getResult(0);
      user = soleUser(current, conv, remarks);
    }
    // A BatchNorm after the activation cannot fold into the weights; with
    // constant statistics it becomes a per-channel scale and shift applied
    // after the activation, in the same kernel.
    Value lateScale, lateShift;
    if (auto bn = dyn_cast_or_null<BatchNormOp>(user)) {
      if (act.kind != Activation::None &&
          succeeded(
              bnScaleShift(rewriter, bn, training, lateScale, lateShift))) {
        absorbed.push_back(bn);
        current = bn.getResult();
        user = soleUser(current, conv, remarks);
      } else if (remarks) {
        conv.emitRemark("BatchNorm not fused: its parameters train or are "
                        "not constants");
      }
    }
    if (user && isa<MaxPool2dOp, AvgPool2dOp>(user)) {
      ArrayAttr dil = isa<MaxPool2dOp>(user)
                          ? cast<MaxPool2dOp>(user).getDilations()
                          : cast<AvgPool2dOp>(user).getDilations();
      // Overlapping windows (ResNet's 3x3/2 stem pool) fuse too: the
      // schedules keep the convolution rows in a sliding window, so none is
      // computed twice.
      if (llvm::all_of(dil, [](Attribute a) {
            return a.cast<IntegerAttr>().getInt() == 1;
          })) {
        pool = user;
        absorbed.push_back(user);
        current = user->getResult(0);
      } else if (remarks) {
        conv.emitRemark("pooling not fused: dilated pooling windows");
      }
    }

    SmallVector<Value> operands = {conv.getInput(), conv.getWeight()};
    if (conv.getBias())
      operands.push_back(conv.getBias());
    if (lateScale) {
      operands.push_back(lateScale);
      operands.push_back(lateShift);
    }
    if (residual)
      operands.push_back(residual);
    Operation *last = absorbed.back();
    rewriter.setInsertionPoint(last);
    auto fused =
        rewriter.create<FusedConv2dOp>(fusedLoc(absorbed), current.getType(),
                                       operands, ArrayRef<NamedAttribute>{});
    // Attributes left at their default are absent (the IR stays short):
    // set only those the convolution, activation and pooling have.
    auto seg = [](Value v) { return v ? 1 : 0; };
    fused->setAttr(
        FusedConv2dOp::getOperandSegmentSizeAttr(),
        rewriter.getI32VectorAttr({1, 1, seg(conv.getBias()), seg(lateScale),
                                   seg(lateShift), seg(residual)}));
    if (auto a = conv.getStridesAttr())
      fused.setStridesAttr(a);
    if (auto a = conv.getPadsAttr())
      fused.setPadsAttr(a);
    if (auto a = conv.getDilationsAttr())
      fused.setDilationsAttr(a);
    if (auto a = conv.getGroupAttr())
      fused.setGroupAttr(a);
    act.setOn(fused);
    if (lateScale)
      fused.setAffineAfterActivationAttr(rewriter.getUnitAttr());
    if (pool) {
      auto setPool = [&](auto p, PoolKind kind) {
        fused.setPoolAttr(PoolKindAttr::get(getContext(), kind));
        fused.setPoolKernelAttr(p.getKernelShapeAttr());
        if (auto a = p.getStridesAttr())
          fused.setPoolStridesAttr(a);
        if (auto a = p.getPadsAttr())
          fused.setPoolPadsAttr(a);
        if (auto a = p.getCeilModeAttr())
          fused.setPoolCeilModeAttr(a);
        if (auto a = p.getCountIncludePadAttr())
          fused.setPoolCountIncludePadAttr(a);
      };
      if (auto p = dyn_cast<MaxPool2dOp>(pool))
        setPool(p, PoolKind::Max);
      else
        setPool(cast<AvgPool2dOp>(pool), PoolKind::Avg);
    }
    rewriter.replaceOp(last, fused.getResult());
    for (auto it = absorbed.rbegin() + 1; it != absorbed.rend(); ++it)
      rewriter.eraseOp(*it);
    return success();
  }

  bool remarks, training;
};

struct FuseGemm : public OpRewritePattern<GemmOp> {
  FuseGemm(MLIRContext *ctx, bool remarks)
      : OpRewritePattern<GemmOp>(ctx), remarks(remarks) {}

  LogicalResult matchAndRewrite(GemmOp gemm,
                                PatternRewriter &rewriter) const override {
    ActivationSpec act;
    Operation *user = soleUser(gemm.getResult(), gemm, remarks);
    SmallVector<Operation *> absorbed = {gemm};
    Value current = gemm.getResult();
    if (user && matchActivation(user, act)) {
      absorbed.push_back(user);
      current = user->getResult(0);
    }
    rewriter.setInsertionPoint(absorbed.back());
    // The gemm's own attributes carry over as they are (fused_gemm has the
    // same ones), then the activation's.
    auto fused =
        rewriter.create<FusedGemmOp>(fusedLoc(absorbed), current.getType(),
                                     gemm->getOperands(), gemm->getAttrs());
    act.setOn(fused);
    rewriter.replaceOp(absorbed.back(), fused.getResult());
    if (absorbed.size() > 1)
      rewriter.eraseOp(gemm);
    return success();
  }

  bool remarks;
};

/// Backward: activation_grad(pool2d_backward(dy, y), y) -> one
/// pool2d_backward that applies the activation's mask (the ReLU mask and the
/// max pooling's argmax in one kernel).
struct FusePoolActivationGrad : public OpRewritePattern<ActivationGradOp> {
  using OpRewritePattern<ActivationGradOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(ActivationGradOp grad,
                                PatternRewriter &rewriter) const override {
    auto pool = grad.getGradOutput().getDefiningOp<Pool2dBackwardOp>();
    if (!pool || !pool->hasOneUse() ||
        pool.getActivation() != Activation::None ||
        pool.getInput() != grad.getOutput())
      return failure();
    auto fused = rewriter.create<Pool2dBackwardOp>(
        FusedLoc::get(getContext(), {pool.getLoc(), grad.getLoc()}),
        grad.getType(), pool->getOperands(), pool->getAttrs());
    ActivationSpec::on(grad).setOn(fused);
    rewriter.replaceOp(grad, fused.getResult());
    rewriter.eraseOp(pool);
    return success();
  }
};

struct FuseOpsPass : public FuseOpsBase<FuseOpsPass> {
  // IR dumps (--print-ir-after-all) name the pass as users invoke it.
  StringRef getName() const override { return getArgument(); }
  FuseOpsPass() = default;
  FuseOpsPass(bool r, bool t) {
    remarks = r;
    training = t;
  }

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseConv>(&getContext(), remarks, training);
    patterns.add<FuseGemm>(&getContext(), remarks);
    if (training)
      patterns.add<FusePoolActivationGrad>(&getContext());
    // Fusion must not fold or reorder anything else: one top-down sweep.
    GreedyRewriteConfig config;
    config.useTopDownTraversal = true;
    config.enableRegionSimplification = false;
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns),
                                            config)))
      signalPassFailure();
  }
};
} // namespace

std::unique_ptr<Pass> cnnc::cnn::createFuseOpsPass() {
  return std::make_unique<FuseOpsPass>();
}

std::unique_ptr<Pass> cnnc::cnn::createFuseOpsPass(bool remarks,
                                                   bool training) {
  return std::make_unique<FuseOpsPass>(remarks, training);
}
