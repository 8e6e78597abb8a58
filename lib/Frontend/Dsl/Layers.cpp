//===- Layers.cpp - the DSL's layer types -> cnn ops ----------------------===//
//
// One table row per layer type: how many inputs it takes, which keyword
// arguments, and a function that checks them and builds the ops. Keyword
// names follow PyTorch's modules (kernel_size -> kernel, padding -> pad) and
// defaults are PyTorch's, so a model reads like its PyTorch definition.
//
// Checks that the dialect's shape inference cannot phrase in DSL terms
// (a 4-D input for conv2d, in= that disagrees with the input) are made here;
// everything else is left to inferReturnTypes, which reports at the layer's
// location.
//
//===----------------------------------------------------------------------===//
#include "ModelBuilder.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace cnnc;
using namespace cnnc::dsl;

static constexpr int64_t kDyn = ShapedType::kDynamicSize;
/// Bound on sizes written in the DSL (channels, kernel sizes, ...).
static constexpr int64_t kMaxSize = int64_t(1) << 24;

namespace {

/// Reads the keyword arguments of one call, reporting wrong ones at their
/// position. Every getter returns false after reporting an error.
class KeywordArgs {
public:
  KeywordArgs(DiagReporter &diag, const Call &call) : diag(diag), call(call) {}

  /// Reports unknown and repeated keywords.
  bool check(llvm::ArrayRef<llvm::StringRef> allowed) {
    bool ok = true;
    llvm::StringMap<bool> seen;
    for (const KeywordArg &kw : call.keywords) {
      if (diag.tooManyErrors())
        return false;
      if (!llvm::is_contained(allowed, kw.key.text)) {
        auto d = diag.error(kw.key.loc);
        d << "unknown argument '" << kw.key.text << "' of " << call.callee.text
          << ": expected ";
        if (allowed.empty()) {
          d << "no keyword arguments";
        } else {
          d << "one of ";
          for (size_t i = 0; i < allowed.size(); ++i)
            d << (i ? ", " : "") << allowed[i];
          std::string hint = closestMatch(kw.key.text, allowed);
          if (!hint.empty())
            d << " (did you mean '" << hint << "'?)";
        }
        ok = false;
      } else if (!seen.try_emplace(kw.key.text, true).second) {
        diag.error(kw.key.loc) << "argument '" << kw.key.text
                               << "' is given twice: expected it once";
        ok = false;
      }
    }
    return ok;
  }

  const ArgValue *find(llvm::StringRef key) const {
    for (const KeywordArg &kw : call.keywords)
      if (kw.key.text == key)
        return &kw.value;
    return nullptr;
  }
  bool has(llvm::StringRef key) const { return find(key) != nullptr; }

  bool missing(llvm::StringRef key, llvm::StringRef what) {
    diag.error(call.callee.loc)
        << call.callee.text << " needs '" << key << "=': expected " << what;
    return false;
  }

  bool integer(const ArgValue &v, llvm::StringRef key, int64_t min,
               int64_t &out) {
    if (v.kind != ArgValue::Kind::Integer) {
      diag.error(v.loc) << "expected an integer for '" << key << "', got "
                        << v.describe();
      return false;
    }
    if (v.intValue < min || v.intValue > kMaxSize) {
      diag.error(v.loc) << "'" << key << "' is " << v.intValue
                        << ": expected an integer from " << min << " to "
                        << kMaxSize;
      return false;
    }
    out = v.intValue;
    return true;
  }

  /// An integer; `required` when there is no default.
  bool getInt(llvm::StringRef key, int64_t &out, llvm::Optional<int64_t> dflt,
              int64_t min, llvm::StringRef what = "an integer") {
    const ArgValue *v = find(key);
    if (!v) {
      if (!dflt)
        return missing(key, what);
      out = *dflt;
      return true;
    }
    return integer(*v, key, min, out);
  }

