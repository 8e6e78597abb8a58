//===- KernelBuilder.cpp - dispatch per op family and schedules -----------===//
#include "KernelBuilder.h"

#include "cnnc/Dialect/CNN/CNNOps.h"

#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace Halide;
using namespace cnnc;
using namespace cnnc::codegen;

std::vector<Var> cnnc::codegen::makeVars(int rank) {
  static const char *kNchw[] = {"x", "y", "c", "n"};
  std::vector<Var> vars;
  for (int i = 0; i < rank; ++i)
    vars.emplace_back(rank == 4 ? kNchw[i]
                                : "d" + std::to_string(rank - 1 - i));
  return vars;
}

Expr cnnc::codegen::at(const Func &f, const std::vector<Expr> &idx) {
  std::vector<Expr> args(idx.rbegin(), idx.rend());
  return f(args);
}

std::vector<Expr> cnnc::codegen::rowMajor(const std::vector<Var> &vars) {
  return std::vector<Expr>(vars.rbegin(), vars.rend());
}

std::vector<int> cnnc::codegen::intsOf(mlir::ArrayAttr attr) {
  std::vector<int> v;
  for (mlir::Attribute a : attr)
    v.push_back((int)a.cast<mlir::IntegerAttr>().getInt());
  return v;
}

Expr cnnc::codegen::avgPoolDivisor(Expr x0, Expr y0, const std::vector<int> &k,
                                   const std::vector<int> &p, int inW, int inH,
                                   bool countIncludePad) {
  if (countIncludePad) {
    Expr x1 = min(x0 + k[1], inW + p[3]), y1 = min(y0 + k[0], inH + p[2]);
    return cast<float>((x1 - x0) * (y1 - y0));
  }
  Expr x1 = min(x0 + k[1], inW), y1 = min(y0 + k[0], inH);
  return cast<float>(max((x1 - max(x0, 0)) * (y1 - max(y0, 0)), 1));
}

llvm::SmallVector<int64_t, 4> cnnc::codegen::resultShape(mlir::Operation *op) {
  auto type = op->getResult(0).getType().cast<mlir::ShapedType>();
  llvm::SmallVector<int64_t, 4> shape;
  for (int64_t d : type.getShape())
    shape.push_back(d == mlir::ShapedType::kDynamicSize ? -1 : d);
  return shape;
}

mlir::FailureOr<KernelParts>
cnnc::codegen::lowerOp(mlir::Operation *op, llvm::ArrayRef<TensorFunc> operands,
                       const LoweringContext &ctx) {
  return llvm::TypeSwitch<mlir::Operation *, mlir::FailureOr<KernelParts>>(op)
      .Case<cnn::Conv2dOp, cnn::FusedConv2dOp>([&](auto) {
        return lowerConv(op, operands,
                         ctx.manualSchedule && !ctx.target.has_gpu_feature()
                             ? &ctx.machine
                             : nullptr);
      })
      .Case<cnn::MaxPool2dOp, cnn::AvgPool2dOp, cnn::GlobalAvgPoolOp,
            cnn::GlobalMaxPoolOp, cnn::SqueezeExciteOp>(
          [&](auto) { return lowerPooling(op, operands); })
      .Case<cnn::GemmOp, cnn::FusedGemmOp, cnn::MatMulOp>(
          [&](auto) { return lowerDense(op, operands); })
      .Case<cnn::SoftmaxCrossEntropyOp, cnn::SoftmaxCrossEntropyGradOp,
            cnn::MseLossOp, cnn::MseLossGradOp, cnn::Conv2dBackwardInputOp,
            cnn::Conv2dBackwardWeightOp, cnn::ActivationGradOp,
            cnn::Pool2dBackwardOp, cnn::ReduceSumOp, cnn::DropoutTrainOp,
            cnn::DropoutTrainGradOp>(
          [&](auto) { return lowerBackward(op, operands, ctx); })
      .Case<cnn::PackWeightsOp, cnn::UnpackWeightsOp>(
          [&](auto) { return lowerLayout(op, operands); })
      .Case<cnn::BatchNormStatsOp, cnn::BatchNormTrainOp,
            cnn::BatchNormRunningUpdateOp, cnn::BatchNormTrainGradScaleOp,
            cnn::BatchNormTrainGradInputOp>(
          [&](auto) { return lowerBatchNormTraining(op, operands); })
      .Default(
          [&](mlir::Operation *) { return lowerElementwise(op, operands); });
}

//===----------------------------------------------------------------------===//
// Hand-written CPU schedules, one per family.
//===----------------------------------------------------------------------===//

VectorMachine cnnc::codegen::vectorMachine(const Halide::Target &target) {
  VectorMachine m;
  m.lanes = std::max(1, target.natural_vector_size<float>());
  bool avx512 = target.has_feature(Target::AVX512) ||
                target.has_feature(Target::AVX512_KNL) ||
                target.has_feature(Target::AVX512_Skylake) ||
                target.has_feature(Target::AVX512_Cannonlake) ||
                target.has_feature(Target::AVX512_SapphireRapids);
  if (target.arch == Target::X86)
    m.registers = target.bits == 64 ? (avx512 ? 32 : 16) : 8;
  else if (target.arch == Target::ARM)
    m.registers = target.bits == 64 ? 32 : 16;
  else
    m.registers = 16;
  // CNNC_VECTOR_MACHINE=LANES,REGISTERS (a testing aid): size the
  // schedules for another vector unit than the target's, e.g. AVX-512's
  // 16,32 on an AVX2 machine, where Halide splits each 16-lane vector in
  // two. The code stays correct for the target; what it checks is that
  // every bound of the other machine's schedule decisions holds, on any
  // host (test/Scripts/schedule_sweep.py).
  if (const char *env = getenv("CNNC_VECTOR_MACHINE")) {
    int lanes = 0, registers = 0;
    if (sscanf(env, "%d,%d", &lanes, &registers) == 2 && lanes >= 1 &&
        lanes <= 64 && registers >= 4 && registers <= 64) {
      m.lanes = lanes;
      m.registers = registers;
    }
  }
  return m;
}

std::string cnnc::codegen::vectorMachineOverride() {
  const char *env = getenv("CNNC_VECTOR_MACHINE");
  return env ? std::string("|vector-machine=") + env : std::string();
}

/// Largest vector width <= `natural` that the extent can fill at least once,
/// so ShiftInwards tails never read or write outside the buffer.
static int fitVector(int64_t extent, int natural) {
  int v = natural;
  while (v > 1 && extent < v)
    v /= 2;
  return v;
}

/// Vector width for an axis of `extent`: the extent itself when it fits in
/// one or a few registers, split evenly, so no lane is computed twice (a
/// ShiftInwards tail recomputes lanes; 28 = 2 x 14 beats 16 + 16).
static int evenVector(int64_t extent, int natural) {
  if (extent <= 1)
    return 1;
  int64_t tiles = (extent + natural - 1) / natural;
  if (extent % tiles == 0)
    return (int)(extent / tiles);
  return fitVector(extent, natural);
}

/// Largest divisor of `channels` that is at most `limit`.
static int channelBlock(int64_t channels, int limit) {
  for (int b = limit; b > 1; --b)
    if (channels % b == 0)
      return b;
  return 1;
}

/// Halide's thread pool hands out a parallel loop's iterations one at a
/// time, under a lock: an iteration worth a few hundred nanoseconds (a row
/// of LeNet-5) costs more to hand out than to compute, and two threads end
/// up slower than one. Iterations are grouped into tasks of at least this
/// many floating-point operations (a few microseconds).
constexpr int64_t kMinTaskFlops = int64_t(1) << 18;

/// Makes loop `v` of `f` parallel, grouping iterations of `flops` each into
/// tasks; returns the loop of one iteration (`v` itself when not grouped),
/// where per-iteration stages are computed.
static Var parallelTasks(Func f, Var v, int64_t flops) {
  int64_t group = flops > 0 ? (kMinTaskFlops + flops - 1) / flops : 1;
  if (group <= 1) {
    f.parallel(v);
    return v;
  }
  Var inner(v.name() + "_i");
  f.split(v, v, inner, (int)std::min<int64_t>(group, 1 << 16),
          TailStrategy::GuardWithIf)
      .parallel(v);
  return inner;
}

/// Batch size assumed when sizing the tasks of a reduction over the batch.
constexpr int64_t kTypicalBatch = 32;

/// Cost of a memory-bound pass per element, in flops, for parallelTasks.
constexpr int64_t kFlopsPerMovedElement = 4;

