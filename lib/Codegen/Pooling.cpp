//===- Pooling.cpp - pooling -> Halide ------------------------------------===//
#include "KernelBuilder.h"

#include "cnnc/Dialect/CNN/CNNOps.h"

#include <limits>

using namespace Halide;
using namespace cnnc;
using namespace cnnc::codegen;

template <typename PoolOp>
static KernelParts lowerWindowPool(PoolOp op, const TensorFunc &in,
                                   bool isMax) {
  std::vector<int> k = intsOf(op.getKernelShape()), s = intsOf(op.getStrides()),
                   p = intsOf(op.getPads()), d = intsOf(op.getDilations());
  int inH = (int)in.shape[2], inW = (int)in.shape[3];
  std::vector<Var> v = makeVars(4);
  Var x = v[0], y = v[1], c = v[2], n = v[3];
  KernelParts parts;
  parts.family = KernelParts::Family::Pool;
  parts.shape = resultShape(op);

  Region bounds = {Range(0, inW), Range(0, inH), Range(), Range()};
  float fill = isMax ? -std::numeric_limits<float>::infinity() : 0.0f;
  Func padded = BoundaryConditions::constant_exterior(in.func, fill, bounds);
  RDom r(0, k[1], 0, k[0], "pool_r");
  Expr ix = x * s[1] - p[1] + r.x * d[1];
  Expr iy = y * s[0] - p[0] + r.y * d[0];
  Func out(isMax ? "max_pool" : "avg_pool");
  if (isMax) {
    out(x, y, c, n) = maximum(padded(ix, iy, c, n));
  } else {
    Expr x0 = x * s[1] - p[1], y0 = y * s[0] - p[0];
    Expr divisor =
        avgPoolDivisor(x0, y0, k, p, inW, inH, op.getCountIncludePad());
    out(x, y, c, n) = sum(padded(ix, iy, c, n)) / divisor;
  }
  parts.output = out;
  return parts;
}

/// cnn.squeeze_excite: the channel means, the two 1x1 convolutions on
/// them and the gate, each a sum over one axis (`sums`, vectorized by the
/// schedule), then the input scaled per channel.
static KernelParts lowerSqueezeExcite(cnn::SqueezeExciteOp op,
                                      llvm::ArrayRef<TensorFunc> operands) {
  const TensorFunc &in = operands[0], &w1 = operands[1], &b1 = operands[2],
                   &w2 = operands[3], &b2 = operands[4];
  int64_t channels = in.shape[1], height = in.shape[2], width = in.shape[3],
          squeezed = w1.shape[0];
  std::vector<Var> v = makeVars(4);
  Var x = v[0], y = v[1], c = v[2], n = v[3], s("s");
  KernelParts parts;
  parts.family = KernelParts::Family::SqueezeExcite;
  parts.shape = resultShape(op);
  RDom rp(0, (int)width, 0, (int)height, "se_pool_r");
  RDom rc(0, (int)channels, "se_reduce_r"), rs(0, (int)squeezed, "se_expand_r");
  Func pooled("se_pool"), reduced("se_reduce"), expanded("se_expand"),
      hidden("se_hidden"), gate("se_gate");
  pooled(c, n) = 0.0f;
  pooled(c, n) += in.func(rp.x, rp.y, c, n);
  Expr mean = 1.0f / (float)(height * width);
  reduced(s, n) = 0.0f;
  reduced(s, n) += w1.func(0, 0, rc, s) * pooled(rc, n);
  hidden(s, n) = applyActivation(b1.func(s) + reduced(s, n) * mean,
                                 cnn::ActivationSpec::on(op));
  expanded(c, n) = 0.0f;
  expanded(c, n) += w2.func(0, 0, rs, c) * hidden(rs, n);
  Expr z = (b2.func(c) + expanded(c, n)) * op.getGateScale().convertToFloat() +
           op.getGateShift().convertToFloat();
  if (op.getGate() == cnn::Activation::Sigmoid)
    gate(c, n) = 1.0f / (1.0f + exp(-z));
  else
    gate(c, n) = clamp(z, op.getGateMin().convertToFloat(),
                       op.getGateMax().convertToFloat());
  Func out("squeeze_excite");
  out(x, y, c, n) = in.func(x, y, c, n) * gate(c, n);
  parts.output = out;
  parts.sums = {
      {pooled, rp, width}, {reduced, rc, channels}, {expanded, rs, squeezed}};
  parts.rootStages = {hidden, gate};
  return parts;
}

mlir::FailureOr<KernelParts>
cnnc::codegen::lowerPooling(mlir::Operation *op,
                            llvm::ArrayRef<TensorFunc> operands) {
  const TensorFunc &in = operands[0];
  if (auto se = llvm::dyn_cast<cnn::SqueezeExciteOp>(op))
    return lowerSqueezeExcite(se, operands);
  if (auto pool = llvm::dyn_cast<cnn::MaxPool2dOp>(op))
    return lowerWindowPool(pool, in, /*isMax=*/true);
  if (auto pool = llvm::dyn_cast<cnn::AvgPool2dOp>(op))
    return lowerWindowPool(pool, in, /*isMax=*/false);

  bool isMax = llvm::isa<cnn::GlobalMaxPoolOp>(op);
  std::vector<Var> v = makeVars(4);
  Var x = v[0], y = v[1], c = v[2], n = v[3];
  KernelParts parts;
  parts.family = KernelParts::Family::Reduction;
  parts.shape = resultShape(op);
  RDom r(0, (int)in.shape[3], 0, (int)in.shape[2], "global_r");
  Func reduce(isMax ? "global_max" : "global_sum");
  if (isMax)
    reduce(c, n) = maximum(in.func(r.x, r.y, c, n));
  else
    reduce(c, n) =
        sum(in.func(r.x, r.y, c, n)) / (float)(in.shape[2] * in.shape[3]);
  Func out(isMax ? "global_max_pool" : "global_avg_pool");
  out(x, y, c, n) = reduce(c, n);
  parts.output = out;
  parts.reduction = reduce;
  parts.hasReduction = true;
  return parts;
}
