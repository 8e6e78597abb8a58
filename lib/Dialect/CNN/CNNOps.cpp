//===- CNNOps.cpp - cnn dialect operations: shapes and verifiers ----------===//
//
// Every shaped op infers its result type here; the InferTypeOpInterface
// verifier then reports a result type that disagrees, at the op's location.
//
//===----------------------------------------------------------------------===//

#include "cnnc/Dialect/CNN/CNNOps.h"

#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"

#include <algorithm>
#include <cmath>
#include <random>

using namespace mlir;
using namespace cnnc::cnn;

static constexpr int64_t kDyn = ShapedType::kDynamicSize;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

SmallVector<int64_t> cnnc::cnn::toI64(ArrayAttr attr) {
  SmallVector<int64_t> out;
  if (!attr)
    return out;
  for (Attribute a : attr)
    out.push_back(a.cast<IntegerAttr>().getInt());
  return out;
}

static std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += "x";
    s += shape[i] == kDyn ? "?" : std::to_string(shape[i]);
  }
  return s;
}

static RankedTensorType f32Tensor(MLIRContext *ctx, ArrayRef<int64_t> shape) {
  return RankedTensorType::get(shape, FloatType::getF32(ctx));
}

static ArrayRef<int64_t> shapeOf(Value v) {
  return v.getType().cast<ShapedType>().getShape();
}

/// What the shape functions below may rely on, checked before they run:
/// inferReturnTypes is called while parsing and by the verifier's type
/// inference, both before ODS checks the operands' types and the
/// attributes' kinds, so a float in `strides` or a scalar operand would
/// otherwise be cast blindly. Checks that every operand is a ranked tensor
/// and the attributes with the op adaptor's own ODS verifier.
template <typename Adaptor>
static LogicalResult
checkInferenceInputs(MLIRContext *ctx, Optional<Location> loc,
                     ValueRange operands, DictionaryAttr attrs,
                     RegionRange regs) {
  for (auto it : llvm::enumerate(operands))
    if (!it.value() || !it.value().getType().isa<RankedTensorType>())
      return emitOptionalError(loc, "operand #", it.index(),
                               " must be a ranked tensor, got ",
                               it.value() ? it.value().getType() : Type());
  Adaptor adaptor(operands, attrs, regs);
  if (loc)
    return adaptor.verify(*loc);
  // No location: fail silently, as emitOptionalError does.
  ScopedDiagnosticHandler quiet(ctx, [](Diagnostic &) { return success(); });
  return adaptor.verify(UnknownLoc::get(ctx));
}

/// `shape` has rank `rank` (the dialect's 4-D operands: NCHW images and
/// OIHW weights), which the shape functions index.
static LogicalResult checkRank(Optional<Location> loc, StringRef name,
                               StringRef what, ArrayRef<int64_t> shape,
                               size_t rank) {
  if (shape.size() == rank)
    return success();
  return emitOptionalError(loc, name, ": ", what, " must have rank ", rank,
                           ", got ", shapeStr(shape));
}

/// Normalizes a possibly negative axis into [0, rank).
static FailureOr<int64_t> normalizeAxis(Optional<Location> loc, int64_t axis,
                                        int64_t rank, StringRef what) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) {
    (void)emitOptionalError(loc, what, " axis ", axis,
                            " is out of range for a rank-", rank, " tensor");
    return failure();
  }
  return a;
}

FailureOr<int64_t> cnnc::cnn::windowOutputSize(int64_t in, int64_t kernel,
                                               int64_t stride, int64_t padBegin,
                                               int64_t padEnd, int64_t dilation,
                                               bool ceilMode,
                                               std::string &error) {
  if (kernel <= 0 || stride <= 0 || dilation <= 0) {
    error = "kernel, stride and dilation must be positive (kernel " +
            std::to_string(kernel) + ", stride " + std::to_string(stride) +
            ", dilation " + std::to_string(dilation) + ")";
    return failure();
  }
  if (padBegin < 0 || padEnd < 0) {
    error = "pads must be non-negative";
    return failure();
  }
  if (in == kDyn)
    return kDyn;
  // Attributes come from users: overflow is an error, not undefined behaviour.
  int64_t effKernel, padded, span;
  if (__builtin_mul_overflow(dilation, kernel - 1, &effKernel) ||
      __builtin_add_overflow(effKernel, 1, &effKernel) ||
      __builtin_add_overflow(in, padBegin, &padded) ||
      __builtin_add_overflow(padded, padEnd, &padded) ||
      __builtin_sub_overflow(padded, effKernel, &span)) {
    error = "window sizes overflow 64-bit integers";
    return failure();
  }
  if (span < 0) {
    error = "window of size " + std::to_string(effKernel) +
            " does not fit the padded input of size " +
            std::to_string(in + padBegin + padEnd);
    return failure();
  }
  int64_t out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
  // As PyTorch and ONNX: the last window must start inside the input or the
  // left padding.
  if (ceilMode && (out - 1) * stride >= in + padBegin)
    --out;
  return out;
}

//===----------------------------------------------------------------------===//
// ParamOp, ConstantOp, GroupOp, TrainPlanOp
//===----------------------------------------------------------------------===//

static LogicalResult verify(ParamOp op) {
  auto type = op.getType().cast<RankedTensorType>();
  if (!type.hasStaticShape())
    return op.emitOpError("parameter '")
           << op.getName() << "' must have a static shape, got " << type;
  if (op.getName().empty())
    return op.emitOpError("parameter needs a non-empty name");
  if (auto value = op.getValueAttr()) {
    if (value.getType() != type)
      return op.emitOpError("value of type ")
             << value.getType() << " does not match the result type " << type;
  } else if (!op.getInitAttr()) {
    return op.emitOpError("parameter '")
           << op.getName() << "' needs either a value or an init";
  } else {
    static const char *kInits[] = {"zeros", "ones", "kaiming_uniform",
                                   "uniform_fan_in"};
    if (!llvm::is_contained(kInits, op.getInitAttr().getValue()))
      return op.emitOpError("unknown init '")
             << op.getInitAttr().getValue()
             << "' (expected zeros, ones, kaiming_uniform or uniform_fan_in)";
  }
  return success();
}

LogicalResult ParamOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto group = getGroupAttr();
  if (!group)
    return success();
  if (!symbolTable.lookupNearestSymbolFrom<GroupOp>(*this, group))
    return emitOpError("parameter '")
           << getName() << "' refers to an undefined group " << group;
  return success();
}

int64_t ParamOp::getNumElements() {
  return getType().cast<ShapedType>().getNumElements();
}

std::array<int64_t, 4> cnnc::cnn::convPads(Operation *op) {
  ArrayAttr pads = isa<Conv2dOp>(op) ? cast<Conv2dOp>(op).getPads()
                                     : cast<FusedConv2dOp>(op).getPads();
  std::array<int64_t, 4> v{0, 0, 0, 0};
  for (unsigned i = 0; i < 4 && i < pads.size(); ++i)
    v[i] = pads[i].cast<IntegerAttr>().getInt();
  return v;
}

bool cnnc::cnn::hasConvPadding(Operation *op) {
  return llvm::any_of(convPads(op), [](int64_t p) { return p != 0; });
}

bool cnnc::cnn::packedConvPays(int64_t channels, int64_t width,
                               int64_t reduction, int64_t lanes) {
  if (lanes <= 0 || channels % lanes != 0 || width < 2)
    return false;
  bool shortRows =
      reduction <= 4 * lanes && width % lanes == 0 && width >= 2 * lanes;
  return !shortRows;
}

bool cnnc::cnn::unitStridesAndDilations(ArrayAttr strides,
                                        ArrayAttr dilations) {
  auto ones = [](ArrayAttr a) {
    return llvm::all_of(toI64(a), [](int64_t v) { return v == 1; });
  };
  return ones(strides) && ones(dilations);
}

