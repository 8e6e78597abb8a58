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

/// The value of `v` if it is a splat constant: a cnn.constant, or a
/// parameter's value where it cannot change (inference, or frozen); an
/// exporter may write the gates' scalars as initializers.
static Optional<float> splatValue(Value v, bool training) {
  ElementsAttr attr;
  if (!v)
    return llvm::None;
  if (auto c = v.getDefiningOp<cnnc::cnn::ConstantOp>())
    attr = c.getValue();
  else if (auto p = v.getDefiningOp<ParamOp>())
    if (!training || p.getFrozen())
      attr = p.getValueAttr();
  auto dense = attr.dyn_cast_or_null<DenseElementsAttr>();
  if (!dense || !dense.isSplat() || !dense.getType().getElementType().isF32())
    return llvm::None;
  return dense.getSplatValue<float>();
}

/// Whether `v` is a splat constant of `value` (see splatValue).
static bool isSplat(Value v, float value, bool training) {
  Optional<float> splat = splatValue(v, training);
  return splat && *splat == value;
}

/// The other operand of a binary op, or null when `v` is not one of them.
static Value otherOperand(Operation *op, Value v) {
  if (op->getNumOperands() != 2)
    return nullptr;
  if (op->getOperand(0) == v)
    return op->getOperand(1);
  return op->getOperand(1) == v ? op->getOperand(0) : nullptr;
}

/// The gates that use their input twice, as the ONNX importer writes them:
/// SiLU, v * sigmoid(v), HardSwish, v * clip(v * 1/6 + 1/2, 0, 1), and the
/// exact GELU as PyTorch exports it, v * (erf(v / sqrt(2)) + 1) * 1/2.
/// On a match, `ops` holds the gate's ops in order, the last one the
/// product whose result replaces v.
static bool matchGate(Value v, bool training, ActivationSpec &act,
                      SmallVectorImpl<Operation *> &ops) {
  SmallVector<Operation *, 2> users(v.getUsers().begin(), v.getUsers().end());
  if (users.size() != 2 || users[0] == users[1])
    return false;
  auto single = [](Operation *op) -> Operation * {
    Value r = op->getResult(0);
    return r.hasOneUse() ? *r.getUsers().begin() : nullptr;
  };
  for (int first = 0; first < 2; ++first) {
    Operation *inner = users[first], *product = users[1 - first];
    if (!isa<MulOp>(product) || product->getResult(0).getType() != v.getType())
      continue;
    // SiLU: sigmoid(v), used only by the product with v.
    if (isa<SigmoidOp>(inner) && single(inner) == product &&
        otherOperand(product, v) == inner->getResult(0)) {
      act.kind = Activation::SiLU;
      ops.assign({inner, product});
      return true;
    }
    // GELU: v / sqrt(2), erf, + 1, times v, times 1/2.
    if (auto div = dyn_cast<DivOp>(inner)) {
      if (div.getLhs() != v || !isSplat(div.getRhs(), (float)M_SQRT2, training))
        continue;
      auto erf = dyn_cast_or_null<ErfOp>(single(div));
      auto one = erf ? dyn_cast_or_null<AddOp>(single(erf)) : nullptr;
      if (!one ||
          !isSplat(otherOperand(one, erf.getResult()), 1.0f, training) ||
          single(one) != product || otherOperand(product, v) != one.getResult())
        continue;
      auto half = dyn_cast_or_null<MulOp>(single(product));
      if (!half ||
          !isSplat(otherOperand(half, product->getResult(0)), 0.5f, training))
        continue;
      for (Operation *op : {(Operation *)div, (Operation *)erf,
                            (Operation *)one, (Operation *)half})
        if (op->getResult(0).getType() != v.getType())
          return false;
      act.kind = Activation::Gelu;
      ops.assign({div, erf, one, product, half});
      return true;
    }
    // HardSwish: v * 1/6, + 1/2, clip to [0, 1], times v.
    auto scale = dyn_cast<MulOp>(inner);
    if (!scale || !isSplat(otherOperand(scale, v), 1.0f / 6, training))
      continue;
    auto shift = dyn_cast_or_null<AddOp>(single(scale));
    if (!shift ||
        !isSplat(otherOperand(shift, scale.getResult()), 0.5f, training))
      continue;
    auto clip = dyn_cast_or_null<ClipOp>(single(shift));
    if (!clip || clip.getMin().convertToFloat() != 0.0f ||
        clip.getMax().convertToFloat() != 1.0f || single(clip) != product ||
        otherOperand(product, v) != clip.getResult())
      continue;
    for (Operation *op : {inner, (Operation *)shift, (Operation *)clip})
      if (op->getResult(0).getType() != v.getType())
        return false;
    act.kind = Activation::HardSwish;
    ops.assign({inner, shift, clip, product});
    return true;
  }
  return false;
}