  /// Like getInt, for axes: negative values count from the end.
  bool getAxis(llvm::StringRef key, int64_t &out, int64_t dflt) {
    const ArgValue *v = find(key);
    if (!v) {
      out = dflt;
      return true;
    }
    if (v->kind != ArgValue::Kind::Integer || v->intValue < -8 ||
        v->intValue > 8) {
      diag.error(v->loc) << "expected an axis from -8 to 8 for '" << key
                         << "', got " << v->describe();
      return false;
    }
    out = v->intValue;
    return true;
  }

  bool getFloat(llvm::StringRef key, double &out, llvm::Optional<double> dflt,
                double min, double max, bool maxInclusive = true) {
    const ArgValue *v = find(key);
    if (!v) {
      if (!dflt)
        return missing(key, "a number");
      out = *dflt;
      return true;
    }
    if (!v->isNumber()) {
      diag.error(v->loc) << "expected a number for '" << key << "', got "
                         << v->describe();
      return false;
    }
    double x = v->floatValue;
    if (!(x >= min && (maxInclusive ? x <= max : x < max))) {
      diag.error(v->loc) << "'" << key << "' is " << formatNumber(x)
                         << ": expected a number in [" << formatNumber(min)
                         << ", " << formatNumber(max)
                         << (maxInclusive ? "]" : ")");
      return false;
    }
    out = x;
    return true;
  }

  bool getBool(llvm::StringRef key, bool &out, bool dflt) {
    const ArgValue *v = find(key);
    if (!v) {
      out = dflt;
      return true;
    }
    if (!v->isBool()) {
      diag.error(v->loc) << "expected true or false for '" << key << "', got "
                         << v->describe();
      return false;
    }
    out = v->text == "true";
    return true;
  }

  /// `k` or `(kh, kw)`.
  bool getPair(llvm::StringRef key, SmallVectorImpl<int64_t> &out,
               llvm::Optional<int64_t> dflt, int64_t min) {
    const ArgValue *v = find(key);
    out.clear();
    if (!v) {
      if (!dflt)
        return missing(key, "a size or a pair (h, w)");
      out.assign(2, *dflt);
      return true;
    }
    if (v->kind != ArgValue::Kind::List) {
      int64_t x;
      if (!integer(*v, key, min, x))
        return false;
      out.assign(2, x);
      return true;
    }
    if (v->elements.size() != 2) {
      diag.error(v->loc) << "expected 2 values (h, w) for '" << key << "', got "
                         << v->elements.size();
      return false;
    }
    for (const ArgValue &e : v->elements) {
      int64_t x;
      if (!integer(e, key, min, x))
        return false;
      out.push_back(x);
    }
    return true;
  }

  /// `p`, `(ph, pw)` or `(top, left, bottom, right)`, returned in ONNX order
  /// [top, left, bottom, right].
  bool getPads(llvm::StringRef key, SmallVectorImpl<int64_t> &out) {
    const ArgValue *v = find(key);
    out.clear();
    if (!v) {
      out.assign(4, 0);
      return true;
    }
    SmallVector<int64_t, 4> values;
    if (v->kind != ArgValue::Kind::List) {
      int64_t x;
      if (!integer(*v, key, 0, x))
        return false;
      values.push_back(x);
    } else {
      for (const ArgValue &e : v->elements) {
        int64_t x;
        if (!integer(e, key, 0, x))
          return false;
        values.push_back(x);
      }
    }
    if (values.size() == 1)
      out.assign(4, values[0]);
    else if (values.size() == 2)
      out.assign({values[0], values[1], values[0], values[1]});
    else if (values.size() == 4)
      out.assign(values.begin(), values.end());
    else {
      diag.error(v->loc) << "expected 1, 2 (h, w) or 4 (top, left, bottom, "
                            "right) values for '"
                         << key << "', got " << values.size();
      return false;
    }
    return true;
  }