/// A convolution's zero-padded input: computed once, whole rows vectorized,
/// one task per (channel, sample) plane.
static void schedulePadding(KernelParts &p, int64_t width,
                            const LoweringContext &ctx) {
  if (!p.hasPadded)
    return;
  std::vector<Var> v = makeVars(4);
  Var x = v[0], c = v[2], n = v[3], pt("pt");
  p.padded.compute_root()
      .vectorize(x, fitVector(width, ctx.vectorWidth()),
                 TailStrategy::GuardWithIf)
      .fuse(c, n, pt);
  parallelTasks(p.padded, pt, p.paddedPlane * kFlopsPerMovedElement);
}

/// Flops of the convolution rows behind `rows` pooled rows of `channels`
/// channels, for parallelTasks.
static int64_t pooledConvFlops(const KernelParts &p, int64_t channels,
                               int64_t rows) {
  int64_t convRows = rows * std::max<int64_t>(1, p.convHeight / p.shape[2]);
  return 2 * channels * convRows * p.convWidth * p.reductionSize;
}

/// Rows of pooled output per task: a divisor of the height up to `limit`
/// (no row computed twice), else `limit` (ShiftInwards).
static int rowBlock(int64_t height, int limit) {
  for (int b = (int)std::min<int64_t>(height, limit); b > 1; --b)
    if (height % b == 0 && b * 2 > limit)
      return b;
  return (int)std::max<int64_t>(1, std::min<int64_t>(height, limit));
}

/// conv + pooling: each task computes a block of pooled output rows for a
/// block of channels; the convolution rows it needs are computed right
/// there (compute_at the pooled row), so they never leave the cache. When
/// the windows overlap (ResNet's 3x3/2 stem pool), the rows are kept in a
/// sliding window (stored per task, computed per pooled row): each
/// convolution row is computed once, none is recomputed for the next
/// pooled row.
static void schedulePooledConv(KernelParts &p, const LoweringContext &ctx) {
  std::vector<Var> v = makeVars(4);
  Var x = v[0], y = v[1], c = v[2], n = v[3];
  Var co("co"), ci("ci"), yo("yo"), yi("yi"), t("t"), t2("t2");
  int block = channelBlock(p.channels, 8);
  Func pool = p.output, conv = p.reduction;
  int poolVec = evenVector(p.shape[3], ctx.vectorWidth());
  int rows = p.poolOverlaps ? rowBlock(p.shape[2], 16) : 1;
  pool.split(c, co, ci, block)
      .split(y, yo, yi, rows, TailStrategy::ShiftInwards)
      .reorder(x, ci, yi, yo, co, n)
      .vectorize(x, poolVec, TailStrategy::ShiftInwards)
      .fuse(yo, co, t)
      .fuse(t, n, t2);
  Var task = parallelTasks(pool, t2, pooledConvFlops(p, block, rows));
  // The pooling reads convolution columns [0, used); RoundUp keeps every
  // vector whole but computes up to the next multiple of the vector, which
  // reads the input past its end unless a padding stage (which grows) or
  // the convolution's own row (whose reads are in bounds) covers it. Else
  // the update guards its tail (the pure init only writes this buffer).
  int64_t used = p.convColumnsUsed;
  auto roundTo = [&](int64_t multiple) {
    return (used + multiple - 1) / multiple * multiple;
  };
  // Whole power-of-two vectors where rounding up stays inside what may be
  // read (a 7-lane vector takes three instructions per operation), else
  // the row split evenly.
  int convVec = fitVector(used, ctx.vectorWidth());
  if (!p.hasPadded && roundTo(convVec) > p.convWidth)
    convVec = evenVector(used, ctx.vectorWidth());
  bool roundUp = p.hasPadded || roundTo(convVec) <= p.convWidth;
  TailStrategy convTail =
      roundUp ? TailStrategy::RoundUp : TailStrategy::GuardWithIf;
  // Register tile: `cols` vectors of the row by the block's channels, at
  // most the target's accumulators (LeNet-5's C1: 2 x 6 on AVX2); the
  // vectors of a row one after another each kept its sums in memory.
  int64_t vectors = roundTo(convVec) / convVec;
  int cols = (int)std::max<int64_t>(
      1, std::min<int64_t>(vectors, ctx.machine.accumulators() / block));
  if (!roundUp || (!p.hasPadded && roundTo(convVec * cols) > p.convWidth))
    cols = 1;
  if (p.poolOverlaps)
    conv.store_at(pool, task).compute_at(pool, yi);
  else
    conv.compute_at(pool, task);
  conv.vectorize(x, convVec, TailStrategy::RoundUp).unroll(c);
  if (cols > 1) {
    Var xo("xo"), xr("xr"), xv("xv"), xi("xi");
    conv.update()
        .split(x, xo, xr, convVec * cols, TailStrategy::RoundUp)
        .split(xr, xv, xi, convVec)
        .reorder(xi, xv, c, p.rdom.x, p.rdom.y, p.rdom.z, xo, y)
        .vectorize(xi)
        .unroll(xv)
        .unroll(c);
  } else {
    conv.update()
        .reorder(x, c, p.rdom.x, p.rdom.y, p.rdom.z, y)
        .vectorize(x, convVec, convTail)
        .unroll(c);
  }
  schedulePadding(p, ctx.vectorWidth(), ctx);
}

/// conv + pooling with packed weights: the convolution vectorizes over
/// `lanes` output channels as in schedulePackedConv (a tile of up to 24
/// columns of channel vectors in registers), one task per block of pooled
/// rows and channel vector; the convolution rows live in a sliding window
/// per task (computed once each, also when the windows overlap), and the
/// pooling reads them as whole channel vectors.
static void schedulePackedPooledConv(KernelParts &p,
                                     const LoweringContext &ctx) {
  std::vector<Var> v = makeVars(4);
  Var x = v[0], y = v[1], c = v[2], n = v[3];
  Var co("co"), ci("ci"), yo("yo"), yi("yi"), xo("xo"), xi("xi"), t("t"),
      t2("t2");
  int lanes = p.packedLanes;
  int64_t convW = p.convWidth;
  // A column tile of at most `acc` channel vectors (the register budget:
  // 24 on AVX-512, 12 on AVX2) that divides the row (RoundUp then computes
  // nothing past it); with a padding stage any tile is safe, it grows.
  int acc = ctx.machine.accumulators();
  int64_t cols = convW;
  if (cols > acc) {
    cols = 0;
    for (int64_t d = acc; d >= std::max(2, acc / 3) && !cols; --d)
      if (convW % d == 0)
        cols = d;
    if (!cols)
      cols = p.hasPadded ? std::max(2, acc * 2 / 3) : convW;
  }
  Func pool = p.output, conv = p.reduction;
  int rows = rowBlock(p.shape[2], 16);
  pool.split(c, co, ci, lanes)
      .split(y, yo, yi, rows, TailStrategy::ShiftInwards)
      .reorder(ci, x, yi, yo, co, n)
      .vectorize(ci)
      .fuse(yo, co, t)
      .fuse(t, n, t2);
  Var task = parallelTasks(pool, t2, pooledConvFlops(p, lanes, rows));
  conv.store_at(pool, task)
      .compute_at(pool, yi)
      .reorder_storage(c, x, y, n)
      .reorder(c, x, y, n)
      .vectorize(c);
  conv.update()
      .split(x, xo, xi, (int)cols,
             cols == convW ? TailStrategy::Auto : TailStrategy::RoundUp)
      .reorder(c, xi, p.rdom.x, p.rdom.y, p.rdom.z, xo, y, n)
      .vectorize(c)
      .unroll(xi);
  schedulePadding(p, convW, ctx);
}

