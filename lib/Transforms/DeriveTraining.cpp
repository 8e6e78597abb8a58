//===- DeriveTraining.cpp - reverse-mode autodiff of the cnn graph --------===//
//
// Builds `train_step` from `main`: the forward ops are cloned, a loss is put
// on the output, and gradients are propagated in reverse order. Only values
// that depend on a trainable parameter get gradients. A BatchNorm whose
// affine trains uses the batch's statistics, and the new running statistics
// are extra results (`cnn.update_of`).
//
//===----------------------------------------------------------------------===//
#include "PassDetail.h"
#include "cnnc/Transforms/Passes.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/BlockAndValueMapping.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"

#include <cmath>
#include <map>

using namespace mlir;
using namespace cnnc::cnn;

namespace {

class GradientBuilder {
public:
  GradientBuilder(OpBuilder &b) : b(b) {}

  /// Values that depend on a trainable parameter.
  llvm::DenseSet<Value> needsGrad;
  llvm::DenseMap<Value, Value> grads;

  void accumulate(Value v, Value g) {
    if (!needsGrad.contains(v))
      return;
    auto it = grads.find(v);
    if (it == grads.end()) {
      grads[v] = g;
      return;
    }
    it->second = b.create<AddOp>(g.getLoc(), it->second, g).getResult();
  }