  bool getIntList(llvm::StringRef key, SmallVectorImpl<int64_t> &out,
                  llvm::StringRef what) {
    const ArgValue *v = find(key);
    if (!v)
      return missing(key, what);
    if (v->kind != ArgValue::Kind::List || v->elements.empty() ||
        v->elements.size() > 8) {
      diag.error(v->loc) << "expected " << what << " for '" << key << "', got "
                         << v->describe();
      return false;
    }
    int64_t product = 1;
    for (const ArgValue &e : v->elements) {
      if (e.kind != ArgValue::Kind::Integer || e.intValue < -1 ||
          e.intValue > kMaxSize) {
        diag.error(e.loc) << "expected a size, 0 (copy) or -1 (infer) in '"
                          << key << "', got " << e.describe();
        return false;
      }
      // Keeps the shape rule's product of sizes clear of overflow.
      if (e.intValue > 0) {
        if (product > kMaxTensorElements / e.intValue) {
          diag.error(v->loc) << "'" << key << "' has more than "
                             << kMaxTensorElements << " elements";
          return false;
        }
        product *= e.intValue;
      }
      out.push_back(e.intValue);
    }
    return true;
  }

private:
  DiagReporter &diag;
  const Call &call;
};

/// Everything a layer builder needs.
struct LayerContext {
  ModelBuilder &model;
  const Name &name;
  const Call &call;
  Location loc;
  SmallVector<Value, 2> inputs;
  KeywordArgs args;
  OpBuilder &b;
  DiagReporter &diag;

  ArrayRef<int64_t> shape(unsigned i) const {
    return inputs[i].getType().cast<RankedTensorType>().getShape();
  }
  /// The input's name as written, for messages.
  const std::string &inputName(unsigned i) const {
    return call.positional[i].text;
  }
  std::string shapeString(unsigned i) const {
    std::string s;
    for (int64_t d : shape(i))
      s += (s.empty() ? "" : "x") + (d == kDyn ? "?" : std::to_string(d));
    return s.empty() ? "a scalar" : s;
  }
  bool requireRank(unsigned i, int64_t rank, llvm::StringRef hint) {
    if ((int64_t)shape(i).size() == rank)
      return true;
    diag.error(loc) << call.callee.text << " expects a " << rank << "-D input "
                    << hint << ", but '" << inputName(i) << "' has shape "
                    << shapeString(i);
    return false;
  }
  /// A static channel (dim 1) count, needed to size weights.
  bool staticDim(unsigned i, unsigned dim, int64_t &out, llvm::StringRef what) {
    out = shape(i)[dim];
    if (out != kDyn)
      return true;
    diag.error(loc) << call.callee.text << " needs the number of " << what
                    << " but '" << inputName(i) << "' has shape "
                    << shapeString(i) << " (give in=...)";
    return false;
  }
  Value param(llvm::StringRef suffix, ArrayRef<int64_t> shape,
              llvm::StringRef init, bool buffer = false) {
    return model.createParam(name.text, suffix, shape, init, buffer, loc);
  }
  NamedAttribute attr(llvm::StringRef attrName, Attribute value) {
    return b.getNamedAttr(attrName, value);
  }
  /// strides, pads and dilations, each only when it differs from the op's
  /// default, so the IR reads like the DSL line.
  void addWindowAttrs(SmallVectorImpl<NamedAttribute> &attrs,
                      ArrayRef<int64_t> stride, ArrayRef<int64_t> pads,
                      ArrayRef<int64_t> dilation) {
    auto all = [](ArrayRef<int64_t> v, int64_t x) {
      return llvm::all_of(v, [&](int64_t e) { return e == x; });
    };
    if (!all(stride, 1))
      attrs.push_back(attr("strides", b.getI64ArrayAttr(stride)));
    if (!all(pads, 0))
      attrs.push_back(attr("pads", b.getI64ArrayAttr(pads)));
    if (!all(dilation, 1))
      attrs.push_back(attr("dilations", b.getI64ArrayAttr(dilation)));
  }
};

} // namespace

//===----------------------------------------------------------------------===//
// Layer builders
//===----------------------------------------------------------------------===//

