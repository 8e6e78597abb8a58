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
  int rank = a.rank();
  // [..., M, K]: the leading dims (fused_gemm only) are batches of rows.
  int64_t k = ta ? a.shape[0] : a.shape[rank - 1];
  // Innermost first: v[0] the column, v[1] the row, v[rank - 1] the first
  // (batch) dim when rank > 2. Row-major dim d is v[rank - 1 - d].
  std::vector<Var> v = makeVars(rank);
  Var j = v[0], i = v[1];
  // The reduction runs over the batch for weight gradients (transA).
  RDom r(0, a.extent(ta ? 0 : rank - 1), "gemm_k");
  std::vector<Expr> ai = {r.x, i}, bi = {j, r.x};
  if (ta)
    ai = {i, r.x};
  if (tb)
    bi = {r.x, j};
  if (!tb && (!ta || rank == 2)) {
    // Row tiles (scheduleDense): the tiles at the edges read the last row
    // (and, with leading dims, the last of the next dim) and column again
    // instead of past the buffers. A transposed A (a Linear layer's weight
    // gradient, dy^T x) is read as broadcasts all the same, one per row
    // and step of K.
    parts.rowTiles = true;
    // B through `panel`, which the schedule may stage per column panel.
    Var pj("pj"), pk("pk");
    parts.panel = Func("b_panel");
    parts.panel(pj, pk) = b.func(min(pj, b.extent(1) - 1), pk);
    parts.transposedA = ta;
  }
  // A block of rows of a Linear layer (B transposed, scheduleDense) reads
  // the last row again past the edge too, so its accumulators have a
  // constant size.
  parts.clampedRows = !ta && tb && rank == 2;
  if (parts.rowTiles && ta)
    ai[0] = min(i, a.extent(1) - 1);
  else if (parts.rowTiles || parts.clampedRows)
    ai[1] = min(i, a.extent(rank - 2) - 1);
  for (int d = 2; d < rank; ++d)
    ai.push_back(parts.rowTiles && d == 2 && rank >= 4
                     ? min(v[d], a.extent(rank - 3) - 1)
                     : Expr(v[d]));
  std::vector<Expr> args(v.begin(), v.end());
  Func prod("gemm_prod");
  prod(args) = 0.0f;
  prod(args) += a.func(ai) * (parts.rowTiles ? parts.panel(bi) : b.func(bi));
  Expr value = prod(args);
  float alpha = op.getAlpha().convertToFloat();
  if (alpha != 1.0f)
    value = alpha * value;
  if (operands.size() > 2) {
    const TensorFunc &c = operands[2];
    std::vector<Expr> idx = broadcastIndex(c.shape, rowMajor(v));
    Expr cv = at(c.func, idx);
    float beta = op.getBeta().convertToFloat();
    value = value + (beta == 1.0f ? cv : beta * cv);
  }
  Func out("gemm");
  out(args) = applyActivation(value, activation);
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