  LogicalResult backward(Operation *op, Value dy);

private:
  FailureOr<Value> sumToShape(Location loc, Value g, Type target);
  OpBuilder &b;
};

static ArrayAttr i64Array(OpBuilder &b, ArrayRef<int64_t> v) {
  return b.getI64ArrayAttr(v);
}

/// `g` (a gradient of a broadcast result) summed over the axes that
/// broadcasting expanded an operand of type `target` along.
FailureOr<Value> GradientBuilder::sumToShape(Location loc, Value g,
                                             Type target) {
  if (g.getType() == target)
    return g;
  ArrayRef<int64_t> out = g.getType().cast<ShapedType>().getShape();
  ArrayRef<int64_t> in = target.cast<ShapedType>().getShape();
  size_t lead = out.size() - in.size();
  SmallVector<int64_t> axes, kept(out.begin(), out.end());
  for (size_t i = 0; i < out.size(); ++i)
    if (i < lead || (in[i - lead] == 1 && out[i] != 1)) {
      axes.push_back((int64_t)i);
      kept[i] = 1;
    }
  Value sum = g;
  if (!axes.empty())
    sum =
        b.create<ReduceSumOp>(loc, RankedTensorType::get(kept, b.getF32Type()),
                              g, i64Array(b, axes))
            .getResult();
  if (lead == 0)
    return sum;
  if (llvm::is_contained(in, ShapedType::kDynamicSize))
    return failure();
  return b.create<ReshapeOp>(loc, target, sum, i64Array(b, in)).getResult();
}

/// The axis of a cnn.softmax or cnn.log_softmax.
static int64_t softmaxAxis(Operation *op) {
  return isa<SoftmaxOp>(op) ? cast<SoftmaxOp>(op).getAxis()
                            : cast<LogSoftmaxOp>(op).getAxis();
}

LogicalResult GradientBuilder::backward(Operation *op, Value dy) {
  Location loc = op->getLoc();
  auto needs = [&](Value v) { return needsGrad.contains(v); };
  auto unsupported = [&](StringRef why) {
    return op->emitError("cannot train through this op: ") << why;
  };

  // The window attributes of a convolution or its transposed form, as the
  // other convolution ops of its derivative take them.
  auto convAttrsOf = [&](Operation *conv) {
    SmallVector<NamedAttribute> attrs;
    for (StringRef name : {"strides", "pads", "dilations", "group"})
      if (Attribute a = conv->getAttr(name))
        attrs.push_back(b.getNamedAttr(name, a));
    return attrs;
  };

  if (auto conv = dyn_cast<Conv2dOp>(op)) {
    SmallVector<NamedAttribute> convAttrs = convAttrsOf(op);
    if (needs(conv.getWeight())) {
      auto dw = b.create<Conv2dBackwardWeightOp>(
          loc, TypeRange{conv.getWeight().getType()},
          ValueRange{dy, conv.getInput()}, convAttrs);
      accumulate(conv.getWeight(), dw);
    }
    if (conv.getBias() && needs(conv.getBias()))
      accumulate(conv.getBias(),
                 b.create<ReduceSumOp>(loc, conv.getBias().getType(), dy,
                                       i64Array(b, {0, 2, 3})));
    if (needs(conv.getInput())) {
      auto dx = b.create<Conv2dBackwardInputOp>(
          loc, TypeRange{conv.getInput().getType()},
          ValueRange{dy, conv.getWeight()}, convAttrs);
      accumulate(conv.getInput(), dx);
    }
    return success();
  }

  if (auto convT = dyn_cast<Conv2dBackwardInputOp>(op)) {
    // A transposed convolution y = J^T x (J: the convolution by w):
    // dx = J dy, the convolution of dy; dw = the weight gradient of that
    // convolution with x in the output gradient's place.
    Value x = convT.getGradOutput(), w = convT.getOther();
    SmallVector<NamedAttribute> convAttrs = convAttrsOf(op);
    if (needs(w))
      accumulate(
          w, b.create<Conv2dBackwardWeightOp>(loc, TypeRange{w.getType()},
                                              ValueRange{x, dy}, convAttrs));
    if (needs(x)) {
      SmallVector<Type> types;
      if (failed(Conv2dOp::inferReturnTypes(
              b.getContext(), loc, ValueRange{dy, w},
              b.getDictionaryAttr(convAttrs), {}, types)) ||
          types[0] != x.getType())
        return unsupported("a transposed convolution whose output size does "
                           "not convolve back to its input's");
      accumulate(
          x, b.create<Conv2dOp>(loc, types[0], ValueRange{dy, w}, convAttrs));
    }
    return success();
  }

  ActivationSpec act = ActivationSpec::of(op);
  if (act.kind != Activation::None) {
    auto g = b.create<ActivationGradOp>(
        loc, dy.getType(), dy, op->getResult(0),
        ActivationAttr::get(b.getContext(), act.kind),
        b.getF32FloatAttr(act.leakyAlpha), b.getF32FloatAttr(act.min),
        b.getF32FloatAttr(act.max));
    accumulate(op->getOperand(0), g);
    return success();
  }

  auto pool = [&](PoolKind kind, ArrayAttr kernel, ArrayAttr strides,
                  ArrayAttr pads, BoolAttr ceil, BoolAttr includePad) {
    Value x = op->getOperand(0);
    auto g = b.create<Pool2dBackwardOp>(loc, TypeRange{x.getType()},
                                        ValueRange{dy, x},
                                        ArrayRef<NamedAttribute>{});
    g.setKindAttr(PoolKindAttr::get(b.getContext(), kind));
    g.setKernelShapeAttr(kernel);
    // Attributes left at their default are absent on the forward op.
    if (strides)
      g.setStridesAttr(strides);
    if (pads)
      g.setPadsAttr(pads);
    if (ceil)
      g.setCeilModeAttr(ceil);
    if (includePad)
      g.setCountIncludePadAttr(includePad);
    accumulate(x, g);
    return success();
  };
  if (auto p = dyn_cast<MaxPool2dOp>(op)) {
    if (llvm::any_of(p.getDilations(), [](Attribute a) {
          return a.cast<IntegerAttr>().getInt() != 1;
        }))
      return unsupported("dilated max pooling");
    return pool(PoolKind::Max, p.getKernelShapeAttr(), p.getStridesAttr(),
                p.getPadsAttr(), p.getCeilModeAttr(), BoolAttr());
  }
  if (auto p = dyn_cast<AvgPool2dOp>(op))
    return pool(PoolKind::Avg, p.getKernelShapeAttr(), p.getStridesAttr(),
                p.getPadsAttr(), p.getCeilModeAttr(),
                p.getCountIncludePadAttr());
  if (isa<GlobalAvgPoolOp, GlobalMaxPoolOp>(op)) {
    auto shape = op->getOperand(0).getType().cast<ShapedType>().getShape();
    return pool(isa<GlobalAvgPoolOp>(op) ? PoolKind::Avg : PoolKind::Max,
                i64Array(b, {shape[2], shape[3]}), ArrayAttr(), ArrayAttr(),
                BoolAttr(), BoolAttr());
  }

  if (auto gemm = dyn_cast<GemmOp>(op)) {
    if (gemm.getTransA() || gemm.getAlpha().convertToFloat() != 1.0f ||
        gemm.getBeta().convertToFloat() != 1.0f)
      return unsupported("gemm with transA, alpha or beta");
    Value a = gemm.getA(), w = gemm.getB();
    bool tb = gemm.getTransB();
    if (needs(a)) {
      // y = a op(w): da = dy op(w)^T.
      auto da = b.create<GemmOp>(loc, a.getType(), dy, w, Value(),
                                 b.getF32FloatAttr(1), b.getF32FloatAttr(1),
                                 b.getBoolAttr(false), b.getBoolAttr(!tb));
      accumulate(a, da);
    }
    if (needs(w)) {
      // tb: dw = dy^T a; else dw = a^T dy.
      Value dw =
          tb ? b.create<GemmOp>(loc, w.getType(), dy, a, Value(),
                                b.getF32FloatAttr(1), b.getF32FloatAttr(1),
                                b.getBoolAttr(true), b.getBoolAttr(false))
                   .getResult()
             : b.create<GemmOp>(loc, w.getType(), a, dy, Value(),
                                b.getF32FloatAttr(1), b.getF32FloatAttr(1),
                                b.getBoolAttr(true), b.getBoolAttr(false))
                   .getResult();
      accumulate(w, dw);
    }
    if (gemm.getC() && needs(gemm.getC())) {
      auto cType = gemm.getC().getType().cast<ShapedType>();
      if (cType.getRank() != 1)
        return unsupported("gemm bias that is not a vector");
      accumulate(gemm.getC(),
                 b.create<ReduceSumOp>(loc, cType, dy, i64Array(b, {0})));
    }
    return success();
  }

  if (isa<FlattenOp, ReshapeOp>(op)) {
    Value x = op->getOperand(0);
    auto shape = x.getType().cast<ShapedType>().getShape();
    SmallVector<int64_t> target = {0};
    for (int64_t d : shape.drop_front()) {
      if (d == ShapedType::kDynamicSize)
        return unsupported("reshape of a tensor with a dynamic inner dim");
      target.push_back(d);
    }
    auto dx = b.create<ReshapeOp>(loc, dy, i64Array(b, target));
    accumulate(x, dx);
    return success();
  }

  if (auto d = dyn_cast<DropoutTrainOp>(op)) {
    auto g = b.create<DropoutTrainGradOp>(loc, dy.getType(), dy, d.getRng(),
                                          d.getRatioAttr(), d.getSaltAttr());
    accumulate(d.getInput(), g);
    return success();
  }

  if (auto tr = dyn_cast<TransposeOp>(op)) {
    // The gradient moves back through the inverse permutation.
    SmallVector<int64_t> perm = toI64(tr.getPerm()), inverse(perm.size());
    for (unsigned i = 0; i < perm.size(); ++i)
      inverse[perm[i]] = i;
    accumulate(tr.getInput(),
               b.create<TransposeOp>(loc, dy, i64Array(b, inverse)));
    return success();
  }

  // Helpers of the layout and reduction derivatives: one axis' window, a
  // zero padding (negative pads crop), one axis' padding, a keepdims
  // reduction.
  auto sliceAxis = [&](Value v, int64_t axis, int64_t start, int64_t step,
                       int64_t size) -> Value {
    auto shape = v.getType().cast<ShapedType>().getShape();
    int64_t rank = shape.size();
    SmallVector<int64_t> starts(rank, 0), steps(rank, 1),
        sizes(shape.begin(), shape.end());
    starts[axis] = start;
    steps[axis] = step;
    sizes[axis] = size;
    return b.create<SliceOp>(loc, v, i64Array(b, starts), i64Array(b, steps),
                             i64Array(b, sizes));
  };
  auto constantPad = [&](Value v, ArrayRef<int64_t> pads) -> Value {
    return b.create<PadOp>(loc, v, i64Array(b, pads), b.getF32FloatAttr(0.0f),
                           PadModeAttr::get(b.getContext(), PadMode::Constant));
  };
  auto padAxis = [&](Value v, int64_t axis, int64_t before,
                     int64_t after) -> Value {
    int64_t rank = v.getType().cast<ShapedType>().getRank();
    SmallVector<int64_t> pads(2 * rank, 0);
    pads[axis] = before;
    pads[axis + rank] = after;
    return constantPad(v, pads);
  };
  auto reduceKeep = [&](Value v, Reduction kind, ArrayAttr axes) -> Value {
    return b.create<ReduceOp>(loc, v, ReductionAttr::get(b.getContext(), kind),
                              axes, b.getBoolAttr(true));
  };

  if (auto concat = dyn_cast<ConcatOp>(op)) {
    // Each input's gradient is its window of dy along the axis.
    auto out = dy.getType().cast<ShapedType>().getShape();
    int64_t rank = out.size(), axis = concat.getAxis();
    if (axis < 0)
      axis += rank;
    int64_t offset = 0;
    for (Value v : concat->getOperands()) {
      int64_t extent = v.getType().cast<ShapedType>().getDimSize(axis);
      if (needs(v))
        accumulate(v, sliceAxis(dy, axis, offset, 1, extent));
      offset += extent;
    }
    return success();
  }

  if (auto slice = dyn_cast<SliceOp>(op)) {
    // dy padded with zeros back to the input's extent. A strided axis first
    // spreads dy to every step-th element (an axis of extent step inserted
    // after it, zero-padded, and merged back); a negative step reverses dy.
    auto in = slice.getInput().getType().cast<ShapedType>().getShape();
    int64_t rank = in.size();
    SmallVector<int64_t> pads(2 * rank, 0);
    Value g = dy;
    for (int64_t d = 0; d < rank; ++d) {
      if (in[d] == ShapedType::kDynamicSize)
        continue;
      int64_t start = slice.getStarts()[d].cast<IntegerAttr>().getInt();
      int64_t step = slice.getSteps()[d].cast<IntegerAttr>().getInt();
      int64_t size = slice.getSizes()[d].cast<IntegerAttr>().getInt();
      int64_t extent = size;
      if (step != 1 && size > 1) {
        if (step < 0) {
          g = sliceAxis(g, d, size - 1, -1, size);
          start += (size - 1) * step;
          step = -step;
        }
        auto shape = g.getType().cast<ShapedType>().getShape();
        SmallVector<int64_t> split, merged;
        int64_t dynamicAfter = 0;
        for (int64_t i = 0; i < rank; ++i) {
          bool dynamic = shape[i] == ShapedType::kDynamicSize;
          // 0 copies the input's dim at the same index: right only before
          // the inserted axis; a later dynamic dim is inferred (-1).
          int64_t keep = !dynamic ? shape[i] : i < d ? 0 : -1;
          dynamicAfter += dynamic && i > d;
          split.push_back(keep);
          merged.push_back(i == d ? size * step : keep);
          if (i == d)
            split.push_back(1);
        }
        if (dynamicAfter > 1)
          return unsupported("a strided slice of a tensor with several "
                             "dynamic dimensions");
        g = b.create<ReshapeOp>(loc, g, i64Array(b, split));
        g = padAxis(g, d + 1, 0, step - 1);
        g = b.create<ReshapeOp>(loc, g, i64Array(b, merged));
        extent = size * step;
      }
      // The spread's end may pass the input's: a negative pad crops it.
      pads[d] = start;
      pads[d + rank] = in[d] - start - extent;
    }
    accumulate(slice.getInput(), constantPad(g, pads));
    return success();
  }

  if (auto pad = dyn_cast<PadOp>(op)) {
    SmallVector<int64_t> pads = toI64(pad.getPads());
    if (pad.getMode() == PadMode::Constant) {
      // The adjoint of padding by p (a constant; negative pads crop) is
      // padding by -p: the padded border's gradient is cropped away, a
      // cropped part's gradient is zero.
      for (int64_t &p : pads)
        p = -p;
      accumulate(pad.getInput(), constantPad(dy, pads));
      return success();
    }
    // Reflect and edge pad axis by axis (as NumPy's pad): per axis, the
    // input's window of dy, plus each border's dy added where it was read.
    // Edge: a border's sum onto the first or last element. Reflect: the
    // border reversed onto the elements after the first (before the last).
    auto in = pad.getInput().getType().cast<ShapedType>().getShape();
    int64_t rank = in.size();
    bool reflect = pad.getMode() == PadMode::Reflect;
    Value g = dy;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t before = pads[d], after = pads[d + rank], n = in[d];
      if (before == 0 && after == 0)
        continue;
      if (before < 0 || after < 0)
        return unsupported("no derivative for " +
                           stringifyPadMode(pad.getMode()).str() +
                           " padding with negative pads");
      Value sum = sliceAxis(g, d, before, 1, n);
      if (before > 0) {
        Value border =
            sliceAxis(g, d, reflect ? before - 1 : 0, reflect ? -1 : 1, before);
        sum = b.create<AddOp>(
            loc, sum,
            reflect
                ? padAxis(border, d, 1, n - 1 - before)
                : padAxis(reduceKeep(border, Reduction::Sum, i64Array(b, {d})),
                          d, 0, n - 1));
      }
      if (after > 0) {
        Value border = sliceAxis(g, d, before + n + (reflect ? after - 1 : 0),
                                 reflect ? -1 : 1, after);
        sum = b.create<AddOp>(
            loc, sum,
            reflect
                ? padAxis(border, d, n - 1 - after, 1)
                : padAxis(reduceKeep(border, Reduction::Sum, i64Array(b, {d})),
                          d, n - 1, 0));
      }
      g = sum;
    }
    accumulate(pad.getInput(), g);
    return success();
  }