static Value buildConv2d(LayerContext &l) {
  int64_t out, groups;
  SmallVector<int64_t, 2> kernel, stride, dilation;
  SmallVector<int64_t, 4> pads;
  bool bias;
  bool ok = l.args.getInt("out", out, llvm::None, 1,
                          "the number of output channels, e.g. out=16");
  ok &= l.args.getPair("kernel", kernel, llvm::None, 1);
  ok &= l.args.getPair("stride", stride, 1, 1);
  ok &= l.args.getPads("pad", pads);
  ok &= l.args.getPair("dilation", dilation, 1, 1);
  ok &= l.args.getInt("groups", groups, 1, 1);
  ok &= l.args.getBool("bias", bias, true);
  int64_t in = kDyn;
  if (l.args.has("in"))
    ok &= l.args.getInt("in", in, llvm::None, 1);
  if (!ok || !l.requireRank(0, 4, "[N, C, H, W]"))
    return nullptr;
  int64_t channels = l.shape(0)[1];
  if (in != kDyn && channels != kDyn && in != channels) {
    l.diag.error(l.loc) << "conv2d layer '" << l.name.text
                        << "' declares in=" << in << " but its input '"
                        << l.inputName(0) << "' has " << channels
                        << " channels";
    return nullptr;
  }
  if (in == kDyn && !l.staticDim(0, 1, in, "input channels"))
    return nullptr;
  if (in % groups != 0 || out % groups != 0) {
    l.diag.error(l.loc) << "conv2d groups=" << groups
                        << " must divide both the " << in
                        << " input channels and out=" << out;
    return nullptr;
  }
  Value weight = l.param("weight", {out, in / groups, kernel[0], kernel[1]},
                         "kaiming_uniform");
  if (!weight)
    return nullptr;
  SmallVector<Value, 3> operands{l.inputs[0], weight};
  if (bias) {
    Value b = l.param("bias", {out}, "uniform_fan_in");
    if (!b)
      return nullptr;
    operands.push_back(b);
  }
  SmallVector<NamedAttribute, 4> attrs;
  l.addWindowAttrs(attrs, stride, pads, dilation);
  if (groups != 1)
    attrs.push_back(l.attr("group", l.b.getI64IntegerAttr(groups)));
  return l.model.createInferred<cnn::Conv2dOp>(l.loc, operands, attrs);
}

static Value buildLinear(LayerContext &l) {
  int64_t out;
  bool bias;
  bool ok = l.args.getInt("out", out, llvm::None, 1,
                          "the number of output features, e.g. out=10");
  ok &= l.args.getBool("bias", bias, true);
  int64_t in = kDyn;
  if (l.args.has("in"))
    ok &= l.args.getInt("in", in, llvm::None, 1);
  if (!ok || !l.requireRank(0, 2, "[N, features] (flatten it first)"))
    return nullptr;
  int64_t features = l.shape(0)[1];
  if (in != kDyn && features != kDyn && in != features) {
    l.diag.error(l.loc) << "linear layer '" << l.name.text
                        << "' declares in=" << in << " but its input '"
                        << l.inputName(0) << "' has " << features
                        << " features";
    return nullptr;
  }
  if (in == kDyn && !l.staticDim(0, 1, in, "input features"))
    return nullptr;
  // PyTorch's Linear keeps its weight as [out, in]: Gemm with transB.
  Value weight = l.param("weight", {out, in}, "kaiming_uniform");
  if (!weight)
    return nullptr;
  SmallVector<Value, 3> operands{l.inputs[0], weight};
  if (bias) {
    Value b = l.param("bias", {out}, "uniform_fan_in");
    if (!b)
      return nullptr;
    operands.push_back(b);
  }
  return l.model.createInferred<cnn::GemmOp>(
      l.loc, operands, {l.attr("transB", l.b.getBoolAttr(true))});
}

