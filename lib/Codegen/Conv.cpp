//===- Conv.cpp - convolution -> Halide -----------------------------------===//
#include "KernelBuilder.h"

#include "cnnc/Dialect/CNN/CNNOps.h"

#include <limits>

using namespace Halide;
using namespace cnnc;
using namespace cnnc::codegen;

/// The convolution attributes shared by conv2d and fused_conv2d.
template <typename ConvOp>
static KernelParts defineConv(ConvOp op, const TensorFunc &in,
                              const TensorFunc &w, const TensorFunc *bias,
                              const VectorMachine *tiles) {
  llvm::SmallVector<int64_t> strides = cnn::toI64(op.getStrides());
  llvm::SmallVector<int64_t> pads =
      cnn::toI64(op.getPads()); // top, left, bottom, right
  llvm::SmallVector<int64_t> dil = cnn::toI64(op.getDilations());
  if (w.shape.size() == 3) // Winograd-transformed (cnn.pack_weights)
    return defineWinogradConv(in, w, bias, pads, resultShape(op));
  int64_t group = op.getGroup();
  int64_t cout = w.shape[0], cinPerGroup = w.shape[1];
  if (w.shape.size() == 5) // packed: [cout / lanes][cin][kh][kw][lanes]
    cout = w.shape[0] * w.shape[4];
  int64_t coutPerGroup = cout / group;
  int64_t inH = in.shape[2], inW = in.shape[3];

  std::vector<Var> v = makeVars(4);
  Var x = v[0], y = v[1], c = v[2], n = v[3];

  KernelParts parts;
  parts.family = KernelParts::Family::Conv;
  parts.channels = cout;

  Func input = in.func;
  bool padded = pads[0] || pads[1] || pads[2] || pads[3];
  if (padded && cnn::kPrepaddedAttr.isSetOn(op)) {
    // The producer wrote the input inside this convolution's zero border
    // (ModelCompiler::resultBuffer): read it shifted, no padding pass.
    Func shifted("conv_prepadded");
    shifted(x, y, c, n) = in.func(x + (int)pads[1], y + (int)pads[0], c, n);
    input = shifted;
  } else if (padded) {
    // Zero padding as a separate stage: a select in the inner loop of the
    // reduction would cost more than one extra pass over the input.
    Region bounds = {Range(0, (int)inW), Range(0, (int)inH), Range(), Range()};
    Func clamped = BoundaryConditions::constant_exterior(in.func, 0.0f, bounds);
    Func pad("conv_padded");
    pad(x, y, c, n) = clamped(x, y, c, n);
    input = pad;
    parts.padded = pad;
    parts.hasPadded = true;
  }

  int64_t kh = w.shape[2], kw = w.shape[3];
  parts.reductionSize = kh * kw * cinPerGroup;
  parts.paddedPlane = (inH + pads[0] + pads[2]) * (inW + pads[1] + pads[3]);
  RDom r(0, (int)kw, 0, (int)kh, 0, (int)cinPerGroup, "conv_r");
  Expr ci = r.z;
  if (group > 1)
    ci = (c / (int)coutPerGroup) * (int)cinPerGroup + r.z;
  Func conv("conv");
  if (bias)
    conv(x, y, c, n) = bias->func(c);
  else
    conv(x, y, c, n) = 0.0f;
  // Packed weights (cnn.pack_weights): [cout / lanes][cin][kh][kw][lanes].
  int lanes = w.shape.size() == 5 ? (int)w.shape[4] : 0;
  Expr weight = lanes ? w.func(c % lanes, r.x, r.y, r.z, c / lanes)
                      : w.func(r.x, r.y, r.z, c);
  parts.packedLanes = lanes;
  parts.depthwise = group > 1 && cinPerGroup == 1 && !lanes;
  int64_t outW = resultShape(op)[3];
  if (tiles && !lanes && group == 1 && kh == 1 && kw == 1 && strides[0] == 1 &&
      strides[1] == 1 && !padded && inW > 0) {
    // A matrix product per image (schedulePointwiseConv): the input as a
    // contiguous [cin][tile] panel per tile of pixels, so a tile's steps
    // read consecutive cache lines, not one line per input plane. Pixels
    // past the row's end (the last tile's rounding) repeat its last one;
    // their results are not stored.
    auto [vec, cols] = pointwiseTile(outW, *tiles);
    int tile = vec * cols;
    Var xi("xi"), xt("xt");
    Func panel("conv_input_panel");
    panel(xi, c, xt, y, n) = input(min(xt * tile + xi, (int)inW - 1), y, c, n);
    parts.pointwiseLanes = vec;
    parts.pointwiseVectors = cols;
    parts.pointwisePanel = panel;
    conv(x, y, c, n) += weight * panel(x % tile, r.z, x / tile, y, n);
  } else {
    conv(x, y, c, n) +=
        weight * input(x * (int)strides[1] - (int)pads[1] + r.x * (int)dil[1],
                       y * (int)strides[0] - (int)pads[0] + r.y * (int)dil[0],
                       ci, n);
  }
  parts.reduction = conv;
  parts.hasReduction = true;
  parts.rdom = r;
  return parts;
}

