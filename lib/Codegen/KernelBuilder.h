//===- KernelBuilder.h - cnn ops -> Halide Funcs (private) ------*- C++ -*-===//
//
// Each op family lowers in its own file (Conv.cpp, Pooling.cpp, Dense.cpp,
// Elementwise.cpp) behind the functions declared here. A tensor of shape
// [d0, ..., dr-1] (row-major) is a Func whose first argument is the
// innermost dimension: NCHW becomes f(x, y, c, n).
//
// Algorithm and schedule are separate: `lower*` defines Funcs and records
// the ones the schedule needs in a `KernelParts`; `schedule*` then applies
// cnnc's hand-written schedule for the family, or nothing when an
// autoscheduler is used.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_LIB_CODEGEN_KERNELBUILDER_H
#define CNNC_LIB_CODEGEN_KERNELBUILDER_H

#include "cnnc/Dialect/CNN/CNNOps.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/SmallVector.h"

#include <Halide.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cnnc {
namespace codegen {

/// A value inside a kernel: its Func and its row-major shape (-1: batch).
struct TensorFunc {
  Halide::Func func;
  llvm::SmallVector<int64_t, 4> shape;
  /// Row-major extents: constants, or the input buffer's extent for the
  /// batch (reductions over the batch need it).
  std::vector<Halide::Expr> extents;
  int rank() const { return (int)shape.size(); }
  Halide::Expr extent(int i) const {
    return i < (int)extents.size() && extents[i].defined()
               ? extents[i]
               : Halide::Expr((int)shape[i]);
  }
};

/// A sum per channel (axis 1) over every other axis of a rank >= 2 tensor:
/// BatchNorm's batch statistics and the gradients of its parameters.
struct ChannelSum {
  Halide::Func func; ///< func(ch): zero, then one update over `r`
  Halide::RDom r;    ///< innermost tensor axis first, channel left out
  /// Static extent of r.x when it is a spatial axis (lanes run along it), 0
  /// when the channel is the innermost axis (a [N, C] tensor: lanes run
  /// across channels).
  int64_t rowExtent = 0;
  int64_t channels = 0;
};

/// A sum over `r` (its first variable innermost, `innerExtent` long) that a
/// schedule may split into vector lanes.
struct VectorSum {
  Halide::Func func; ///< zero, then one update over `r`
  Halide::RDom r;
  int64_t innerExtent = 0;
};

/// A weight gradient's register tile (WeightGradTiles): `vectors` vectors
/// of output channels by kx x ky x ci values of the window, and each axis's
/// extent rounded up to whole tiles.
struct WeightGradTilePlan {
  int vectors = 1, kx = 1, ky = 1, ci = 1;
  int64_t paddedCout = 0, paddedKw = 0, paddedKh = 0, paddedCin = 0;
};

/// What the family schedules need besides the output.
struct KernelParts {
  enum class Family {
    Conv,
    Pool,
    Dense,
    Elementwise,
    Reduction,
    /// Gradients w.r.t. weights: a small output, a reduction over the batch.
    WeightGrad,
    /// A convolution's weight gradient as a matrix product (group 1, CPU):
    /// `reduction` is acc(co, kx, ky, ci), the sum over the batch
    /// (`gradBatch`, one image or block of small images an iteration) of
    /// `gradTile`(co, kx, ky, ci, n), a sum over that image's or block's
    /// output pixels (`rdom`: x, y and, for a block, the image within it)
    /// of `gradTransposed`(co, x, y, n) (dy, channels innermost) times an
    /// input pixel; tiled as `gradPlan` says.
    WeightGradTiles,
    /// A strided convolution's input gradient (CPU): `phases` is a Conv
    /// family kernel of its own (the output pixels split by phase, each a
    /// dense stride-1 convolution of dy), which `output` interleaves.
    PhasedInputGrad,
    /// Scatter-style updates (pooling backward).
    Scatter,
    /// Per-channel sums (`channelSums`) feeding a small output.
    ChannelReduction,
    /// Statistics per row over the trailing `normalizedRank` axes
    /// (`reduction`: the sum, `padded`: the squared deviations, both over
    /// `rdom`), then an elementwise output: cnn.normalize.
    RowNormalization,
    /// A squeeze-and-excitation block: `sums` per (channel, sample), then
    /// the input scaled per channel.
    SqueezeExcite
  } family;
  Halide::Func output;
  /// Conv: the reduction; Dense: the product; Reduction: the reduction.
  Halide::Func reduction;
  bool hasReduction = false;
  /// Elementwise and pooling kernels: the innermost extent of a pure
  /// `reduction` stage (a pooling gradient's window argmax), which the
  /// schedule vectorizes along; 0 when it stays scalar.
  int64_t reductionWidth = 0;
  /// Conv: the zero-padded input (undefined when there are no pads).
  Halide::Func padded;
  bool hasPadded = false;
  /// Per-row statistics (e.g. a softmax's log-sum-exp) that the hand
  /// schedules compute once, at the root; autoschedulers decide themselves.
  std::vector<Halide::Func> rootStages;
  Halide::RDom rdom;
  /// Fused conv: the pooled output reads `post` (bias, affine, residual,
  /// activation) computed per output row.
  bool pooled = false;
  /// The pooling windows overlap (kernel > stride): consecutive pooled rows
  /// share convolution rows.
  bool poolOverlaps = false;
  /// The weights come packed as [cout / lanes][cin][kh][kw][lanes]: the
  /// convolution vectorizes over output channels (narrow images).
  int packedLanes = 0;
  /// A 1x1 convolution with stride 1, no padding, one group and plain
  /// weights on a CPU: per image the matrix product [cout x cin] x [cin x
  /// pixels], in register tiles of pointwiseVectors vectors of
  /// pointwiseLanes pixels; `pointwisePanel` (xi, ci, xt, y, n) is the input
  /// as one contiguous [cin][tile] panel per tile of pixels.
  int pointwiseLanes = 0, pointwiseVectors = 0;
  Halide::Func pointwisePanel;
  /// Each output channel reads one input channel (a depthwise convolution,
  /// plain weights, no pooling): scheduled plane by plane.
  bool depthwise = false;
  /// Packed weights computed by the kernel itself (an input gradient's
  /// repacked taps), or undefined: computed whole, first.
  Halide::Func packedWeights;
  int64_t convWidth = 0, convHeight = 0;
  /// Fused pooling: the convolution columns the pooling windows read,
  /// [0, convColumnsUsed) (the last ones may be dropped by a floor).
  int64_t convColumnsUsed = 0;
  /// Conv: elements of one plane of the zero-padded input.
  int64_t paddedPlane = 0;
  Halide::Func post;
  llvm::SmallVector<int64_t, 4> shape;
  /// Conv: output channels; Dense: reduction length; Conv: multiply-adds
  /// per output (kh * kw * input channels per group).
  int64_t channels = 0, reductionSize = 0;
  /// Dense with B as K x N (not transposed): register tiles of rows x
  /// vectors of N, outer products along K. A's rows and B's columns are read
  /// clamped, so the tiles may round up past the edges.
  bool rowTiles = false;
  /// Dense with B transposed (a Linear layer): A's rows are read clamped,
  /// so a block of rows may round up past the last one.
  bool clampedRows = false;
  /// Dense: A is transposed (a weight gradient, dy^T x).
  bool transposedA = false;
  /// Row tiles: B as panel(column, k), inline unless the schedule copies
  /// each column panel into a contiguous buffer.
  Halide::Func panel;
  /// WeightGradTiles: see the family.
  Halide::Func gradTile, gradTransposed;
  Halide::RDom gradBatch;
  WeightGradTilePlan gradPlan;
  /// WeightGradTiles: dy's row length.
  int64_t gradWidth = 0;
  /// Conv by Winograd's F(T x T, 3x3) (Winograd.cpp), T = winogradTile,
  /// or 0: `padded` is the zero-padded input over the whole tile grid
  /// (winogradTilesX x winogradTilesY tiles per image); the stages, each
  /// (channel, tile, row, column, n) but the last: winogradDataRows and
  /// winogradData, the input tiles' transform; winogradTileProduct (the
  /// reduction over the input channels) and winogradProduct (its pure
  /// copy); winogradOutRows and winogradOutTile (output channel, tile,
  /// column, row, n), the output tiles; `reduction` reads the pixels.
  int winogradTile = 0;
  int64_t winogradTilesX = 0, winogradTilesY = 0;
  Halide::Func winogradDataRows, winogradData, winogradTileProduct,
      winogradProduct, winogradOutRows, winogradOutTile;
  /// PhasedInputGrad: the phases, scheduled as a convolution.
  std::shared_ptr<KernelParts> phases;
  /// SqueezeExcite: computed whole, in order, before the output.
  std::vector<VectorSum> sums;
  /// RowNormalization: the number of trailing axes each row normalizes.
  int normalizedRank = 0;
  /// ChannelReduction: each computed once, before the output.
  std::vector<ChannelSum> channelSums;
};

/// The vector unit the hand-written CPU schedules size their tiles for.
/// Every lane count, tile and accumulator count a schedule uses comes from
/// here, never from one machine's constants: SSE4.1 has 4 float lanes and
/// 16 registers, AVX2 8 and 16, AVX-512 16 and 32, NEON 4 and 32.
struct VectorMachine {
  /// Float lanes of one vector register.
  int lanes = 4;
  /// Architectural vector registers.
  int registers = 16;
  /// Registers a register tile may keep accumulators in: three quarters,
  /// the rest holds the broadcast inputs and weight vectors of one step
  /// (24 of AVX-512's 32, 12 of AVX2's 16; more spill).
  int accumulators() const { return registers * 3 / 4; }
};

/// The vector unit of `target` (the host's for `host`), or the one
/// CNNC_VECTOR_MACHINE=LANES,REGISTERS names (a testing aid).
VectorMachine vectorMachine(const Halide::Target &target);

/// "" or the CNNC_VECTOR_MACHINE override, for the kernel cache's key.
std::string vectorMachineOverride();

struct LoweringContext {
  Halide::Target target;
  bool manualSchedule = true;
  VectorMachine machine = vectorMachine(target);
  int vectorWidth() const { return machine.lanes; }
};

/// Innermost-first Vars for a rank-`rank` tensor, named for NCHW.
std::vector<Halide::Var> makeVars(int rank);

/// f[idx] with row-major `idx`.
Halide::Expr at(const Halide::Func &f, const std::vector<Halide::Expr> &idx);

/// Vars in row-major order as Exprs.
std::vector<Halide::Expr> rowMajor(const std::vector<Halide::Var> &vars);

/// Defines the kernel computing `op` from `operands`. Emits a diagnostic and
/// returns failure for what it cannot lower.
mlir::FailureOr<KernelParts> lowerOp(mlir::Operation *op,
                                     llvm::ArrayRef<TensorFunc> operands,
                                     const LoweringContext &ctx);

/// The register tile of a weight gradient with `cout` output channels and
/// `cin` input channels (per group) of kh x kw windows: the one that does
/// the most useful multiply-adds per step, a step costing its FMAs or its
/// loads, whichever is more, within the machine's accumulator budget. A
/// load of a channel vector of dy costs `dyLoadCost` broadcasts (more than
/// one where dy comes from L2, not L1), a broadcast of the input one.
WeightGradTilePlan weightGradTilePlan(int64_t cout, int64_t cin, int64_t kh,
                                      int64_t kw, const VectorMachine &m,
                                      int dyLoadCost = 1);

/// A 3x3 weight(kx, ky, ci, co) transformed for Winograd's F(T x T, 3x3):
/// U(co, ci, e) (cnn.pack_weights {winograd = T} stores it in blocks of
/// output channels).
Halide::Func winogradFilter(const Halide::Func &weight, int tile);
/// A 3x3, stride-1 convolution of `in` (NCHW) reading the transformed
/// weight `w` ((T+2)^2 x M/L x C*L), with output shape `outShape`.
KernelParts defineWinogradConv(const TensorFunc &in, const TensorFunc &w,
                               const TensorFunc *bias,
                               llvm::ArrayRef<int64_t> pads,
                               llvm::ArrayRef<int64_t> outShape);

// Per family (see the .cpp files).
/// A pointwise convolution's register tile along its `width` pixels:
/// {lanes, vectors} (see schedulePointwiseConv).
std::pair<int, int> pointwiseTile(int64_t width, const VectorMachine &machine);

/// `tiles`: the CPU's vector machine when hand schedules run (null for
/// GPUs and the autoschedulers).
mlir::FailureOr<KernelParts> lowerConv(mlir::Operation *op,
                                       llvm::ArrayRef<TensorFunc> operands,
                                       const VectorMachine *tiles);
mlir::FailureOr<KernelParts> lowerPooling(mlir::Operation *op,
                                          llvm::ArrayRef<TensorFunc> operands);
mlir::FailureOr<KernelParts> lowerDense(mlir::Operation *op,
                                        llvm::ArrayRef<TensorFunc> operands);
mlir::FailureOr<KernelParts>
lowerElementwise(mlir::Operation *op, llvm::ArrayRef<TensorFunc> operands);
mlir::FailureOr<KernelParts> lowerBackward(mlir::Operation *op,
                                           llvm::ArrayRef<TensorFunc> operands,
                                           const LoweringContext &ctx);
mlir::FailureOr<KernelParts> lowerLayout(mlir::Operation *op,
                                         llvm::ArrayRef<TensorFunc> operands);
mlir::FailureOr<KernelParts>
lowerBatchNormTraining(mlir::Operation *op,
                       llvm::ArrayRef<TensorFunc> operands);

/// Defines `sum(ch) = sum of term(index)` over every axis of a tensor shaped
/// like `like` but axis 1 (`term` gets the row-major index, whose entry 1
/// is `ch`), and records it in `parts` for the ChannelReduction schedule.
Halide::Func channelSum(
    const std::string &name, const TensorFunc &like,
    const std::function<Halide::Expr(const std::vector<Halide::Expr> &)> &term,
    KernelParts &parts);

/// Number of elements per channel of `t` (every axis but 1), as a float.
Halide::Expr elementsPerChannel(const TensorFunc &t);

void scheduleKernel(KernelParts &parts, const LoweringContext &ctx);

/// An optimizer update compiled into training libraries (Optimizers.cpp).
struct OptimizerKernel {
  std::string name;
  Halide::Pipeline pipeline;
  std::vector<Halide::Argument> args;
  Halide::Target target;
};

/// SGD, SGD with momentum, and Adam/AdamW, in the order of
/// cnnc_rt_model::optimizer_kernels.
std::vector<OptimizerKernel> optimizerKernels(const Halide::Target &target);

/// The integers of an I64ArrayAttr (strides, pads, kernel sizes).
std::vector<int> intsOf(mlir::ArrayAttr attr);

/// Number of elements an average-pooling window starting at (x0, y0) divides
/// by: the window clipped to the padded input with count_include_pad (as
/// PyTorch and ONNX do when ceil_mode lets a window run past the end
/// padding), else the elements inside the unpadded input.
Halide::Expr avgPoolDivisor(Halide::Expr x0, Halide::Expr y0,
                            const std::vector<int> &kernel,
                            const std::vector<int> &pads, int inW, int inH,
                            bool countIncludePad);

/// An activation applied to `x` (Activation.cpp).
Halide::Expr applyActivation(Halide::Expr x, const cnn::ActivationSpec &act);
/// The gradient of an activation at its output `y`, given `dy`.
Halide::Expr activationGrad(Halide::Expr dy, Halide::Expr y,
                            const cnn::ActivationSpec &act);

/// Output shape of `op`'s result (row-major, -1 for the batch).
llvm::SmallVector<int64_t, 4> resultShape(mlir::Operation *op);

} // namespace codegen
} // namespace cnnc

#endif // CNNC_LIB_CODEGEN_KERNELBUILDER_H