template <typename PoolOp> static Value buildPool(LayerContext &l, bool isMax) {
  SmallVector<int64_t, 2> kernel, stride, dilation;
  SmallVector<int64_t, 4> pads;
  bool ceilMode, countIncludePad = false;
  bool ok = l.args.getPair("kernel", kernel, llvm::None, 1);
  // PyTorch: the stride defaults to the kernel size.
  if (ok && l.args.has("stride"))
    ok &= l.args.getPair("stride", stride, llvm::None, 1);
  else
    stride = kernel;
  ok &= l.args.getPads("pad", pads);
  ok &= l.args.getBool("ceil_mode", ceilMode, false);
  if (isMax)
    ok &= l.args.getPair("dilation", dilation, 1, 1);
  else
    dilation.assign(2, 1);
  // PyTorch's AvgPool2d counts the padding in the divisor by default.
  if (!isMax)
    ok &= l.args.getBool("count_include_pad", countIncludePad, true);
  if (!ok || !l.requireRank(0, 4, "[N, C, H, W]"))
    return nullptr;
  SmallVector<NamedAttribute, 6> attrs;
  attrs.push_back(l.attr("kernel_shape", l.b.getI64ArrayAttr(kernel)));
  l.addWindowAttrs(attrs, stride, pads, dilation);
  if (ceilMode)
    attrs.push_back(l.attr("ceil_mode", l.b.getBoolAttr(true)));
  if (countIncludePad)
    attrs.push_back(l.attr("count_include_pad", l.b.getBoolAttr(true)));
  return l.model.createInferred<PoolOp>(l.loc, l.inputs, attrs);
}

template <typename GlobalPoolOp> static Value buildGlobalPool(LayerContext &l) {
  if (!l.requireRank(0, 4, "[N, C, H, W]"))
    return nullptr;
  return l.model.createInferred<GlobalPoolOp>(l.loc, l.inputs, {});
}

static Value buildBatchNorm(LayerContext &l) {
  double eps, momentum;
  bool ok = l.args.getFloat("eps", eps, 1e-5, 1e-30, 1.0);
  ok &= l.args.getFloat("momentum", momentum, 0.1, 0.0, 1.0);
  if (!ok)
    return nullptr;
  if (l.shape(0).size() < 2) {
    l.diag.error(l.loc) << "batchnorm expects an input with a channel axis "
                           "[N, C, ...], but '"
                        << l.inputName(0) << "' has shape " << l.shapeString(0);
    return nullptr;
  }
  int64_t c;
  if (!l.staticDim(0, 1, c, "channels"))
    return nullptr;
  Value scale = l.param("weight", {c}, "ones");
  Value bias = l.param("bias", {c}, "zeros");
  Value mean = l.param("running_mean", {c}, "zeros", /*buffer=*/true);
  Value var = l.param("running_var", {c}, "ones", /*buffer=*/true);
  if (!scale || !bias || !mean || !var)
    return nullptr;
  // PyTorch's momentum weighs the new batch, ONNX's the running value.
  return l.model.createInferred<cnn::BatchNormOp>(
      l.loc, {l.inputs[0], scale, bias, mean, var},
      {l.attr("epsilon", l.b.getF32FloatAttr(eps)),
       l.attr("momentum", l.b.getF32FloatAttr(1.0 - momentum))});
}

template <typename OpTy> static Value buildUnary(LayerContext &l) {
  return l.model.createInferred<OpTy>(l.loc, l.inputs, {});
}

static Value buildClip(LayerContext &l, double min, double max) {
  return l.model.createInferred<cnn::ClipOp>(
      l.loc, l.inputs,
      {l.attr("min", l.b.getF32FloatAttr(min)),
       l.attr("max", l.b.getF32FloatAttr(max))});
}

static Value buildRelu6(LayerContext &l) { return buildClip(l, 0.0, 6.0); }

static Value buildClipLayer(LayerContext &l) {
  double min, max;
  bool ok = l.args.getFloat("min", min, llvm::None, -1e30, 1e30);
  ok &= l.args.getFloat("max", max, llvm::None, -1e30, 1e30);
  if (!ok)
    return nullptr;
  if (min > max) {
    l.diag.error(l.loc) << "clip min=" << formatNumber(min)
                        << " is greater than max=" << formatNumber(max);
    return nullptr;
  }
  return buildClip(l, min, max);
}

