//===- Dense.cpp - Gemm and MatMul -> Halide ------------------------------===//
#include "KernelBuilder.h"

#include "cnnc/Dialect/CNN/CNNOps.h"

using namespace Halide;
using namespace cnnc;
using namespace cnnc::codegen;

/// Index of a broadcast operand of rank `rank` inside an output indexed by
/// row-major `out` (right-aligned, size-1 dims pinned to 0).
static std::vector<Expr> broadcastIndex(llvm::ArrayRef<int64_t> shape,
                                        const std::vector<Expr> &out) {
  std::vector<Expr> idx;
  size_t offset = out.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i)
    idx.push_back(shape[i] == 1 ? Expr(0) : out[offset + i]);
  return idx;
}

template <typename GemmLike>
static KernelParts lowerGemm(GemmLike op, llvm::ArrayRef<TensorFunc> operands,
                             KernelParts parts,
                             const cnn::ActivationSpec &activation) {
  const TensorFunc &a = operands[0], &b = operands[1];
  bool ta = op.getTransA(), tb = op.getTransB();
  int64_t k = ta ? a.shape[0] : a.shape[1];
  Var j("j"), i("i");
  // The reduction runs over the batch for weight gradients (transA).
  RDom r(0, a.extent(ta ? 0 : 1), "gemm_k");
  // Row-major element [row][col] of a 2-D tensor is f(col, row).
  Expr av = ta ? a.func(i, r.x) : a.func(r.x, i);
  Expr bv = tb ? b.func(r.x, j) : b.func(j, r.x);
  Func prod("gemm_prod");
  prod(j, i) = 0.0f;
  prod(j, i) += av * bv;
  Expr value = prod(j, i);
  float alpha = op.getAlpha().convertToFloat();
  if (alpha != 1.0f)
    value = alpha * value;
  if (operands.size() > 2) {
    const TensorFunc &c = operands[2];
    std::vector<Expr> idx = broadcastIndex(c.shape, {i, j});
    Expr cv = at(c.func, idx);
    float beta = op.getBeta().convertToFloat();
    value = value + (beta == 1.0f ? cv : beta * cv);
  }
  Func out("gemm");
  out(j, i) = applyActivation(value, activation);
  parts.output = out;
  parts.reduction = prod;
  parts.hasReduction = true;
  parts.rdom = r;
  parts.reductionSize = k;
  return parts;
}

mlir::FailureOr<KernelParts>
cnnc::codegen::lowerDense(mlir::Operation *operation,
                          llvm::ArrayRef<TensorFunc> operands) {
  KernelParts parts;
  parts.family = KernelParts::Family::Dense;
  parts.shape = resultShape(operation);
  const TensorFunc &a = operands[0], &b = operands[1];

  if (auto fused = llvm::dyn_cast<cnn::FusedGemmOp>(operation))
    return lowerGemm(fused, operands, parts, cnn::ActivationSpec::on(fused));
  if (auto op = llvm::dyn_cast<cnn::GemmOp>(operation))
    return lowerGemm(op, operands, parts, cnn::ActivationSpec());
  // MatMul: NumPy semantics with broadcast batch dims.
  llvm::SmallVector<int64_t, 4> as(a.shape.begin(), a.shape.end()),
      bs(b.shape.begin(), b.shape.end());
  bool vecA = as.size() == 1, vecB = bs.size() == 1;
  int64_t k = as.back();
  int outRank = (int)parts.shape.size();
  std::vector<Var> v = makeVars(outRank);
  std::vector<Expr> out = rowMajor(v);
  RDom r(0, k >= 0 ? Expr((int)k) : a.extent(a.rank() - 1), "matmul_k");
  // Split the output index into batch dims, row and column.
  int batchDims = outRank - (vecA ? 0 : 1) - (vecB ? 0 : 1);
  std::vector<Expr> batch(out.begin(), out.begin() + batchDims);
  Expr row = vecA ? Expr() : out[batchDims];
  Expr col = vecB ? Expr() : out.back();
  std::vector<Expr> ai, bi;
  if (vecA) {
    ai = {r.x};
  } else {
    llvm::SmallVector<int64_t, 4> ab(as.begin(), as.end() - 2);
    ai = broadcastIndex(ab, batch);
    ai.push_back(row);
    ai.push_back(r.x);
  }
  if (vecB) {
    bi = {r.x};
  } else {
    llvm::SmallVector<int64_t, 4> bb(bs.begin(), bs.end() - 2);
    bi = broadcastIndex(bb, batch);
    bi.push_back(r.x);
    bi.push_back(col);
  }
  std::vector<Var> hv(v.begin(), v.end());
  Func prod("matmul_prod");
  std::vector<Expr> lhs(v.begin(), v.end());
  prod(hv) = 0.0f;
  prod(lhs) += at(a.func, ai) * at(b.func, bi);
  Func result("matmul");
  result(hv) = prod(hv);
  parts.output = result;
  parts.reduction = prod;
  parts.hasReduction = true;
  parts.rdom = r;
  parts.reductionSize = k;
  return parts;
}
