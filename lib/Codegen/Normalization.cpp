//===- Normalization.cpp - train-mode BatchNorm -> Halide -----------------===//
//
// The batch statistics, the normalization with them, the running-statistic
// update and the two gradients. Reductions are per channel over every other
// axis (ChannelSum, scheduled in KernelBuilder.cpp); the elementwise kernels
// fold everything per channel into a few coefficients computed once.
// (The inference form, cnn.batch_norm, is in Elementwise.cpp.)
//
//===----------------------------------------------------------------------===//
#include "KernelBuilder.h"

#include "cnnc/Dialect/CNN/CNNOps.h"

using namespace Halide;
using namespace cnnc;
using namespace cnnc::codegen;

Func cnnc::codegen::channelSum(
    const std::string &name, const TensorFunc &like,
    const std::function<Expr(const std::vector<Expr> &)> &term,
    KernelParts &parts) {
  int rank = like.rank();
  Var ch("ch");
  Region region;
  for (int i = rank - 1; i >= 0; --i)
    if (i != 1)
      region.push_back(Range(0, like.extent(i)));
  RDom r(region, name + "_r");
  std::vector<Expr> idx(rank);
  for (int i = rank - 1, k = 0; i >= 0; --i)
    idx[i] = i == 1 ? Expr(ch) : Expr(r[k++]);
  Func f(name);
  f(ch) = 0.0f;
  f(ch) += term(idx);
  ChannelSum sum{f, r, rank >= 3 ? like.shape[rank - 1] : 0, like.shape[1]};
  parts.channelSums.push_back(sum);
  parts.family = KernelParts::Family::ChannelReduction;
  return f;
}

Expr cnnc::codegen::elementsPerChannel(const TensorFunc &t) {
  Expr n = cast<float>(t.extent(0));
  for (int i = 2; i < t.rank(); ++i)
    n = n * cast<float>(t.extent(i));
  return n;
}

/// 1 / sqrt(var + eps) of channel `ch`; `stats` is [2, C]: f(ch, row).
static Expr invStd(const TensorFunc &stats, Expr ch, float eps) {
  return 1.0f / sqrt(stats.func(ch, 1) + eps);
}

static float floatAttr(mlir::Operation *op, llvm::StringRef name) {
  return (float)op->getAttrOfType<mlir::FloatAttr>(name).getValueAsDouble();
}

mlir::FailureOr<KernelParts>
cnnc::codegen::lowerBatchNormTraining(mlir::Operation *op,
                                      llvm::ArrayRef<TensorFunc> operands) {
  KernelParts parts;
  parts.family = KernelParts::Family::Elementwise;
  parts.shape = resultShape(op);
  Var ch("ch"), row("row");

  if (llvm::isa<cnn::BatchNormStatsOp>(op)) {
    // Two passes (mean, then the mean of squared deviations): the one-pass
    // E[x^2] - E[x]^2 loses the variance of large activations to rounding.
    const TensorFunc &x = operands[0];
    Expr n = elementsPerChannel(x);
    Func total = channelSum(
        "bn_sum", x, [&](const std::vector<Expr> &i) { return at(x.func, i); },
        parts);
    Func mean("bn_mean");
    mean(ch) = total(ch) / n;
    Func squares = channelSum(
        "bn_squares", x,
        [&](const std::vector<Expr> &i) {
          Expr d = at(x.func, i) - mean(i[1]);
          return d * d;
        },
        parts);
    Func stats("bn_stats");
    stats(ch, row) = select(row == 0, mean(ch), squares(ch) / n);
    parts.output = stats;
    return parts;
  }

  if (auto bn = llvm::dyn_cast<cnn::BatchNormTrainOp>(op)) {
    const TensorFunc &x = operands[0], &stats = operands[1],
                     &scale = operands[2], &bias = operands[3];
    float eps = bn.getEpsilon().convertToFloat();
    // y = x * a + b with a = scale * invstd, b = bias - mean * a.
    Func coef("bn_train_coef");
    Expr a = scale.func(ch) * invStd(stats, ch, eps);
    coef(ch) = Tuple(a, bias.func(ch) - stats.func(ch, 0) * a);
    std::vector<Var> v = makeVars(x.rank());
    std::vector<Expr> idx = rowMajor(v);
    Func out("bn_train");
    out(v) = at(x.func, idx) * coef(idx[1])[0] + coef(idx[1])[1];
    parts.output = out;
    parts.reduction = coef; // computed once per channel (compute_root)
    parts.hasReduction = true;
    return parts;
  }

  if (auto u = llvm::dyn_cast<cnn::BatchNormRunningUpdateOp>(op)) {
    const TensorFunc &running = operands[0], &stats = operands[1],
                     &x = operands[2];
    float m = u.getMomentum().convertToFloat();
    Expr batch = stats.func(ch, 0);
    if (u.getStatistic() == cnn::Statistic::Variance) {
      // PyTorch's running variance is unbiased; with one element per
      // channel it keeps the biased (zero) variance instead of dividing
      // by zero.
      Expr n = elementsPerChannel(x);
      batch = stats.func(ch, 1) * (n / max(n - 1.0f, 1.0f));
    }
    Func out("bn_running_" + cnn::stringifyStatistic(u.getStatistic()).str());
    out(ch) = running.func(ch) * m + batch * (1.0f - m);
    parts.output = out;
    return parts;
  }

  if (auto g = llvm::dyn_cast<cnn::BatchNormTrainGradScaleOp>(op)) {
    const TensorFunc &dy = operands[0], &x = operands[1], &stats = operands[2];
    float eps = g.getEpsilon().convertToFloat();
    Func dot = channelSum(
        "bn_grad_dot", x,
        [&](const std::vector<Expr> &i) {
          return at(dy.func, i) * (at(x.func, i) - stats.func(i[1], 0));
        },
        parts);
    Func out("bn_grad_scale");
    out(ch) = dot(ch) * invStd(stats, ch, eps);
    parts.output = out;
    return parts;
  }

  if (auto g = llvm::dyn_cast<cnn::BatchNormTrainGradInputOp>(op)) {
    const TensorFunc &dy = operands[0], &x = operands[1], &stats = operands[2],
                     &scale = operands[3], &dScale = operands[4],
                     &dBias = operands[5];
    float eps = g.getEpsilon().convertToFloat();
    // dx = scale * invstd / n * (n * dy - dBias - xhat * dScale)
    //    = a * dy - a * dBias / n - a * invstd * dScale / n * (x - mean).
    Expr n = elementsPerChannel(x);
    Expr is = invStd(stats, ch, eps);
    Expr a = scale.func(ch) * is;
    Func coef("bn_grad_coef");
    coef(ch) = Tuple(a, a * dBias.func(ch) / n, a * is * dScale.func(ch) / n,
                     stats.func(ch, 0));
    std::vector<Var> v = makeVars(x.rank());
    std::vector<Expr> idx = rowMajor(v);
    Expr c = idx[1];
    Func out("bn_grad_input");
    out(v) = coef(c)[0] * at(dy.func, idx) - coef(c)[1] -
             coef(c)[2] * (at(x.func, idx) - coef(c)[3]);
    parts.output = out;
    parts.reduction = coef;
    parts.hasReduction = true;
    return parts;
  }

  op->emitOpError("has no Halide lowering");
  return mlir::failure();
}