/// Packed weights (output channels in whole vectors): each task computes a
/// block of `lanes` output channels for `rows` output rows; the reduction
/// keeps width x rows vectors of channels in registers, each weight vector
/// (one load, contiguous thanks to the packing) feeding width x rows FMAs
/// with broadcast inputs.
static void schedulePackedConv(KernelParts &p, const LoweringContext &ctx) {
  std::vector<Var> v = makeVars(4);
  Var x = v[0], y = v[1], c = v[2], n = v[3];
  Var co("co"), ci("ci"), xo("xo"), xi("xi"), yo("yo"), yi("yi"), t("t"),
      t2("t2");
  int lanes = p.packedLanes;
  int64_t width = p.shape[3], height = p.shape[2];
  // Up to `acc` accumulators (the register budget: 24 on AVX-512, 12 on
  // AVX2 and SSE4.1): a tile of `cols` columns (the whole row when it is
  // short, else an even split of it into pieces of at most 2/3 of the
  // budget) by `rows` rows (a divisor of the height: a ShiftInwards tail
  // would recompute rows, 2 of 9 on a 7x7 image) by `vectors` channel
  // vectors, which fill the registers where the image is small (ResNet's
  // 7x7 and smaller layers).
  int acc = ctx.machine.accumulators();
  int64_t cols = width;
  if (cols > acc) {
    int64_t piece = std::max(2, acc * 2 / 3);
    int64_t tiles = (width + piece - 1) / piece;
    cols = (width + tiles - 1) / tiles;
  }
  int rows = 1;
  for (int r = (int)std::min<int64_t>(height, acc / cols); r > 1; --r)
    if (height % r == 0) {
      rows = r;
      break;
    }
  int64_t blocks = p.channels / lanes;
  int vectors = 1;
  for (int b = 4; b > 1; --b)
    if (blocks % b == 0 && b * cols * rows <= acc) {
      vectors = b;
      break;
    }
  Func out = p.output, conv = p.reduction;
  // The output stage (bias, activation, residual) runs on the tile's
  // channel vectors as the reduction left them, one vector of `lanes`
  // channels per pixel, and stores each lane to its own plane: a scalar
  // stage would cost more than a 1x1 reduction over a few channels
  // (an exp per element for SiLU).
  Var ov("ov"), ol("ol");
  out.split(c, co, ci, lanes * vectors)
      .split(x, xo, xi, (int)cols, TailStrategy::ShiftInwards)
      .split(y, yo, yi, rows, TailStrategy::ShiftInwards)
      .split(ci, ov, ol, lanes)
      .reorder(ol, xi, yi, ov, xo, yo, co, n)
      .vectorize(ol)
      .fuse(yo, co, t)
      .fuse(t, n, t2);
  parallelTasks(out, t2, 2 * lanes * vectors * rows * width * p.reductionSize);
  Var cv("cv"), cl("cl");
  conv.compute_at(out, xo)
      .reorder_storage(c, x, y, n)
      .split(c, cv, cl, lanes)
      .reorder(cl, cv, x, y, n)
      .vectorize(cl)
      .unroll(cv)
      .unroll(x)
      .unroll(y);
  conv.update()
      .split(c, cv, cl, lanes)
      .reorder(cl, cv, x, y, p.rdom.x, p.rdom.y, p.rdom.z, n)
      .vectorize(cl)
      .unroll(cv)
      .unroll(x)
      .unroll(y);
  schedulePadding(p, width, ctx);
  if (p.packedWeights.defined()) {
    // [channels / lanes][z][ky][kx][lanes], one task per channel vector.
    std::vector<Var> a = p.packedWeights.args();
    p.packedWeights.compute_root().vectorize(a[0]);
    parallelTasks(p.packedWeights, a[4],
                  p.reductionSize * lanes * kFlopsPerMovedElement);
  }
}

static std::pair<int, int> rowTileColumns(int64_t n,
                                          const LoweringContext &ctx);

/// Winograd F(TxT, 3x3) (Winograd.cpp): per image, or for images of few
/// tiles once for the whole batch (see the products below):
///  - the zero-padded input, stored channels innermost (one gather per
///    vector of channels), one task per row;
///  - the input tiles' transform on vectors of input channels, all
///    (T+2)^2 values of a tile at once, one task per block of tiles;
///  - the (T+2)^2 products, each a register tile of `rows` tiles x `cols`
///    vectors of output channels (6 x 2 on AVX2, 8 x 2 on AVX-512) with
///    outer products along the input channels, a task per product and
///    block of output channels, its weights (C x cols vectors) reused by
///    every tile of the image;
///  - the output tiles' transform on vectors of output channels inside the
///    output's tasks (a row of tiles x a channel vector), each lane stored
///    to its channel's plane, with the bias, activation and residual.
static void scheduleWinogradConv(KernelParts &p, const LoweringContext &ctx) {
  std::vector<Var> v = makeVars(4);
  Var x = v[0], y = v[1], c = v[2], n = v[3];
  int tile = p.winogradTile;
  int lanes = ctx.vectorWidth();
  int64_t width = p.shape[3], height = p.shape[2], cout = p.channels;
  int64_t cin = p.reductionSize / 9;
  Func out = p.output;
  // Static bounds: x / T and x % T simplify in each unrolled pixel.
  out.bound(x, 0, (int)width).bound(y, 0, (int)height);
  Var tx("tx"), ty("ty"), xi("xi"), yi("yi"), co("co"), cl("cl"), t("t");
  out.split(x, tx, xi, tile,
            width % tile ? TailStrategy::GuardWithIf : TailStrategy::Auto)
      .split(y, ty, yi, tile,
             height % tile ? TailStrategy::GuardWithIf : TailStrategy::Auto)
      .split(c, co, cl, lanes)
      .reorder(cl, xi, yi, tx, ty, co, n)
      .vectorize(cl)
      .unroll(xi)
      .unroll(yi)
      .fuse(ty, co, t);
  parallelTasks(out, t, 2 * lanes * tile * width * 9 * cin / 4);
  int a = tile + 2;
  std::vector<Var> ot = p.winogradOutTile.args();
  p.winogradOutTile.compute_at(out, tx)
      .vectorize(ot[0], lanes)
      .unroll(ot[2])
      .unroll(ot[3]);
  std::vector<Var> orow = p.winogradOutRows.args();
  p.winogradOutRows.compute_at(out, tx)
      .vectorize(orow[0], lanes)
      .unroll(orow[2])
      .unroll(orow[3]);

  // The products: [tiles x C] x [C x M] per (row, column) of the tile. An
  // image of fewer than kWinogradImageTiles tiles (ResNet's 28x28, 14x14)
  // shares them with the batch's other images: the rows of every image's
  // tiles, each image's padded to whole register tiles, pass the filter
  // block of a task once. Larger images run one at a time (their
  // transformed tiles stay smaller).
  constexpr int64_t kWinogradImageTiles = 100;
  std::vector<Var> pa = p.winogradProduct.args(); // co, t, ra, rb, n
  auto [vec, cols] = rowTileColumns(cout, ctx);
  int rows = std::max(1, std::min(8, ctx.machine.accumulators() / cols));
  int64_t tiles = p.winogradTilesX * p.winogradTilesY;
  bool wholeBatch = tiles < kWinogradImageTiles;
  Var po("po"), pi("pi"), to("to"), ti("ti"), e("e"), e2("e2");
  Func prod = p.winogradProduct;
  if (wholeBatch)
    prod.compute_root().bound(pa[1], 0,
                              (int)((tiles + rows - 1) / rows * rows));
  else
    prod.compute_at(out, n);
  // A task's loop over the images (one, or the batch) is inside it.
  prod.split(pa[0], po, pi, vec * cols)
      .split(pa[1], to, ti, rows, TailStrategy::RoundUp)
      .reorder(pi, ti, to, pa[4], po, pa[2], pa[3])
      .vectorize(pi, vec)
      .unroll(pi)
      .unroll(ti)
      .fuse(po, pa[2], e)
      .fuse(e, pa[3], e2)
      .parallel(e2);
  std::vector<Var> ta = p.winogradTileProduct.args();
  Var tco("tco"), tci("tci");
  p.winogradTileProduct.compute_at(prod, to)
      .split(ta[0], tco, tci, vec)
      .reorder(tci, tco, ta[1])
      .vectorize(tci)
      .unroll(tco)
      .unroll(ta[1]);
  p.winogradTileProduct.update()
      .split(ta[0], tco, tci, vec)
      .reorder(tci, tco, ta[1], p.rdom.x)
      .vectorize(tci)
      .unroll(tco)
      .unroll(ta[1]);

  // The input tiles, stored channels innermost: the products read each
  // tile's channels contiguously.
  std::vector<Var> da = p.winogradData.args(); // c, t, ra, rb, n
  Var dv("dv"), dl("dl"), dq("dq");
  Func data = p.winogradData;
  data.split(da[0], dv, dl, lanes)
      .reorder(dl, da[2], da[3], dv, da[1], da[4])
      .vectorize(dl)
      .unroll(da[2])
      .unroll(da[3]);
  if (wholeBatch) {
    data.compute_root().fuse(da[1], da[4], dq);
    parallelTasks(data, dq, cin * a * a * 16);
  } else {
    data.compute_at(out, n);
    parallelTasks(data, da[1], cin * a * a * 16);
  }
  std::vector<Var> dr = p.winogradDataRows.args(); // c, t, u, ra, n
  p.winogradDataRows.compute_at(data, dv)
      .vectorize(dr[0], lanes)
      .unroll(dr[2])
      .unroll(dr[3]);
  Var pv("pv"), pl("pl"), py("py");
  p.padded.reorder_storage(c, x, y, n)
      .split(c, pv, pl, lanes)
      .reorder(pl, pv, x, y, n)
      .vectorize(pl);
  int64_t rowCost =
      (int64_t)(p.winogradTilesX * tile + 2) * cin * kFlopsPerMovedElement;
  if (wholeBatch) {
    p.padded.compute_root().fuse(y, n, py);
    parallelTasks(p.padded, py, rowCost);
  } else {
    p.padded.compute_at(out, n);
    parallelTasks(p.padded, y, rowCost);
  }
}