int64_t cnnc::cnn::winogradConvTile(int64_t cin, int64_t cout, int64_t outH,
                                    int64_t outW, int64_t lanes) {
  if (lanes <= 0 || cin <= 0 || cout <= 0 || cin % lanes != 0 ||
      cout % lanes != 0 || outH < 13 || outW < 13)
    return 0;
  return 4;
}

ActivationSpec ActivationSpec::of(Operation *op) {
  ActivationSpec spec;
  if (isa<ReluOp>(op)) {
    spec.kind = Activation::Relu;
  } else if (auto l = dyn_cast<LeakyReluOp>(op)) {
    spec.kind = Activation::LeakyRelu;
    spec.leakyAlpha = l.getAlpha().convertToFloat();
  } else if (auto c = dyn_cast<ClipOp>(op)) {
    spec.kind = Activation::Clip;
    spec.min = c.getMin().convertToFloat();
    spec.max = c.getMax().convertToFloat();
  } else if (isa<SigmoidOp>(op)) {
    spec.kind = Activation::Sigmoid;
  } else if (isa<TanhOp>(op)) {
    spec.kind = Activation::Tanh;
  }
  return spec;
}

std::vector<std::pair<std::string, int64_t>>
cnnc::cnn::unfreezeSchedule(ModuleOp module) {
  std::vector<std::pair<std::string, int64_t>> schedule;
  for (auto group : module.getOps<GroupOp>())
    if (auto epoch = group.getUnfreezeEpoch())
      schedule.emplace_back(group.getSymName().str(), (int64_t)*epoch);
  return schedule;
}

/// Fan-in of the weight that parameter `param` belongs to: its own for a
/// weight, the sibling weight's for a bias.
static int64_t fanIn(ParamOp param) {
  auto shape = param.getType().cast<ShapedType>().getShape();
  if (shape.size() >= 2) {
    int64_t f = 1;
    for (int64_t d : shape.drop_front())
      f *= d;
    return f;
  }
  for (Operation *user : param->getUsers()) {
    Value weight;
    bool transB = true;
    if (auto conv = dyn_cast<Conv2dOp>(user)) {
      weight = conv.getWeight();
    } else if (auto conv = dyn_cast<FusedConv2dOp>(user)) {
      weight = conv.getWeight();
    } else if (auto gemm = dyn_cast<GemmOp>(user)) {
      weight = gemm.getB();
      transB = gemm.getTransB();
    } else if (auto gemm = dyn_cast<FusedGemmOp>(user)) {
      weight = gemm.getB();
      transB = gemm.getTransB();
    }
    if (auto pack =
            weight ? weight.getDefiningOp<PackWeightsOp>() : PackWeightsOp())
      weight = pack.getInput(); // the plain weight's fan-in
    if (weight && weight != param.getResult()) {
      auto ws = weight.getType().cast<ShapedType>().getShape();
      int64_t f = 1;
      for (int64_t d : ws.drop_front())
        f *= d;
      return transB ? f : ws[0];
    }
  }
  return shape.empty() ? 1 : shape[0];
}

/// PyTorch's default initializers: kaiming_uniform(a=sqrt(5)) for weights
/// (bound 1/sqrt(fan_in)) and U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for biases.
/// Seeded per parameter name so adding a layer does not change the others.
void ParamOp::materializeInit(uint64_t seed, float *out) {
  ParamOp param = *this;
  int64_t n = param.getNumElements();
  StringRef init = getInit() ? *getInit() : "zeros";
  if (init == "zeros" || init == "ones") {
    std::fill(out, out + n, init == "ones" ? 1.0f : 0.0f);
    return;
  }
  double bound = 1.0 / std::sqrt((double)std::max<int64_t>(fanIn(param), 1));
  std::mt19937_64 rng(seed ^ llvm::hash_value(param.getName()));
  std::uniform_real_distribution<double> dist(-bound, bound);
  for (int64_t i = 0; i < n; ++i)
    out[i] = (float)dist(rng);
}

bool ParamOp::isInGroupOrPrefix(StringRef name) {
  FlatSymbolRefAttr group = getGroupAttr();
  return getName().startswith(name) || (group && group.getValue() == name);
}

static LogicalResult verify(ActivationGradOp op) {
  // SiLU, HardSwish and GELU are fused gates (FuseOps); their derivatives
  // need the input, which this op does not take.
  if (op.getActivation() == Activation::SiLU ||
      op.getActivation() == Activation::HardSwish ||
      op.getActivation() == Activation::Gelu)
    return op.emitOpError("the derivative of ")
           << stringifyActivation(op.getActivation())
           << " is not a function of its output";
  return success();
}

static LogicalResult verify(ConstantOp op) {
  if (op.getValue().getType() != op.getType())
    return op.emitOpError("value of type ")
           << op.getValue().getType() << " does not match the result type "
           << op.getType();
  return success();
}

OpFoldResult ConstantOp::fold(ArrayRef<Attribute>) { return getValueAttr(); }

static LogicalResult verify(GroupOp op) {
  if (auto lr = op.getLrAttr())
    if (!(lr.getValueAsDouble() >= 0.0))
      return op.emitOpError("learning rate must be non-negative, got ")
             << lr.getValueAsDouble();
  if (auto e = op.getUnfreezeEpochAttr()) {
    if (e.getInt() < 1)
      return op.emitOpError("unfreeze epoch must be >= 1, got ") << e.getInt();
    if (!op.getFrozen())
      return op.emitOpError("group '")
             << op.getSymName() << "' has an unfreeze epoch but is not frozen";
  }
  return success();
}

static LogicalResult verify(Pool2dBackwardOp op) {
  if (op.getKind() == PoolKind::None)
    return op.emitOpError("kind must be max or avg");
  return success();
}