  // A constant of `value` that broadcasts against tensors of `rank`.
  auto scalar = [&](int64_t rank, float value) -> Value {
    auto type =
        RankedTensorType::get(SmallVector<int64_t>(rank, 1), b.getF32Type());
    return b.create<cnnc::cnn::ConstantOp>(loc, type,
                                           DenseElementsAttr::get(type, value));
  };
  auto rankOf = [](Value v) {
    return v.getType().cast<ShapedType>().getRank();
  };
  auto mul = [&](Value x, Value y) -> Value {
    return b.create<MulOp>(loc, x, y);
  };
  auto div = [&](Value x, Value y) -> Value {
    return b.create<DivOp>(loc, x, y);
  };
  auto unary = [&](Value x, UnaryFn fn) -> Value {
    return b.create<ElementwiseUnaryOp>(
        loc, x,
        ArrayRef<NamedAttribute>{
            b.getNamedAttr("fn", UnaryFnAttr::get(b.getContext(), fn))});
  };
  // g where z > 0, else 0: the ReLU gradient mask, applied to the pieces
  // of piecewise functions.
  auto whereAbove0 = [&](Value g, Value z) -> Value {
    return b.create<ActivationGradOp>(
        loc, g.getType(), g, z,
        ActivationAttr::get(b.getContext(), Activation::Relu),
        b.getF32FloatAttr(0.01f), b.getF32FloatAttr(0.0f),
        b.getF32FloatAttr(6.0f));
  };
  // g sign(z), 0 where z is 0 (PyTorch's derivative of abs).
  auto signTimes = [&](Value g, Value z) -> Value {
    return b.create<SubOp>(loc, whereAbove0(g, z),
                           whereAbove0(g, mul(z, scalar(rankOf(z), -1.0f))));
  };
  auto broadcastGrad = [&](Value v, Value g) -> LogicalResult {
    FailureOr<Value> reduced = sumToShape(loc, g, v.getType());
    if (failed(reduced))
      return unsupported("a gradient broadcast along a dynamic dimension "
                         "of a lower-rank operand");
    accumulate(v, *reduced);
    return success();
  };

