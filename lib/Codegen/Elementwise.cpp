//===- Elementwise.cpp - pointwise, normalization, softmax, shapes --------===//
#include "KernelBuilder.h"

#include "cnnc/Dialect/CNN/CNNOps.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace Halide;
using namespace cnnc;
using namespace cnnc::codegen;

/// operand[broadcast(idx)] for NumPy broadcasting against the output.
static Expr broadcastAt(const TensorFunc &t, const std::vector<Expr> &out) {
  std::vector<Expr> idx;
  size_t offset = out.size() - t.shape.size();
  for (size_t i = 0; i < t.shape.size(); ++i)
    idx.push_back(t.shape[i] == 1 ? Expr(0) : out[offset + i]);
  return at(t.func, idx);
}

static int64_t normalizedAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

/// softmax / log_softmax along `axis`, with the max subtracted for range.
static void lowerSoftmax(int64_t axisAttr, bool log, const TensorFunc &in,
                         const std::vector<Var> &v, Func &out,
                         KernelParts &parts) {
  int rank = in.rank();
  int64_t axis = normalizedAxis(axisAttr, rank);
  std::vector<Expr> idx = rowMajor(v);
  // The axis may be the batch (ONNX allows axis 0): its extent then comes
  // from the input buffer.
  RDom r(0, in.extent(axis), "softmax_r");
  std::vector<Expr> ridx = idx;
  ridx[axis] = r.x;
  // The reductions are indexed by every dim but the axis (innermost first).
  std::vector<Var> keep;
  for (int i = 0; i < rank; ++i)
    if (rank - 1 - i != axis)
      keep.push_back(v[i]);
  std::vector<Expr> keepArgs(keep.begin(), keep.end());
  Func mx("softmax_max"), total("softmax_sum");
  mx(keep) = maximum(at(in.func, ridx));
  total(keep) = sum(exp(at(in.func, ridx) - mx(keepArgs)));
  Expr shifted = at(in.func, idx) - mx(keepArgs);
  // strict_float: Halide's simplifier would otherwise reassociate this into
  // x - (max + log(sum)), whose sum rounds at the magnitude of x (0.00049
  // off for x = 10003, ONNX's test_logsoftmax_large_number).
  if (log)
    out(v) = strict_float(shifted - Halide::log(total(keepArgs)));
  else
    out(v) = exp(shifted) / total(keepArgs);
  parts.family = KernelParts::Family::Reduction;
  parts.reduction = mx;
  parts.padded = total;
  parts.hasReduction = parts.hasPadded = true;
}