static LogicalResult verify(TrainPlanOp op) {
  static const char *kLosses[] = {"cross_entropy", "mse"};
  static const char *kOptimizers[] = {"sgd", "adam", "adamw"};
  if (!llvm::is_contained(kLosses, op.getLoss()))
    return op.emitOpError("unknown loss '")
           << op.getLoss() << "' (expected cross_entropy or mse)";
  if (!llvm::is_contained(kOptimizers, op.getOptimizer()))
    return op.emitOpError("unknown optimizer '")
           << op.getOptimizer() << "' (expected sgd, adam or adamw)";
  if (!(op.getLr().convertToDouble() >= 0.0))
    return op.emitOpError("learning rate must be non-negative");
  if (auto e = op.getEpochsAttr())
    if (e.getInt() < 1)
      return op.emitOpError("epochs must be >= 1");
  if (auto b = op.getBatchAttr())
    if (b.getInt() < 1)
      return op.emitOpError("batch must be >= 1");
  return success();
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

/// Checks a window attribute list and returns it, or fails.
static FailureOr<SmallVector<int64_t>>
windowAttr(Optional<Location> loc, ArrayAttr attr, size_t n, StringRef name) {
  SmallVector<int64_t> v = toI64(attr);
  if (v.size() != n) {
    (void)emitOptionalError(loc, "'", name, "' must have ", n, " entries, got ",
                            v.size());
    return failure();
  }
  return v;
}

static LogicalResult inferWindowed(Optional<Location> loc, StringRef opName,
                                   ArrayRef<int64_t> inShape, int64_t channels,
                                   ArrayRef<int64_t> kernel, ArrayAttr stridesA,
                                   ArrayAttr padsA, ArrayAttr dilationsA,
                                   bool ceilMode,
                                   SmallVectorImpl<int64_t> &out) {
  auto strides = windowAttr(loc, stridesA, 2, "strides");
  auto pads = windowAttr(loc, padsA, 4, "pads");
  auto dilations = windowAttr(loc, dilationsA, 2, "dilations");
  if (failed(strides) || failed(pads) || failed(dilations))
    return failure();
  out.clear();
  out.push_back(inShape[0]);
  out.push_back(channels);
  for (int i = 0; i < 2; ++i) {
    std::string error;
    auto size =
        windowOutputSize(inShape[2 + i], kernel[i], (*strides)[i], (*pads)[i],
                         (*pads)[2 + i], (*dilations)[i], ceilMode, error);
    if (failed(size))
      return emitOptionalError(loc, opName, " on input ", shapeStr(inShape),
                               ", spatial axis ", i, ": ", error);
    out.push_back(*size);
  }
  return success();
}

static LogicalResult inferConvShape(Optional<Location> loc, StringRef name,
                                    ArrayRef<int64_t> in, ArrayRef<int64_t> w,
                                    Value bias, int64_t group,
                                    ArrayAttr strides, ArrayAttr pads,
                                    ArrayAttr dilations,
                                    SmallVectorImpl<int64_t> &out) {
  if (failed(checkRank(loc, name, "input", in, 4)))
    return failure();
  if (group < 1)
    return emitOptionalError(loc, name, " group must be >= 1, got ", group);
  if (llvm::any_of(w, [](int64_t d) { return d == kDyn; }))
    return emitOptionalError(loc, name, " weight must have a static shape");
  // A packed weight (cnn.pack_weights) holds the OIHW weight it was made of.
  std::array<int64_t, 4> plain;
  if (w.size() == 5) {
    if (group != 1)
      return emitOptionalError(loc, name, ": a packed weight (", shapeStr(w),
                               ") needs group 1, got ", group);
    plain = {w[0] * w[4], w[1], w[2], w[3]};
    w = plain;
  }
  // A Winograd-transformed 3x3 weight ((T+2)^2 x M/L x C*L).
  if (w.size() == 3) {
    if (group != 1 || !PackWeightsOp::winogradTile(w[0]) || in[1] == kDyn ||
        in[1] < 1 || w[2] % in[1] != 0)
      return emitOptionalError(loc, name, ": ", shapeStr(w),
                               " is not a Winograd weight of an ungrouped "
                               "convolution of ",
                               in[1],
                               " input channels ((T+2)^2 x M/L x C*L, T = "
                               "4)");
    if (!unitStridesAndDilations(strides, dilations))
      return emitOptionalError(loc, name,
                               ": a Winograd weight needs strides "
                               "and dilations of 1");
    plain = {w[1] * (w[2] / in[1]), in[1], 3, 3};
    w = plain;
  }
  if (failed(checkRank(loc, name, "weight", w, 4)))
    return failure();
  if (w[0] % group != 0)
    return emitOptionalError(loc, name, ": ", w[0],
                             " output channels are not divisible by group ",
                             group);
  if (in[1] != kDyn && in[1] != w[1] * group)
    return emitOptionalError(loc, name, ": input has ", in[1],
                             " channels but the weight ", shapeStr(w),
                             " with group ", group, " expects ", w[1] * group);
  if (bias) {
    ArrayRef<int64_t> b = shapeOf(bias);
    if (b.size() != 1 || b[0] != w[0])
      return emitOptionalError(loc, name, ": bias of shape ", shapeStr(b),
                               " does not match ", w[0], " output channels");
  }
  return inferWindowed(loc, name, in, w[0], {w[2], w[3]}, strides, pads,
                       dilations, /*ceilMode=*/false, out);
}

LogicalResult Conv2dOp::inferReturnTypes(MLIRContext *ctx,
                                         Optional<Location> loc,
                                         ValueRange operands,
                                         DictionaryAttr attrs, RegionRange regs,
                                         SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<Conv2dOpAdaptor>(ctx, loc, operands, attrs,
                                                   regs)))
    return failure();
  Conv2dOpAdaptor op(operands, attrs, regs);
  SmallVector<int64_t> out;
  if (failed(inferConvShape(loc, "conv2d", shapeOf(op.getInput()),
                            shapeOf(op.getWeight()), op.getBias(),
                            op.getGroup(), op.getStrides(), op.getPads(),
                            op.getDilations(), out)))
    return failure();
  results.push_back(f32Tensor(ctx, out));
  return success();
}

// The activation is an enum attribute (the verifier has checked its case);
// what is left to check is clip's interval.
static LogicalResult checkActivation(Optional<Location> loc, Activation act,
                                     float min, float max) {
  if (act == Activation::Clip && min > max)
    return emitOptionalError(loc, "clip min ", min, " is greater than max ",
                             max);
  return success();
}

LogicalResult FusedConv2dOp::inferReturnTypes(
    MLIRContext *ctx, Optional<Location> loc, ValueRange operands,
    DictionaryAttr attrs, RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<FusedConv2dOpAdaptor>(ctx, loc, operands,
                                                        attrs, regs)))
    return failure();
  FusedConv2dOpAdaptor op(operands, attrs, regs);
  SmallVector<int64_t> conv;
  if (failed(inferConvShape(loc, "fused_conv2d", shapeOf(op.getInput()),
                            shapeOf(op.getWeight()), op.getBias(),
                            op.getGroup(), op.getStrides(), op.getPads(),
                            op.getDilations(), conv)))
    return failure();
  for (Value v : {op.getScale(), op.getShift()}) {
    if (!v)
      continue;
    ArrayRef<int64_t> s = shapeOf(v);
    if (s.size() != 1 || s[0] != conv[1])
      return emitOptionalError(loc,
                               "fused_conv2d: channel scale/shift of "
                               "shape ",
                               shapeStr(s), " does not match ", conv[1],
                               " channels");
  }
  if (!op.getInputScale() != !op.getInputShift())
    return emitOptionalError(
        loc, "fused_conv2d: input_scale and input_shift go together");
  if (!op.getInputScale() && attrs.get("input_relu"))
    return emitOptionalError(
        loc, "fused_conv2d: input_relu needs input_scale and input_shift");
  if (op.getInputScale()) {
    int64_t cin = shapeOf(op.getInput())[1];
    for (Value v : {op.getInputScale(), op.getInputShift()}) {
      ArrayRef<int64_t> s = shapeOf(v);
      if (s.size() != 1 || (s[0] != cin && cin != kDyn))
        return emitOptionalError(loc,
                                 "fused_conv2d: input scale/shift of "
                                 "shape ",
                                 shapeStr(s), " does not match ", cin,
                                 " input channels");
    }
    if (llvm::any_of(toI64(op.getPads()), [](int64_t p) { return p != 0; }))
      return emitOptionalError(loc, "fused_conv2d: an input scale and shift "
                                    "need a convolution without padding "
                                    "(the padding would not be zero)");
  }
  if (op.getResidual()) {
    ArrayRef<int64_t> r = shapeOf(op.getResidual());
    for (int i = 0; i < 4; ++i)
      if (r[i] != conv[i] && r[i] != kDyn && conv[i] != kDyn)
        return emitOptionalError(loc, "fused_conv2d: residual of shape ",
                                 shapeStr(r),
                                 " does not match the "
                                 "convolution's ",
                                 shapeStr(conv));
  }
  if (failed(checkActivation(loc, op.getActivation(),
                             op.getMin().convertToFloat(),
                             op.getMax().convertToFloat())))
    return failure();
  if (op.getPool() == PoolKind::None) {
    results.push_back(f32Tensor(ctx, conv));
    return success();
  }
  auto kernel = windowAttr(loc, op.getPoolKernel(), 2, "pool_kernel");
  if (failed(kernel))
    return failure();
  SmallVector<int64_t> out;
  Builder b(ctx);
  if (failed(inferWindowed(loc, "fused_conv2d pooling", conv, conv[1], *kernel,
                           op.getPoolStrides(), op.getPoolPads(),
                           b.getI64ArrayAttr({1, 1}), op.getPoolCeilMode(),
                           out)))
    return failure();
  results.push_back(f32Tensor(ctx, out));
  return success();
}

