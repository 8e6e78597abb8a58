//===- FoldBatchNorm.cpp - fold BatchNorm into conv / gemm weights --------===//
#include "PassDetail.h"
#include "cnnc/Transforms/Passes.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

using namespace mlir;
using namespace cnnc::cnn;

namespace {

/// The values of a weight that may be treated as a constant, or None.
static Optional<std::vector<float>> constantValues(Value v, bool training) {
  Operation *def = v.getDefiningOp();
  ElementsAttr attr;
  if (auto param = dyn_cast_or_null<ParamOp>(def)) {
    if (training && !param.getFrozen())
      return llvm::None;
    attr = param.getValueAttr();
  } else if (auto constant = dyn_cast_or_null<ConstantOp>(def)) {
    attr = constant.getValue();
  }
  auto dense = attr.dyn_cast_or_null<DenseElementsAttr>();
  if (!dense || !dense.getType().getElementType().isF32())
    return llvm::None;
  auto values = dense.getValues<float>();
  return std::vector<float>(values.begin(), values.end());
}

/// A new parameter holding `values`, named and grouped like `like`.
static Value makeParam(PatternRewriter &rewriter, Location loc, Value like,
                       ArrayRef<int64_t> shape, ArrayRef<float> values,
                       StringRef fallbackName) {
  auto type = RankedTensorType::get(shape, rewriter.getF32Type());
  auto attr = DenseElementsAttr::get(type, values);
  auto old = like ? like.getDefiningOp<ParamOp>() : ParamOp();
  auto param = rewriter.create<ParamOp>(
      loc, type, rewriter.getStringAttr(old ? old.getName() : fallbackName),
      attr, StringAttr(), old ? old.getGroupAttr() : FlatSymbolRefAttr(),
      old && old.getFrozen() ? rewriter.getUnitAttr() : UnitAttr(), UnitAttr());
  // Not one of the model's own parameters: libraries do not expose it.
  kFoldedAttr.set(param, rewriter.getUnitAttr());
  return param.getResult();
}

struct FoldIntoConvOrGemm : public OpRewritePattern<BatchNormOp> {
  FoldIntoConvOrGemm(MLIRContext *ctx, bool training)
      : OpRewritePattern<BatchNormOp>(ctx), training(training) {}

  LogicalResult matchAndRewrite(BatchNormOp bn,
                                PatternRewriter &rewriter) const override {
    Operation *producer = bn.getInput().getDefiningOp();
    if (!producer || !producer->hasOneUse())
      return failure();
    Value weight, bias;
    bool rowsAreChannels = true; // weight's dim 0 indexes output channels
    if (auto conv = dyn_cast<Conv2dOp>(producer)) {
      weight = conv.getWeight();
      bias = conv.getBias();
    } else if (auto gemm = dyn_cast<GemmOp>(producer)) {
      if (gemm.getTransA() || gemm.getAlpha().convertToFloat() != 1.0f ||
          gemm.getBeta().convertToFloat() != 1.0f)
        return failure();
      weight = gemm.getB();
      bias = gemm.getC();
      rowsAreChannels = gemm.getTransB();
      if (bias && bias.getType().cast<ShapedType>().getRank() != 1)
        return failure();
    } else {
      return failure();
    }
    auto w = constantValues(weight, training);
    auto gamma = constantValues(bn.getScale(), training);
    auto beta = constantValues(bn.getBias(), training);
    auto mean = constantValues(bn.getMean(), training);
    auto var = constantValues(bn.getVariance(), training);
    Optional<std::vector<float>> b;
    if (bias && !(b = constantValues(bias, training)))
      return failure();
    if (!w || !gamma || !beta || !mean || !var)
      return failure();

    auto wShape = weight.getType().cast<ShapedType>().getShape();
    int64_t channels = rowsAreChannels ? wShape[0] : wShape[1];
    if ((int64_t)gamma->size() != channels)
      return failure();
    float eps = bn.getEpsilon().convertToFloat();
    std::vector<float> s(channels), newBias(channels);
    for (int64_t c = 0; c < channels; ++c) {
      // Double precision: the folded weights should match PyTorch's eval
      // output to float rounding.
      double scale = (double)(*gamma)[c] / std::sqrt((double)(*var)[c] + eps);
      s[c] = (float)scale;
      double b0 = b ? (double)(*b)[c] : 0.0;
      newBias[c] = (float)((b0 - (double)(*mean)[c]) * scale + (*beta)[c]);
    }
    std::vector<float> newW(w->size());
    if (rowsAreChannels) {
      int64_t per = (int64_t)w->size() / channels;
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t i = 0; i < per; ++i)
          newW[c * per + i] = (float)((double)(*w)[c * per + i] * s[c]);
    } else {
      for (int64_t k = 0; k < wShape[0]; ++k)
        for (int64_t c = 0; c < channels; ++c)
          newW[k * channels + c] =
              (float)((double)(*w)[k * channels + c] * s[c]);
    }

