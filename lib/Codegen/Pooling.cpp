//===- Pooling.cpp - pooling -> Halide ------------------------------------===//
#include "KernelBuilder.h"

#include "cnnc/Dialect/CNN/CNNOps.h"

#include <limits>

using namespace Halide;
using namespace cnnc;
using namespace cnnc::codegen;

static std::vector<int> ints(mlir::ArrayAttr attr) {
  std::vector<int> v;
  for (mlir::Attribute a : attr)
    v.push_back((int)a.cast<mlir::IntegerAttr>().getInt());
  return v;
}

template <typename PoolOp>
static KernelParts lowerWindowPool(PoolOp op, const TensorFunc &in,
                                   bool isMax) {
  std::vector<int> k = ints(op.getKernelShape()), s = ints(op.getStrides()),
                   p = ints(op.getPads()), d = ints(op.getDilations());
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
    Expr divisor;
    if (op.getCountIncludePad()) {
      // The window, clipped to the padded input (as PyTorch and ONNX do when
      // ceil_mode lets a window run past the end padding).
      Expr x1 = min(x0 + k[1], inW + p[3]), y1 = min(y0 + k[0], inH + p[2]);
      divisor = cast<float>((x1 - x0) * (y1 - y0));
    } else {
      Expr x1 = min(x0 + k[1], inW), y1 = min(y0 + k[0], inH);
      Expr cx = x1 - max(x0, 0), cy = y1 - max(y0, 0);
      divisor = cast<float>(max(cx * cy, 1));
    }
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