template <typename Adaptor>
static LogicalResult inferPool(MLIRContext *ctx, Optional<Location> loc,
                               StringRef name, Adaptor op,
                               SmallVectorImpl<Type> &results) {
  ArrayRef<int64_t> in = shapeOf(op.getInput());
  if (failed(checkRank(loc, name, "input", in, 4)))
    return failure();
  auto kernel = windowAttr(loc, op.getKernelShape(), 2, "kernel_shape");
  if (failed(kernel))
    return failure();
  SmallVector<int64_t> out;
  if (failed(inferWindowed(loc, name, in, in[1], *kernel, op.getStrides(),
                           op.getPads(), op.getDilations(), op.getCeilMode(),
                           out)))
    return failure();
  // A pad at least as large as the kernel would make windows of pure padding.
  SmallVector<int64_t> pads = toI64(op.getPads());
  for (int i = 0; i < 4; ++i)
    if (pads[i] >= (*kernel)[i % 2])
      return emitOptionalError(loc, name, ": pad ", pads[i],
                               " must be smaller than the kernel size ",
                               (*kernel)[i % 2]);
  results.push_back(f32Tensor(ctx, out));
  return success();
}

LogicalResult MaxPool2dOp::inferReturnTypes(
    MLIRContext *ctx, Optional<Location> loc, ValueRange operands,
    DictionaryAttr attrs, RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<MaxPool2dOpAdaptor>(ctx, loc, operands, attrs,
                                                      regs)))
    return failure();
  return inferPool(ctx, loc, "max_pool2d",
                   MaxPool2dOpAdaptor(operands, attrs, regs), results);
}

LogicalResult AvgPool2dOp::inferReturnTypes(
    MLIRContext *ctx, Optional<Location> loc, ValueRange operands,
    DictionaryAttr attrs, RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<AvgPool2dOpAdaptor>(ctx, loc, operands, attrs,
                                                      regs)))
    return failure();
  return inferPool(ctx, loc, "avg_pool2d",
                   AvgPool2dOpAdaptor(operands, attrs, regs), results);
}

static LogicalResult inferGlobalPool(MLIRContext *ctx, Optional<Location> loc,
                                     ValueRange operands,
                                     SmallVectorImpl<Type> &results) {
  ArrayRef<int64_t> in = shapeOf(operands[0]);
  if (failed(checkRank(loc, "global pooling", "input", in, 4)))
    return failure();
  results.push_back(f32Tensor(ctx, {in[0], in[1], 1, 1}));
  return success();
}

LogicalResult GlobalAvgPoolOp::inferReturnTypes(
    MLIRContext *ctx, Optional<Location> loc, ValueRange operands,
    DictionaryAttr attrs, RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<GlobalAvgPoolOpAdaptor>(ctx, loc, operands,
                                                          attrs, regs)))
    return failure();
  return inferGlobalPool(ctx, loc, operands, results);
}

LogicalResult GlobalMaxPoolOp::inferReturnTypes(
    MLIRContext *ctx, Optional<Location> loc, ValueRange operands,
    DictionaryAttr attrs, RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<GlobalMaxPoolOpAdaptor>(ctx, loc, operands,
                                                          attrs, regs)))
    return failure();
  return inferGlobalPool(ctx, loc, operands, results);
}

LogicalResult SqueezeExciteOp::inferReturnTypes(
    MLIRContext *ctx, Optional<Location> loc, ValueRange operands,
    DictionaryAttr attrs, RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<SqueezeExciteOpAdaptor>(ctx, loc, operands,
                                                          attrs, regs)))
    return failure();
  SqueezeExciteOpAdaptor op(operands, attrs, regs);
  ArrayRef<int64_t> in = shapeOf(op.getInput()),
                    w1 = shapeOf(op.getReduceWeight()),
                    w2 = shapeOf(op.getExpandWeight());
  for (int i = 1; i < 4; ++i)
    if (in[i] == kDyn)
      return emitOptionalError(loc,
                               "squeeze_excite: the input's C, H and W "
                               "must be known at compile time, got ",
                               shapeStr(in));
  int64_t c = in[1], s = w1[0];
  SmallVector<int64_t> reduceShape = {s, c, 1, 1}, expandShape = {c, s, 1, 1};
  if (s == kDyn || w1 != ArrayRef<int64_t>(reduceShape) ||
      w2 != ArrayRef<int64_t>(expandShape))
    return emitOptionalError(loc, "squeeze_excite: the weights must be [S, ", c,
                             ", 1, 1] and [", c, ", S, 1, 1], got ",
                             shapeStr(w1), " and ", shapeStr(w2));
  if (shapeOf(op.getReduceBias()) != ArrayRef<int64_t>{s} ||
      shapeOf(op.getExpandBias()) != ArrayRef<int64_t>{c})
    return emitOptionalError(loc, "squeeze_excite: the biases must be [", s,
                             "] and [", c, "], got ",
                             shapeStr(shapeOf(op.getReduceBias())), " and ",
                             shapeStr(shapeOf(op.getExpandBias())));
  Activation gate = op.getGateAttr().getValue();
  if (gate != Activation::Sigmoid && gate != Activation::Clip)
    return emitOptionalError(loc,
                             "squeeze_excite: the gate must be sigmoid "
                             "or clip, got ",
                             stringifyActivation(gate));
  results.push_back(op.getInput().getType());
  return success();
}

LogicalResult BatchNormOp::inferReturnTypes(
    MLIRContext *ctx, Optional<Location> loc, ValueRange operands,
    DictionaryAttr attrs, RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<BatchNormOpAdaptor>(ctx, loc, operands, attrs,
                                                      regs)))
    return failure();
  BatchNormOpAdaptor op(operands, attrs, regs);
  ArrayRef<int64_t> in = shapeOf(op.getInput());
  if (in.size() < 2)
    return emitOptionalError(loc, "batch_norm input must have rank >= 2");
  int64_t c = in[1];
  const char *names[] = {"scale", "bias", "mean", "variance"};
  for (int i = 0; i < 4; ++i) {
    ArrayRef<int64_t> s = shapeOf(operands[1 + i]);
    if (s.size() != 1 || (c != kDyn && s[0] != c))
      return emitOptionalError(loc, "batch_norm ", names[i], " of shape ",
                               shapeStr(s), " does not match ", c, " channels");
  }
  if (!(op.getEpsilon().convertToDouble() > 0.0))
    return emitOptionalError(loc, "batch_norm epsilon must be positive");
  results.push_back(f32Tensor(ctx, in));
  return success();
}

//===----------------------------------------------------------------------===//
// Train-mode BatchNorm
//===----------------------------------------------------------------------===//

/// Channels (axis 1) of a train-mode BatchNorm's rank >= 2 input.
static FailureOr<int64_t> bnChannels(Optional<Location> loc, StringRef name,
                                     Value input) {
  ArrayRef<int64_t> in = shapeOf(input);
  if (in.size() < 2) {
    (void)emitOptionalError(loc, name, " input must have rank >= 2, got ",
                            shapeStr(in));
    return failure();
  }
  return in[1];
}

/// `v` has shape `expected` (a dynamic size matches anything).
static LogicalResult checkShape(Optional<Location> loc, StringRef name,
                                StringRef what, Value v,
                                ArrayRef<int64_t> expected) {
  ArrayRef<int64_t> s = shapeOf(v);
  bool ok = s.size() == expected.size();
  for (size_t i = 0; ok && i < s.size(); ++i)
    ok = s[i] == expected[i] || s[i] == kDyn || expected[i] == kDyn;
  if (!ok)
    return emitOptionalError(loc, name, " ", what, " of shape ", shapeStr(s),
                             " does not match ", shapeStr(expected));
  return success();
}

static LogicalResult checkEpsilon(Optional<Location> loc, StringRef name,
                                  FloatAttr epsilon) {
  if (!(epsilon.getValueAsDouble() > 0.0))
    return emitOptionalError(loc, name, " epsilon must be positive");
  return success();
}