std::pair<int, int> cnnc::codegen::pointwiseTile(int64_t width,
                                                 const VectorMachine &machine) {
  // Two vectors of pixels whenever the image has them, even where one
  // would compute fewer padding lanes: 12 channels x 1 vector takes 13
  // loads per 12 FMAs and twice the weight rows (ResNet-50's 49 pixels,
  // 2048 -> 512: 1.8 ms with 6 x 2, 2.7 with 6 x 1, 3.3 with 8 x 1 on
  // AVX2).
  int vec = fitVector(width, machine.lanes);
  return {vec, width >= 2 * vec ? 2 : 1};
}

/// Bytes of a pointwise convolution's input panel that one task packs:
/// every block of output channels reads it again, so it should stay in the
/// core's L2 (256 KiB to 2 MiB on the CPUs cnnc targets) next to the
/// weight rows that stream through.
constexpr int64_t kPointwisePanelBytes = 192 << 10;

/// Tasks a pointwise convolution's image should split into, so that two to
/// four threads all have work on a small image: the channel blocks are
/// split too when the pixel blocks are fewer.
constexpr int64_t kPointwiseMinTasks = 4;

/// A 1x1 convolution (stride 1, no padding, one group, plain weights) as
/// the matrix product out[c][p] = sum_k w[c][k] in[k][p] per image, pixels
/// vectorized (cnn-pack-conv-weights flattens a dense image to one row, so
/// 7x7 is 49 pixels, not 7 rows of 7):
///  - register tiles of `block` output channels x `cols` vectors of pixels
///    (6 x 2 on AVX2, 8 x 2 on AVX-512; pointwiseTile), one broadcast
///    weight per channel and `cols` loads of the input panel per step of
///    k;
///  - a task packs the input of a block of pixels as [tile][cin][lanes]
///    (conv_input_panel, kPointwisePanelBytes), then every channel block of
///    the task passes over its tiles: the input is read once from memory,
///    and the steps read consecutive lines;
///  - tasks are (pixel block, channel superblock) pairs: an image of one
///    pixel block (7x7 x 2048) still gives kPointwiseMinTasks.
/// Only the output stage handles the last partial tile (GuardWithIf); the
/// product rounds up to whole vectors.
static void schedulePointwiseConv(KernelParts &p, const LoweringContext &ctx) {
  std::vector<Var> v = makeVars(4);
  Var x = v[0], y = v[1], c = v[2], n = v[3];
  Var xo("xo"), xi("xi"), xb("xb"), xt("xt"), co("co"), ci("ci"), cs("cs"),
      cb("cb"), t("t"), t2("t2"), t3("t3");
  int64_t width = p.shape[3], cin = p.reductionSize;
  int vec = p.pointwiseLanes, cols = p.pointwiseVectors, tile = vec * cols;
  // Each of the block's weight rows is a stream of broadcasts, cin floats
  // apart: at most 8, which an 8-way L1 holds even where that stride is a
  // multiple of 4 KiB (cin of 1024 and up would put them all in one set).
  int block = (int)std::max<int64_t>(
      1, std::min<int64_t>({ctx.machine.accumulators() / cols, 8, p.channels}));
  int64_t tiles = (width + tile - 1) / tile;
  int64_t tilesPerBlock = std::max<int64_t>(
      1, std::min<int64_t>(tiles, kPointwisePanelBytes /
                                      std::max<int64_t>(1, cin * 4 * tile)));
  // Even blocks: 7 tiles under a limit of 4 are 2 blocks of 4, not 4 + 3.
  int64_t pixelBlocks = (tiles + tilesPerBlock - 1) / tilesPerBlock;
  tilesPerBlock = (tiles + pixelBlocks - 1) / pixelBlocks;
  int64_t channelBlocks = (p.channels + block - 1) / block;
  int64_t superBlocks = std::min<int64_t>(
      channelBlocks, (kPointwiseMinTasks + pixelBlocks - 1) / pixelBlocks);
  int64_t blocksPerTask = (channelBlocks + superBlocks - 1) / superBlocks;
  TailStrategy cTail = p.channels >= block ? TailStrategy::ShiftInwards
                                           : TailStrategy::GuardWithIf;
  Func out = p.output, conv = p.reduction;
  out.split(x, xo, xi, tile, TailStrategy::GuardWithIf)
      .split(c, co, ci, block, cTail)
      .split(xo, xb, xt, (int)tilesPerBlock, TailStrategy::GuardWithIf)
      .split(co, cs, cb, (int)blocksPerTask, TailStrategy::GuardWithIf)
      .reorder(xi, ci, xt, cb, xb, cs, y, n)
      .vectorize(xi, vec)
      .unroll(ci)
      .fuse(xb, cs, t)
      .fuse(t, y, t2)
      .fuse(t2, n, t3);
  Var task = parallelTasks(
      out, t3, 2 * block * blocksPerTask * tilesPerBlock * tile * cin);
  Var cx("cx"), cxi("cxi");
  // A whole tile also at the last, partial one: a constant-size tile whose
  // accumulators stay in registers.
  conv.compute_at(out, xt)
      .bound_extent(x, tile)
      .split(x, cx, cxi, vec, TailStrategy::RoundUp)
      .vectorize(cxi)
      .unroll(cx)
      .unroll(c);
  conv.update()
      .split(x, cx, cxi, vec, TailStrategy::RoundUp)
      .reorder(cxi, cx, c, p.rdom.x, p.rdom.y, p.rdom.z)
      .vectorize(cxi)
      .unroll(cx)
      .unroll(c);
  std::vector<Var> pa = p.pointwisePanel.args(); // xi, c, xt, y, n
  // Plane by plane: each input plane's pixels of the block are read in
  // order (a few sequential lines), where tile by tile would read one line
  // from each of cin planes, too many streams for the prefetchers.
  p.pointwisePanel.compute_at(out, task)
      .reorder(pa[0], pa[2], pa[1])
      .vectorize(pa[0], vec);
}

/// The vector width of a convolution's output rows of `width`, and
/// whether the reduction runs on whole vectors (RoundUp) in an internal
/// buffer: a 7- or 14-lane vector would take three instructions per
/// operation where an 8- or 16-lane one takes one, and only the cheap
/// output stage handles the ragged edge. Without a padding stage the extra
/// lanes would read past the input: the row is split evenly instead.
static std::pair<int, bool> convRowVector(int64_t width, bool padded,
                                          int natural) {
  int vec = natural;
  while (vec / 2 >= width && vec > 1)
    vec /= 2;
  bool roundUp = padded || width % vec == 0;
  if (!roundUp)
    vec = evenVector(width, natural);
  return {vec, roundUp};
}

/// Depthwise convolutions (MobileNet's, EfficientNet's): one input plane
/// per output plane, so a block of channels shares no input and the
/// general schedule's channel tiles bring nothing. Each task takes whole
/// (channel, image) planes: the plane's zero-padded input is written into
/// a buffer of the task (a few KiB to tens of KiB, in L1 or L2; a separate
/// pass over the whole tensor went through memory twice), then register
/// tiles of `rows` output rows x `cols` vectors sum the window's taps.
static void scheduleDepthwiseConv(KernelParts &p, const LoweringContext &ctx) {
  std::vector<Var> v = makeVars(4);
  Var x = v[0], y = v[1], c = v[2], n = v[3];
  Var xo("xo"), xi("xi"), yo("yo"), yi("yi"), cx("cx"), cxi("cxi"),
      plane("plane");
  int64_t width = p.shape[3], height = p.shape[2];
  int natural = ctx.vectorWidth();
  auto [vec, roundUp] = convRowVector(width, p.hasPadded, natural);
  // Accumulators: up to 2 vectors x 4 rows; every tap's weight broadcast
  // feeds all of them. Two vectors only where the row holds them (the
  // convolution stage computes whole vectors: a tile wider than the row
  // would read past an unpadded input).
  int cols = width >= 2 * vec ? 2 : 1;
  int rows = (int)std::max<int64_t>(
      1, std::min<int64_t>({height, 4, ctx.machine.accumulators() / cols}));
  int tile = vec * cols;
  TailStrategy xTail =
      width >= tile ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
  TailStrategy yTail =
      height >= rows ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
  TailStrategy convTail = roundUp ? TailStrategy::RoundUp : TailStrategy::Auto;
  Func out = p.output, conv = p.reduction;
  out.split(x, xo, xi, tile, xTail)
      .split(y, yo, yi, rows, yTail)
      .reorder(xi, yi, xo, yo, c, n)
      .vectorize(xi, vec)
      .unroll(yi)
      .fuse(c, n, plane);
  Var task = parallelTasks(out, plane, 2 * width * height * p.reductionSize);
  conv.compute_at(out, xo)
      .split(x, cx, cxi, vec, convTail)
      .vectorize(cxi)
      .unroll(cx)
      .unroll(y);
  conv.update()
      .split(x, cx, cxi, vec, convTail)
      .reorder(cxi, cx, y, p.rdom.x, p.rdom.y, p.rdom.z)
      .vectorize(cxi)
      .unroll(cx)
      .unroll(y)
      .unroll(p.rdom.x);
  if (p.hasPadded)
    p.padded.compute_at(out, task).vectorize(x, natural,
                                             TailStrategy::GuardWithIf);
}