  // Elementwise arithmetic with NumPy broadcasting: an operand's gradient
  // is summed over the axes it was broadcast along.
  if (isa<AddOp, SubOp, MulOp>(op)) {
    Value lhs = op->getOperand(0), rhs = op->getOperand(1);
    for (unsigned i = 0; i < 2; ++i) {
      Value v = op->getOperand(i);
      if (!needs(v))
        continue;
      Value g = dy;
      if (isa<MulOp>(op))
        g = mul(dy, i == 0 ? rhs : lhs);
      if (isa<SubOp>(op) && i == 1)
        g = mul(g, scalar(rankOf(dy), -1.0f));
      if (failed(broadcastGrad(v, g)))
        return failure();
    }
    return success();
  }

  if (isa<MaxOp, MinOp>(op)) {
    // The operand equal to the result takes dy; ties share it equally (as
    // PyTorch's maximum and minimum do).
    Value a = op->getOperand(0), c = op->getOperand(1), y = op->getResult(0);
    Value onA = b.create<EqualOp>(loc, a, y),
          onC = b.create<EqualOp>(loc, c, y);
    Value share = div(dy, b.create<AddOp>(loc, onA, onC));
    if (needs(a) && failed(broadcastGrad(a, mul(share, onA))))
      return failure();
    if (needs(c) && failed(broadcastGrad(c, mul(share, onC))))
      return failure();
    return success();
  }

  if (auto d = dyn_cast<DivOp>(op)) {
    // y = a / b: da = dy / b, db = -dy * y / b.
    Value a = d.getLhs(), den = d.getRhs();
    if (needs(a) && failed(broadcastGrad(a, div(dy, den))))
      return failure();
    if (needs(den) &&
        failed(broadcastGrad(den, mul(div(mul(dy, d.getResult()), den),
                                      scalar(rankOf(dy), -1.0f)))))
      return failure();
    return success();
  }

  if (isa<SoftmaxOp, LogSoftmaxOp>(op)) {
    // softmax: dx = y (dy - sum(dy y)); log_softmax: dx = dy - exp(y)
    // sum(dy); the sums along the axis, kept to broadcast.
    Value x = op->getOperand(0), y = op->getResult(0);
    int64_t axis = softmaxAxis(op);
    auto sumAlong = [&](Value v) -> Value {
      return b.create<ReduceOp>(
          loc, v, ReductionAttr::get(b.getContext(), Reduction::Sum),
          i64Array(b, {axis}), b.getBoolAttr(true));
    };
    if (isa<SoftmaxOp>(op)) {
      accumulate(x, mul(y, b.create<SubOp>(loc, dy, sumAlong(mul(dy, y)))));
    } else {
      accumulate(x, b.create<SubOp>(loc, dy,
                                    mul(unary(y, UnaryFn::Exp), sumAlong(dy))));
    }
    return success();
  }

  if (auto pw = dyn_cast<PowOp>(op)) {
    // y = a^e: da = dy e a^(e-1), de = dy y log(a).
    Value a = pw.getLhs(), e = pw.getRhs();
    if (needs(a)) {
      Value less = b.create<SubOp>(loc, e, scalar(rankOf(e), 1.0f));
      if (failed(
              broadcastGrad(a, mul(mul(dy, e), b.create<PowOp>(loc, a, less)))))
        return failure();
    }
    if (needs(e)) {
      Value logA = unary(a, UnaryFn::Log);
      if (failed(broadcastGrad(e, mul(mul(dy, pw.getResult()), logA))))
        return failure();
    }
    return success();
  }

  if (auto sq = dyn_cast<SqrtOp>(op)) {
    // dx = dy / (2 sqrt(x)).
    accumulate(sq.getInput(),
               mul(div(dy, sq.getResult()), scalar(rankOf(dy), 0.5f)));
    return success();
  }

  if (auto erf = dyn_cast<ErfOp>(op)) {
    // dx = dy * 2 / sqrt(pi) * exp(-x^2).
    Value x = erf.getInput();
    Value e = unary(mul(mul(x, x), scalar(rankOf(x), -1.0f)), UnaryFn::Exp);
    accumulate(
        x, mul(mul(dy, e), scalar(rankOf(x), (float)(2.0 / std::sqrt(M_PI)))));
    return success();
  }

  if (auto u = dyn_cast<ElementwiseUnaryOp>(op)) {
    Value x = u.getInput(), y = u.getResult();
    int64_t r = rankOf(x);
    switch (u.getFn()) {
    case UnaryFn::Neg:
      accumulate(x, mul(dy, scalar(r, -1.0f)));
      return success();
    case UnaryFn::Exp:
      accumulate(x, mul(dy, y));
      return success();
    case UnaryFn::Log:
      accumulate(x, div(dy, x));
      return success();
    case UnaryFn::Reciprocal: // d(1/x) = -1/x^2 = -y^2
      accumulate(x, mul(mul(mul(dy, y), y), scalar(r, -1.0f)));
      return success();
    case UnaryFn::Softplus: // the logistic function
      accumulate(x, mul(dy, b.create<SigmoidOp>(loc, x)));
      return success();
    default:
      break;
    }
    // The rest are piecewise, built from the ReLU mask of their pieces.
    float alpha = u.getAlpha().convertToFloat(),
          beta = u.getBeta().convertToFloat();
    auto shifted = [&](Value v, float by) -> Value {
      return b.create<AddOp>(loc, v, scalar(r, by));
    };
    auto negated = [&](Value v) { return mul(v, scalar(r, -1.0f)); };
    // dy where x > 0, and where x <= 0; built only by the cases using them.
    Value positive, rest;
    UnaryFn fn = u.getFn();
    if (fn == UnaryFn::Elu || fn == UnaryFn::Selu || fn == UnaryFn::Celu) {
      positive = whereAbove0(dy, x);
      rest = b.create<SubOp>(loc, dy, positive);
    }
    switch (fn) {
    case UnaryFn::Abs: // sign(x), 0 at 0 (as PyTorch)
      accumulate(x, signTimes(dy, x));
      return success();
    case UnaryFn::Elu: // x <= 0: alpha e^x = y + alpha
      accumulate(x,
                 b.create<AddOp>(loc, positive, mul(rest, shifted(y, alpha))));
      return success();
    case UnaryFn::Selu: // beta (x > 0); x <= 0: y + alpha beta
      accumulate(x, b.create<AddOp>(loc, mul(positive, scalar(r, beta)),
                                    mul(rest, shifted(y, alpha * beta))));
      return success();
    case UnaryFn::Celu: // x <= 0: e^(x / alpha) = y / alpha + 1
      accumulate(
          x, b.create<AddOp>(
                 loc, positive,
                 mul(rest, shifted(mul(y, scalar(r, 1.0f / alpha)), 1.0f))));
      return success();
    case UnaryFn::Softsign: { // 1 / (1 + |x|)^2
      Value d = shifted(unary(x, UnaryFn::Abs), 1.0f);
      accumulate(x, div(dy, mul(d, d)));
      return success();
    }
    case UnaryFn::ThresholdedRelu: // x > alpha
      accumulate(x, whereAbove0(dy, shifted(x, -alpha)));
      return success();
    case UnaryFn::Shrink: // |x| > lambd (alpha)
      accumulate(x,
                 b.create<AddOp>(loc, whereAbove0(dy, shifted(x, -alpha)),
                                 whereAbove0(dy, shifted(negated(x), -alpha))));
      return success();
    default:
      return unsupported("no derivative for cnn.unary " +
                         stringifyUnaryFn(u.getFn()).str() + " yet");
    }
  }

