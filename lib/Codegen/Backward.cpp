//===- Backward.cpp - losses and gradient ops -> Halide -------------------===//
#include "KernelBuilder.h"

#include "cnnc/Dialect/CNN/CNNOps.h"

#include <limits>
#include <memory>

using namespace Halide;
using namespace cnnc;
using namespace cnnc::codegen;

/// Class index of sample n, clamped so a bad label cannot read out of
/// bounds (the runtime rejects out-of-range labels before running).
static Expr labelOf(const TensorFunc &labels, Expr n, int classes) {
  return clamp(cast<int>(labels.func(n)), 0, classes - 1);
}

/// The weights of an input gradient's convolution, `taps`(kx, ky, c, z)
/// for output channel c and reduction channel z, as the reduction over `r`
/// reads them at channel `c`. On the CPU schedules' `tiles`, where each
/// reduction channel is one channel of dy (group 1) and the shape makes
/// packing pay (cnn::packedConvPays, the forward convolutions' rule), they
/// are repacked per call, a stage of the kernel, as
/// [channels / lanes][z][ky][kx][lanes]: the convolution schedule then
/// vectorizes over channels, each weight vector one contiguous load and dy
/// a broadcast, as the forward pass's packed convolutions do.
static Expr inputGradTaps(KernelParts &k, Func taps, RDom r, Expr c, int group,
                          const VectorMachine *tiles) {
  int lanes = tiles ? tiles->lanes : 0;
  if (group != 1 ||
      !cnn::packedConvPays(k.channels, k.shape[3], k.reductionSize, lanes))
    return taps(r.x, r.y, c, r.z);
  Var l("l"), kx("kx"), ky("ky"), z("z"), cb("cb");
  Func packed("conv_grad_weight_packed");
  packed(l, kx, ky, z, cb) = taps(kx, ky, cb * lanes + l, z);
  k.packedLanes = lanes;
  k.packedWeights = packed;
  return packed(c % lanes, r.x, r.y, r.z, c / lanes);
}

