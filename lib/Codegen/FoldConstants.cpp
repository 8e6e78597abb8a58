//===- FoldConstants.cpp - evaluate constant subgraphs with Halide's JIT --===//
#include "cnnc/Codegen/Passes.h"

#include "KernelBuilder.h"

#include "cnnc/Dialect/CNN/CNNOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace cnnc;
using namespace cnnc::codegen;

namespace {

/// Results larger than this stay computed at run time: a constant is stored
/// in the library, and a huge one would bloat it for little gain.
constexpr int64_t kMaxFoldedElements = int64_t(1) << 24;

/// No output element of a cnn op reads more than all of its operands, so
/// result elements x operand elements bounds the work of an evaluation; above
/// this (seconds of unscheduled JIT code) the op is left to run time rather
/// than stall the compiler on a hostile model.
constexpr int64_t kMaxFoldedWork = int64_t(1) << 31;

bool isStaticF32(Type type) {
  auto shaped = type.dyn_cast<RankedTensorType>();
  return shaped && shaped.hasStaticShape() && shaped.getElementType().isF32();
}

/// Evaluates `op` on constant operands with its Halide definition.
FailureOr<DenseElementsAttr> evaluate(Operation *op,
                                      ArrayRef<Attribute> values) {
  std::vector<Halide::Buffer<float>> buffers;
  std::vector<TensorFunc> operands;
  buffers.reserve(values.size());
  for (Attribute attr : values) {
    auto value = attr.cast<DenseElementsAttr>();
    auto type = value.getType().cast<RankedTensorType>();
    std::vector<int> extents(type.getShape().rbegin(), type.getShape().rend());
    buffers.emplace_back(extents);
    Halide::Buffer<float> &b = buffers.back();
    float *data = b.data();
    for (float v : value.getValues<float>())
      *data++ = v;
    TensorFunc t{Halide::Func(b), {}, {}};
    t.shape.assign(type.getShape().begin(), type.getShape().end());
    operands.push_back(t);
  }
  auto resultType = op->getResult(0).getType().cast<RankedTensorType>();
  try {
    LoweringContext ctx{Halide::get_host_target(), /*manualSchedule=*/false};
    FailureOr<KernelParts> parts = lowerOp(op, operands, ctx);
    if (failed(parts))
      return failure();
    // Stages with update definitions cannot be inlined: compute them whole.
    if (parts->hasReduction)
      parts->reduction.compute_root();
    if (parts->hasPadded)
      parts->padded.compute_root();
    for (Halide::Func f : parts->rootStages)
      f.compute_root();
    for (ChannelSum &s : parts->channelSums)
      s.func.compute_root();
    std::vector<int> extents(resultType.getShape().rbegin(),
                             resultType.getShape().rend());
    Halide::Buffer<float> out(extents);
    parts->output.realize(out, Halide::get_jit_target_from_environment());
    return DenseElementsAttr::get(
        resultType, llvm::makeArrayRef(out.data(), out.number_of_elements()));
  } catch (const Halide::Error &) {
    return failure();
  }
}

#define GEN_PASS_CLASSES
#include "cnnc/Codegen/Passes.h.inc"

struct FoldConstantsPass : public FoldConstantsBase<FoldConstantsPass> {
  // IR dumps name the pass as users invoke it, not by its C++ class.
  StringRef getName() const override { return getArgument(); }

  void runOnOperation() override {
    llvm::SetVector<Operation *> maybeDead;
    getOperation().walk([&](Operation *op) {
      if (op->getNumResults() != 1 || op->getNumOperands() == 0 ||
          isa<cnn::ConstantOp, cnn::ParamOp>(op) ||
          op->getDialect() != getContext().getLoadedDialect<cnn::CNNDialect>())
        return;
      Type type = op->getResult(0).getType();
      if (!isStaticF32(type) ||
          type.cast<RankedTensorType>().getNumElements() > kMaxFoldedElements)
        return;
      SmallVector<Attribute, 4> values; // each a DenseElementsAttr
      int64_t resultElements = type.cast<RankedTensorType>().getNumElements();
      int64_t operandElements = 0;
      for (Value operand : op->getOperands()) {
        auto constant = operand.getDefiningOp<cnn::ConstantOp>();
        if (!constant || !isStaticF32(operand.getType()))
          return;
        auto dense = constant.getValue().dyn_cast<DenseElementsAttr>();
        if (!dense)
          return;
        values.push_back(dense);
        operandElements += dense.getNumElements();
      }
      if (operandElements > 0 &&
          resultElements > kMaxFoldedWork / operandElements)
        return;
      DenseElementsAttr result;
      SmallVector<OpFoldResult, 1> folded;
      if (succeeded(op->fold(values, folded)) && folded.size() == 1)
        if (auto attr = folded[0].dyn_cast<Attribute>())
          result = attr.dyn_cast<DenseElementsAttr>();
      if (!result || result.getType() != type) {
        FailureOr<DenseElementsAttr> evaluated = evaluate(op, values);
        if (failed(evaluated))
          return;
        result = *evaluated;
      }
      OpBuilder builder(op);
      auto constant =
          builder.create<cnn::ConstantOp>(op->getLoc(), type, result);
      op->getResult(0).replaceAllUsesWith(constant.getResult());
      for (Value operand : op->getOperands())
        maybeDead.insert(operand.getDefiningOp());
      op->erase();
    });
    for (Operation *op : maybeDead)
      if (op->use_empty())
        op->erase();
  }
};

} // namespace

std::unique_ptr<Pass> cnnc::createFoldConstantsPass() {
  return std::make_unique<FoldConstantsPass>();
}
