//===- PackConvWeights.cpp - packed weights and zero-bordered inputs ------===//
//
// The layout decisions for the target's vector width: a convolution (of the
// inference graph or of a training step's forward pass) whose output
// channels fill whole vectors reads its weights through `cnn.pack_weights`
// (one definition of the layout: the op, its Halide kernel, its inverse),
// and in the inference graph the op writing its input may write it with
// the convolution's padding as a zero border (cnn.zero_border,
// cnn.prepadded). --emit=mlir shows them; codegen carries them out (stores
// packed weights, plans the bordered buffer and its interior view).
//
//===----------------------------------------------------------------------===//
#include "PassDetail.h"
#include "cnnc/Transforms/Passes.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/Builders.h"

#include <array>

using namespace mlir;
using namespace cnnc::cnn;

namespace {

/// An ungrouped convolution with plain weights stored in the library (a
/// parameter or a constant) whose shape makes packing pay
/// (cnn::packedConvPays).
bool packable(Operation *op, int64_t lanes) {
  auto conv = dyn_cast<Conv2dOp>(op);
  auto fused = dyn_cast<FusedConv2dOp>(op);
  if (!conv && !fused)
    return false;
  int64_t group = conv ? conv.getGroup() : fused.getGroup();
  auto out = op->getResult(0).getType().cast<ShapedType>();
  auto w = op->getOperand(1).getType().cast<ShapedType>();
  Operation *def = op->getOperand(1).getDefiningOp();
  if (group != 1 || w.getRank() != 4 || !def ||
      !isa<ParamOp, cnnc::cnn::ConstantOp>(def))
    return false;
  return packedConvPays(w.getDimSize(0), out.getDimSize(3),
                        w.getDimSize(1) * w.getDimSize(2) * w.getDimSize(3),
                        lanes);
}

/// The Winograd output tile (cnn::winogradConvTile) for an inference
/// convolution with a stored 3x3 weight, or 0.
int64_t winogradTileFor(Operation *op, int64_t lanes) {
  auto conv = dyn_cast<Conv2dOp>(op);
  auto fused = dyn_cast<FusedConv2dOp>(op);
  if ((!conv && !fused) || (fused && fused.getPool() != PoolKind::None))
    return 0;
  Operation *def = op->getOperand(1).getDefiningOp();
  if (!def || !isa<ParamOp, cnnc::cnn::ConstantOp>(def))
    return 0;
  auto in = op->getOperand(0).getType().cast<ShapedType>();
  auto w = op->getOperand(1).getType().cast<ShapedType>();
  auto out = op->getResult(0).getType().cast<ShapedType>();
  if (w.getRank() != 4 || w.getDimSize(2) != 3 || w.getDimSize(3) != 3 ||
      !in.hasRank() || in.getRank() != 4 || out.getRank() != 4)
    return 0;
  int64_t group = conv ? conv.getGroup() : fused.getGroup();
  ArrayAttr strides = conv ? conv.getStrides() : fused.getStrides();
  ArrayAttr dilations = conv ? conv.getDilations() : fused.getDilations();
  if (group != 1 || !unitStridesAndDilations(strides, dilations))
    return 0;
  return winogradConvTile(in.getDimSize(1), w.getDimSize(0), out.getDimSize(2),
                          out.getDimSize(3), lanes);
}

bool allOnes(ArrayAttr values) {
  return llvm::all_of(values.getAsValueRange<IntegerAttr>(),
                      [](const APInt &v) { return v == 1; });
}

/// An inference convolution that runs as a matrix product per image
/// (codegen's pointwise schedule) on its image flattened to one row: a 1x1
/// weight, no padding, one group, no pooling, a static image of more than
/// one row. Its weights stay plain. With strides, flattenToRow subsamples
/// the input first.
bool flattensToRow(Operation *op) {
  auto conv = dyn_cast<Conv2dOp>(op);
  auto fused = dyn_cast<FusedConv2dOp>(op);
  if ((!conv && !fused) || (fused && fused.getPool() != PoolKind::None))
    return false;
  auto in = op->getOperand(0).getType().dyn_cast<RankedTensorType>();
  auto w = op->getOperand(1).getType().dyn_cast<RankedTensorType>();
  auto out = op->getResult(0).getType().dyn_cast<RankedTensorType>();
  if (!in || !w || !out || in.getRank() != 4 || w.getRank() != 4 ||
      out.getRank() != 4 || w.getDimSize(2) != 1 || w.getDimSize(3) != 1)
    return false;
  for (int64_t d = 1; d < 4; ++d)
    if (in.isDynamicDim(d) || out.isDynamicDim(d))
      return false;
  int64_t group = conv ? conv.getGroup() : fused.getGroup();
  ArrayAttr dilations = conv ? conv.getDilations() : fused.getDilations();
  return group == 1 && allOnes(dilations) && !hasConvPadding(op) &&
         out.getDimSize(2) > 1;
}

/// Rewrites a flattensToRow convolution to read and write its images as
/// one row each, [N, C, 1, H * W] (cnn.reshape: no data moves), so the
/// matrix product's tiles run along every pixel of the image, not along a
/// row of 7 or 14.
void flattenToRow(Operation *op) {
  OpBuilder b(op);
  // A strided 1x1 convolution reads every s-th pixel: a subsampling pass
  // (a 1x1 max pooling with the strides) writes them densely, a quarter of
  // the input at stride 2, where the product would read a line per pixel.
  auto conv = dyn_cast<Conv2dOp>(op);
  auto fused = dyn_cast<FusedConv2dOp>(op);
  ArrayAttr strides = conv ? conv.getStrides() : fused.getStrides();
  if (!allOnes(strides)) {
    auto in = op->getOperand(0).getType().cast<RankedTensorType>();
    auto out = op->getResult(0).getType().cast<RankedTensorType>();
    auto sampledType =
        RankedTensorType::get({in.getDimSize(0), in.getDimSize(1),
                               out.getDimSize(2), out.getDimSize(3)},
                              in.getElementType());
    Value sampled =
        b.create<MaxPool2dOp>(
             op->getLoc(), TypeRange{sampledType},
             ValueRange{op->getOperand(0)},
             ArrayRef<NamedAttribute>{
                 b.getNamedAttr("kernel_shape", b.getI64ArrayAttr({1, 1})),
                 b.getNamedAttr("strides", strides)})
            .getResult();
    op->setOperand(0, sampled);
    op->setAttr("strides", b.getI64ArrayAttr({1, 1}));
  }
  auto flat = [&](Value v) {
    auto t = v.getType().cast<RankedTensorType>();
    return b
        .create<ReshapeOp>(
            v.getLoc(), v,
            b.getI64ArrayAttr(
                {0, t.getDimSize(1), 1, t.getDimSize(2) * t.getDimSize(3)}))
        .getResult();
  };
  Value input = op->getOperand(0), flatInput = flat(input);
  op->setOperand(0, flatInput);
  if (auto fused = dyn_cast<FusedConv2dOp>(op))
    if (Value residual = fused.getResidual())
      fused.getResidualMutable().assign(residual == input ? flatInput
                                                          : flat(residual));
  Value result = op->getResult(0);
  auto type = result.getType().cast<RankedTensorType>();
  result.setType(
      RankedTensorType::get({type.getDimSize(0), type.getDimSize(1), 1,
                             type.getDimSize(2) * type.getDimSize(3)},
                            type.getElementType()));
  b.setInsertionPointAfter(op);
  Value back = b.create<ReshapeOp>(
                    op->getLoc(), result,
                    b.getI64ArrayAttr({0, type.getDimSize(1),
                                       type.getDimSize(2), type.getDimSize(3)}))
                   .getResult();
  result.replaceAllUsesExcept(back, back.getDefiningOp());
}

/// Splits a convolution fused with a pooling into the convolution and the
/// pooling op where the convolution alone runs as Winograd (VGG's
/// convolutions before each max pooling): the pooled schedule stays
/// direct, and at 56x56 x 256 it took 77.5 ms where the Winograd
/// convolution and a pooling pass take about a third of that.
void unfusePoolingForWinograd(FusedConv2dOp op, int64_t lanes) {
  auto in = op.getInput().getType().dyn_cast<RankedTensorType>();
  auto w = op.getWeight().getType().dyn_cast<RankedTensorType>();
  auto out = op.getType().dyn_cast<RankedTensorType>();
  if (!in || !w || !out || in.getRank() != 4 || w.getRank() != 4 ||
      out.getRank() != 4 || in.isDynamicDim(2) || in.isDynamicDim(3))
    return;
  SmallVector<int64_t> strides = toI64(op.getStrides()),
                       pads = toI64(op.getPads()),
                       dilations = toI64(op.getDilations());
  std::string error;
  FailureOr<int64_t> h =
      windowOutputSize(in.getDimSize(2), w.getDimSize(2), strides[0], pads[0],
                       pads[2], dilations[0], /*ceilMode=*/false, error);
  FailureOr<int64_t> wd =
      windowOutputSize(in.getDimSize(3), w.getDimSize(3), strides[1], pads[1],
                       pads[3], dilations[1], /*ceilMode=*/false, error);
  if (failed(h) || failed(wd))
    return;
  OpBuilder b(op);
  SmallVector<NamedAttribute> convAttrs;
  for (NamedAttribute a : op->getAttrs())
    if (!a.getName().strref().startswith("pool"))
      convAttrs.push_back(a);
  auto convType = RankedTensorType::get(
      {out.getDimSize(0), out.getDimSize(1), *h, *wd}, out.getElementType());
  auto conv = b.create<FusedConv2dOp>(op.getLoc(), TypeRange{convType},
                                      op->getOperands(), convAttrs);
  if (!winogradTileFor(conv, lanes)) {
    conv->erase();
    return;
  }
  SmallVector<NamedAttribute, 5> poolAttrs = {
      b.getNamedAttr("kernel_shape", op.getPoolKernel()),
      b.getNamedAttr("strides", op.getPoolStrides()),
      b.getNamedAttr("pads", op.getPoolPads()),
      b.getNamedAttr("ceil_mode", b.getBoolAttr(op.getPoolCeilMode()))};
  Operation *pool;
  if (op.getPool() == PoolKind::Max) {
    pool = b.create<MaxPool2dOp>(op.getLoc(), TypeRange{out},
                                 ValueRange{conv.getResult()}, poolAttrs);
  } else {
    poolAttrs.push_back(b.getNamedAttr(
        "count_include_pad", b.getBoolAttr(op.getPoolCountIncludePad())));
    pool = b.create<AvgPool2dOp>(op.getLoc(), TypeRange{out},
                                 ValueRange{conv.getResult()}, poolAttrs);
  }
  op.getResult().replaceAllUsesWith(pool->getResult(0));
  op->erase();
}

/// A convolution that may read its input from a buffer that holds its
/// padding as a zero border: with packed weights (those schedules read the
/// border as they read a padding stage), or with output rows of whole
/// vectors (the unpacked schedules then read no column past the border;
/// MobileNet's and EfficientNet's depthwise convolutions at 112 and 56).
bool readsBordered(Operation *op, int64_t lanes) {
  if (!isa<Conv2dOp, FusedConv2dOp>(op))
    return false;
  // A Winograd convolution pads its input itself, over its whole tile grid.
  if (auto pack = op->getOperand(1).getDefiningOp<PackWeightsOp>())
    return !pack.getWinograd();
  int64_t width = op->getResult(0).getType().cast<ShapedType>().getDimSize(3);
  return width > 0 && width % lanes == 0;
}

/// Ops that are not kernels: their results are the weights or another
/// buffer's data (codegen's aliases), so they cannot write a border.
bool writesOwnBuffer(Operation *op) {
  return !isa<ParamOp, cnnc::cnn::ConstantOp, FlattenOp, ReshapeOp, DropoutOp>(
      op);
}

struct PackConvWeightsPass : public PackConvWeightsBase<PackConvWeightsPass> {
  // IR dumps (--print-ir-after-all) name the pass as users invoke it.
  StringRef getName() const override { return getArgument(); }
  PackConvWeightsPass() = default;
  PackConvWeightsPass(int64_t l, bool f, bool w, bool p) {
    lanes = l;
    fusePadding = f;
    winograd = w;
    flattenPointwise = p;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<FuncOp>("main");
    if (!main || lanes < 0)
      return;
    Builder b(module.getContext());
    // Chosen anew each time (another target, another width): convolutions
    // read their plain weights again first.
    main.walk([](Operation *op) {
      for (StringRef name : {kPrepaddedAttr.name, kZeroBorderAttr.name})
        op->removeAttr(name);
    });
    // Every function's convolutions: the inference graph's, and the
    // training steps' forward passes (their weights change every step, so
    // they are packed by a kernel of the step; a few microseconds against
    // a convolution that runs at twice the rate on narrow images).
    SmallVector<FuncOp> fns;
    module.walk([&](FuncOp fn) { fns.push_back(fn); });
    for (FuncOp fn : fns) {
      SmallVector<PackWeightsOp> previous;
      fn.walk([&](PackWeightsOp pack) { previous.push_back(pack); });
      for (PackWeightsOp pack : previous) {
        for (OpOperand &use : llvm::make_early_inc_range(pack->getUses()))
          if (isa<Conv2dOp, FusedConv2dOp>(use.getOwner()) &&
              use.getOperandNumber() == 1)
            use.set(pack.getInput());
        if (pack->use_empty())
          pack->erase();
      }
      if (lanes == 0)
        continue;
      bool inference = fn.getName() == "main";
      if (inference && winograd) {
        SmallVector<FusedConv2dOp> pooled;
        fn.walk([&](FusedConv2dOp op) {
          if (op.getPool() != PoolKind::None)
            pooled.push_back(op);
        });
        for (FusedConv2dOp op : pooled)
          unfusePoolingForWinograd(op, lanes);
      }
      // One packed weight per weight and layout, however many convolutions
      // read it. Winograd only in the inference graph: a training step's
      // weights change every step, and its backward reads them plain.
      llvm::DenseMap<std::pair<Value, int64_t>, Value> packedOf;
      fn.walk([&](Operation *op) {
        if (inference && flattenPointwise && flattensToRow(op)) {
          flattenToRow(op);
          return;
        }
        int64_t tile = inference && winograd ? winogradTileFor(op, lanes) : 0;
        if (!tile && !packable(op, lanes))
          return;
        Value weight = op->getOperand(1);
        Value &packed = packedOf[{weight, tile}];
        if (!packed) {
          OpBuilder builder(op->getContext());
          builder.setInsertionPointAfterValue(weight);
          SmallVector<NamedAttribute, 2> attrs = {
              b.getNamedAttr("lanes", b.getI64IntegerAttr(lanes))};
          if (tile) // else the default, not printed
            attrs.push_back(
                b.getNamedAttr("winograd", b.getI64IntegerAttr(tile)));
          packed = builder
                       .create<PackWeightsOp>(weight.getLoc(),
                                              ValueRange{weight}, attrs)
                       .getResult();
        }
        op->setOperand(1, packed);
      });
    }
    if (lanes == 0)
      return;
    if (!fusePadding)
      return;
    main.walk([&](Operation *op) {
      if (op->getNumResults() != 1 || !writesOwnBuffer(op))
        return;
      Value result = op->getResult(0);
      auto type = result.getType().dyn_cast<RankedTensorType>();
      if (!type || type.getRank() != 4 || !type.getElementType().isF32())
        return;
      // Every reader must be a kernel reading it whole (no output, no
      // reshape: they see the buffer's rows); the border is the padding of
      // the first convolution that reads it as its input and can read it
      // bordered.
      Optional<std::array<int64_t, 4>> border;
      for (OpOperand &use : result.getUses()) {
        Operation *user = use.getOwner();
        if (!writesOwnBuffer(user) || isa<ReturnOp>(user))
          return;
        if (border || use.getOperandNumber() != 0 ||
            !readsBordered(user, lanes))
          continue;
        if (hasConvPadding(user))
          border = convPads(user);
      }
      if (!border)
        return;
      kZeroBorderAttr.set(op, b.getI64ArrayAttr(*border));
      for (OpOperand &use : result.getUses())
        if (use.getOperandNumber() == 0 &&
            readsBordered(use.getOwner(), lanes) &&
            convPads(use.getOwner()) == *border)
          kPrepaddedAttr.set(use.getOwner(), b.getUnitAttr());
    });
  }
};
} // namespace

std::unique_ptr<Pass> cnnc::cnn::createPackConvWeightsPass() {
  return std::make_unique<PackConvWeightsPass>();
}

std::unique_ptr<Pass>
cnnc::cnn::createPackConvWeightsPass(int64_t lanes, bool fusePadding,
                                     bool winograd, bool flattenPointwise) {
  return std::make_unique<PackConvWeightsPass>(lanes, fusePadding, winograd,
                                               flattenPointwise);
}