template <typename ConvBackwardOp>
static KernelParts
lowerConvBackward(ConvBackwardOp op, llvm::ArrayRef<TensorFunc> operands,
                  bool wantInput, const VectorMachine *tiles) {
  std::vector<int> s = intsOf(op.getStrides()), p = intsOf(op.getPads()),
                   d = intsOf(op.getDilations());
  int group = (int)op.getGroup();
  const TensorFunc &dy = operands[0];
  KernelParts parts;
  parts.shape = resultShape(op);
  std::vector<Var> v = makeVars(4);
  Var x = v[0], y = v[1], c = v[2], n = v[3];
  int outH = (int)dy.shape[2], outW = (int)dy.shape[3];
  Region bounds = {Range(0, outW), Range(0, outH), Range(), Range()};
  if (wantInput) {
    // dx[n][ci][iy][ix] = sum over co, ky, kx of dy[n][co][oy][ox] *
    // w[co][ci'][ky][kx] with iy = oy * s - pad + ky * d.
    const TensorFunc &w = operands[1];
    int coutG = (int)w.shape[0] / group, cinG = (int)w.shape[1];
    // Zero outside dy, as a stage of its own: loads from it stay dense.
    Func dyb("conv_grad_padded");
    dyb(x, y, c, n) = BoundaryConditions::constant_exterior(dy.func, 0.0f,
                                                            bounds)(x, y, c, n);
    parts.padded = dyb;
    parts.hasPadded = true;
    int kh = (int)w.shape[2], kw = (int)w.shape[3];
    if (tiles && (s[0] > 1 || s[1] > 1) && d[0] == 1 && d[1] == 1) {
      // Strided: split the output pixels by phase, x + pad = s * q + r.
      // Only the taps kx = r + s * j reach phase r, from dy's column q - j,
      // so each phase is a dense stride-1 convolution of dy with its taps
      // (zero past the window), with no select or division in the sum.
      // The phases are channel planes c + C * (rx + px * ry) of `phases`;
      // phases past the window (r >= kw, a 1x1 stride-2 convolution's odd
      // pixels) receive no tap and are zero.
      int C = (int)parts.shape[1];
      int px = std::min(s[1], kw), py = std::min(s[0], kh);
      int jx = (kw + s[1] - 1) / s[1], jy = (kh + s[0] - 1) / s[0];
      Region window = {Range(0, kw), Range(0, kh), Range(), Range()};
      Func bounded =
          BoundaryConditions::constant_exterior(w.func, 0.0f, window);
      auto sub = std::make_shared<KernelParts>();
      sub->family = KernelParts::Family::Conv;
      sub->padded = dyb;
      sub->hasPadded = true;
      sub->channels = (int64_t)C * px * py;
      sub->reductionSize = (int64_t)jx * jy * coutG;
      sub->shape = {parts.shape[0], sub->channels,
                    (parts.shape[2] + p[0] + s[0] - 1) / s[0],
                    (parts.shape[3] + p[1] + s[1] - 1) / s[1]};
      sub->paddedPlane = (int64_t)(outH + 2 * jy) * (outW + 2 * jx);
      // taps(j, i, plane, z): phase plane / C's taps, w's zero border past
      // the window.
      Var j("j"), i("i"), pl("pl"), z("z");
      Expr pc = pl % C, phase = pl / C;
      Func taps("conv_grad_phase_taps");
      taps(j, i, pl, z) = bounded(phase % px + s[1] * j, phase / px + s[0] * i,
                                  pc % cinG, (pc / cinG) * coutG + z);
      RDom r(0, jx, 0, jy, 0, coutG, "dconv_phase_r");
      Expr co = ((c % C) / cinG) * coutG + r.z;
      Expr weight = inputGradTaps(*sub, taps, r, c, group, tiles);
      Func ph("conv_grad_phase");
      ph(x, y, c, n) = 0.0f;
      ph(x, y, c, n) += dyb(x - r.x, y - r.y, co, n) * weight;
      Func phOut("conv_grad_phase_out");
      phOut(x, y, c, n) = ph(x, y, c, n);
      Expr qx = x + p[1], qy = y + p[0];
      Expr rx = qx % s[1], ry = qy % s[0];
      Expr plane = c + C * (min(rx, px - 1) + px * min(ry, py - 1));
      Func out("conv_grad_input_out");
      out(x, y, c, n) = select(rx < px && ry < py,
                               phOut(qx / s[1], qy / s[0], plane, n), 0.0f);
      sub->output = phOut;
      sub->reduction = ph;
      sub->hasReduction = true;
      sub->rdom = r;
      parts.family = KernelParts::Family::PhasedInputGrad;
      parts.phases = sub;
      parts.output = out;
      parts.channels = parts.shape[1];
      return parts;
    }
    RDom r(0, kw, 0, kh, 0, coutG, "dconv_r");
    Expr ox = x + p[1] - r.x * d[1], oy = y + p[0] - r.y * d[0];
    Expr co = (c / cinG) * coutG + r.z;
    Expr valid = (ox % s[1] == 0) && (oy % s[0] == 0);
    parts.channels = parts.shape[1];
    parts.reductionSize = (int64_t)kh * kw * coutG;
    parts.paddedPlane = (int64_t)(outH + 2 * kh) * (outW + 2 * kw);
    Expr term;
    if (s[0] == 1 && s[1] == 1) {
      Var j("j"), i("i"), ch("ch"), z("z");
      Func taps("conv_grad_taps");
      taps(j, i, ch, z) = w.func(j, i, ch % cinG, (ch / cinG) * coutG + z);
      term =
          dyb(ox, oy, co, n) * inputGradTaps(parts, taps, r, c, group, tiles);
    } else {
      term = select(valid, dyb(ox / s[1], oy / s[0], co, n), 0.0f) *
             w.func(r.x, r.y, c % cinG, co);
    }
    Func dx("conv_grad_input");
    dx(x, y, c, n) = 0.0f;
    dx(x, y, c, n) += term;
    Func out("conv_grad_input_out");
    out(x, y, c, n) = dx(x, y, c, n);
    parts.family = KernelParts::Family::Conv;
    parts.output = out;
    parts.reduction = dx;
    parts.hasReduction = true;
    parts.rdom = r;
    return parts;
  }
  // dw[co][ci][ky][kx] = sum over n, oy, ox of dy[n][co][oy][ox] *
  // in[n][g * cinG + ci][oy * s - pad + ky * d][ox * s - pad + kx * d].
  const TensorFunc &in = operands[1];
  int inH = (int)in.shape[2], inW = (int)in.shape[3];
  int cinG = (int)parts.shape[1], coutG = (int)parts.shape[0] / group;
  Region inBounds = {Range(0, inW), Range(0, inH), Range(), Range()};
  Func inb = in.func;
  if (p[0] || p[1] || p[2] || p[3]) {
    inb = Func("conv_grad_input_padded");
    inb(x, y, c, n) = BoundaryConditions::constant_exterior(
        in.func, 0.0f, inBounds)(x, y, c, n);
    parts.padded = inb;
    parts.hasPadded = true;
  }
  if (group == 1 && tiles) {
    // A matrix product over images and output pixels: acc(co, kx, ky, ci)
    // sums dy[n][co][pixel] * in[n][ci][window (ky, kx) of the pixel]. The
    // schedule keeps a register tile of channel vectors by a block of
    // (kx, ky, ci) over one image's pixels (or a block of small images'),
    // so dy is read as channel vectors (dyT, channels innermost) and the
    // input as broadcasts at constant offsets from one another. Tiles may round
    // each axis up; what a rounded axis reads is clamped, and never stored.
    int64_t cout = parts.shape[0], kh = parts.shape[2], kw = parts.shape[3];
    // A tile's dy (one image, a block of channels) stays in half an L1
    // cache while the task's window blocks pass over it, or it comes from
    // L2 (ResNet's 56x56 first layer): there a channel vector costs about
    // as much as 3 broadcasts from L1, and tiles that reuse each vector
    // more pay (ResNet-18's first layer at 112, batch 16, AVX2: 48-52 ->
    // 25-26 ms per step).
    constexpr int64_t kTileDyFloats = 4096;
    int dyLoadCost =
        (int64_t)outW * outH * 2 * tiles->lanes > kTileDyFloats ? 3 : 1;
    WeightGradTilePlan plan =
        weightGradTilePlan(cout, cinG, kh, kw, *tiles, dyLoadCost);
    auto clampIf = [](Expr e, int64_t extent, int64_t padded) {
      return padded > extent ? min(e, (int)extent - 1) : e;
    };
    Var co("co"), kx("kx"), ky("ky"), ci("ci");
    // Small images (ResNet's last stage at 112: 4x4 pixels): a tile that
    // summed one image would be added into acc after a few steps. Where 8
    // images' dy (a block of channels) fits in half an L1 cache, a tile
    // sums a block of 8 images instead (dyT is zero past the batch, so the
    // last block may run over it). Larger images keep one image a tile:
    // blocks of 4 or 5 images of ResNet's 7x7 stage measured slower.
    constexpr int kImagesPerTile = 8;
    int64_t imageFloats = (int64_t)outW * outH * plan.vectors * tiles->lanes;
    int images =
        imageFloats * kImagesPerTile <= kTileDyFloats ? kImagesPerTile : 1;
    Expr batch = dy.extent(0);
    Expr dyCo = clampIf(co, cout, plan.paddedCout);
    Func dyT("conv_grad_weight_dyT");
    if (images > 1)
      dyT(co, x, y, n) =
          select(n < batch, dy.func(x, y, dyCo, min(n, batch - 1)), 0.0f);
    else
      dyT(co, x, y, n) = dy.func(x, y, dyCo, n);
    RDom rp = images > 1 ? RDom(0, outW, 0, outH, 0, images, "dweight_pixels")
                         : RDom(0, outW, 0, outH, "dweight_pixels");
    Expr image = images > 1 ? n * images + rp.z : Expr(n);
    Expr kxc = clampIf(kx, kw, plan.paddedKw),
         kyc = clampIf(ky, kh, plan.paddedKh),
         cic = clampIf(ci, cinG, plan.paddedCin);
    Func tile("conv_grad_weight_tile");
    tile(co, kx, ky, ci, n) = 0.0f;
    tile(co, kx, ky, ci, n) +=
        dyT(co, rp.x, rp.y, image) *
        inb(rp.x * s[1] - p[1] + kxc * d[1], rp.y * s[0] - p[0] + kyc * d[0],
            cic, images > 1 ? min(image, batch - 1) : image);
    RDom rb(0, (batch + images - 1) / images, "dweight_blocks");
    Func acc("conv_grad_weight_acc");
    acc(co, kx, ky, ci) = 0.0f;
    acc(co, kx, ky, ci) += tile(co, kx, ky, ci, rb);
    Func out("conv_grad_weight_out");
    out(x, y, c, n) = acc(n, x, y, c);
    parts.family = KernelParts::Family::WeightGradTiles;
    parts.output = out;
    parts.reduction = acc;
    parts.hasReduction = true;
    parts.gradTile = tile;
    parts.gradTransposed = dyT;
    parts.gradPlan = plan;
    parts.gradWidth = outW;
    parts.rdom = rp;
    parts.gradBatch = rb;
    return parts;
  }
  RDom r(0, outW, 0, outH, 0, dy.extent(0), "dweight_r");
  Expr ix = r.x * s[1] - p[1] + x * d[1], iy = r.y * s[0] - p[0] + y * d[0];
  Var kx = x, ky = y, cin = c, cout = n;
  Func dw("conv_grad_weight");
  dw(kx, ky, cin, cout) = 0.0f;
  dw(kx, ky, cin, cout) += dy.func(r.x, r.y, cout, r.z) *
                           inb(ix, iy, (cout / coutG) * cinG + cin, r.z);
  Func out("conv_grad_weight_out");
  out(kx, ky, cin, cout) = dw(kx, ky, cin, cout);
  parts.family = KernelParts::Family::WeightGrad;
  parts.reductionSize = outW;
  parts.output = out;
  parts.reduction = dw;
  parts.hasReduction = true;
  parts.rdom = r;
  return parts;
}