static void scheduleConv(KernelParts &p, const LoweringContext &ctx) {
  if (p.winogradTile)
    return scheduleWinogradConv(p, ctx);
  if (p.pooled && p.packedLanes)
    return schedulePackedPooledConv(p, ctx);
  if (p.pooled)
    return schedulePooledConv(p, ctx);
  if (p.packedLanes)
    return schedulePackedConv(p, ctx);
  if (p.pointwiseLanes)
    return schedulePointwiseConv(p, ctx);
  if (p.depthwise)
    return scheduleDepthwiseConv(p, ctx);
  std::vector<Var> v = makeVars(4);
  Var x = v[0], y = v[1], c = v[2], n = v[3];
  Var xo("xo"), xi("xi"), co("co"), ci("ci"), t("t"), t2("t2");
  int64_t width = p.shape[3], height = p.shape[2];
  int natural = ctx.vectorWidth();
  auto [vec, roundUp] = convRowVector(width, p.hasPadded, natural);
  // Register tile: `block` output channels x `rows` output rows x `cols`
  // vectors along x, at most 16 accumulators and the target's budget (12
  // on AVX2): each weight broadcast feeds rows * cols FMAs and each input
  // vector `block` FMAs. Narrow layers (ResNet's 14x14 and 7x7) block over
  // rows, wide ones over x.
  int cols = width >= 2 * vec ? 2 : 1;
  int rows = (cols == 1 && height >= 2) ? 2 : 1;
  int block = channelBlock(
      p.channels,
      std::max(1, std::min(8, ctx.machine.accumulators() / (rows * cols))));
  int tile = vec * cols;
  TailStrategy xTail =
      width >= tile ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
  TailStrategy convTail = roundUp ? TailStrategy::RoundUp : TailStrategy::Auto;
  Var yo("yo"), yi("yi"), cx("cx"), cxi("cxi");
  Func out = p.output, conv = p.reduction;
  out.split(x, xo, xi, tile, xTail)
      .split(y, yo, yi, rows, TailStrategy::ShiftInwards)
      .split(c, co, ci, block)
      .reorder(xi, yi, ci, xo, yo, co, n)
      .vectorize(xi, vec)
      .unroll(yi)
      .unroll(ci)
      .fuse(yo, co, t)
      .fuse(t, n, t2);
  parallelTasks(out, t2, 2 * block * rows * width * p.reductionSize);
  conv.compute_at(out, xo)
      .split(x, cx, cxi, vec, convTail)
      .vectorize(cxi)
      .unroll(cx)
      .unroll(y)
      .unroll(c);
  conv.update()
      .split(x, cx, cxi, vec, convTail)
      .reorder(cxi, cx, y, c, p.rdom.x, p.rdom.y, p.rdom.z)
      .vectorize(cxi)
      .unroll(cx)
      .unroll(y)
      .unroll(c);
  schedulePadding(p, width, ctx);
}

/// Splits `extent` into tiles of at most `limit`, evenly (7 by 6: 2 tiles
/// of 4); unknown extents take `limit`.
static int evenTile(int64_t extent, int limit) {
  if (extent <= 0)
    return limit;
  int64_t tiles = (extent + limit - 1) / limit;
  return (int)((extent + tiles - 1) / tiles);
}

/// A row tile's columns of N: `cols` vectors (2 where N fills them, else 1)
/// of `vec` lanes.
static std::pair<int, int> rowTileColumns(int64_t n,
                                          const LoweringContext &ctx) {
  int vec = fitVector(n, ctx.vectorWidth());
  return {vec, n >= 2 * vec ? 2 : 1};
}

/// C = A B with B as K x N (a Linear layer's weight as MatMul holds it, on
/// many rows): each task computes a register tile of rows x `cols` vectors
/// of N, one broadcast of A and `cols` loads of B per step of K feeding
/// rows * cols FMAs (6 x 2 on AVX2, 8 x 2 on AVX-512). With leading dims
/// (fused_gemm on [N, H, W, C]) the tile's rows are a box over W and H, so a
/// small image's last stage (2 x 2 rows) still reads B once. The product
/// rounds up to whole tiles (its reads are clamped); only the output stage
/// guards the edges. The remaining leading dims are outer task loops.
static void scheduleRowTiles(KernelParts &p, const LoweringContext &ctx) {
  Func out = p.output, prod = p.reduction;
  std::vector<Var> args = out.args(), pargs = prod.args();
  size_t rank = args.size();
  int64_t m = p.shape[rank - 2], n = p.shape[rank - 1];
  auto [vec, cols] = rowTileColumns(n, ctx);
  int budget = std::max(1, std::min(8, ctx.machine.accumulators() / cols));
  int rows = evenTile(m, budget), rows2 = 1;
  if (rank >= 4)
    rows2 = evenTile(p.shape[rank - 3], std::max(1, budget / rows));
  int tile = vec * cols;
  // The reduction's length, or for a batch of unknown size (a weight
  // gradient sums over the batch) a typical one, to size the tasks.
  int64_t k = p.reductionSize > 0 ? p.reductionSize : kTypicalBatch;
  Var jo("jo"), ji("ji"), jv("jv"), io("io"), ii("ii"), ho("ho"), hi("hi"),
      t("t");
  Var j = args[0], i = args[1];
  out.split(j, jo, ji, tile, TailStrategy::GuardWithIf)
      .split(i, io, ii, rows, TailStrategy::GuardWithIf)
      .split(ji, ji, jv, vec);
  // Fewer rows per sample than columns (the late stages: 49 rows, 3072
  // columns): one task per column panel of B, copied once into a contiguous
  // [K][tile] buffer that stays in cache while all row tiles pass (B read
  // once; A, the smaller operand, once per panel). Reading the panel in
  // place would touch a page per row of K. Many rows: each row tile stays
  // while B's panels pass, B being the smaller operand.
  int64_t sampleRows = 1;
  for (size_t d = 0; d + 1 < rank; ++d)
    sampleRows *= std::max<int64_t>(1, p.shape[d]);
  // (Whole panels only: with a partial last panel this loop order computed
  // wrong values in the tail columns; such layers keep the other order.)
  bool rowsInner = sampleRows < n && n % tile == 0;
  if (rows2 > 1)
    out.split(args[2], ho, hi, rows2, TailStrategy::GuardWithIf)
        .reorder(jv, ji, ii, hi, jo, io, ho)
        .unroll(hi)
        .fuse(io, ho, io);
  else
    out.reorder(jv, ji, ii, jo, io);
  out.vectorize(jv).unroll(ji).unroll(ii);
  for (size_t d = rows2 > 1 ? 3 : 2; d < rank; ++d)
    out.fuse(io, args[d], io);
  Var task = io;
  if (rowsInner) {
    out.reorder(jv, ji, ii, io, jo);
    Var panel = parallelTasks(out, jo, 2 * tile * sampleRows * k);
    Var pc = p.panel.args()[0], pco("pco"), pcv("pcv");
    p.panel.compute_at(out, panel)
        .split(pc, pco, pcv, vec, TailStrategy::RoundUp)
        .vectorize(pcv)
        .unroll(pco);
  } else {
    out.fuse(jo, io, t);
    task = parallelTasks(out, t, 2 * tile * rows * rows2 * k);
  }
  Var pj = pargs[0], pi = pargs[1], pjo("pjo"), pjv("pjv"), pio("pio"),
      pii("pii"), pho("pho"), phi("phi");
  // One tile of the product per task, stored at a constant size (the
  // columns rounded up to whole vectors, plus the vector bounds inference
  // may add at an unaligned start), so it goes on the stack rather than
  // being allocated per tile.
  prod.compute_at(out, task)
      .bound_storage(pj, tile + vec)
      .bound_storage(pi, rows);
  if (rows2 > 1)
    prod.bound_storage(pargs[2], rows2);
  for (Stage s : {Stage(prod), prod.update()}) {
    s.split(pj, pjo, pjv, vec, TailStrategy::RoundUp)
        .split(pi, pio, pii, rows, TailStrategy::RoundUp);
    if (rows2 > 1)
      s.split(pargs[2], pho, phi, rows2, TailStrategy::RoundUp).unroll(phi);
    s.vectorize(pjv).unroll(pjo).unroll(pii);
  }
  if (rows2 > 1) {
    prod.reorder(pjv, pjo, pii, phi, pio, pho);
    prod.update().reorder(pjv, pjo, pii, phi, p.rdom.x, pio, pho);
  } else {
    prod.reorder(pjv, pjo, pii, pio);
    prod.update().reorder(pjv, pjo, pii, p.rdom.x, pio);
  }
}