mlir::FailureOr<KernelParts>
cnnc::codegen::lowerConv(mlir::Operation *operation,
                         llvm::ArrayRef<TensorFunc> operands,
                         const VectorMachine *tiles) {
  std::vector<Var> v = makeVars(4);
  Var x = v[0], y = v[1], c = v[2], n = v[3];
  if (auto op = llvm::dyn_cast<cnn::Conv2dOp>(operation)) {
    KernelParts parts =
        defineConv(op, operands[0], operands[1],
                   operands.size() > 2 ? &operands[2] : nullptr, tiles);
    Func out("conv_out");
    out(x, y, c, n) = parts.reduction(x, y, c, n);
    parts.output = out;
    parts.shape = resultShape(operation);
    return parts;
  }

  auto op = llvm::cast<cnn::FusedConv2dOp>(operation);
  // Operands in ODS order; optional ones are present or not.
  size_t next = 2;
  const TensorFunc *bias = op.getBias() ? &operands[next++] : nullptr;
  const TensorFunc *scale = op.getScale() ? &operands[next++] : nullptr;
  const TensorFunc *shift = op.getShift() ? &operands[next++] : nullptr;
  const TensorFunc *residual = op.getResidual() ? &operands[next++] : nullptr;
  const TensorFunc *inputScale =
      op.getInputScale() ? &operands[next++] : nullptr;
  const TensorFunc *inputShift =
      op.getInputShift() ? &operands[next++] : nullptr;
  TensorFunc input = operands[0];
  if (inputScale && inputShift) {
    // A BatchNorm (+ ReLU) before the convolution, applied where the
    // convolution reads its input (the pointwise schedule: as it packs the
    // panel). The verifier allows it without padding only.
    Func prologue("conv_input_affine");
    Expr value = operands[0].func(x, y, c, n) * inputScale->func(c) +
                 inputShift->func(c);
    prologue(x, y, c, n) = op.getInputRelu() ? Halide::max(value, 0.0f) : value;
    input.func = prologue;
  }
  KernelParts parts = defineConv(op, input, operands[1], bias, tiles);
  Expr t = parts.reduction(x, y, c, n);
  bool late = op.getAffineAfterActivation();
  auto affine = [&](Expr v) {
    if (scale)
      v = v * scale->func(c);
    if (shift)
      v = v + shift->func(c);
    return v;
  };
  if (!late)
    t = affine(t);
  if (residual)
    t = t + residual->func(x, y, c, n);
  t = applyActivation(t, cnn::ActivationSpec::on(op));
  if (late)
    t = affine(t);
  Func post("conv_post");
  post(x, y, c, n) = t;
  parts.shape = resultShape(operation);
  if (op.getPool() == cnn::PoolKind::None) {
    parts.output = post;
    return parts;
  }

  // Pooling over the fused rows, as lowerPooling does for a lone pool.
  llvm::SmallVector<int64_t> k = cnn::toI64(op.getPoolKernel()),
                             s = cnn::toI64(op.getPoolStrides()),
                             p = cnn::toI64(op.getPoolPads());
  // The convolution's own output size (before pooling), by the dialect's
  // rule; the verifier has already accepted these attributes.
  int64_t convH = 0, convW = 0;
  {
    llvm::SmallVector<int64_t> cs = cnn::toI64(op.getStrides()),
                               cp = cnn::toI64(op.getPads()),
                               cd = cnn::toI64(op.getDilations());
    const TensorFunc &in = operands[0], &w = operands[1];
    std::string error;
    convH = *cnn::windowOutputSize(in.shape[2], w.shape[2], cs[0], cp[0], cp[2],
                                   cd[0], /*ceilMode=*/false, error);
    convW = *cnn::windowOutputSize(in.shape[3], w.shape[3], cs[1], cp[1], cp[3],
                                   cd[1], /*ceilMode=*/false, error);
  }
  bool isMax = op.getPool() == cnn::PoolKind::Max;
  Func source = post;
  if (p[0] || p[1] || p[2] || p[3] || op.getPoolCeilMode()) {
    Region bounds = {Range(0, (int)convW), Range(0, (int)convH), Range(),
                     Range()};
    source = BoundaryConditions::constant_exterior(
        post, isMax ? -std::numeric_limits<float>::infinity() : 0.0f, bounds);
  }
  RDom pr(0, (int)k[1], 0, (int)k[0], "pool_r");
  Expr x0 = x * (int)s[1] - (int)p[1], y0 = y * (int)s[0] - (int)p[0];
  Func pool(isMax ? "max_pool" : "avg_pool");
  if (isMax) {
    pool(x, y, c, n) = maximum(source(x0 + pr.x, y0 + pr.y, c, n));
  } else {
    std::vector<int> ki(k.begin(), k.end()), pi(p.begin(), p.end());
    Expr divisor = avgPoolDivisor(x0, y0, ki, pi, (int)convW, (int)convH,
                                  op.getPoolCountIncludePad());
    pool(x, y, c, n) = sum(source(x0 + pr.x, y0 + pr.y, c, n)) / divisor;
  }
  parts.pooled = true;
  parts.poolOverlaps = k[0] > s[0] || k[1] > s[1];
  parts.convWidth = convW;
  parts.convColumnsUsed = std::max<int64_t>(
      1, std::min<int64_t>(convW, (parts.shape[3] - 1) * s[1] - p[1] + k[1]));
  parts.convHeight = convH;
  parts.post = post;
  parts.output = pool;
  return parts;
}