  if (auto rd = dyn_cast<ReduceOp>(op)) {
    // dy and y are broadcast back along the reduced axes (reshaped to keep
    // them, of extent 1, when the reduction dropped them).
    Value x = rd.getInput();
    Reduction kind = rd.getKind();
    ArrayRef<int64_t> xs = x.getType().cast<ShapedType>().getShape();
    int64_t rank = (int64_t)xs.size();
    SmallVector<bool> reduced(rank, false);
    for (int64_t axis : toI64(rd.getAxes()))
      reduced[axis < 0 ? axis + rank : axis] = true;
    SmallVector<int64_t> kept, spread;
    int64_t n = 1, inferred = 0;
    for (int64_t i = 0; i < rank; ++i) {
      if (reduced[i] && xs[i] == ShapedType::kDynamicSize)
        return unsupported("a reduction over a dynamic dimension");
      if (reduced[i])
        n *= xs[i];
      inferred += !reduced[i] && xs[i] == ShapedType::kDynamicSize;
      kept.push_back(reduced[i]                          ? 1
                     : xs[i] == ShapedType::kDynamicSize ? -1
                                                         : xs[i]);
      spread.push_back(reduced[i] ? xs[i] : 1);
    }
    auto keep = [&](Value v) -> Value {
      if (rd.getKeepdims())
        return v;
      return b.create<ReshapeOp>(loc, v, i64Array(b, kept));
    };
    if (!rd.getKeepdims() && inferred > 1)
      return unsupported("a reduction without keepdims over a tensor with "
                         "several dynamic dimensions");
    Value g = keep(dy);
    // A constant shaped like the reduced axes: a product with it spreads a
    // value of the kept shape over x's.
    auto spreadOf = [&](float value) -> Value {
      auto type = RankedTensorType::get(spread, b.getF32Type());
      return b.create<cnnc::cnn::ConstantOp>(
          loc, type, DenseElementsAttr::get(type, value));
    };
    switch (kind) {
    case Reduction::Sum: // dx = dy
      accumulate(x, mul(g, spreadOf(1.0f)));
      return success();
    case Reduction::Mean: // dx = dy / n
      accumulate(x, mul(g, spreadOf(1.0f / (float)n)));
      return success();
    case Reduction::L1: { // dx = dy sign(x), 0 at 0 (as PyTorch's abs)
      accumulate(x, signTimes(mul(g, spreadOf(1.0f)), x));
      return success();
    }
    case Reduction::Prod: {
      // dx_i = dy * (the product of the others), exact with zeros (as
      // PyTorch): without a zero in the reduced set, y / x_i; with one, the
      // product of the nonzero values at the zero and 0 elsewhere; with
      // more, 0.
      Value isZero = b.create<EqualOp>(loc, x, scalar(rank, 0.0f));
      Value nonzero = b.create<AddOp>(loc, x, isZero);
      Value others = reduceKeep(nonzero, Reduction::Prod, rd.getAxes());
      Value zeros = reduceKeep(isZero, Reduction::Sum, rd.getAxes());
      Value none = b.create<EqualOp>(loc, zeros, scalar(rank, 0.0f));
      Value one = b.create<EqualOp>(loc, zeros, scalar(rank, 1.0f));
      Value d = b.create<AddOp>(loc, mul(none, div(others, nonzero)),
                                mul(one, mul(isZero, others)));
      accumulate(x, mul(g, d));
      return success();
    }
    case Reduction::SumSquare: // dx = 2 x dy
      accumulate(x, mul(mul(g, x), scalar(rank, 2.0f)));
      return success();
    case Reduction::L2: // dx = dy x / y
      accumulate(x, mul(g, div(x, keep(rd.getResult()))));
      return success();
    case Reduction::LogSum: // y = log(s): dx = dy / s = dy exp(-y)
      accumulate(x, mul(div(g, unary(keep(rd.getResult()), UnaryFn::Exp)),
                        spreadOf(1.0f)));
      return success();
    case Reduction::Max:
    case Reduction::Min: {
      // The values equal to the result share dy equally (PyTorch's amax
      // and amin).
      Value onX = b.create<EqualOp>(loc, x, keep(rd.getResult()));
      Value count = reduceKeep(onX, Reduction::Sum, rd.getAxes());
      accumulate(x, mul(div(g, count), onX));
      return success();
    }
    case Reduction::LogSumExp: // dx = dy exp(x - y), the softmax of x
      accumulate(x, mul(g, unary(b.create<SubOp>(loc, x, keep(rd.getResult())),
                                 UnaryFn::Exp)));
      return success();
    default:
      break;
    }
    return unsupported("no derivative for this reduction");
  }

  if (auto pr = dyn_cast<PReluOp>(op)) {
    // y = x (x > 0) or slope x: dx = dy there, slope dy elsewhere; the
    // slope's gradient sums dy x where x <= 0 over its broadcast.
    Value x = pr.getLhs(), slope = pr.getRhs();
    Value positive = whereAbove0(dy, x);
    Value rest = b.create<SubOp>(loc, dy, positive);
    if (needs(x))
      accumulate(x, b.create<AddOp>(loc, positive, mul(rest, slope)));
    if (needs(slope) && failed(broadcastGrad(slope, mul(rest, x))))
      return failure();
    return success();
  }