static void scheduleDense(KernelParts &p, const LoweringContext &ctx) {
  Func out = p.output, prod = p.reduction;
  std::vector<Var> args = out.args();
  // A reduction over the batch has an unknown length (-1). A weight
  // gradient's tiles (transposed A) are used where N is whole tiles: with a
  // partial last tile, the tiles' loop carried a test per row and step of
  // K (LeNet-5's F6, N = 120 on AVX2: 0.034 -> 0.087 ms), and the rows
  // below run as fast.
  int64_t n = p.shape.back();
  auto [rowVec, rowCols] = rowTileColumns(n, ctx);
  bool wholeTiles = n % (rowVec * rowCols) == 0;
  if (p.rowTiles && (p.reductionSize >= 2 || p.reductionSize < 0) &&
      (!p.transposedA || wholeTiles)) {
    scheduleRowTiles(p, ctx);
    return;
  }
  if (args.size() != 2 || p.reductionSize < 2) {
    // Batched or vector MatMul: vectorize the output's inner axis.
    int vec = fitVector(p.shape.back(), ctx.vectorWidth());
    if (vec > 1)
      out.vectorize(args[0], vec, TailStrategy::GuardWithIf);
    if (args.size() > 1)
      out.parallel(args.back());
    prod.compute_at(out, args.size() > 1 ? args.back() : args[0]);
    if (vec > 1) {
      Var pj = prod.args()[0];
      prod.vectorize(pj, vec, TailStrategy::GuardWithIf);
      // The reduction outside the vector: each step loads one row of B.
      RVar rk = p.rdom.x;
      prod.update().reorder(pj, rk).vectorize(pj, vec,
                                              TailStrategy::GuardWithIf);
    }
    return;
  }
  // out(j, i) = sum_k A[i][k] * B[j][k]: both operands are contiguous along
  // k for a Linear layer, so the reduction is vectorized along k (rfactor
  // into `lane`, reduced horizontally once per output) and a 4 x 4 block of
  // outputs shares each loaded vector.
  Var j = args[0], i = args[1], jo("jo"), ji("ji"), io("io"), ii("ii"),
      lane("lane"), t("t");
  int vec = ctx.vectorWidth();
  int jb = channelBlock(p.shape[1], 4);
  RVar ro("ro"), ri("ri");
  prod.update().split(p.rdom.x, ro, ri, vec, TailStrategy::GuardWithIf);
  Func partial = prod.update().rfactor(ri, lane);
  out.split(j, jo, ji, jb)
      .split(i, io, ii, 4, TailStrategy::GuardWithIf)
      .reorder(ji, ii, jo, io)
      .unroll(ji)
      .fuse(jo, io, t);
  Var task = parallelTasks(out, t, 2 * jb * 4 * p.reductionSize);
  prod.compute_at(out, task);
  partial.reorder_storage(lane, j, i);
  partial.compute_at(out, task).vectorize(lane).unroll(j);
  partial.update().reorder(lane, j, i, ro).vectorize(lane).unroll(j);
  if (p.clampedRows) {
    // Whole blocks of 4 rows (A's rows read clamped): the block's
    // accumulators stay in registers, where a guarded last block made
    // every block's row loop of unknown length, its sums kept in memory.
    prod.bound_extent(i, 4);
    partial.unroll(i);
    partial.update().unroll(i);
  }
}

static void scheduleSimple(KernelParts &p, const LoweringContext &ctx) {
  Func out = p.output;
  std::vector<Var> args = out.args();
  if (args.empty())
    return;
  int64_t inner = p.shape.empty() ? 1 : p.shape.back();
  int vec = fitVector(inner, ctx.vectorWidth());
  // A pure stage whose rows fill a vector recomputes the last lanes of a
  // row (ShiftInwards) rather than guarding them: guarded lanes become
  // masked loads and stores, element by element on x86.
  auto tailFor = [](Func f, int64_t extent, int lanes) {
    return !f.has_update_definition() && extent >= lanes
               ? TailStrategy::ShiftInwards
               : TailStrategy::GuardWithIf;
  };
  if (vec > 1)
    out.vectorize(args[0], vec, tailFor(out, inner, vec));
  // Per iteration of the parallel loop: the elements of its inner axes.
  int64_t perIteration = 1;
  for (size_t d = args.size() >= 3 ? 2 : 1; d < p.shape.size(); ++d)
    perIteration *= std::max<int64_t>(1, p.shape[d]);
  if (args.size() >= 3) {
    Var t("t");
    out.fuse(args[args.size() - 2], args.back(), t);
    parallelTasks(out, t, perIteration * kFlopsPerMovedElement);
  } else if (args.size() == 2) {
    parallelTasks(out, args.back(), perIteration * kFlopsPerMovedElement);
  }
  if (p.hasReduction) {
    // Computed whole first (a pooling's argmax, a softmax's row maximum):
    // in parallel too, when it is a pure stage over NCHW-like axes.
    p.reduction.compute_root();
    std::vector<Var> ra = p.reduction.args();
    if (ra.size() >= 3 && !p.reduction.has_update_definition()) {
      int rvec = fitVector(p.reductionWidth, ctx.vectorWidth());
      if (p.reductionWidth > 0 && rvec > 1)
        p.reduction.vectorize(ra[0], rvec,
                              tailFor(p.reduction, p.reductionWidth, rvec));
      Var rt("rt");
      p.reduction.fuse(ra[ra.size() - 2], ra.back(), rt);
      parallelTasks(p.reduction, rt, perIteration * kFlopsPerMovedElement);
    }
  }
  if (p.hasPadded)
    p.padded.compute_root();
}

/// Splits the update of `sum` along `r` into `vec` lanes (rfactor): the
/// returned partial sums run vectorized, the update adds the lanes.
static Func sumInLanes(Func sum, RVar r, int vec) {
  RVar ro("ro"), ri("ri");
  Var lane("lane");
  sum.update().split(r, ro, ri, vec, TailStrategy::GuardWithIf);
  Func partial = sum.update().rfactor(ri, lane);
  partial.vectorize(lane);
  partial.update().vectorize(lane);
  return partial;
}

/// cnn.normalize: one task per group of rows, each row's two statistics
/// computed where the row is, its sums in vector lanes (rfactor) when the
/// innermost normalized axis fills a vector, the output row vectorized.
static void scheduleRowNormalization(KernelParts &p,
                                     const LoweringContext &ctx) {
  Func out = p.output;
  std::vector<Var> args = out.args();
  int rank = (int)args.size(), normalized = p.normalizedRank;
  int64_t inner = p.shape.back(), rowElements = 1;
  for (int i = rank - normalized; i < rank; ++i)
    rowElements *= std::max<int64_t>(1, p.shape[i]);
  int vec = fitVector(inner, ctx.vectorWidth());
  if (vec > 1)
    out.vectorize(args[0], vec, TailStrategy::GuardWithIf);
  Var row = args[normalized];
  for (int d = normalized + 1; d < rank; ++d)
    out.fuse(row, args[d], row);
  // Three reads of the row and one write.
  Var task = parallelTasks(out, row, 4 * rowElements * kFlopsPerMovedElement);
  for (Func stat : {p.reduction, p.padded}) {
    stat.compute_at(out, task);
    if (vec > 1 && inner >= vec)
      sumInLanes(stat, p.rdom.x, vec).compute_at(out, task);
  }
}

/// A sum computed whole before its consumers: in vector lanes (rfactor)
/// when its inner reduction fills a vector, its (point, sample) pairs in
/// parallel tasks when there is enough work.
static void scheduleVectorSum(const VectorSum &sum,
                              const LoweringContext &ctx) {
  Func f = sum.func;
  std::vector<Var> args = f.args();
  f.compute_root();
  int vec = ctx.vectorWidth();
  Func partial;
  if (sum.innerExtent >= vec)
    partial = sumInLanes(f, sum.r.x, vec);
  int64_t work = 1;
  for (int i = 0; i < sum.r.dimensions(); ++i)
    if (const int64_t *e = as_const_int(sum.r[i].extent()))
      work *= std::max<int64_t>(1, *e);
  int64_t group = (kMinTaskFlops + 2 * work - 1) / (2 * work);
  Var t("t"), ti("ti");
  Stage update = f.update();
  update.fuse(args[0], args[1], t);
  Var inner = t;
  if (group > 1) {
    update.split(t, t, ti, (int)std::min<int64_t>(group, 1 << 16),
                 TailStrategy::GuardWithIf);
    inner = ti;
  }
  update.parallel(t);
  if (partial.defined())
    partial.compute_at(f, inner);
}