/// Absorbs the gate at `current` (matchGate) into the group: grows
/// `absorbed` and moves `current` to the gate's product. False when there is
/// none.
static bool takeGate(Value &current, bool training, ActivationSpec &act,
                     SmallVectorImpl<Operation *> &absorbed) {
  SmallVector<Operation *> gate;
  if (!matchGate(current, training, act, gate))
    return false;
  absorbed.append(gate.begin(), gate.end());
  current = gate.back()->getResult(0);
  return true;
}

/// Replaces a fused group by `result`: its last op, whose result leaves the
/// group, is replaced; the others, used only inside it, are erased last
/// first.
static void replaceGroup(PatternRewriter &rewriter,
                         ArrayRef<Operation *> absorbed, Value result) {
  rewriter.replaceOp(absorbed.back(), result);
  for (auto it = absorbed.rbegin() + 1; it != absorbed.rend(); ++it)
    rewriter.eraseOp(*it);
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

/// The BatchNorm + ReLU that only `conv` reads, if it may take them in
/// (a 1x1 convolution, stride 1, no padding, one group: the CPU schedule's
/// matrix product applies them as it packs its input) and their
/// parameters are constants: their per-channel scale and shift.
static FailureOr<std::pair<Value, Value>>
inputBatchNormRelu(PatternRewriter &rewriter, Conv2dOp conv, bool training,
                   SmallVectorImpl<Operation *> &prologue) {
  auto relu = conv.getInput().getDefiningOp<ReluOp>();
  auto bn = relu ? relu.getInput().getDefiningOp<BatchNormOp>() : nullptr;
  auto w = conv.getWeight().getType().cast<ShapedType>();
  if (!bn || !relu.getResult().hasOneUse() || !bn.getResult().hasOneUse() ||
      w.getRank() != 4 || w.getDimSize(2) != 1 || w.getDimSize(3) != 1 ||
      conv.getGroup() != 1 ||
      !unitStridesAndDilations(conv.getStrides(), conv.getDilations()) ||
      hasConvPadding(conv))
    return failure();
  Value scale, shift;
  if (failed(bnScaleShift(rewriter, bn, training, scale, shift)))
    return failure();
  prologue.assign({bn.getOperation(), relu.getOperation()});
  return std::make_pair(scale, shift);
}

struct FuseConv : public OpRewritePattern<Conv2dOp> {
  FuseConv(MLIRContext *ctx, bool remarks, bool training, bool inputAffine)
      : OpRewritePattern<Conv2dOp>(ctx), remarks(remarks), training(training),
        inputAffine(inputAffine) {}

  LogicalResult matchAndRewrite(Conv2dOp conv,
                                PatternRewriter &rewriter) const override {
    SmallVector<Operation *> prologue;
    FailureOr<std::pair<Value, Value>> inputAffineOf = failure();
    if (inputAffine)
      inputAffineOf = inputBatchNormRelu(rewriter, conv, training, prologue);
    Value input = succeeded(inputAffineOf) ? prologue.front()->getOperand(0)
                                           : conv.getInput();
    SmallVector<Operation *> absorbed = {conv};
    Value current = conv.getResult();
    Value residual;
    ActivationSpec act;
    Operation *pool = nullptr;
    // A gate (SiLU, HardSwish, GELU) reads the value twice; any other next op
    // must be its only user.
    bool gated = takeGate(current, training, act, absorbed);
    Operation *user = gated ? nullptr : soleUser(current, conv, remarks);
    if (auto add = dyn_cast_or_null<AddOp>(user)) {
      Value other = add.getLhs() == current ? add.getRhs() : add.getLhs();
      if (other != current && other.getType() == current.getType() &&
          add.getType() == current.getType()) {
        residual = other;
        absorbed.push_back(add);
        current = add.getResult();
        gated = takeGate(current, training, act, absorbed);
        user = gated ? nullptr : soleUser(current, conv, remarks);
      } else if (remarks) {
        conv.emitRemark("residual add not fused: it broadcasts or changes "
                        "the shape");
      }
    }
    if (gated) {
      user = soleUser(current, conv, remarks);
    } else if (user && matchActivation(user, act)) {
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

    SmallVector<Value> operands = {input, conv.getWeight()};
    if (conv.getBias())
      operands.push_back(conv.getBias());
    if (lateScale) {
      operands.push_back(lateScale);
      operands.push_back(lateShift);
    }
    if (residual)
      operands.push_back(residual);
    Value inputScale, inputShift;
    if (succeeded(inputAffineOf)) {
      std::tie(inputScale, inputShift) = *inputAffineOf;
      operands.push_back(inputScale);
      operands.push_back(inputShift);
    }
    Operation *last = absorbed.back();
    rewriter.setInsertionPoint(last);
    SmallVector<Operation *> located(prologue);
    located.append(absorbed.begin(), absorbed.end());
    auto fused =
        rewriter.create<FusedConv2dOp>(fusedLoc(located), current.getType(),
                                       operands, ArrayRef<NamedAttribute>{});
    // Attributes left at their default are absent (the IR stays short):
    // set only those the convolution, activation and pooling have.
    auto seg = [](Value v) { return v ? 1 : 0; };
    fused->setAttr(
        FusedConv2dOp::getOperandSegmentSizeAttr(),
        rewriter.getI32VectorAttr({1, 1, seg(conv.getBias()), seg(lateScale),
                                   seg(lateShift), seg(residual),
                                   seg(inputScale), seg(inputShift)}));
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
    if (inputScale)
      fused.setInputReluAttr(rewriter.getUnitAttr());
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
    replaceGroup(rewriter, absorbed, fused.getResult());
    // The BatchNorm and ReLU before it, read by the convolution only.
    for (auto it = prologue.rbegin(); it != prologue.rend(); ++it)
      rewriter.eraseOp(*it);
    return success();
  }

  bool remarks, training, inputAffine;
};

/// Ends a dense group whose ops so far are `absorbed` (the gemm or matmul
/// first, then its bias) with `current` their result: takes the epilogue (a
/// gate, or an activation op that is the value's only user) and replaces the
/// group by one fused_gemm of `operands` and `attrs` with that activation.
static void finishFusedGemm(PatternRewriter &rewriter,
                            SmallVectorImpl<Operation *> &absorbed,
                            Value current, ValueRange operands,
                            ArrayRef<NamedAttribute> attrs, bool remarks,
                            bool training) {
  ActivationSpec act;
  if (!takeGate(current, training, act, absorbed)) {
    Operation *user = soleUser(current, absorbed.front(), remarks);
    if (user && matchActivation(user, act)) {
      absorbed.push_back(user);
      current = user->getResult(0);
    }
  }
  rewriter.setInsertionPoint(absorbed.back());
  auto fused = rewriter.create<FusedGemmOp>(fusedLoc(absorbed),
                                            current.getType(), operands, attrs);
  act.setOn(fused);
  replaceGroup(rewriter, absorbed, fused.getResult());
}

struct FuseGemm : public OpRewritePattern<GemmOp> {
  FuseGemm(MLIRContext *ctx, bool remarks, bool training)
      : OpRewritePattern<GemmOp>(ctx), remarks(remarks), training(training) {}

  LogicalResult matchAndRewrite(GemmOp gemm,
                                PatternRewriter &rewriter) const override {
    // The gemm's own attributes carry over as they are (fused_gemm has the
    // same ones), then the activation's.
    SmallVector<Operation *> absorbed = {gemm};
    finishFusedGemm(rewriter, absorbed, gemm.getResult(), gemm->getOperands(),
                    gemm->getAttrs(), remarks, training);
    return success();
  }

  bool remarks, training;
};

/// A MatMul by a 2-D weight (a Linear layer on the last axis, as ConvNeXt's
/// blocks and PyTorch's `x @ w + b` export it) is a fused_gemm whose A keeps
/// its leading dims as batches of rows, with the bias (an add of a vector of
/// N) and the epilogue: the dense schedules and the fusions of a gemm.
struct FuseMatMul : public OpRewritePattern<MatMulOp> {
  FuseMatMul(MLIRContext *ctx, bool remarks, bool training)
      : OpRewritePattern<MatMulOp>(ctx), remarks(remarks), training(training) {}

  LogicalResult matchAndRewrite(MatMulOp mm,
                                PatternRewriter &rewriter) const override {
    auto aType = mm.getA().getType().dyn_cast<RankedTensorType>();
    auto bType = mm.getB().getType().dyn_cast<RankedTensorType>();
    if (!aType || !bType || bType.getRank() != 2 || aType.getRank() < 2)
      return failure();
    int64_t n = bType.getShape()[1];
    SmallVector<Operation *> absorbed = {mm};
    Value current = mm.getResult();
    SmallVector<Value> operands = {mm.getA(), mm.getB()};
    if (Operation *user = soleUser(current, mm, remarks)) {
      if (auto add = dyn_cast<AddOp>(user)) {
        Value other = add.getLhs() == current ? add.getRhs() : add.getLhs();
        auto t = other.getType().dyn_cast<RankedTensorType>();
        if (other != current && t && t.getRank() == 1 && t.getShape()[0] == n &&
            n != ShapedType::kDynamicSize && add.getType() == mm.getType()) {
          operands.push_back(other);
          absorbed.push_back(add);
          current = add.getResult();
        } else if (remarks) {
          mm.emitRemark("add not fused into the matmul: not a bias of ")
              << n << " values";
        }
      }
    }
    finishFusedGemm(rewriter, absorbed, current, operands, {}, remarks,
                    training);
    return success();
  }

  bool remarks, training;
};

/// The decomposed normalization over trailing axes, as the ONNX importer
/// writes LayerNormalization and InstanceNormalization and as PyTorch
/// exports LayerNorm before opset 17:
///   mu = mean(x), d = x - mu, var = mean(d * d) (or d ^ 2),
///   y = d / sqrt(var + eps) [* scale] [+ bias]
/// -> one cnn.normalize. Rooted at the division; every value inside must
/// have no user outside the group (training's backward keeps them).
struct FuseNormalize : public OpRewritePattern<DivOp> {
  FuseNormalize(MLIRContext *ctx, bool remarks, bool training)
      : OpRewritePattern<DivOp>(ctx), remarks(remarks), training(training) {}

  /// The trailing axes a keepdims mean reduces, as the first one; -1 when
  /// `op` is not such a reduction.
  static int64_t trailingMeanAxis(ReduceOp op) {
    if (!op || op.getKind() != Reduction::Mean || !op.getKeepdims())
      return -1;
    int64_t rank = op.getInput().getType().cast<ShapedType>().getRank();
    SmallVector<int64_t> axes;
    for (Attribute a : op.getAxes()) {
      int64_t axis = a.cast<IntegerAttr>().getInt();
      axes.push_back(axis < 0 ? axis + rank : axis);
    }
    llvm::sort(axes);
    for (size_t i = 0; i < axes.size(); ++i)
      if (axes[i] != rank - (int64_t)axes.size() + (int64_t)i)
        return -1;
    return axes.empty() ? -1 : axes.front();
  }

  LogicalResult matchAndRewrite(DivOp div,
                                PatternRewriter &rewriter) const override {
    auto sub = div.getLhs().getDefiningOp<SubOp>();
    auto sqrt = div.getRhs().getDefiningOp<SqrtOp>();
    if (!sub || !sqrt)
      return failure();
    Value x = sub.getLhs(), d = sub.getResult();
    auto mu = sub.getRhs().getDefiningOp<ReduceOp>();
    auto shifted = sqrt.getInput().getDefiningOp<AddOp>();
    if (!mu || mu.getInput() != x || !shifted)
      return failure();
    int64_t axis = trailingMeanAxis(mu);
    // var + eps, either order, eps a splat constant.
    ReduceOp var;
    float eps = 0;
    for (int i = 0; i < 2 && !var; ++i) {
      auto r = shifted->getOperand(i).getDefiningOp<ReduceOp>();
      Optional<float> splat = splatValue(shifted->getOperand(1 - i), training);
      if (r && splat) {
        var = r;
        eps = *splat;
      }
    }
    if (axis < 1 || !var || trailingMeanAxis(var) != axis || !(eps >= 0))
      return failure();
    Operation *square = var.getInput().getDefiningOp();
    bool squares =
        (isa_and_nonnull<MulOp>(square) && square->getOperand(0) == d &&
         square->getOperand(1) == d) ||
        (isa_and_nonnull<PowOp>(square) && square->getOperand(0) == d &&
         isSplat(square->getOperand(1), 2.0f, training));
    auto xType = x.getType().dyn_cast<RankedTensorType>();
    if (!squares || !xType || d.getType() != xType || div.getType() != xType)
      return failure();
    for (int64_t i = axis; i < xType.getRank(); ++i)
      if (xType.isDynamicDim(i))
        return failure();
    // Every intermediate value is used only inside the group.
    SmallVector<Operation *> absorbed = {mu,      sub,  square, var,
                                         shifted, sqrt, div};
    for (Operation *op : absorbed) {
      if (op == div)
        continue;
      for (Operation *user : op->getResult(0).getUsers())
        if (!llvm::is_contained(absorbed, user)) {
          if (remarks)
            div.emitRemark("normalization not fused: its ")
                << op->getName() << " is also used by " << user->getName()
                << " (a derivative keeps it)";
          return failure();
        }
    }
    // The affine map: a product, then a sum, with tensors that broadcast
    // to x's shape.
    Value current = div.getResult(), scale, bias;
    auto affine = [&](Operation *user) -> Value {
      if (!user || user->getResult(0).getType() != xType)
        return nullptr;
      Value other = otherOperand(user, current);
      if (!other || other == current)
        return nullptr;
      absorbed.push_back(user);
      current = user->getResult(0);
      return other;
    };
    if (current.hasOneUse() && isa<MulOp>(*current.getUsers().begin()))
      scale = affine(*current.getUsers().begin());
    if (current.hasOneUse() && isa<AddOp>(*current.getUsers().begin()))
      bias = affine(*current.getUsers().begin());
    rewriter.setInsertionPoint(absorbed.back());
    auto splat = [&](float value) -> Value {
      auto type = RankedTensorType::get({1}, rewriter.getF32Type());
      return rewriter.create<cnnc::cnn::ConstantOp>(
          div.getLoc(), type, DenseElementsAttr::get(type, value));
    };
    if (!scale)
      scale = splat(1.0f);
    if (!bias)
      bias = splat(0.0f);
    auto fused = rewriter.create<NormalizeOp>(
        fusedLoc(absorbed), xType, x, scale, bias,
        rewriter.getI64IntegerAttr(axis), rewriter.getF32FloatAttr(eps));
    replaceGroup(rewriter, absorbed, fused.getResult());
    return success();
  }

  bool remarks, training;
};

/// A squeeze-and-excitation block after fusion of its convolutions:
///   g = gate(conv1x1(act(conv1x1(global_avg_pool(x))))), y = x * g,
/// the gate a sigmoid activation of the second convolution, or a
/// HardSigmoid as imported (times a scalar, plus a scalar, clip) -> one
/// cnn.squeeze_excite. Rooted at the product.
struct FuseSqueezeExcite : public OpRewritePattern<MulOp> {
  FuseSqueezeExcite(MLIRContext *ctx, bool remarks, bool training)
      : OpRewritePattern<MulOp>(ctx), remarks(remarks), training(training) {}

  /// A 1x1 convolution with a bias and nothing else fused (no affine,
  /// residual or pooling), unit strides, no pads, one group.
  static FusedConv2dOp pointwise(Value v) {
    auto conv = v ? v.getDefiningOp<FusedConv2dOp>() : nullptr;
    if (!conv || !conv.getBias() || conv.getScale() || conv.getShift() ||
        conv.getResidual() || conv.getPool() != PoolKind::None ||
        conv.getGroup() != 1 || conv.getAffineAfterActivation())
      return nullptr;
    auto w = conv.getWeight().getType().cast<ShapedType>().getShape();
    auto ones = [](ArrayAttr a, int64_t value) {
      return llvm::all_of(a, [&](Attribute e) {
        return e.cast<IntegerAttr>().getInt() == value;
      });
    };
    if (w.size() != 4 || w[2] != 1 || w[3] != 1 ||
        !ones(conv.getStrides(), 1) || !ones(conv.getPads(), 0) ||
        !ones(conv.getDilations(), 1))
      return nullptr;
    return conv;
  }

  LogicalResult matchAndRewrite(MulOp mul,
                                PatternRewriter &rewriter) const override {
    auto xType = mul.getType().dyn_cast<RankedTensorType>();
    if (!xType || xType.getRank() != 4)
      return failure();
    for (int i = 0; i < 2; ++i) {
      Value g = mul->getOperand(i), x = mul->getOperand(1 - i);
      if (x.getType() != xType || g == x)
        continue;
      // The gate, backwards from the product.
      SmallVector<Operation *> gateOps;
      Activation gate = Activation::Sigmoid;
      float scale = 1, shift = 0, lo = 0, hi = 1;
      Value z = g;
      FusedConv2dOp expand;
      if (auto clip = g.getDefiningOp<ClipOp>()) {
        gate = Activation::Clip;
        lo = clip.getMin().convertToFloat();
        hi = clip.getMax().convertToFloat();
        gateOps.push_back(clip);
        z = clip.getInput();
        // A binary op of z by a scalar: its value, and z moves to the other
        // operand.
        auto peel = [&](Operation *op, float &value) {
          for (int k = 0; op && k < 2; ++k)
            if (Optional<float> v = splatValue(op->getOperand(k), training)) {
              value = *v;
              gateOps.push_back(op);
              z = op->getOperand(1 - k);
              return;
            }
        };
        peel(z.getDefiningOp<AddOp>(), shift);
        peel(z.getDefiningOp<MulOp>(), scale);
        expand = pointwise(z);
        if (expand && expand.getActivation() != Activation::None)
          expand = nullptr;
      } else {
        expand = pointwise(z);
        if (expand && expand.getActivation() != Activation::Sigmoid)
          expand = nullptr;
      }
      FusedConv2dOp reduce = expand ? pointwise(expand.getInput()) : nullptr;
      auto pool =
          reduce ? reduce.getInput().getDefiningOp<GlobalAvgPoolOp>() : nullptr;
      if (!pool || pool.getInput() != x)
        continue;
      SmallVector<Operation *> absorbed = {pool, reduce, expand};
      absorbed.append(gateOps.rbegin(), gateOps.rend());
      for (Operation *op : absorbed)
        if (!op->getResult(0).hasOneUse()) {
          if (remarks)
            mul.emitRemark("squeeze-and-excitation not fused: its ")
                << op->getName()
                << " is also used elsewhere (a derivative keeps it)";
          return failure();
        }
      absorbed.push_back(mul);
      rewriter.setInsertionPoint(mul);
      auto se = rewriter.create<SqueezeExciteOp>(
          fusedLoc(absorbed), TypeRange{xType},
          ValueRange{x, reduce.getWeight(), reduce.getBias(),
                     expand.getWeight(), expand.getBias()},
          ArrayRef<NamedAttribute>{rewriter.getNamedAttr(
              "gate", ActivationAttr::get(getContext(), gate))});
      ActivationSpec::on(reduce).setOn(se);
      if (scale != 1.0f)
        se.setGateScaleAttr(rewriter.getF32FloatAttr(scale));
      if (shift != 0.0f)
        se.setGateShiftAttr(rewriter.getF32FloatAttr(shift));
      if (gate == Activation::Clip) {
        se.setGateMinAttr(rewriter.getF32FloatAttr(lo));
        se.setGateMaxAttr(rewriter.getF32FloatAttr(hi));
      }
      replaceGroup(rewriter, absorbed, se.getResult());
      return success();
    }
    return failure();
  }

  bool remarks, training;
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
  FuseOpsPass(bool r, bool t, bool a) {
    remarks = r;
    training = t;
    inputAffine = a;
  }

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseConv>(&getContext(), remarks, training, inputAffine);
    patterns.add<FuseGemm>(&getContext(), remarks, training);
    patterns.add<FuseMatMul>(&getContext(), remarks, training);
    patterns.add<FuseNormalize>(&getContext(), remarks, training);
    patterns.add<FuseSqueezeExcite>(&getContext(), remarks, training);
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

std::unique_ptr<Pass> cnnc::cnn::createFuseOpsPass(bool remarks, bool training,
                                                   bool inputAffine) {
  return std::make_unique<FuseOpsPass>(remarks, training, inputAffine);
}