mlir::FailureOr<KernelParts>
cnnc::codegen::lowerElementwise(mlir::Operation *op,
                                llvm::ArrayRef<TensorFunc> operands) {
  KernelParts parts;
  parts.family = KernelParts::Family::Elementwise;
  parts.shape = resultShape(op);
  int rank = (int)parts.shape.size();
  std::vector<Var> v = makeVars(rank);
  std::vector<Expr> idx = rowMajor(v);
  Func out(op->getName().stripDialect().str());
  auto x = [&]() { return at(operands[0].func, idx); };

  bool ok = true;
  llvm::TypeSwitch<mlir::Operation *>(op)
      .Case<cnn::ReluOp, cnn::LeakyReluOp, cnn::ClipOp, cnn::SigmoidOp,
            cnn::TanhOp>([&](mlir::Operation *o) {
        out(v) = applyActivation(x(), cnn::ActivationSpec::of(o));
      })
      .Case([&](cnn::DropoutOp) { out(v) = x(); })
      .Case([&](cnn::AddOp) {
        out(v) = broadcastAt(operands[0], idx) + broadcastAt(operands[1], idx);
      })
      .Case([&](cnn::SubOp) {
        out(v) = broadcastAt(operands[0], idx) - broadcastAt(operands[1], idx);
      })
      .Case([&](cnn::MulOp) {
        out(v) = broadcastAt(operands[0], idx) * broadcastAt(operands[1], idx);
      })
      .Case([&](cnn::DivOp) {
        out(v) = broadcastAt(operands[0], idx) / broadcastAt(operands[1], idx);
      })
      .Case([&](cnn::PowOp) {
        out(v) =
            pow(broadcastAt(operands[0], idx), broadcastAt(operands[1], idx));
      })
      .Case([&](cnn::MaxOp) {
        out(v) =
            max(broadcastAt(operands[0], idx), broadcastAt(operands[1], idx));
      })
      .Case([&](cnn::MinOp) {
        out(v) =
            min(broadcastAt(operands[0], idx), broadcastAt(operands[1], idx));
      })
      .Case([&](cnn::EqualOp) {
        out(v) = select(broadcastAt(operands[0], idx) ==
                            broadcastAt(operands[1], idx),
                        1.0f, 0.0f);
      })
      .Case([&](cnn::PReluOp) {
        Expr a = broadcastAt(operands[0], idx);
        out(v) = select(a >= 0.0f, a, broadcastAt(operands[1], idx) * a);
      })
      .Case([&](cnn::SqrtOp) { out(v) = sqrt(x()); })
      .Case([&](cnn::ElementwiseUnaryOp o) {
        Expr a = x();
        float alpha = o.getAlpha().convertToFloat();
        float beta = o.getBeta().convertToFloat();
        // exp(a) - 1 where a <= 0 (ELU's family): the select keeps exp off
        // large positive inputs.
        auto expm1Neg = [&](Expr t) { return exp(min(t, 0.0f)) - 1.0f; };
        switch (o.getFn()) {
        case cnn::UnaryFn::Neg:
          out(v) = -a;
          break;
        case cnn::UnaryFn::Abs:
          out(v) = abs(a);
          break;
        case cnn::UnaryFn::Exp:
          out(v) = exp(a);
          break;
        case cnn::UnaryFn::Log:
          out(v) = log(a);
          break;
        case cnn::UnaryFn::Reciprocal:
          out(v) = 1.0f / a;
          break;
        case cnn::UnaryFn::Softplus:
          // log(1 + exp(x)) without overflow for large x.
          out(v) = max(a, 0.0f) + log(1.0f + exp(-abs(a)));
          break;
        case cnn::UnaryFn::Softsign:
          out(v) = a / (1.0f + abs(a));
          break;
        case cnn::UnaryFn::Elu:
          out(v) = select(a > 0.0f, a, alpha * expm1Neg(a));
          break;
        case cnn::UnaryFn::Selu:
          out(v) = beta * select(a > 0.0f, a, alpha * expm1Neg(a));
          break;
        case cnn::UnaryFn::Celu:
          out(v) = max(a, 0.0f) + min(0.0f, alpha * expm1Neg(a / alpha));
          break;
        case cnn::UnaryFn::ThresholdedRelu:
          out(v) = select(a > alpha, a, 0.0f);
          break;
        case cnn::UnaryFn::Shrink:
          out(v) =
              select(a < -alpha, a + beta, select(a > alpha, a - beta, 0.0f));
          break;
        }
      })
      .Case([&](cnn::ErfOp) { out(v) = erf(x()); })
      .Case([&](cnn::BatchNormOp o) {
        // Per-channel scale and shift, computed once per channel.
        Var ch("ch");
        float eps = o.getEpsilon().convertToFloat();
        Func scale("bn_scale"), shift("bn_shift");
        scale(ch) = operands[1].func(ch) / sqrt(operands[4].func(ch) + eps);
        shift(ch) = operands[2].func(ch) - operands[3].func(ch) * scale(ch);
        Expr c = idx[1];
        out(v) = x() * scale(c) + shift(c);
        parts.reduction = scale; // scheduled compute_root with shift
        parts.padded = shift;
        parts.hasReduction = parts.hasPadded = true;
      })
      .Case([&](cnn::PadOp o) {
        std::vector<int64_t> pads;
        for (mlir::Attribute a : o.getPads())
          pads.push_back(a.cast<mlir::IntegerAttr>().getInt());
        const TensorFunc &in = operands[0];
        std::vector<Expr> src;
        Expr inside = Halide::Internal::const_true();
        for (int i = 0; i < rank; ++i) {
          Expr s = idx[i] - (int)pads[i];
          src.push_back(s);
          if (in.shape[i] >= 0)
            inside = inside && s >= 0 && s < (int)in.shape[i];
        }
        std::vector<Expr> clamped;
        for (int i = 0; i < rank; ++i) {
          if (in.shape[i] < 0) {
            clamped.push_back(src[i]);
            continue;
          }
          Expr s = src[i];
          int last = (int)in.shape[i] - 1;
          // Reflect: mirrored about the first and the last element (the
          // pads are shorter than the axis, so once is enough).
          if (o.getMode() == cnn::PadMode::Reflect)
            s = select(s < 0, -s, select(s > last, 2 * last - s, s));
          clamped.push_back(clamp(s, 0, last));
        }
        if (o.getMode() == cnn::PadMode::Constant)
          out(v) = select(inside, at(in.func, clamped),
                          o.getValue().convertToFloat());
        else
          out(v) = at(in.func, clamped);
      })
      .Case([&](cnn::TransposeOp o) {
        // Output axis i is input axis perm[i].
        std::vector<Expr> src(rank);
        int i = 0;
        for (mlir::Attribute a : o.getPerm())
          src[a.cast<mlir::IntegerAttr>().getInt()] = idx[i++];
        out(v) = at(operands[0].func, src);
      })
      .Case([&](cnn::SliceOp o) {
        std::vector<Expr> src;
        for (int i = 0; i < rank; ++i)
          src.push_back(
              (int)o.getStarts()[i].cast<mlir::IntegerAttr>().getInt() +
              idx[i] * (int)o.getSteps()[i].cast<mlir::IntegerAttr>().getInt());
        out(v) = at(operands[0].func, src);
      })
      .Case([&](cnn::ConcatOp o) {
        int64_t axis = normalizedAxis(o.getAxis(), rank);
        Expr value;
        int64_t offset = 0;
        // Built back to front so the first input wins at the boundaries.
        std::vector<Expr> pieces;
        for (const TensorFunc &in : operands) {
          std::vector<Expr> src = idx;
          src[axis] =
              clamp(idx[axis] - (int)offset, 0, (int)in.shape[axis] - 1);
          pieces.push_back(at(in.func, src));
          offset += in.shape[axis];
        }
        value = pieces.back();
        offset -= operands.back().shape[axis];
        for (int i = (int)pieces.size() - 2; i >= 0; --i) {
          value = select(idx[axis] < (int)offset, pieces[i], value);
          offset -= operands[i].shape[axis];
        }
        out(v) = value;
      })
      .Case([&](cnn::SoftmaxOp o) {
        lowerSoftmax(o.getAxis(), /*log=*/false, operands[0], v, out, parts);
      })
      .Case([&](cnn::LogSoftmaxOp o) {
        lowerSoftmax(o.getAxis(), /*log=*/true, operands[0], v, out, parts);
      })
      .Case([&](cnn::NormalizeOp o) {
        // Two passes per row (the sum, then the squared deviations from
        // the mean), as the decomposition computes them: E[x^2] - E[x]^2
        // would lose the variance of rows with a large mean.
        const TensorFunc &in = operands[0];
        int64_t axis = (int64_t)o.getAxis();
        int normalized = rank - (int)axis;
        Region region;
        Expr count = 1.0f;
        for (int i = rank - 1; i >= (int)axis; --i) {
          region.push_back(Range(0, in.extent(i)));
          count *= Halide::cast<float>(in.extent(i));
        }
        RDom r(region, "norm_r");
        std::vector<Var> rows(v.begin() + normalized, v.end());
        std::vector<Expr> rowArgs(rows.begin(), rows.end());
        std::vector<Expr> src = idx;
        for (int i = (int)axis; i < rank; ++i)
          src[i] = r[rank - 1 - i];
        Func total("norm_sum"), squares("norm_squares");
        total(rows) = 0.0f;
        total(rows) += at(in.func, src);
        Expr rowMean = total(rowArgs) / count;
        Expr d = at(in.func, src) - rowMean;
        squares(rows) = 0.0f;
        squares(rows) += d * d;
        float eps = o.getEpsilon().convertToFloat();
        Expr deviation = Halide::sqrt(squares(rowArgs) / count + eps);
        out(v) = (x() - rowMean) / deviation * broadcastAt(operands[1], idx) +
                 broadcastAt(operands[2], idx);
        parts.family = KernelParts::Family::RowNormalization;
        parts.normalizedRank = normalized;
        parts.reduction = total;
        parts.padded = squares;
        parts.hasReduction = parts.hasPadded = true;
        parts.rdom = r;
      })
      .Case([&](cnn::ReduceOp o) {
        const TensorFunc &in = operands[0];
        int inRank = in.rank();
        std::vector<int64_t> axes;
        for (mlir::Attribute a : o.getAxes())
          axes.push_back(
              normalizedAxis(a.cast<mlir::IntegerAttr>().getInt(), inRank));
        std::sort(axes.begin(), axes.end());
        Region region;
        Expr count = 1;
        for (int64_t a : axes) {
          region.push_back(Range(0, in.extent(a)));
          count *= in.extent(a);
        }
        // The input's index: the RDom's variables along the reduced axes,
        // the output's elsewhere.
        auto source = [&](RDom r) {
          std::vector<Expr> src;
          int outPos = 0, rPos = 0;
          for (int i = 0; i < inRank; ++i) {
            if (std::binary_search(axes.begin(), axes.end(), (int64_t)i)) {
              src.push_back(r[rPos++]);
              if (o.getKeepdims())
                ++outPos;
            } else {
              src.push_back(idx[outPos++]);
            }
          }
          return at(in.func, src);
        };
        RDom r(region, "reduce_r"); // axes: never empty (the verifier)
        Expr x = source(r);
        switch (o.getKind()) {
        case cnn::Reduction::Sum:
          out(v) = sum(x);
          break;
        case cnn::Reduction::Mean:
          out(v) = sum(x) / Halide::cast<float>(count);
          break;
        case cnn::Reduction::Max:
          out(v) = maximum(x);
          break;
        case cnn::Reduction::Min:
          out(v) = minimum(x);
          break;
        case cnn::Reduction::Prod:
          out(v) = product(x);
          break;
        case cnn::Reduction::L1:
          out(v) = sum(Halide::abs(x));
          break;
        case cnn::Reduction::L2:
          out(v) = Halide::sqrt(sum(x * x));
          break;
        case cnn::Reduction::SumSquare:
          out(v) = sum(x * x);
          break;
        case cnn::Reduction::LogSum:
          out(v) = Halide::log(sum(x));
          break;
        case cnn::Reduction::LogSumExp: {
          // max + log(sum(exp(x - max))): no overflow for large x.
          Func mx("reduce_max");
          std::vector<Expr> outArgs(v.begin(), v.end());
          mx(v) = maximum(x);
          RDom r2(region, "reduce_r2");
          Expr m = mx(outArgs);
          // An all -inf row has max -inf; its sum is of exp(nan): keep -inf.
          Expr shifted = source(r2) - m;
          out(v) =
              select(Halide::is_inf(m), m, m + Halide::log(sum(exp(shifted))));
          parts.reduction = mx;
          parts.hasReduction = true;
          break;
        }
        }
        parts.family = KernelParts::Family::Reduction;
      })
      .Default([&](mlir::Operation *) { ok = false; });
  if (!ok) {
    op->emitOpError("has no Halide lowering");
    return mlir::failure();
  }
  parts.output = out;
  return parts;
}