/// cnn.squeeze_excite: the sums in order (each whole, vectorized), then the
/// input scaled per channel, one task per group of channel planes.
static void scheduleSqueezeExcite(KernelParts &p, const LoweringContext &ctx) {
  for (const VectorSum &sum : p.sums)
    scheduleVectorSum(sum, ctx);
  Func out = p.output;
  std::vector<Var> v = out.args();
  int64_t plane = p.shape[2] * p.shape[3];
  int vec = fitVector(p.shape[3], ctx.vectorWidth());
  if (vec > 1)
    out.vectorize(v[0], vec, TailStrategy::GuardWithIf);
  Var t("t");
  out.fuse(v[2], v[3], t);
  parallelTasks(out, t, plane * kFlopsPerMovedElement);
}

/// A weight gradient's zero-padded input: computed once, rows vectorized,
/// one task per (channel, sample) plane.
static void scheduleGradPadding(KernelParts &p, const LoweringContext &ctx) {
  if (!p.hasPadded)
    return;
  std::vector<Var> v = p.padded.args();
  Var pt("pt");
  p.padded.compute_root()
      .vectorize(v[0], ctx.vectorWidth(), TailStrategy::GuardWithIf)
      .fuse(v[2], v[3], pt)
      .parallel(pt);
}

/// dW = sum over batch and output pixels: the sum runs along output x in
/// vector lanes (rfactor), one task per output channel.
static void scheduleWeightGrad(KernelParts &p, const LoweringContext &ctx) {
  std::vector<Var> v = makeVars(4);
  Var x = v[0], y = v[1], c = v[2], n = v[3], lane("lane");
  Func out = p.output, dw = p.reduction;
  out.parallel(n);
  dw.compute_at(out, n);
  RVar rxo("rxo"), rxi("rxi");
  int64_t outW = p.reductionSize > 0 ? p.reductionSize : ctx.vectorWidth();
  int vec = evenVector(outW, ctx.vectorWidth());
  dw.update().split(p.rdom.x, rxo, rxi, vec, TailStrategy::GuardWithIf);
  Func partial = dw.update().rfactor(rxi, lane);
  partial.reorder_storage(lane, x, y, c, n);
  partial.compute_at(out, n).vectorize(lane);
  partial.update()
      .reorder(lane, x, y, c, rxo, p.rdom.y, p.rdom.z)
      .vectorize(lane);
  scheduleGradPadding(p, ctx);
}

WeightGradTilePlan cnnc::codegen::weightGradTilePlan(int64_t cout, int64_t cin,
                                                     int64_t kh, int64_t kw,
                                                     const VectorMachine &m,
                                                     int dyLoadCost) {
  int accs = m.accumulators();
  int64_t coutVectors = (int64_t)llvm::divideCeil(cout, m.lanes);
  WeightGradTilePlan best;
  double bestScore = -1;
  for (int v = 1; v <= std::min<int64_t>(4, coutVectors); ++v) {
    int kMax = accs / v;
    double coUseful =
        double(cout) / double((int64_t)llvm::alignTo(coutVectors, v) * m.lanes);
    for (int tx = 1; tx <= std::min<int64_t>(kw, kMax); ++tx)
      for (int ty = 1; ty <= std::min<int64_t>(kh, kMax / tx); ++ty)
        for (int tc = 1; tc <= std::min<int64_t>(cin, kMax / (tx * ty)); ++tc) {
          int t = tx * ty * tc;
          double useful = v * t * coUseful * double(kw) /
                          (int64_t)llvm::alignTo(kw, tx) * double(kh) /
                          (int64_t)llvm::alignTo(kh, ty) * double(cin) /
                          (int64_t)llvm::alignTo(cin, tc);
          double score = useful / std::max(v * t, dyLoadCost * v + t);
          // Ties: the larger tile (fewer tiles, fewer passes over dy).
          if (score > bestScore + 1e-9 ||
              (score > bestScore - 1e-9 &&
               v * t > best.vectors * best.kx * best.ky * best.ci)) {
            bestScore = score;
            best.vectors = v;
            best.kx = tx;
            best.ky = ty;
            best.ci = tc;
          }
        }
  }
  best.paddedCout = (int64_t)llvm::alignTo(coutVectors, best.vectors) * m.lanes;
  best.paddedKw = (int64_t)llvm::alignTo(kw, best.kx);
  best.paddedKh = (int64_t)llvm::alignTo(kh, best.ky);
  best.paddedCin = (int64_t)llvm::alignTo(cin, best.ci);
  return best;
}

/// The weight gradient as a matrix product (WeightGradTiles). A register
/// tile of channel vectors by a block of the window (gradPlan) sums one
/// image's pixels (small images: a block of images'): per pixel, a load
/// per channel vector and a broadcast per window value feed their product
/// of FMAs. The tile is then added into acc. One task runs one block of
/// channels and a group of window blocks over every image (block), one
/// after another, so its block of dy stays in cache across the group.
static void scheduleWeightGradTiles(KernelParts &p,
                                    const LoweringContext &ctx) {
  const WeightGradTilePlan &plan = p.gradPlan;
  int lanes = ctx.vectorWidth();
  int64_t coTiles = plan.paddedCout / (plan.vectors * lanes);
  int64_t kTiles = plan.paddedKw / plan.kx * (plan.paddedKh / plan.ky) *
                   (plan.paddedCin / plan.ci);
  // Groups of window blocks (a divisor of their count): about 8 tasks
  // with the channel blocks, enough for a few threads; fewer, larger
  // groups re-read an image's block of dy from cache more often. The
  // divisor nearest 8 / (channel blocks) by ratio, the smaller on a tie.
  double want = std::max(1.0, 8.0 / double(coTiles));
  int64_t groups = 1;
  for (int64_t g = 1; g <= kTiles; ++g)
    if (kTiles % g == 0 && std::abs(std::log(double(g) / want)) <
                               std::abs(std::log(double(groups) / want)) - 1e-9)
      groups = g;
  Func acc = p.reduction, tile = p.gradTile, dyT = p.gradTransposed;
  std::vector<Var> a = acc.args();
  Var co = a[0], kx = a[1], ky = a[2], ci = a[3];
  Var coo("coo"), coi("coi"), cv("cv"), cl("cl"), kxo("kxo"), kxi("kxi"),
      kyo("kyo"), kyi("kyi"), cio("cio"), cii("cii"), kxy("kxy"), kt("kt"),
      kg("kg"), ko("ko"), t("t");
  acc.compute_root()
      .bound(co, 0, (int)plan.paddedCout)
      .bound(kx, 0, (int)plan.paddedKw)
      .bound(ky, 0, (int)plan.paddedKh)
      .bound(ci, 0, (int)plan.paddedCin)
      .vectorize(co, lanes);
  acc.update()
      .split(co, coo, coi, plan.vectors * lanes)
      .split(coi, cv, cl, lanes)
      .split(kx, kxo, kxi, plan.kx)
      .split(ky, kyo, kyi, plan.ky)
      .split(ci, cio, cii, plan.ci)
      .reorder(cl, cv, kxi, kyi, cii, kxo, kyo, cio, p.gradBatch.x, coo)
      .fuse(kxo, kyo, kxy)
      .fuse(kxy, cio, kt)
      .split(kt, kg, ko, (int)(kTiles / groups))
      .reorder(cl, cv, kxi, kyi, cii, ko, p.gradBatch.x, kg, coo)
      .vectorize(cl)
      .unroll(cv)
      .unroll(kxi)
      .unroll(kyi)
      .unroll(cii)
      .fuse(kg, coo, t)
      .parallel(t);
  std::vector<Var> tv = tile.args();
  tile.compute_at(acc, ko)
      .split(tv[0], cv, cl, lanes)
      .reorder(cl, cv, tv[1], tv[2], tv[3], tv[4])
      .vectorize(cl)
      .unroll(cv)
      .unroll(tv[1])
      .unroll(tv[2])
      .unroll(tv[3]);
  std::vector<VarOrRVar> order = {cl, cv, tv[1], tv[2], tv[3]};
  for (int i = 0; i < p.rdom.dimensions(); ++i)
    order.push_back(p.rdom[i]);
  order.push_back(tv[4]);
  tile.update()
      .split(tv[0], cv, cl, lanes)
      .reorder(order)
      .vectorize(cl)
      .unroll(cv)
      .unroll(tv[1])
      .unroll(tv[2])
      .unroll(tv[3]);
  std::vector<Var> dv = dyT.args();
  if (plan.paddedCout == lanes && p.gradWidth >= lanes) {
    // One channel vector: a row's pixels, a vector of each channel loaded
    // whole, transposed in registers (Halide interleaves the unrolled
    // channels' stores into one); read a pixel's channels at a time, each
    // vector took one insert per lane (LeNet-5's C1: 6 channels).
    Var xo("xo"), xi("xi");
    dyT.compute_root()
        .bound(dv[0], 0, lanes)
        .split(dv[1], xo, xi, lanes, TailStrategy::ShiftInwards)
        .reorder(dv[0], xi, xo, dv[2], dv[3])
        .vectorize(xi)
        .unroll(dv[0])
        .parallel(dv[3]);
  } else {
    dyT.compute_root().vectorize(dv[0], lanes).parallel(dv[3]);
  }
  // The result in the weights' layout, (kx, ky, ci) innermost: read from
  // acc (co innermost) a channel vector at a time, so that a block of acc's
  // cache lines serves a block of rows of the result. In acc's order (one
  // output channel after another), each read would touch a new cache line
  // of acc (9 MB for ResNet's 512 x 512 x 3 x 3), 16 times over.
  std::vector<Var> ov = p.output.args();
  Var no("no"), ni("ni");
  p.output.split(ov[3], no, ni, lanes, TailStrategy::GuardWithIf)
      .reorder(ni, ov[0], ov[1], ov[2], no)
      .vectorize(ni);
  parallelTasks(p.output, no,
                lanes * p.shape[1] * p.shape[2] * p.shape[3] *
                    kFlopsPerMovedElement);
  scheduleGradPadding(p, ctx);
}