LogicalResult BatchNormStatsOp::inferReturnTypes(
    MLIRContext *ctx, Optional<Location> loc, ValueRange operands,
    DictionaryAttr attrs, RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<BatchNormStatsOpAdaptor>(ctx, loc, operands,
                                                           attrs, regs)))
    return failure();
  BatchNormStatsOpAdaptor op(operands, attrs, regs);
  auto c = bnChannels(loc, "batch_norm_stats", op.getInput());
  if (failed(c))
    return failure();
  results.push_back(f32Tensor(ctx, {2, *c}));
  return success();
}

LogicalResult ReplicaReduceOp::inferReturnTypes(
    MLIRContext *ctx, Optional<Location> loc, ValueRange operands,
    DictionaryAttr attrs, RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<ReplicaReduceOpAdaptor>(ctx, loc, operands,
                                                          attrs, regs)))
    return failure();
  ReplicaReduceOpAdaptor op(operands, attrs, regs);
  StringRef name = "replica_reduce";
  auto c = bnChannels(loc, name, op.getInput());
  if (failed(c))
    return failure();
  bool stats = op.getKind() != ReplicaReduction::Sum;
  SmallVector<int64_t, 2> shape;
  if (stats)
    shape.push_back(2);
  shape.push_back(*c);
  if (failed(checkShape(loc, name, stats ? "statistics" : "sums", op.getValue(),
                        shape)))
    return failure();
  results.push_back(op.getValue().getType());
  return success();
}

LogicalResult BatchNormTrainOp::inferReturnTypes(
    MLIRContext *ctx, Optional<Location> loc, ValueRange operands,
    DictionaryAttr attrs, RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<BatchNormTrainOpAdaptor>(ctx, loc, operands,
                                                           attrs, regs)))
    return failure();
  BatchNormTrainOpAdaptor op(operands, attrs, regs);
  StringRef name = "batch_norm_train";
  auto c = bnChannels(loc, name, op.getInput());
  if (failed(c) ||
      failed(checkShape(loc, name, "stats", op.getStats(), {2, *c})) ||
      failed(checkShape(loc, name, "scale", op.getScale(), {*c})) ||
      failed(checkShape(loc, name, "bias", op.getBias(), {*c})) ||
      failed(checkEpsilon(loc, name, op.getEpsilonAttr())))
    return failure();
  results.push_back(f32Tensor(ctx, shapeOf(op.getInput())));
  return success();
}

LogicalResult BatchNormRunningUpdateOp::inferReturnTypes(
    MLIRContext *ctx, Optional<Location> loc, ValueRange operands,
    DictionaryAttr attrs, RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<BatchNormRunningUpdateOpAdaptor>(
          ctx, loc, operands, attrs, regs)))
    return failure();
  BatchNormRunningUpdateOpAdaptor op(operands, attrs, regs);
  StringRef name = "batch_norm_running_update";
  auto c = bnChannels(loc, name, op.getInput());
  if (failed(c) ||
      failed(
          checkShape(loc, name, "running statistic", op.getRunning(), {*c})) ||
      failed(checkShape(loc, name, "stats", op.getStats(), {2, *c})))
    return failure();
  double m = op.getMomentumAttr().getValueAsDouble();
  if (!(m >= 0.0 && m <= 1.0))
    return emitOptionalError(loc, name, ": momentum must be in [0, 1], got ",
                             m);
  results.push_back(op.getRunning().getType());
  return success();
}

LogicalResult BatchNormTrainGradScaleOp::inferReturnTypes(
    MLIRContext *ctx, Optional<Location> loc, ValueRange operands,
    DictionaryAttr attrs, RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<BatchNormTrainGradScaleOpAdaptor>(
          ctx, loc, operands, attrs, regs)))
    return failure();
  BatchNormTrainGradScaleOpAdaptor op(operands, attrs, regs);
  StringRef name = "batch_norm_train_grad_scale";
  auto c = bnChannels(loc, name, op.getInput());
  if (failed(c) ||
      failed(checkShape(loc, name, "output gradient", op.getGradOutput(),
                        shapeOf(op.getInput()))) ||
      failed(checkShape(loc, name, "stats", op.getStats(), {2, *c})) ||
      failed(checkEpsilon(loc, name, op.getEpsilonAttr())))
    return failure();
  results.push_back(f32Tensor(ctx, {*c}));
  return success();
}

LogicalResult BatchNormTrainGradInputOp::inferReturnTypes(
    MLIRContext *ctx, Optional<Location> loc, ValueRange operands,
    DictionaryAttr attrs, RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<BatchNormTrainGradInputOpAdaptor>(
          ctx, loc, operands, attrs, regs)))
    return failure();
  BatchNormTrainGradInputOpAdaptor op(operands, attrs, regs);
  StringRef name = "batch_norm_train_grad_input";
  auto c = bnChannels(loc, name, op.getInput());
  if (failed(c) ||
      failed(checkShape(loc, name, "output gradient", op.getGradOutput(),
                        shapeOf(op.getInput()))) ||
      failed(checkShape(loc, name, "stats", op.getStats(), {2, *c})) ||
      failed(checkShape(loc, name, "scale", op.getScale(), {*c})) ||
      failed(
          checkShape(loc, name, "scale gradient", op.getGradScale(), {*c})) ||
      failed(checkShape(loc, name, "bias gradient", op.getGradBias(), {*c})) ||
      failed(checkEpsilon(loc, name, op.getEpsilonAttr())))
    return failure();
  results.push_back(f32Tensor(ctx, shapeOf(op.getInput())));
  return success();
}

//===----------------------------------------------------------------------===//
// Dense
//===----------------------------------------------------------------------===//

/// `rows`: fused_gemm's A may have leading dims ([..., M, K], not
/// transposed), each a batch of rows the same B multiplies; the result keeps
/// them ([..., M, N]) and the bias is a vector of N.
template <typename Adaptor>
static LogicalResult inferGemm(MLIRContext *ctx, Optional<Location> loc,
                               Adaptor op, SmallVectorImpl<Type> &results,
                               bool rows = false) {
  ArrayRef<int64_t> a = shapeOf(op.getA()), b = shapeOf(op.getB());
  if (rows && a.size() > 2 && b.size() == 2 && !op.getTransA()) {
    int64_t ka = a.back(), kb = op.getTransB() ? b[1] : b[0];
    int64_t n = op.getTransB() ? b[0] : b[1];
    if (ka != kDyn && kb != kDyn && ka != kb)
      return emitOptionalError(loc, "gemm inner dimensions differ: A ",
                               shapeStr(a), " has ", ka, ", B ", shapeStr(b),
                               " has ", kb);
    if (op.getC() &&
        (shapeOf(op.getC()).size() != 1 || shapeOf(op.getC())[0] != n))
      return emitOptionalError(
          loc, "gemm bias of shape ", shapeStr(shapeOf(op.getC())),
          " must be a vector of ", n, " when A has leading dims");
    SmallVector<int64_t> shape(a.begin(), a.end());
    shape.back() = n;
    results.push_back(f32Tensor(ctx, shape));
    return success();
  }
  if (a.size() != 2 || b.size() != 2)
    return emitOptionalError(loc, "gemm operands must be 2-D, got ",
                             shapeStr(a), " and ", shapeStr(b));
  int64_t m = op.getTransA() ? a[1] : a[0], ka = op.getTransA() ? a[0] : a[1];
  int64_t kb = op.getTransB() ? b[1] : b[0], n = op.getTransB() ? b[0] : b[1];
  if (ka != kDyn && kb != kDyn && ka != kb)
    return emitOptionalError(
        loc, "gemm inner dimensions differ: A ", shapeStr(a),
        (op.getTransA() ? " (transposed)" : ""), " has ", ka, ", B ",
        shapeStr(b), (op.getTransB() ? " (transposed)" : ""), " has ", kb);
  if (op.getC()) {
    ArrayRef<int64_t> c = shapeOf(op.getC());
    SmallVector<int64_t> bcast;
    if (c.size() > 2 || !OpTrait::util::getBroadcastedShape({m, n}, c, bcast) ||
        (bcast[0] != m && m != kDyn) || bcast[1] != n)
      return emitOptionalError(loc, "gemm bias of shape ", shapeStr(c),
                               " does not broadcast to ", shapeStr({m, n}));
  }
  results.push_back(f32Tensor(ctx, {m, n}));
  return success();
}