  if (auto mm = dyn_cast<MatMulOp>(op)) {
    Value a = mm.getA(), w = mm.getB();
    if (rankOf(a) < 2 || rankOf(w) < 2)
      return unsupported("a matmul with a 1-D operand");
    auto swapLast = [&](Value v) -> Value {
      int64_t r = rankOf(v);
      SmallVector<int64_t> perm;
      for (int64_t i = 0; i < r; ++i)
        perm.push_back(i);
      std::swap(perm[r - 1], perm[r - 2]);
      return b.create<TransposeOp>(loc, v, i64Array(b, perm));
    };
    // y = a w: da = dy w^T, dw = a^T dy (summed over broadcast batches).
    if (needs(a) &&
        failed(broadcastGrad(a, b.create<MatMulOp>(loc, dy, swapLast(w)))))
      return failure();
    // (A weight shared by the rows of a batched a, a Linear layer on
    // channels-last activations, sums the batches' products: the dynamic
    // batch cannot fold into the rows of one gemm, whose runtime extents
    // take a dynamic dimension for the batch.)
    if (needs(w) &&
        failed(broadcastGrad(w, b.create<MatMulOp>(loc, swapLast(a), dy))))
      return failure();
    return success();
  }

  if (auto bn = dyn_cast<BatchNormTrainOp>(op)) {
    // The batch statistics depend on x: its gradient goes through them too,
    // which needs both parameter gradients (sum(dy * xhat) and sum(dy)).
    Value x = bn.getInput(), scale = bn.getScale(), bias = bn.getBias();
    int64_t rank = x.getType().cast<ShapedType>().getRank();
    SmallVector<int64_t> axes = {0};
    for (int64_t i = 2; i < rank; ++i)
      axes.push_back(i);
    Value dScale, dBias;
    if (needs(bias) || needs(x))
      dBias = b.create<ReduceSumOp>(loc, bias.getType(), dy, i64Array(b, axes));
    if (needs(scale) || needs(x))
      dScale = b.create<BatchNormTrainGradScaleOp>(loc, dy, x, bn.getStats(),
                                                   bn.getEpsilonAttr());
    if (needs(scale))
      accumulate(scale, dScale);
    if (needs(bias))
      accumulate(bias, dBias);
    if (needs(x)) {
      // Statistics of the global batch (cnn.replica_reduce: SyncBatchNorm
      // across data-parallel processes): the input's gradient goes through
      // them, so it takes the sums over the global batch too, while the
      // parameters' gradients stay this replica's (the runtime sums them
      // with the others).
      Value gradScale = dScale, gradBias = dBias;
      if (bn.getStats().getDefiningOp<ReplicaReduceOp>()) {
        auto sum =
            ReplicaReductionAttr::get(b.getContext(), ReplicaReduction::Sum);
        gradScale = b.create<ReplicaReduceOp>(loc, dScale, x, sum);
        gradBias = b.create<ReplicaReduceOp>(loc, dBias, x, sum);
      }
      accumulate(x, b.create<BatchNormTrainGradInputOp>(
                        loc, dy, x, bn.getStats(), scale, gradScale, gradBias,
                        bn.getEpsilonAttr()));
    }
    return success();
  }

  if (auto bn = dyn_cast<BatchNormOp>(op)) {
    // A frozen BatchNorm (constant statistics and affine; one that trains
    // became cnn.batch_norm_train) is a per-channel scale on the gradient.
    auto values = [&](Value v) -> Optional<std::vector<float>> {
      auto param = v.getDefiningOp<ParamOp>();
      if (!param || needs(v) || !param.getValueAttr())
        return llvm::None;
      auto dense = param.getValueAttr().dyn_cast<DenseElementsAttr>();
      if (!dense)
        return llvm::None;
      auto r = dense.getValues<float>();
      return std::vector<float>(r.begin(), r.end());
    };
    auto gamma = values(bn.getScale()), var = values(bn.getVariance());
    if (!gamma || !var || needs(bn.getBias()))
      return unsupported("frozen BatchNorm whose scale or variance has no "
                         "constant value");
    auto xType = bn.getInput().getType().cast<ShapedType>();
    int64_t c = xType.getShape()[1];
    std::vector<float> s(c);
    float eps = bn.getEpsilon().convertToFloat();
    for (int64_t i = 0; i < c; ++i)
      s[i] = (float)((*gamma)[i] / std::sqrt((double)(*var)[i] + eps));
    SmallVector<int64_t> sShape = {c};
    for (int64_t i = 2; i < xType.getRank(); ++i)
      sShape.push_back(1);
    auto sType = RankedTensorType::get(sShape, b.getF32Type());
    Value scale = b.create<cnnc::cnn::ConstantOp>(
        loc, sType, DenseElementsAttr::get(sType, llvm::makeArrayRef(s)));
    accumulate(bn.getInput(), b.create<MulOp>(loc, dy, scale));
    return success();
  }

  return unsupported("no derivative for '" +
                     op->getName().getStringRef().str() + "' yet");
}

/// A BatchNorm whose scale or bias trains normalizes with the statistics of
/// the batch and updates its running statistics (PyTorch's train mode); one
/// whose affine is frozen keeps the inference form (constant statistics).
/// The parameters are looked up in `map`: their copies in the training step
/// are what trains.
static bool trainsWithBatchStatistics(BatchNormOp bn,
                                      BlockAndValueMapping &map) {
  auto trainable = [&](Value v) {
    auto param = map.lookupOrDefault(v).getDefiningOp<ParamOp>();
    return param && !param.getFrozen() && !param.getBuffer();
  };
  return trainable(bn.getScale()) || trainable(bn.getBias());
}

/// A running statistic's new value, and the parameter it replaces after a
/// successful step.
struct StateUpdate {
  Value value;
  StringRef param;
};