/// A strided convolution's input gradient: the phases as a convolution of
/// their own, computed whole, then interleaved into the output, rows
/// vectorized, one task per group of (channel, sample) planes.
static void schedulePhasedInputGrad(KernelParts &p,
                                    const LoweringContext &ctx) {
  scheduleConv(*p.phases, ctx);
  p.phases->output.compute_root();
  std::vector<Var> v = p.output.args();
  Var t("t");
  int vec = fitVector(p.shape[3], ctx.vectorWidth());
  if (vec > 1)
    p.output.vectorize(v[0], vec, TailStrategy::GuardWithIf);
  p.output.fuse(v[2], v[3], t);
  parallelTasks(p.output, t, p.shape[2] * p.shape[3] * kFlopsPerMovedElement);
}

/// Per-channel sums: one task per channel. Along a spatial row the sum
/// runs in vector lanes (rfactor), reduced once per channel; a [N, C]
/// tensor has its channels innermost, so its lanes run across channels.
static void scheduleChannelReduction(KernelParts &p,
                                     const LoweringContext &ctx) {
  for (ChannelSum &s : p.channelSums) {
    Func f = s.func;
    Var ch = f.args()[0];
    f.compute_root();
    // Rows shorter than half a vector waste most lanes: go across channels.
    if (s.rowExtent >= ctx.vectorWidth() / 2) {
      int vec = evenVector(s.rowExtent, ctx.vectorWidth());
      RVar ro("ro"), ri("ri");
      Var lane("lane");
      f.update().split(s.r.x, ro, ri, vec, TailStrategy::GuardWithIf);
      Func partial = f.update().rfactor(ri, lane);
      f.update().parallel(ch);
      partial.compute_at(f, ch).vectorize(lane);
      std::vector<VarOrRVar> order = {lane, ro};
      for (int i = 1; i < s.r.dimensions(); ++i)
        order.push_back(s.r[i]);
      partial.update().reorder(order).vectorize(lane);
      continue;
    }
    // Lanes across channels: a divisor of the channel count, since a
    // ShiftInwards tail would add twice, and Halide 14 dropped the channel
    // offset of a GuardWithIf split of this update (all tasks summed the
    // first channels) when its term read another per-channel Func.
    int vec = channelBlock(s.channels, ctx.vectorWidth());
    if (vec < 2) {
      f.update().parallel(ch);
      continue;
    }
    Var co("co"), ci("ci");
    f.vectorize(ch, vec);
    std::vector<VarOrRVar> order = {ci};
    for (int i = 0; i < s.r.dimensions(); ++i)
      order.push_back(s.r[i]);
    order.push_back(co);
    f.update().split(ch, co, ci, vec).reorder(order).vectorize(ci).parallel(co);
  }
  // The output is a few values per channel.
  std::vector<Var> args = p.output.args();
  int vec = fitVector(p.shape.empty() ? 1 : p.shape.back(), ctx.vectorWidth());
  if (!args.empty() && vec > 1)
    p.output.vectorize(args[0], vec, TailStrategy::GuardWithIf);
}

/// GPU: one thread per output element (16 x 16 tiles over the two
/// innermost dims); reductions run in the thread's registers; stages that
/// other threads read (padding, per-channel or per-row statistics) are
/// computed on the GPU first.
static void scheduleGpu(KernelParts &p) {
  Func out = p.output;
  std::vector<Var> args = out.args();
  Var xo("gxo"), yo("gyo"), xi("gxi"), yi("gyi"), t("gt");
  auto tile = [&](Func f) {
    std::vector<Var> a = f.args();
    if (a.empty()) {
      f.gpu_single_thread();
    } else if (a.size() == 1) {
      f.gpu_tile(a[0], xo, xi, 64, TailStrategy::GuardWithIf);
    } else {
      for (size_t i = 3; i < a.size(); ++i)
        f.fuse(a[2], a[i], a[2]);
      f.gpu_tile(a[0], a[1], xo, yo, xi, yi, 16, 16, TailStrategy::GuardWithIf);
      if (a.size() > 2)
        f.gpu_blocks(a[2]);
    }
  };
  tile(out);
  // Per-row stages (statistics, a squeeze-and-excitation's sums and
  // gate): computed whole first, one thread per row runs each sum.
  auto perRow = [&](Func f) {
    f.compute_root();
    std::vector<Stage> stages = {Stage(f)};
    if (f.has_update_definition())
      stages.push_back(f.update());
    for (Stage s : stages) {
      std::vector<Var> a = f.args();
      Var row = a[0], ro("gro"), ri("gri");
      for (size_t i = 1; i < a.size(); ++i)
        s.fuse(row, a[i], row);
      s.gpu_tile(row, ro, ri, 64, TailStrategy::GuardWithIf);
    }
  };
  if (p.family == KernelParts::Family::RowNormalization) {
    perRow(p.reduction);
    perRow(p.padded);
    return;
  }
  if (p.family == KernelParts::Family::SqueezeExcite) {
    for (const VectorSum &sum : p.sums)
      perRow(sum.func);
    for (Func f : p.rootStages)
      perRow(f);
    return;
  }
  // Per-channel sums: one thread per channel runs the whole sum.
  for (ChannelSum &s : p.channelSums) {
    Var ch = s.func.args()[0], co("gco"), ci("gci");
    s.func.compute_root().gpu_tile(ch, co, ci, 64, TailStrategy::GuardWithIf);
    s.func.update().gpu_tile(ch, co, ci, 64, TailStrategy::GuardWithIf);
  }
  if (p.hasReduction) {
    if (p.family == KernelParts::Family::Elementwise ||
        p.family == KernelParts::Family::Reduction ||
        p.family == KernelParts::Family::Pool) {
      p.reduction.compute_root();
      tile(p.reduction);
    } else if (p.pooled && p.poolOverlaps) {
      // Overlapping pooling windows share convolution outputs: computed once
      // each, in a stage of their own, not once per window that reads them.
      p.post.compute_root();
      tile(p.post);
      p.reduction.compute_at(p.post, xi);
    } else if (!args.empty()) {
      p.reduction.compute_at(out, xi);
    }
  }
  if (p.hasPadded) {
    p.padded.compute_root();
    tile(p.padded);
  }
  if (p.pooled && !p.poolOverlaps)
    p.post.compute_inline();
}

void cnnc::codegen::scheduleKernel(KernelParts &parts,
                                   const LoweringContext &ctx) {
  if (!ctx.manualSchedule)
    return;
  for (Halide::Func f : parts.rootStages)
    f.compute_root();
  if (ctx.target.has_gpu_feature())
    return scheduleGpu(parts);
  switch (parts.family) {
  case KernelParts::Family::Conv:
    return scheduleConv(parts, ctx);
  case KernelParts::Family::Dense:
    return scheduleDense(parts, ctx);
  case KernelParts::Family::WeightGrad:
    return scheduleWeightGrad(parts, ctx);
  case KernelParts::Family::WeightGradTiles:
    return scheduleWeightGradTiles(parts, ctx);
  case KernelParts::Family::PhasedInputGrad:
    return schedulePhasedInputGrad(parts, ctx);
  case KernelParts::Family::ChannelReduction:
    return scheduleChannelReduction(parts, ctx);
  case KernelParts::Family::RowNormalization:
    return scheduleRowNormalization(parts, ctx);
  case KernelParts::Family::SqueezeExcite:
    return scheduleSqueezeExcite(parts, ctx);
  case KernelParts::Family::Scatter:
  case KernelParts::Family::Pool:
  case KernelParts::Family::Elementwise:
  case KernelParts::Family::Reduction:
    return scheduleSimple(parts, ctx);
  }
}