/// lowbias32, a 32-bit integer hash with good avalanche behaviour.
static Expr mix32(Expr h) {
  h = h ^ (h >> 16);
  h = h * Halide::Internal::UIntImm::make(UInt(32), 0x7feb352du);
  h = h ^ (h >> 15);
  h = h * Halide::Internal::UIntImm::make(UInt(32), 0x846ca68bu);
  return h ^ (h >> 16);
}

/// Training-mode dropout: the kept elements, scaled by 1 / (1 - ratio). The
/// mask is a hash of [seed, step] (the rng buffer), the layer's salt and the
/// element's row-major index; test/Scripts/dropout_check.py reimplements it.
static Expr dropoutScale(const TensorFunc &rng, const std::vector<Expr> &idx,
                         const TensorFunc &shape, float ratio, int64_t salt) {
  Expr seed = cast<uint32_t>(rng.func(0)), step = cast<uint32_t>(rng.func(1));
  Expr key =
      mix32(seed ^ (Halide::Internal::UIntImm::make(
                       UInt(32), (uint32_t)((uint32_t)salt * 0x9e3779b9u))));
  key = mix32(key +
              step * Halide::Internal::UIntImm::make(UInt(32), 0x85ebca6bu));
  Expr flat = Halide::Internal::UIntImm::make(UInt(32), 0);
  for (int i = 0; i < shape.rank(); ++i)
    flat = flat * cast<uint32_t>(shape.extent(i)) + cast<uint32_t>(idx[i]);
  Expr u = cast<float>(mix32(flat ^ key) >> 8) * (1.0f / 16777216.0f);
  return select(u >= ratio, 1.0f / (1.0f - ratio), 0.0f);
}