    rewriter.setInsertionPoint(producer);
    Location loc = producer->getLoc();
    Value foldedW = makeParam(rewriter, weight.getLoc(), weight, wShape, newW,
                              "folded.weight");
    std::string biasName =
        bn.getBias().getDefiningOp<ParamOp>()
            ? bn.getBias().getDefiningOp<ParamOp>().getName().str()
            : "folded.bias";
    Value foldedB =
        makeParam(rewriter, bn.getBias().getLoc(), bias ? bias : bn.getBias(),
                  {channels}, newBias, biasName);
    // Same op and attributes, folded weight and bias.
    SmallVector<Value> operands = {producer->getOperand(0), foldedW, foldedB};
    Location fused = FusedLoc::get(getContext(), {loc, bn.getLoc()});
    Value result;
    if (isa<Conv2dOp>(producer))
      result = rewriter
                   .create<Conv2dOp>(fused, bn.getType(), operands,
                                     producer->getAttrs())
                   .getResult();
    else
      result = rewriter
                   .create<GemmOp>(fused, bn.getType(), operands,
                                   producer->getAttrs())
                   .getResult();
    rewriter.replaceOp(bn, result);
    rewriter.eraseOp(producer);
    return success();
  }

  bool training;
};

/// The transpose of a weight that is a constant (ONNX's MatMul weights,
/// which PyTorch exports as a Transpose of the parameter) becomes a
/// constant: no transpose runs per inference.
struct FoldConstantTranspose : public OpRewritePattern<TransposeOp> {
  FoldConstantTranspose(MLIRContext *ctx, bool training)
      : OpRewritePattern<TransposeOp>(ctx), training(training) {}

  LogicalResult matchAndRewrite(TransposeOp tr,
                                PatternRewriter &rewriter) const override {
    auto type = tr.getType().dyn_cast<RankedTensorType>();
    auto inType = tr.getInput().getType().dyn_cast<RankedTensorType>();
    if (!type || !inType || !type.hasStaticShape() || !inType.hasStaticShape())
      return failure();
    auto values = constantValues(tr.getInput(), training);
    if (!values)
      return failure();
    ArrayRef<int64_t> in = inType.getShape();
    int64_t rank = (int64_t)in.size();
    SmallVector<int64_t> perm = toI64(tr.getPerm()), inStride(rank, 1);
    for (int64_t d = rank - 2; d >= 0; --d)
      inStride[d] = inStride[d + 1] * in[d + 1];
    ArrayRef<int64_t> out = type.getShape();
    std::vector<float> result(values->size());
    SmallVector<int64_t> index(rank, 0); // output coordinates
    for (size_t i = 0; i < result.size(); ++i) {
      int64_t src = 0;
      for (int64_t d = 0; d < rank; ++d)
        src += index[d] * inStride[perm[d]];
      result[i] = (*values)[src];
      for (int64_t d = rank - 1; d >= 0 && ++index[d] == out[d]; --d)
        index[d] = 0;
    }
    rewriter.replaceOpWithNewOp<ConstantOp>(
        tr, type, DenseElementsAttr::get(type, llvm::makeArrayRef(result)));
    return success();
  }

  bool training;
};

struct FoldBatchNormPass : public FoldBatchNormBase<FoldBatchNormPass> {
  // IR dumps (--print-ir-after-all) name the pass as users invoke it.
  StringRef getName() const override { return getArgument(); }
  FoldBatchNormPass() = default;
  explicit FoldBatchNormPass(bool t) { training = t; }

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldIntoConvOrGemm, FoldConstantTranspose>(&getContext(),
                                                            training);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace

std::unique_ptr<Pass> cnnc::cnn::createFoldBatchNormPass() {
  return std::make_unique<FoldBatchNormPass>();
}

std::unique_ptr<Pass> cnnc::cnn::createFoldBatchNormPass(bool training) {
  return std::make_unique<FoldBatchNormPass>(training);
}