static Value buildLeakyRelu(LayerContext &l) {
  double slope;
  if (!l.args.getFloat("slope", slope, 0.01, -1e30, 1e30))
    return nullptr;
  return l.model.createInferred<cnn::LeakyReluOp>(
      l.loc, l.inputs, {l.attr("alpha", l.b.getF32FloatAttr(slope))});
}

static Value buildDropout(LayerContext &l) {
  double p;
  if (!l.args.getFloat("p", p, 0.5, 0.0, 1.0, /*maxInclusive=*/false))
    return nullptr;
  return l.model.createInferred<cnn::DropoutOp>(
      l.loc, l.inputs, {l.attr("ratio", l.b.getF32FloatAttr(p))});
}

static Value buildFlatten(LayerContext &l) {
  int64_t axis;
  if (!l.args.getAxis("axis", axis, 1))
    return nullptr;
  return l.model.createInferred<cnn::FlattenOp>(
      l.loc, l.inputs, {l.attr("axis", l.b.getI64IntegerAttr(axis))});
}

static Value buildReshape(LayerContext &l) {
  SmallVector<int64_t, 4> shape;
  if (!l.args.getIntList("shape", shape,
                         "a list of sizes such as [0, -1] (0 copies the "
                         "input's size, -1 is inferred)"))
    return nullptr;
  return l.model.createInferred<cnn::ReshapeOp>(
      l.loc, l.inputs, {l.attr("shape", l.b.getI64ArrayAttr(shape))});
}

static Value buildAdd(LayerContext &l) {
  return l.model.createInferred<cnn::AddOp>(l.loc, l.inputs, {});
}

static Value buildConcat(LayerContext &l) {
  int64_t axis;
  if (!l.args.getAxis("axis", axis, 1))
    return nullptr;
  return l.model.createInferred<cnn::ConcatOp>(
      l.loc, l.inputs, {l.attr("axis", l.b.getI64IntegerAttr(axis))});
}

template <typename OpTy> static Value buildSoftmax(LayerContext &l) {
  int64_t axis;
  if (!l.args.getAxis("axis", axis, 1))
    return nullptr;
  return l.model.createInferred<OpTy>(
      l.loc, l.inputs, {l.attr("axis", l.b.getI64IntegerAttr(axis))});
}

//===----------------------------------------------------------------------===//
// The table
//===----------------------------------------------------------------------===//

namespace {
struct LayerType {
  llvm::StringRef name;
  unsigned minInputs, maxInputs;
  std::vector<llvm::StringRef> keywords;
  Value (*build)(LayerContext &);
};
} // namespace

static constexpr unsigned kMany = 64;

static const std::vector<LayerType> &layerTypes() {
  static const std::vector<LayerType> types = {
      {"conv2d",
       1,
       1,
       {"out", "kernel", "stride", "pad", "dilation", "groups", "bias", "in"},
       buildConv2d},
      {"linear", 1, 1, {"out", "in", "bias"}, buildLinear},
      {"maxpool",
       1,
       1,
       {"kernel", "stride", "pad", "dilation", "ceil_mode"},
       [](LayerContext &l) { return buildPool<cnn::MaxPool2dOp>(l, true); }},
      {"avgpool",
       1,
       1,
       {"kernel", "stride", "pad", "ceil_mode", "count_include_pad"},
       [](LayerContext &l) { return buildPool<cnn::AvgPool2dOp>(l, false); }},
      {"global_avgpool", 1, 1, {}, buildGlobalPool<cnn::GlobalAvgPoolOp>},
      {"global_maxpool", 1, 1, {}, buildGlobalPool<cnn::GlobalMaxPoolOp>},
      {"batchnorm", 1, 1, {"eps", "momentum"}, buildBatchNorm},
      {"relu", 1, 1, {}, buildUnary<cnn::ReluOp>},
      {"relu6", 1, 1, {}, buildRelu6},
      {"leaky_relu", 1, 1, {"slope"}, buildLeakyRelu},
      {"clip", 1, 1, {"min", "max"}, buildClipLayer},
      {"sigmoid", 1, 1, {}, buildUnary<cnn::SigmoidOp>},
      {"tanh", 1, 1, {}, buildUnary<cnn::TanhOp>},
      {"dropout", 1, 1, {"p"}, buildDropout},
      {"flatten", 1, 1, {"axis"}, buildFlatten},
      {"reshape", 1, 1, {"shape"}, buildReshape},
      {"add", 2, 2, {}, buildAdd},
      {"concat", 2, kMany, {"axis"}, buildConcat},
      {"softmax", 1, 1, {"axis"}, buildSoftmax<cnn::SoftmaxOp>},
      {"log_softmax", 1, 1, {"axis"}, buildSoftmax<cnn::LogSoftmaxOp>},
  };
  return types;
}

