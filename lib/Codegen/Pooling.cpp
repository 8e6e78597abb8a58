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

mlir::FailureOr<KernelParts>
cnnc::codegen::lowerPooling(mlir::Operation *op,
                            llvm::ArrayRef<TensorFunc> operands) {
  const TensorFunc &in = operands[0];
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