/// Emits the train-mode form of `bn` (statistics, normalization, running
/// updates) at the builder's insertion point.
static LogicalResult
emitTrainModeBatchNorm(OpBuilder &b, BatchNormOp bn, BlockAndValueMapping &map,
                       SmallVectorImpl<Operation *> &ops,
                       SmallVectorImpl<StateUpdate> &updates) {
  Location loc = bn.getLoc();
  Value x = map.lookup(bn.getInput());
  auto local = b.create<BatchNormStatsOp>(loc, x);
  // The statistics of the global batch when the runtime trains on several
  // processes with SyncBatchNorm; with one process (or per-process
  // statistics) the identity.
  auto reduce = [&](ReplicaReduction kind) {
    auto op = b.create<ReplicaReduceOp>(
        loc, local, x, ReplicaReductionAttr::get(b.getContext(), kind));
    ops.push_back(op);
    return op;
  };
  ops.push_back(local);
  Value stats = reduce(ReplicaReduction::BatchStats);
  auto y = b.create<BatchNormTrainOp>(
      loc, x, stats, map.lookup(bn.getScale()), map.lookup(bn.getBias()),
      b.getF32FloatAttr(bn.getEpsilon().convertToFloat()));
  map.map(bn.getResult(), y.getResult());
  ops.push_back(y);
  Value runningStats;
  std::pair<Value, Statistic> running[] = {
      {bn.getMean(), Statistic::Mean}, {bn.getVariance(), Statistic::Variance}};
  for (auto [value, statistic] : running) {
    auto param = map.lookupOrDefault(value).getDefiningOp<ParamOp>();
    if (!param)
      return bn.emitError("a BatchNorm that trains needs its running ")
             << stringifyStatistic(statistic) << " as a parameter";
    if (param.getFrozen())
      continue; // frozen statistics keep their value
    if (llvm::any_of(updates, [&](const StateUpdate &u) {
          return u.param == param.getName();
        }))
      return bn.emitError("running statistic '")
             << param.getName() << "' is shared by two BatchNorms that train";
    if (!runningStats)
      runningStats = reduce(ReplicaReduction::RunningStats);
    auto update = b.create<BatchNormRunningUpdateOp>(
        loc, param.getResult(), runningStats, x,
        b.getF32FloatAttr(bn.getMomentum().convertToFloat()),
        StatisticAttr::get(b.getContext(), statistic));
    ops.push_back(update);
    updates.push_back({update.getResult(), param.getName()});
  }
  return success();
}

struct DeriveTrainingPass : public DeriveTrainingBase<DeriveTrainingPass> {
  // IR dumps (--print-ir-after-all) name the pass as users invoke it.
  StringRef getName() const override { return getArgument(); }
  DeriveTrainingPass() = default;
  explicit DeriveTrainingPass(const std::string &l) { loss = l; }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<FuncOp>("main");
    if (!main) {
      module.emitError("training needs a 'main' function");
      return signalPassFailure();
    }
    if (module.lookupSymbol("train_step"))
      return; // already derived
    // The backward kernels read plain weights: layouts are chosen after
    // the training steps exist (cnn-graph-pipeline's order).
    WalkResult packed = main.walk([](PackWeightsOp pack) {
      pack.emitError("training is derived from plain weights: run "
                     "cnn-derive-training before cnn-pack-conv-weights");
      return WalkResult::interrupt();
    });
    if (packed.wasInterrupted())
      return signalPassFailure();
    if (main.getNumResults() != 1) {
      main.emitError("training needs a model with one output, this one has ")
          << main.getNumResults();
      return signalPassFailure();
    }
    if (loss.empty()) {
      loss = "cross_entropy";
      for (auto plan : module.getOps<TrainPlanOp>())
        loss = plan.getLoss().str();
    }
    if (loss != "cross_entropy" && loss != "mse") {
      module.emitError("unknown loss '") << loss << "'";
      return signalPassFailure();
    }
    auto outType = main.getType().getResult(0).cast<RankedTensorType>();
    if (loss == "cross_entropy" && outType.getRank() != 2) {
      main.emitError("cross-entropy needs a [batch, classes] output, got ")
          << outType;
      return signalPassFailure();
    }