/// The backbone import has its own argument rules (a file name first).
static constexpr llvm::StringLiteral kOnnxLayer = "onnx";

static void reportUnknownLayerType(DiagReporter &diag, const Name &callee) {
  std::vector<llvm::StringRef> names;
  for (const LayerType &t : layerTypes())
    names.push_back(t.name);
  names.push_back(kOnnxLayer);
  auto d = diag.error(callee.loc);
  d << "unknown layer type '" << callee.text << "'";
  std::string hint = closestMatch(callee.text, names);
  if (!hint.empty())
    d << " (did you mean '" << hint << "'?)";
  d << ": expected one of ";
  for (size_t i = 0; i < names.size(); ++i)
    d << (i ? ", " : "") << names[i];
}

Value dsl::buildLayer(ModelBuilder &model, const Name &name, const Call &call,
                      Location loc, int &backboneIndex) {
  DiagReporter &diag = model.getDiag();
  if (call.callee.text == kOnnxLayer)
    return model.importBackbone(name, call, loc, backboneIndex);

  const LayerType *type = nullptr;
  for (const LayerType &t : layerTypes())
    if (t.name == call.callee.text)
      type = &t;
  if (!type) {
    reportUnknownLayerType(diag, call.callee);
    return nullptr;
  }

  LayerContext l{
      model, name, call, loc, {}, KeywordArgs(diag, call), model.getBuilder(),
      diag};
  bool ok = l.args.check(type->keywords);
  size_t n = call.positional.size();
  if (n < type->minInputs || n > type->maxInputs) {
    auto d =
        diag.error(n > type->maxInputs ? call.positional[type->maxInputs].loc
                                       : call.closeLoc);
    d << type->name << " takes ";
    if (type->minInputs == type->maxInputs)
      d << type->minInputs << (type->minInputs == 1 ? " input" : " inputs");
    else
      d << "at least " << type->minInputs << " inputs";
    d << ", got " << n << ": expected "
      << (n > type->maxInputs ? "keyword arguments (key=value) after the "
                                "inputs"
                              : "the name of an input or earlier layer");
    return nullptr;
  }
  for (const ArgValue &arg : call.positional) {
    if (arg.kind != ArgValue::Kind::Identifier || arg.isBool()) {
      diag.error(arg.loc) << "expected the name of an input or earlier layer "
                             "as input of "
                          << type->name << ", got " << arg.describe();
      ok = false;
      continue;
    }
    Value v;
    if (!model.lookupValue(arg, v)) {
      ok = false;
      continue;
    }
    auto tensor = v.getType().dyn_cast<RankedTensorType>();
    if (!tensor || !tensor.getElementType().isF32()) {
      diag.error(arg.loc) << "'" << arg.text << "' has type " << v.getType()
                          << ": expected a ranked f32 tensor";
      ok = false;
      continue;
    }
    l.inputs.push_back(v);
  }
  if (!ok)
    return nullptr;
  return type->build(l);
}