LogicalResult GemmOp::inferReturnTypes(MLIRContext *ctx, Optional<Location> loc,
                                       ValueRange operands,
                                       DictionaryAttr attrs, RegionRange regs,
                                       SmallVectorImpl<Type> &results) {
  if (failed(
          checkInferenceInputs<GemmOpAdaptor>(ctx, loc, operands, attrs, regs)))
    return failure();
  return inferGemm(ctx, loc, GemmOpAdaptor(operands, attrs, regs), results);
}

LogicalResult FusedGemmOp::inferReturnTypes(
    MLIRContext *ctx, Optional<Location> loc, ValueRange operands,
    DictionaryAttr attrs, RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<FusedGemmOpAdaptor>(ctx, loc, operands, attrs,
                                                      regs)))
    return failure();
  FusedGemmOpAdaptor op(operands, attrs, regs);
  if (failed(checkActivation(loc, op.getActivation(),
                             op.getMin().convertToFloat(),
                             op.getMax().convertToFloat())))
    return failure();
  return inferGemm(ctx, loc, op, results, /*rows=*/true);
}

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *ctx,
                                         Optional<Location> loc,
                                         ValueRange operands,
                                         DictionaryAttr attrs, RegionRange regs,
                                         SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<MatMulOpAdaptor>(ctx, loc, operands, attrs,
                                                   regs)))
    return failure();
  auto sa = shapeOf(operands[0]), sb = shapeOf(operands[1]);
  SmallVector<int64_t> a(sa.begin(), sa.end()), b(sb.begin(), sb.end());
  if (a.empty() || b.empty())
    return emitOptionalError(loc, "matmul operands must have rank >= 1");
  bool vecA = a.size() == 1, vecB = b.size() == 1;
  if (vecA)
    a.insert(a.begin(), 1);
  if (vecB)
    b.push_back(1);
  int64_t ka = a.back(), kb = b[b.size() - 2];
  if (ka != kDyn && kb != kDyn && ka != kb)
    return emitOptionalError(loc,
                             "matmul inner dimensions differ: ", shapeStr(a),
                             " and ", shapeStr(b));
  SmallVector<int64_t> batch;
  if (!OpTrait::util::getBroadcastedShape(ArrayRef<int64_t>(a).drop_back(2),
                                          ArrayRef<int64_t>(b).drop_back(2),
                                          batch))
    return emitOptionalError(loc, "matmul batch dimensions do not broadcast: ",
                             shapeStr(a), " and ", shapeStr(b));
  SmallVector<int64_t> out(batch);
  if (!vecA)
    out.push_back(a[a.size() - 2]);
  if (!vecB)
    out.push_back(b.back());
  results.push_back(f32Tensor(ctx, out));
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

#define CNN_SAME_TYPE_INFER(OP)                                                \
  LogicalResult OP::inferReturnTypes(MLIRContext *ctx, Optional<Location> loc, \
                                     ValueRange operands,                      \
                                     DictionaryAttr attrs, RegionRange regs,   \
                                     SmallVectorImpl<Type> &results) {         \
    if (failed(checkInferenceInputs<OP##Adaptor>(ctx, loc, operands, attrs,    \
                                                 regs)))                       \
      return failure();                                                        \
    results.push_back(operands[0].getType());                                  \
    return success();                                                          \
  }
CNN_SAME_TYPE_INFER(ReluOp)
CNN_SAME_TYPE_INFER(SigmoidOp)
CNN_SAME_TYPE_INFER(TanhOp)
CNN_SAME_TYPE_INFER(SqrtOp)
CNN_SAME_TYPE_INFER(ElementwiseUnaryOp)
CNN_SAME_TYPE_INFER(ErfOp)
CNN_SAME_TYPE_INFER(LeakyReluOp)
CNN_SAME_TYPE_INFER(ClipOp)
CNN_SAME_TYPE_INFER(DropoutOp)
#undef CNN_SAME_TYPE_INFER

static LogicalResult verify(ClipOp op) {
  if (op.getMin().convertToDouble() > op.getMax().convertToDouble())
    return op.emitOpError("min ")
           << op.getMin().convertToDouble() << " is greater than max "
           << op.getMax().convertToDouble();
  return success();
}

static LogicalResult verify(DropoutOp op) {
  double r = op.getRatio().convertToDouble();
  if (!(r >= 0.0 && r < 1.0))
    return op.emitOpError("ratio must be in [0, 1), got ") << r;
  return success();
}

static LogicalResult inferBroadcast(MLIRContext *ctx, Optional<Location> loc,
                                    StringRef name, ValueRange operands,
                                    SmallVectorImpl<Type> &results) {
  ArrayRef<int64_t> a = shapeOf(operands[0]), b = shapeOf(operands[1]);
  SmallVector<int64_t> out;
  if (!OpTrait::util::getBroadcastedShape(a, b, out))
    return emitOptionalError(loc, name, ": shapes ", shapeStr(a), " and ",
                             shapeStr(b), " do not broadcast");
  results.push_back(f32Tensor(ctx, out));
  return success();
}

#define CNN_BROADCAST_INFER(OP, NAME)                                          \
  LogicalResult OP::inferReturnTypes(MLIRContext *ctx, Optional<Location> loc, \
                                     ValueRange operands,                      \
                                     DictionaryAttr attrs, RegionRange regs,   \
                                     SmallVectorImpl<Type> &results) {         \
    if (failed(checkInferenceInputs<OP##Adaptor>(ctx, loc, operands, attrs,    \
                                                 regs)))                       \
      return failure();                                                        \
    return inferBroadcast(ctx, loc, NAME, operands, results);                  \
  }
CNN_BROADCAST_INFER(AddOp, "add")
CNN_BROADCAST_INFER(SubOp, "sub")
CNN_BROADCAST_INFER(MulOp, "mul")
CNN_BROADCAST_INFER(DivOp, "div")
CNN_BROADCAST_INFER(PowOp, "pow")
CNN_BROADCAST_INFER(MaxOp, "max")
CNN_BROADCAST_INFER(MinOp, "min")
CNN_BROADCAST_INFER(EqualOp, "equal")
CNN_BROADCAST_INFER(PReluOp, "prelu")
#undef CNN_BROADCAST_INFER

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

/// Product of `dims`, or kDyn when one of them is dynamic or it overflows.
static int64_t product(ArrayRef<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims) {
    if (d == kDyn || __builtin_mul_overflow(p, d, &p))
      return kDyn;
  }
  return p;
}

