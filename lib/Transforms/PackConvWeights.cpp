//===- PackConvWeights.cpp - packed weights and zero-bordered inputs ------===//
//
// The layout decisions of the inference graph for the target's vector
// width: a convolution whose output channels fill whole vectors reads its
// weights through `cnn.pack_weights` (one definition of the layout: the op,
// its Halide kernel, its inverse), and the op writing its input may write
// it with the convolution's padding as a zero border (cnn.zero_border,
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

/// An ungrouped convolution with output channels in whole vectors of
/// `lanes`, rows at least 2 wide, and plain weights stored in the library (a
/// parameter or a constant).
bool packable(Operation *op, int64_t lanes) {
  auto conv = dyn_cast<Conv2dOp>(op);
  auto fused = dyn_cast<FusedConv2dOp>(op);
  if (!conv && !fused)
    return false;
  int64_t group = conv ? conv.getGroup() : fused.getGroup();
  auto out = op->getResult(0).getType().cast<ShapedType>();
  auto w = op->getOperand(1).getType().cast<ShapedType>();
  Operation *def = op->getOperand(1).getDefiningOp();
  return group == 1 && w.getRank() == 4 && out.getDimSize(3) >= 2 &&
         w.getDimSize(0) % lanes == 0 && def &&
         isa<ParamOp, cnnc::cnn::ConstantOp>(def);
}

/// A convolution reading packed weights.
bool readsPacked(Operation *op) {
  return isa<Conv2dOp, FusedConv2dOp>(op) &&
         op->getOperand(1).getDefiningOp<PackWeightsOp>();
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
  PackConvWeightsPass(int64_t l, bool f) {
    lanes = l;
    fusePadding = f;
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
    SmallVector<PackWeightsOp> previous;
    main.walk([&](PackWeightsOp pack) { previous.push_back(pack); });
    for (PackWeightsOp pack : previous) {
      for (OpOperand &use : llvm::make_early_inc_range(pack->getUses()))
        if (isa<Conv2dOp, FusedConv2dOp>(use.getOwner()) &&
            use.getOperandNumber() == 1)
          use.set(pack.getInput());
      if (pack->use_empty())
        pack->erase();
    }
    if (lanes == 0)
      return;
    // One packed weight per weight, however many convolutions read it.
    llvm::DenseMap<Value, Value> packedOf;
    main.walk([&](Operation *op) {
      if (!packable(op, lanes))
        return;
      Value weight = op->getOperand(1);
      Value &packed = packedOf[weight];
      if (!packed) {
        OpBuilder builder(op->getContext());
        builder.setInsertionPointAfterValue(weight);
        packed = builder
                     .create<PackWeightsOp>(weight.getLoc(), weight,
                                            b.getI64IntegerAttr(lanes))
                     .getResult();
      }
      op->setOperand(1, packed);
    });
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
      // the first packed convolution that reads it as its input.
      Optional<std::array<int64_t, 4>> border;
      for (OpOperand &use : result.getUses()) {
        Operation *user = use.getOwner();
        if (!writesOwnBuffer(user) || isa<ReturnOp>(user))
          return;
        if (border || use.getOperandNumber() != 0 || !readsPacked(user))
          continue;
        std::array<int64_t, 4> pads = convPads(user);
        if (llvm::any_of(pads, [](int64_t p) { return p != 0; }))
          border = pads;
      }
      if (!border)
        return;
      kZeroBorderAttr.set(op, b.getI64ArrayAttr(*border));
      for (OpOperand &use : result.getUses())
        if (use.getOperandNumber() == 0 && readsPacked(use.getOwner()) &&
            convPads(use.getOwner()) == *border)
          kPrepaddedAttr.set(use.getOwner(), b.getUnitAttr());
    });
  }
};
} // namespace

std::unique_ptr<Pass> cnnc::cnn::createPackConvWeightsPass() {
  return std::make_unique<PackConvWeightsPass>();
}

std::unique_ptr<Pass> cnnc::cnn::createPackConvWeightsPass(int64_t lanes,
                                                           bool fusePadding) {
  return std::make_unique<PackConvWeightsPass>(lanes, fusePadding);
}
