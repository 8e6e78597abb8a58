//===- CNNFolds.cpp - constant folding of cnn ops -------------------------===//
//
// Ops whose operands are all constants fold to a constant, so the
// canonicalizer evaluates constant subgraphs at compile time. Only static
// f32 tensors up to kMaxFoldElements are folded: beyond that, a constant in
// the library costs more than computing it.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Dialect/CNN/CNNOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <cmath>

using namespace mlir;
using namespace cnnc::cnn;

static constexpr int64_t kMaxFoldElements = 1 << 20;

Operation *CNNDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  auto elements = value.dyn_cast<ElementsAttr>();
  if (!elements || elements.getType() != type)
    return nullptr;
  return builder.create<ConstantOp>(loc, type, elements);
}

static DenseElementsAttr denseF32(Attribute a) {
  auto d = a.dyn_cast_or_null<DenseElementsAttr>();
  if (!d || !d.getType().getElementType().isF32() ||
      !d.getType().hasStaticShape())
    return {};
  return d;
}

static OpFoldResult foldUnary(ArrayRef<Attribute> operands, Type resultType,
                              llvm::function_ref<float(float)> fn) {
  DenseElementsAttr in = denseF32(operands[0]);
  auto type = resultType.dyn_cast<RankedTensorType>();
  if (!in || !type || !type.hasStaticShape() ||
      type.getNumElements() > kMaxFoldElements)
    return {};
  std::vector<float> out;
  out.reserve(type.getNumElements());
  for (float v : in.getValues<float>())
    out.push_back(fn(v));
  return DenseElementsAttr::get(type, llvm::makeArrayRef(out));
}

/// NumPy broadcasting of two constants into `resultType`.
static OpFoldResult foldBinary(ArrayRef<Attribute> operands, Type resultType,
                               llvm::function_ref<float(float, float)> fn) {
  DenseElementsAttr a = denseF32(operands[0]), b = denseF32(operands[1]);
  auto type = resultType.dyn_cast<RankedTensorType>();
  if (!a || !b || !type || !type.hasStaticShape() ||
      type.getNumElements() > kMaxFoldElements)
    return {};
  std::vector<float> av(a.getValues<float>().begin(),
                        a.getValues<float>().end());
  std::vector<float> bv(b.getValues<float>().begin(),
                        b.getValues<float>().end());
  ArrayRef<int64_t> shape = type.getShape();
  auto index = [&](ArrayRef<int64_t> opShape, ArrayRef<int64_t> idx) {
    int64_t flat = 0;
    size_t offset = idx.size() - opShape.size();
    for (size_t i = 0; i < opShape.size(); ++i)
      flat = flat * opShape[i] + (opShape[i] == 1 ? 0 : idx[offset + i]);
    return flat;
  };
  std::vector<float> out(type.getNumElements());
  SmallVector<int64_t> idx(shape.size(), 0);
  for (int64_t n = 0; n < type.getNumElements(); ++n) {
    int64_t rest = n;
    for (int i = (int)shape.size() - 1; i >= 0; --i) {
      idx[i] = rest % shape[i];
      rest /= shape[i];
    }
    out[n] =
        fn(av.size() == 1 ? av[0] : av[index(a.getType().getShape(), idx)],
           bv.size() == 1 ? bv[0] : bv[index(b.getType().getShape(), idx)]);
  }
  return DenseElementsAttr::get(type, llvm::makeArrayRef(out));
}

/// Row-major data does not move under reshape and flatten.
static OpFoldResult foldReshape(ArrayRef<Attribute> operands, Type resultType) {
  DenseElementsAttr in = denseF32(operands[0]);
  auto type = resultType.dyn_cast<RankedTensorType>();
  if (!in || !type || !type.hasStaticShape())
    return {};
  return in.reshape(type);
}

OpFoldResult ReluOp::fold(ArrayRef<Attribute> operands) {
  return foldUnary(operands, getType(), [](float x) { return x > 0 ? x : 0; });
}
OpFoldResult SigmoidOp::fold(ArrayRef<Attribute> operands) {
  return foldUnary(operands, getType(),
                   [](float x) { return 1.0f / (1.0f + std::exp(-x)); });
}
OpFoldResult TanhOp::fold(ArrayRef<Attribute> operands) {
  return foldUnary(operands, getType(), [](float x) { return std::tanh(x); });
}
OpFoldResult ClipOp::fold(ArrayRef<Attribute> operands) {
  float lo = getMin().convertToFloat(), hi = getMax().convertToFloat();
  return foldUnary(operands, getType(),
                   [&](float x) { return std::min(std::max(x, lo), hi); });
}
OpFoldResult AddOp::fold(ArrayRef<Attribute> operands) {
  return foldBinary(operands, getType(),
                    [](float a, float b) { return a + b; });
}
OpFoldResult SubOp::fold(ArrayRef<Attribute> operands) {
  return foldBinary(operands, getType(),
                    [](float a, float b) { return a - b; });
}
OpFoldResult MulOp::fold(ArrayRef<Attribute> operands) {
  return foldBinary(operands, getType(),
                    [](float a, float b) { return a * b; });
}
OpFoldResult DivOp::fold(ArrayRef<Attribute> operands) {
  return foldBinary(operands, getType(),
                    [](float a, float b) { return a / b; });
}
OpFoldResult PowOp::fold(ArrayRef<Attribute> operands) {
  return foldBinary(operands, getType(),
                    [](float a, float b) { return std::pow(a, b); });
}
OpFoldResult MaxOp::fold(ArrayRef<Attribute> operands) {
  return foldBinary(operands, getType(),
                    [](float a, float b) { return std::fmax(a, b); });
}
OpFoldResult MinOp::fold(ArrayRef<Attribute> operands) {
  return foldBinary(operands, getType(),
                    [](float a, float b) { return std::fmin(a, b); });
}
OpFoldResult EqualOp::fold(ArrayRef<Attribute> operands) {
  return foldBinary(operands, getType(),
                    [](float a, float b) { return a == b ? 1.0f : 0.0f; });
}
OpFoldResult PReluOp::fold(ArrayRef<Attribute> operands) {
  return foldBinary(operands, getType(), [](float x, float slope) {
    return x >= 0 ? x : slope * x;
  });
}
OpFoldResult FlattenOp::fold(ArrayRef<Attribute> operands) {
  return foldReshape(operands, getType());
}
OpFoldResult ReshapeOp::fold(ArrayRef<Attribute> operands) {
  return foldReshape(operands, getType());
}

// A layout and its inverse cancel.
OpFoldResult PackWeightsOp::fold(ArrayRef<Attribute>) {
  auto unpack = getInput().getDefiningOp<UnpackWeightsOp>();
  if (unpack && unpack.getInput().getType() == getType())
    return unpack.getInput();
  return {};
}

OpFoldResult UnpackWeightsOp::fold(ArrayRef<Attribute>) {
  if (auto pack = getInput().getDefiningOp<PackWeightsOp>())
    return pack.getInput();
  return {};
}