LogicalResult TransposeOp::inferReturnTypes(
    MLIRContext *ctx, Optional<Location> loc, ValueRange operands,
    DictionaryAttr attrs, RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<TransposeOpAdaptor>(ctx, loc, operands, attrs,
                                                      regs)))
    return failure();
  TransposeOpAdaptor op(operands, attrs, regs);
  ArrayRef<int64_t> in = shapeOf(op.getInput());
  SmallVector<int64_t> perm = toI64(op.getPerm());
  SmallVector<bool> seen(in.size(), false);
  if (perm.size() != in.size())
    return emitOptionalError(loc, "transpose: perm has ", perm.size(),
                             " entries for a rank-", in.size(), " input");
  SmallVector<int64_t> out;
  for (int64_t p : perm) {
    if (p < 0 || p >= (int64_t)in.size() || seen[p])
      return emitOptionalError(loc, "transpose: perm is not a permutation "
                                    "of the input's axes");
    seen[p] = true;
    out.push_back(in[p]);
  }
  results.push_back(f32Tensor(ctx, out));
  return success();
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *ctx,
                                        Optional<Location> loc,
                                        ValueRange operands,
                                        DictionaryAttr attrs, RegionRange regs,
                                        SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<SliceOpAdaptor>(ctx, loc, operands, attrs,
                                                  regs)))
    return failure();
  SliceOpAdaptor op(operands, attrs, regs);
  ArrayRef<int64_t> in = shapeOf(op.getInput());
  SmallVector<int64_t> starts = toI64(op.getStarts()),
                       steps = toI64(op.getSteps()),
                       sizes = toI64(op.getSizes());
  if (starts.size() != in.size() || steps.size() != in.size() ||
      sizes.size() != in.size())
    return emitOptionalError(loc,
                             "slice: starts, steps and sizes need one "
                             "entry per axis of the rank-",
                             in.size(), " input");
  for (size_t d = 0; d < in.size(); ++d) {
    if (in[d] == kDyn) {
      if (starts[d] != 0 || steps[d] != 1 || sizes[d] != kDyn)
        return emitOptionalError(loc, "slice: axis ", d,
                                 " is dynamic (the batch): it can only be "
                                 "taken whole");
      continue;
    }
    // The first and last index read, without overflow for any attribute.
    bool ok = sizes[d] >= 1 && sizes[d] <= in[d] && steps[d] != 0 &&
              steps[d] >= -in[d] && steps[d] <= in[d] && starts[d] >= 0 &&
              starts[d] < in[d];
    int64_t last = ok ? starts[d] + (sizes[d] - 1) * steps[d] : -1;
    if (!ok || last < 0 || last >= in[d])
      return emitOptionalError(loc, "slice: axis ", d, " reads outside its ",
                               in[d], " elements (start ", starts[d], ", step ",
                               steps[d], ", size ", sizes[d], ")");
  }
  results.push_back(f32Tensor(ctx, sizes));
  return success();
}

LogicalResult PackWeightsOp::inferReturnTypes(
    MLIRContext *ctx, Optional<Location> loc, ValueRange operands,
    DictionaryAttr attrs, RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<PackWeightsOpAdaptor>(ctx, loc, operands,
                                                        attrs, regs)))
    return failure();
  PackWeightsOpAdaptor op(operands, attrs, regs);
  ArrayRef<int64_t> w = shapeOf(op.getInput());
  int64_t lanes = op.getLanes();
  if (failed(checkRank(loc, "pack_weights", "input", w, 4)))
    return failure();
  if (llvm::any_of(w, [](int64_t d) { return d == kDyn; }) || w[0] % lanes != 0)
    return emitOptionalError(loc, "pack_weights: the weight ", shapeStr(w),
                             " has no whole vectors of ", lanes,
                             " output channels");
  if (int64_t tile = op.getWinograd()) {
    if (tile != 4)
      return emitOptionalError(loc, "pack_weights: winograd = ", tile,
                               " is not an output tile cnnc has (4)");
    if (w[2] != 3 || w[3] != 3)
      return emitOptionalError(loc,
                               "pack_weights: winograd needs a 3x3 "
                               "weight, got ",
                               shapeStr(w));
    results.push_back(
        f32Tensor(ctx, {(tile + 2) * (tile + 2), w[0] / lanes, w[1] * lanes}));
    return success();
  }
  results.push_back(f32Tensor(ctx, {w[0] / lanes, w[1], w[2], w[3], lanes}));
  return success();
}

int64_t PackWeightsOp::winogradTile(int64_t transformedTaps) {
  return transformedTaps == 36 ? 4 : 0; // F(4x4, 3x3): 6 x 6 taps
}

LogicalResult UnpackWeightsOp::inferReturnTypes(
    MLIRContext *ctx, Optional<Location> loc, ValueRange operands,
    DictionaryAttr attrs, RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<UnpackWeightsOpAdaptor>(ctx, loc, operands,
                                                          attrs, regs)))
    return failure();
  UnpackWeightsOpAdaptor op(operands, attrs, regs);
  ArrayRef<int64_t> p = shapeOf(op.getInput());
  if (failed(checkRank(loc, "unpack_weights", "input", p, 5)))
    return failure();
  if (llvm::any_of(p, [](int64_t d) { return d == kDyn; }))
    return emitOptionalError(loc, "unpack_weights: the packed weight ",
                             shapeStr(p), " must have a static shape");
  results.push_back(f32Tensor(ctx, {p[0] * p[4], p[1], p[2], p[3]}));
  return success();
}

LogicalResult
FlattenOp::inferReturnTypes(MLIRContext *ctx, Optional<Location> loc,
                            ValueRange operands, DictionaryAttr attrs,
                            RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<FlattenOpAdaptor>(ctx, loc, operands, attrs,
                                                    regs)))
    return failure();
  FlattenOpAdaptor op(operands, attrs, regs);
  ArrayRef<int64_t> in = shapeOf(op.getInput());
  int64_t rank = in.size(), axis = op.getAxis();
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis > rank)
    return emitOptionalError(loc, "flatten axis ", op.getAxis(),
                             " is out of range for rank ", rank);
  results.push_back(f32Tensor(
      ctx, {product(in.take_front(axis)), product(in.drop_front(axis))}));
  return success();
}

LogicalResult
ReshapeOp::inferReturnTypes(MLIRContext *ctx, Optional<Location> loc,
                            ValueRange operands, DictionaryAttr attrs,
                            RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<ReshapeOpAdaptor>(ctx, loc, operands, attrs,
                                                    regs)))
    return failure();
  ReshapeOpAdaptor op(operands, attrs, regs);
  ArrayRef<int64_t> in = shapeOf(op.getInput());
  SmallVector<int64_t> target = toI64(op.getShape());
  SmallVector<int64_t> out;
  int inferAt = -1;
  // Elements of the input not accounted for by copied (0) dims.
  int64_t known = 1;
  bool dynamicRest = false;
  llvm::SmallSet<int64_t, 4> copied;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t d = target[i];
    if (d == 0) {
      if ((int64_t)i >= (int64_t)in.size())
        return emitOptionalError(loc, "reshape: entry ", i,
                                 " is 0 but the input has rank ", in.size());
      out.push_back(in[i]);
      copied.insert(i);
    } else if (d == -1) {
      if (inferAt >= 0)
        return emitOptionalError(loc, "reshape: more than one -1 in shape");
      inferAt = i;
      out.push_back(kDyn);
    } else if (d < -1) {
      return emitOptionalError(loc, "reshape: invalid dimension ", d);
    } else {
      out.push_back(d);
      if (__builtin_mul_overflow(known, d, &known))
        return emitOptionalError(loc, "reshape: target shape ",
                                 shapeStr(target), " overflows");
    }
  }
  int64_t rest = 1;
  for (size_t i = 0; i < in.size(); ++i) {
    int64_t d = in[i];
    if (copied.contains(i))
      continue;
    if (d == kDyn)
      dynamicRest = true;
    else if (__builtin_mul_overflow(rest, d, &rest))
      return emitOptionalError(loc, "reshape: input shape overflows");
  }
  if (inferAt >= 0) {
    if (!dynamicRest) {
      if (known == 0 || rest % known != 0)
        return emitOptionalError(loc, "reshape: cannot reshape ", shapeStr(in),
                                 " into ", shapeStr(target));
      out[inferAt] = rest / known;
    }
  } else if (!dynamicRest && rest != known) {
    return emitOptionalError(loc, "reshape: ", shapeStr(in), " has ", rest,
                             " elements outside copied dims, target ",
                             shapeStr(target), " has ", known);
  }
  results.push_back(f32Tensor(ctx, out));
  return success();
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *ctx,
                                         Optional<Location> loc,
                                         ValueRange operands,
                                         DictionaryAttr attrs, RegionRange regs,
                                         SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<ConcatOpAdaptor>(ctx, loc, operands, attrs,
                                                   regs)))
    return failure();
  ConcatOpAdaptor op(operands, attrs, regs);
  if (operands.empty())
    return emitOptionalError(loc, "concat needs at least one input");
  ArrayRef<int64_t> first = shapeOf(operands[0]);
  SmallVector<int64_t> out(first.begin(), first.end());
  auto axis = normalizeAxis(loc, op.getAxis(), out.size(), "concat");
  if (failed(axis))
    return failure();
  for (Value v : operands.drop_front()) {
    ArrayRef<int64_t> s = shapeOf(v);
    if (s.size() != out.size())
      return emitOptionalError(loc, "concat inputs have different ranks");
    for (size_t i = 0; i < s.size(); ++i) {
      if ((int64_t)i == *axis) {
        out[i] = (out[i] == kDyn || s[i] == kDyn) ? kDyn : out[i] + s[i];
      } else if (out[i] == kDyn) {
        out[i] = s[i];
      } else if (s[i] != kDyn && s[i] != out[i]) {
        return emitOptionalError(loc, "concat: dimension ", i, " differs (",
                                 out[i], " vs ", s[i], ")");
      }
    }
  }
  results.push_back(f32Tensor(ctx, out));
  return success();
}