    // Phases of gradual unfreezing: a group unfrozen at epoch E is frozen
    // in the training graphs of the epochs before E.
    std::map<int64_t, SmallVector<std::string>> unfreezeAt;
    for (auto &[name, epoch] : unfreezeSchedule(module))
      unfreezeAt[epoch].push_back(name);
    SmallVector<int64_t> starts = {1};
    for (auto &entry : unfreezeAt)
      if (entry.first > 1)
        starts.push_back(entry.first);
    OpBuilder b(module.getContext());
    b.setInsertionPointAfter(main);
    for (size_t i = 0; i < starts.size(); ++i) {
      bool last = i + 1 == starts.size();
      SmallVector<std::string> frozen;
      for (auto &entry : unfreezeAt)
        if (entry.first > starts[i])
          frozen.append(entry.second.begin(), entry.second.end());
      std::string name =
          last ? "train_step"
               : "train_step_from_epoch" + std::to_string(starts[i]);
      FuncOp fn = derive(b, main, name, frozen);
      if (!fn)
        return signalPassFailure();
      if (starts.size() > 1)
        kFirstEpochAttr.set(fn, b.getI64IntegerAttr(starts[i]));
      b.setInsertionPointAfter(fn);
    }
  }

  /// Adds the training step `name` of `main`, with the parameters of the
  /// groups or name prefixes `frozen` frozen. Null after an error.
  FuncOp derive(OpBuilder &b, FuncOp main, StringRef name,
                ArrayRef<std::string> frozen) {
    ModuleOp module = getOperation();
    auto outType = main.getType().getResult(0).cast<RankedTensorType>();
    Type labelsType = loss == "cross_entropy"
                          ? (Type)RankedTensorType::get({outType.getDimSize(0)},
                                                        b.getIntegerType(64))
                          : (Type)outType;
    auto mainInputs = main.getType().getInputs();
    SmallVector<Type> inputs(mainInputs.begin(), mainInputs.end());
    inputs.push_back(labelsType);
    auto lossType = RankedTensorType::get({}, b.getF32Type());
    auto fn =
        b.create<FuncOp>(main.getLoc(), name, b.getFunctionType(inputs, {}));
    kTrainStepAttr.set(fn, b.getUnitAttr());
    Block *entry = fn.addEntryBlock();
    for (unsigned i = 0; i < main.getNumArguments(); ++i)
      fn.setArgAttrs(i, main.getArgAttrs(i));
    fn.setArgAttr(main.getNumArguments(), kNameAttr, b.getStringAttr("labels"));

    BlockAndValueMapping map;
    for (unsigned i = 0; i < main.getNumArguments(); ++i)
      map.map(main.getArgument(i), entry->getArgument(i));
    b.setInsertionPointToStart(entry);
    SmallVector<Operation *> forward;
    Value output;
    // Dropout trains with random masks: the runtime's generator state
    // [seed, step] is a hidden parameter (not exposed, not exported).
    Value rng;
    int64_t salt = 0;
    SmallVector<StateUpdate> updates;
    for (Operation &op : main.getBody().front()) {
      if (auto ret = dyn_cast<ReturnOp>(op)) {
        output = map.lookup(ret.getOperand(0));
        continue;
      }
      auto bn = dyn_cast<BatchNormOp>(op);
      if (bn && trainsWithBatchStatistics(bn, map)) {
        if (failed(emitTrainModeBatchNorm(b, bn, map, forward, updates)))
          return fn.erase(), FuncOp();
        continue;
      }
      if (auto dropout = dyn_cast<DropoutOp>(op)) {
        if (!rng) {
          auto type = RankedTensorType::get({2}, b.getIntegerType(64));
          auto param = b.create<ParamOp>(
              dropout.getLoc(), type, b.getStringAttr(kRngAttr.name),
              DenseElementsAttr::get(type, llvm::makeArrayRef<int64_t>({0, 0})),
              StringAttr(), FlatSymbolRefAttr(), b.getUnitAttr(),
              b.getUnitAttr());
          kRngAttr.set(param, b.getUnitAttr());
          forward.push_back(param);
          rng = param.getResult();
        }
        auto train = b.create<DropoutTrainOp>(
            dropout.getLoc(), dropout.getType(), map.lookup(dropout.getInput()),
            rng, b.getF32FloatAttr(dropout.getRatio().convertToFloat()),
            b.getI64IntegerAttr(salt++));
        map.map(dropout.getResult(), train.getResult());
        forward.push_back(train);
        continue;
      }
      Operation *copy = b.clone(op, map);
      if (auto param = dyn_cast<ParamOp>(copy)) {
        for (const std::string &f : frozen)
          if (param.isInGroupOrPrefix(f))
            param.setFrozenAttr(b.getUnitAttr());
      }
      forward.push_back(copy);
    }

    GradientBuilder grads(b);
    SmallVector<ParamOp> trainable;
    for (Operation *op : forward) {
      if (auto param = dyn_cast<ParamOp>(op)) {
        if (!param.getFrozen() && !param.getBuffer()) {
          grads.needsGrad.insert(param.getResult());
          trainable.push_back(param);
        }
        continue;
      }
      if (llvm::any_of(op->getOperands(),
                       [&](Value v) { return grads.needsGrad.contains(v); }))
        for (Value r : op->getResults())
          grads.needsGrad.insert(r);
    }
    // The frozen prefix ends where a value no gradient flows into feeds one
    // that trains: mark those ops, so the boundary shows in the IR (the
    // feature cache of transfer learning starts there).
    // (Batch statistics are recomputed from the boundary value by the part
    // that trains: they are not a boundary of their own.)
    for (Operation *op : forward) {
      if (isa<ParamOp, cnnc::cnn::ConstantOp, BatchNormStatsOp,
              ReplicaReduceOp>(op) ||
          op->getNumResults() != 1 ||
          grads.needsGrad.contains(op->getResult(0)))
        continue;
      for (Operation *user : op->getResult(0).getUsers())
        if (llvm::any_of(user->getResults(),
                         [&](Value r) { return grads.needsGrad.contains(r); }))
          kFrozenBoundaryAttr.set(op, b.getUnitAttr());
    }
    if (trainable.empty()) {
      main.emitError("training needs at least one trainable parameter; "
                     "every parameter is frozen")
          << (frozen.empty() ? "" : " in " + name.str());
      return fn.erase(), FuncOp();
    }

    Value labels = entry->getArguments().back();
    Location lossLoc = NameLoc::get(b.getStringAttr("loss"), main.getLoc());
    Value lossValue, dOutput;
    // A classifier exported with its final (log-)softmax over the classes:
    // the cross-entropy takes the logits before it, as the loss applies its
    // own softmax (training on the probabilities would apply it twice).
    if (loss == "cross_entropy" && output.getDefiningOp() &&
        isa<SoftmaxOp, LogSoftmaxOp>(output.getDefiningOp()) &&
        output.getType().cast<ShapedType>().getRank() == 2) {
      Operation *last = output.getDefiningOp();
      int64_t axis = softmaxAxis(last);
      if (axis == 1 || axis == -1)
        output = last->getOperand(0);
    }
    if (loss == "cross_entropy") {
      lossValue =
          b.create<SoftmaxCrossEntropyOp>(lossLoc, lossType, output, labels);
      dOutput = b.create<SoftmaxCrossEntropyGradOp>(lossLoc, output.getType(),
                                                    output, labels);
    } else {
      lossValue = b.create<MseLossOp>(lossLoc, lossType, output, labels);
      dOutput =
          b.create<MseLossGradOp>(lossLoc, output.getType(), output, labels);
    }
    grads.grads[output] = dOutput;
    for (auto it = forward.rbegin(); it != forward.rend(); ++it) {
      Operation *op = *it;
      if (isa<ParamOp, cnnc::cnn::ConstantOp>(op) || op->getNumResults() != 1)
        continue;
      auto g = grads.grads.find(op->getResult(0));
      if (g == grads.grads.end())
        continue;
      if (failed(grads.backward(op, g->second)))
        return fn.erase(), FuncOp();
    }

    SmallVector<Value> results = {lossValue};
    SmallVector<Type> resultTypes = {lossType};
    SmallVector<StringRef> names;
    for (ParamOp param : trainable) {
      auto g = grads.grads.find(param.getResult());
      if (g == grads.grads.end())
        continue; // does not reach the output
      results.push_back(g->second);
      resultTypes.push_back(g->second.getType());
      names.push_back(param.getName());
    }
    // Then the new running statistics, which the runtime copies into their
    // parameters after a step whose loss is finite.
    for (const StateUpdate &u : updates) {
      results.push_back(u.value);
      resultTypes.push_back(u.value.getType());
    }
    b.create<ReturnOp>(main.getLoc(), results);
    fn.setType(b.getFunctionType(inputs, resultTypes));
    fn.setResultAttr(0, kNameAttr, b.getStringAttr("loss"));
    for (unsigned i = 0; i < names.size(); ++i)
      fn.setResultAttr(i + 1, kGradOfAttr, b.getStringAttr(names[i]));
    for (unsigned i = 0; i < updates.size(); ++i)
      fn.setResultAttr(1 + names.size() + i, kUpdateOfAttr,
                       b.getStringAttr(updates[i].param));
    return fn;
  }
};
} // namespace

std::unique_ptr<Pass> cnnc::cnn::createDeriveTrainingPass() {
  return std::make_unique<DeriveTrainingPass>();
}

std::unique_ptr<Pass>
cnnc::cnn::createDeriveTrainingPass(const std::string &loss) {
  return std::make_unique<DeriveTrainingPass>(loss);
}