mlir::FailureOr<KernelParts>
cnnc::codegen::lowerBackward(mlir::Operation *op,
                             llvm::ArrayRef<TensorFunc> operands,
                             const LoweringContext &ctx) {
  // The tiled weight gradient and the phases of a strided input gradient
  // have only the hand-written CPU schedules (null: the plain definitions).
  const VectorMachine *tiles =
      ctx.manualSchedule && !ctx.target.has_gpu_feature() ? &ctx.machine
                                                          : nullptr;
  KernelParts parts;
  parts.family = KernelParts::Family::Elementwise;
  parts.shape = resultShape(op);

  if (llvm::isa<cnn::SoftmaxCrossEntropyOp, cnn::SoftmaxCrossEntropyGradOp>(
          op)) {
    const TensorFunc &z = operands[0], &labels = operands[1];
    int classes = (int)z.shape[1];
    Var j("j"), n("n");
    RDom rc(0, classes, "class_r");
    Func mx("ce_max"), lse("ce_logsumexp");
    mx(n) = maximum(z.func(rc, n));
    lse(n) = mx(n) + log(sum(exp(z.func(rc, n) - mx(n))));
    parts.rootStages = {mx, lse};
    Expr batch = z.extent(0);
    if (llvm::isa<cnn::SoftmaxCrossEntropyOp>(op)) {
      RDom rn(0, batch, "batch_r");
      Func loss("cross_entropy");
      loss() = sum(lse(rn) - z.func(labelOf(labels, rn, classes), rn)) /
               cast<float>(batch);
      parts.family = KernelParts::Family::Reduction;
      parts.output = loss;
      return parts;
    }
    Func grad("cross_entropy_grad");
    grad(j, n) = (exp(z.func(j, n) - lse(n)) -
                  select(j == labelOf(labels, n, classes), 1.0f, 0.0f)) /
                 cast<float>(batch);
    parts.output = grad;
    return parts;
  }

  if (llvm::isa<cnn::MseLossOp, cnn::MseLossGradOp>(op)) {
    const TensorFunc &pred = operands[0], &target = operands[1];
    Expr count = cast<float>(pred.extent(0));
    for (int i = 1; i < pred.rank(); ++i)
      count = count * (float)pred.shape[i];
    if (llvm::isa<cnn::MseLossGradOp>(op)) {
      std::vector<Var> v = makeVars(pred.rank());
      std::vector<Expr> idx = rowMajor(v);
      Func grad("mse_grad");
      grad(v) = 2.0f * (at(pred.func, idx) - at(target.func, idx)) / count;
      parts.output = grad;
      return parts;
    }
    Region region;
    for (int i = 0; i < pred.rank(); ++i)
      region.push_back(Range(0, pred.extent(i)));
    RDom r(region, "mse_r");
    std::vector<Expr> idx;
    for (int i = 0; i < pred.rank(); ++i)
      idx.push_back(r[i]);
    Expr diff = at(pred.func, idx) - at(target.func, idx);
    Func loss("mse");
    loss() = sum(diff * diff) / count;
    parts.family = KernelParts::Family::Reduction;
    parts.output = loss;
    return parts;
  }

  if (llvm::isa<cnn::DropoutTrainOp, cnn::DropoutTrainGradOp>(op)) {
    float ratio =
        op->getAttrOfType<mlir::FloatAttr>("ratio").getValueAsDouble();
    int64_t salt = op->getAttrOfType<mlir::IntegerAttr>("salt").getInt();
    std::vector<Var> v = makeVars(operands[0].rank());
    std::vector<Expr> idx = rowMajor(v);
    Func out(llvm::isa<cnn::DropoutTrainOp>(op) ? "dropout" : "dropout_grad");
    out(v) = at(operands[0].func, idx) *
             dropoutScale(operands[1], idx, operands[0], ratio, salt);
    parts.output = out;
    return parts;
  }

  if (auto g = llvm::dyn_cast<cnn::Conv2dBackwardInputOp>(op))
    return lowerConvBackward(g, operands, /*wantInput=*/true, tiles);
  if (auto g = llvm::dyn_cast<cnn::Conv2dBackwardWeightOp>(op))
    return lowerConvBackward(g, operands, /*wantInput=*/false, tiles);

  if (auto g = llvm::dyn_cast<cnn::ActivationGradOp>(op)) {
    std::vector<Var> v = makeVars((int)parts.shape.size());
    std::vector<Expr> idx = rowMajor(v);
    Expr dy = at(operands[0].func, idx), yv = at(operands[1].func, idx);
    Func out("activation_grad");
    out(v) = activationGrad(dy, yv, cnn::ActivationSpec::on(g));
    parts.output = out;
    return parts;
  }

  if (auto g = llvm::dyn_cast<cnn::Pool2dBackwardOp>(op)) {
    const TensorFunc &dy = operands[0], &in = operands[1];
    std::vector<int> k = intsOf(g.getKernelShape()), s = intsOf(g.getStrides()),
                     p = intsOf(g.getPads());
    int inH = (int)in.shape[2], inW = (int)in.shape[3];
    int outH = (int)dy.shape[2], outW = (int)dy.shape[3];
    std::vector<Var> v = makeVars(4);
    Var x = v[0], y = v[1], c = v[2], n = v[3];
    // Gather form: each input element sums the gradients of the (at most
    // ceil(k / s) per axis) windows that contain it, so the kernel is
    // data-parallel and vectorizes like a forward op.
    int nx = (k[1] + s[1] - 1) / s[1], ny = (k[0] + s[0] - 1) / s[0];
    RDom cand(0, nx, 0, ny, "window_r");
    Expr ox = (x + p[1]) / s[1] - cand.x, oy = (y + p[0]) / s[0] - cand.y;
    Expr wx0 = ox * s[1] - p[1], wy0 = oy * s[0] - p[0];
    Expr inside = ox >= 0 && ox < outW && oy >= 0 && oy < outH &&
                  x - wx0 < k[1] && y - wy0 < k[0];
    Expr dyv = dy.func(clamp(ox, 0, outW - 1), clamp(oy, 0, outH - 1), c, n);
    Expr contribution;
    if (g.getKind() == cnn::PoolKind::Max) {
      // Windows of up to this many elements find their maximum unrolled.
      constexpr int kUnrolledArgmaxWindow = 16;
      Region bounds = {Range(0, inW), Range(0, inH), Range(), Range()};
      Func src = BoundaryConditions::constant_exterior(
          in.func, -std::numeric_limits<float>::infinity(), bounds);
      // The first maximum in row-major window order, as PyTorch picks it,
      // as the window's flat index: one per window, in its own Func (an
      // inline argmax nested in the sum over windows would also reduce over
      // the windows). Small windows compare their elements in an unrolled
      // chain of selects, which vectorizes along the windows; larger ones
      // use Halide's argmax.
      Var wx("wx"), wy("wy");
      Func am("pool_argmax");
      auto element = [&](Expr qx, Expr qy) {
        return src(wx * s[1] - p[1] + qx, wy * s[0] - p[0] + qy, c, n);
      };
      if (k[0] * k[1] <= kUnrolledArgmaxWindow) {
        Expr best = element(0, 0), index = 0;
        for (int q = 1; q < k[0] * k[1]; ++q) {
          Expr v = element(q % k[1], q / k[1]);
          Expr better = v > best;
          best = select(better, v, best);
          index = select(better, q, index);
        }
        am(wx, wy, c, n) = index;
      } else {
        RDom kr(0, k[1], 0, k[0], "kernel_r");
        Tuple first = argmax(kr, element(kr.x, kr.y));
        am(wx, wy, c, n) = first[0] + first[1] * k[1];
      }
      Expr cx = clamp(ox, 0, outW - 1), cy = clamp(oy, 0, outH - 1);
      contribution =
          select(inside && am(cx, cy, c, n) == (y - wy0) * k[1] + (x - wx0),
                 dyv, 0.0f);
      parts.reduction = am;
      parts.hasReduction = true;
      parts.reductionWidth = outW;
    } else {
      Expr divisor =
          avgPoolDivisor(wx0, wy0, k, p, inW, inH, g.getCountIncludePad());
      contribution = select(inside, dyv / divisor, 0.0f);
    }
    Func out("pool_grad");
    out(x, y, c, n) = sum(contribution);
    if (g.getActivation() != cnn::Activation::None) {
      // The activation's gradient mask, on the same elements.
      Func masked("pool_activation_grad");
      masked(x, y, c, n) = activationGrad(out(x, y, c, n), in.func(x, y, c, n),
                                          cnn::ActivationSpec::on(g));
      out = masked;
    }
    parts.family = KernelParts::Family::Pool;
    parts.output = out;
    return parts;
  }

  if (auto g = llvm::dyn_cast<cnn::ReduceSumOp>(op)) {
    const TensorFunc &in = operands[0];
    std::vector<int64_t> axes;
    for (mlir::Attribute a : g.getAxes())
      axes.push_back(a.cast<mlir::IntegerAttr>().getInt());
    // Every axis but the channels (bias gradients): the per-channel sum
    // with its own schedule.
    std::vector<int64_t> allButChannels = {0};
    for (int i = 2; i < in.rank(); ++i)
      allButChannels.push_back(i);
    if (in.rank() >= 2 && parts.shape.size() == 1 && axes == allButChannels) {
      Func total = channelSum(
          "channel_sum", in,
          [&](const std::vector<Expr> &i) { return at(in.func, i); }, parts);
      Var ch("ch");
      Func out("reduce_sum");
      out(ch) = total(ch);
      parts.output = out;
      return parts;
    }
    Region region;
    for (int64_t a : axes)
      region.push_back(Range(0, in.extent((int)a)));
    RDom r(region, "sum_r");
    std::vector<Var> v = makeVars((int)parts.shape.size());
    std::vector<Expr> idx = rowMajor(v);
    std::vector<Expr> src;
    int outPos = 0, rPos = 0;
    bool keep = (int)parts.shape.size() == in.rank();
    for (int i = 0; i < in.rank(); ++i) {
      if (std::find(axes.begin(), axes.end(), (int64_t)i) != axes.end()) {
        src.push_back(r[rPos++]);
        if (keep)
          ++outPos;
      } else {
        src.push_back(idx[outPos++]);
      }
    }
    Func out("reduce_sum");
    out(v) = sum(at(in.func, src));
    parts.family = KernelParts::Family::Reduction;
    parts.output = out;
    return parts;
  }

  op->emitOpError("has no Halide lowering");
  return mlir::failure();
}