LogicalResult PadOp::inferReturnTypes(MLIRContext *ctx, Optional<Location> loc,
                                      ValueRange operands, DictionaryAttr attrs,
                                      RegionRange regs,
                                      SmallVectorImpl<Type> &results) {
  if (failed(
          checkInferenceInputs<PadOpAdaptor>(ctx, loc, operands, attrs, regs)))
    return failure();
  PadOpAdaptor op(operands, attrs, regs);
  ArrayRef<int64_t> in = shapeOf(op.getInput());
  SmallVector<int64_t> pads = toI64(op.getPads());
  if (pads.size() != 2 * in.size())
    return emitOptionalError(loc, "pad: 'pads' must have ", 2 * in.size(),
                             " entries for a rank-", in.size(), " input, got ",
                             pads.size());
  PadMode mode = op.getMode();
  SmallVector<int64_t> out;
  for (size_t i = 0; i < in.size(); ++i) {
    int64_t before = pads[i], after = pads[i + in.size()];
    if (mode != PadMode::Constant && (before > 0 || after > 0)) {
      if (in[i] == kDyn)
        return emitOptionalError(loc, "pad: ", stringifyPadMode(mode),
                                 " padding of axis ", i,
                                 ", whose extent is known only at run time");
      if (mode == PadMode::Reflect && std::max(before, after) >= in[i])
        return emitOptionalError(loc, "pad: reflect padding of axis ", i,
                                 " by ", std::max(before, after),
                                 " needs more than ", in[i], " elements");
    }
    if (in[i] == kDyn) {
      out.push_back(kDyn);
      continue;
    }
    int64_t d;
    if (__builtin_add_overflow(in[i], pads[i], &d) ||
        __builtin_add_overflow(d, pads[i + in.size()], &d))
      return emitOptionalError(loc, "pad: axis ", i, " overflows");
    if (d < 0)
      return emitOptionalError(loc, "pad: axis ", i, " would have size ", d);
    out.push_back(d);
  }
  results.push_back(f32Tensor(ctx, out));
  return success();
}

template <typename Adaptor>
static LogicalResult inferSoftmax(Optional<Location> loc, StringRef name,
                                  Adaptor op, SmallVectorImpl<Type> &results) {
  auto t = op.getInput().getType().template cast<RankedTensorType>();
  if (failed(normalizeAxis(loc, op.getAxis(), t.getRank(), name)))
    return failure();
  results.push_back(t);
  return success();
}

LogicalResult
SoftmaxOp::inferReturnTypes(MLIRContext *ctx, Optional<Location> loc,
                            ValueRange operands, DictionaryAttr attrs,
                            RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<SoftmaxOpAdaptor>(ctx, loc, operands, attrs,
                                                    regs)))
    return failure();
  return inferSoftmax(loc, "softmax", SoftmaxOpAdaptor(operands, attrs, regs),
                      results);
}

LogicalResult LogSoftmaxOp::inferReturnTypes(
    MLIRContext *ctx, Optional<Location> loc, ValueRange operands,
    DictionaryAttr attrs, RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<LogSoftmaxOpAdaptor>(ctx, loc, operands,
                                                       attrs, regs)))
    return failure();
  return inferSoftmax(loc, "log_softmax",
                      LogSoftmaxOpAdaptor(operands, attrs, regs), results);
}

LogicalResult NormalizeOp::inferReturnTypes(
    MLIRContext *ctx, Optional<Location> loc, ValueRange operands,
    DictionaryAttr attrs, RegionRange regs, SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<NormalizeOpAdaptor>(ctx, loc, operands, attrs,
                                                      regs)))
    return failure();
  NormalizeOpAdaptor op(operands, attrs, regs);
  ArrayRef<int64_t> in = shapeOf(op.getInput());
  int64_t axis = (int64_t)op.getAxis();
  if (axis < 1 || axis >= (int64_t)in.size())
    return emitOptionalError(loc, "normalize: axis ", axis,
                             " must leave a row axis before it and an axis "
                             "to normalize after it (rank ",
                             in.size(), ")");
  for (int64_t i = axis; i < (int64_t)in.size(); ++i)
    if (in[i] == kDyn)
      return emitOptionalError(loc, "normalize: axis ", i,
                               " is normalized, but its extent is known only "
                               "at run time");
  if (!(op.getEpsilon().convertToDouble() >= 0.0))
    return emitOptionalError(loc, "normalize: epsilon must be 0 or more");
  for (Value v : {op.getScale(), op.getBias()}) {
    SmallVector<int64_t> out;
    if (!OpTrait::util::getBroadcastedShape(in, shapeOf(v), out) ||
        ArrayRef<int64_t>(out) != in)
      return emitOptionalError(loc,
                               "normalize: the scale and the bias must "
                               "broadcast to the input's shape ",
                               shapeStr(in), ", got ", shapeStr(shapeOf(v)));
  }
  results.push_back(op.getInput().getType());
  return success();
}

LogicalResult ReduceOp::inferReturnTypes(MLIRContext *ctx,
                                         Optional<Location> loc,
                                         ValueRange operands,
                                         DictionaryAttr attrs, RegionRange regs,
                                         SmallVectorImpl<Type> &results) {
  if (failed(checkInferenceInputs<ReduceOpAdaptor>(ctx, loc, operands, attrs,
                                                   regs)))
    return failure();
  ReduceOpAdaptor op(operands, attrs, regs);
  ArrayRef<int64_t> in = shapeOf(op.getInput());
  if (op.getAxes().empty())
    return emitOptionalError(loc, "reduce: 'axes' is empty (a reduction "
                                  "over no axis is its input)");
  llvm::SmallSet<int64_t, 4> axes;
  for (int64_t a : toI64(op.getAxes())) {
    auto axis = normalizeAxis(loc, a, in.size(), "reduce");
    if (failed(axis))
      return failure();
    if (!axes.insert(*axis).second)
      return emitOptionalError(loc, "reduce: axis ", a, " repeated");
  }
  SmallVector<int64_t> out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (!axes.contains(i))
      out.push_back(in[i]);
    else if (op.getKeepdims())
      out.push_back(1);
  }
  results.push_back(f32Tensor(ctx, out));
  return success();
}

#define GET_OP_CLASSES
#include "cnnc/Dialect/CNN/CNNOps.cpp.inc"
