//===- OnnxOps.cpp - ONNX nodes -> cnn ops
//---------------------------------===//
//
// One converter per ONNX op type. Converters read attributes with the
// opset-dependent defaults, check what the cnn op's shape rules assume
// (ranks), and create the op through Importer::create, which reports shape
// errors at the node instead of aborting.
//
//===----------------------------------------------------------------------===//

#include "OnnxImporterImpl.h"

#include "cnnc/Dialect/CNN/CNNOps.h"
#include "cnnc/Frontend/OnnxImporter.h"
#include "llvm/Support/Format.h"

#include <cfloat>
#include <cmath>

using namespace mlir;
using namespace cnnc;
using namespace cnnc::onnximport;

static constexpr int64_t kDyn = ShapedType::kDynamicSize;

static ArrayRef<int64_t> shapeOf(Value v) {
  return v.getType().cast<ShapedType>().getShape();
}

namespace {
using Converter = LogicalResult (*)(Importer &, const NodeRef &);

/// Shorthands shared by the converters of one node.
struct OpContext {
  Importer &im;
  const NodeRef &node;

  InFlightDiagnostic error() {
    return emitError(node.loc) << node.opType() << ": ";
  }
  NamedAttribute attr(StringRef name, Attribute value) {
    return im.builder.getNamedAttr(name, value);
  }
  ArrayAttr ints(ArrayRef<int64_t> values) {
    return im.builder.getI64ArrayAttr(values);
  }
  LogicalResult requireRank(Value v, int64_t rank, StringRef what) {
    if ((int64_t)shapeOf(v).size() == rank)
      return success();
    return error() << what << " must have rank " << rank << ", got rank "
                   << shapeOf(v).size();
  }
  /// cnn's windowed ops are 2-D: the input must be NCHW.
  LogicalResult require2D(Value v, StringRef what) {
    if (shapeOf(v).size() == 4)
      return success();
    return error() << "only 2-D " << what << " (NCHW input of rank 4) is "
                   << "supported, got an input of rank " << shapeOf(v).size();
  }
  /// An INTS attribute with exactly `n` entries, or `defaultValue`.
  FailureOr<SmallVector<int64_t>> window(StringRef name, size_t n,
                                         ArrayRef<int64_t> defaultValue) {
    auto v = im.getIntsAttr(node, name);
    if (failed(v))
      return failure();
    if (!*v)
      return SmallVector<int64_t>(defaultValue.begin(), defaultValue.end());
    if ((*v)->size() != n)
      return fail(error() << "'" << name << "' must have " << n
                          << " entries (2-D windows only), got "
                          << (*v)->size());
    return **v;
  }
  LogicalResult finish(FailureOr<Value> result) {
    if (failed(result))
      return failure();
    im.setOutput(node, 0, *result);
    return success();
  }
};
} // namespace

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

/// Explicit [top, left, bottom, right] pads from `auto_pad` or `pads`.
static FailureOr<SmallVector<int64_t>>
windowPads(OpContext &c, ArrayRef<int64_t> input, ArrayRef<int64_t> kernel,
           ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations) {
  FailureOr<std::string> autoPad =
      c.im.getStringAttr(c.node, "auto_pad", "NOTSET");
  if (failed(autoPad))
    return failure();
  if (*autoPad == "NOTSET")
    return c.window("pads", 4, {0, 0, 0, 0});
  if (*autoPad == "VALID")
    return SmallVector<int64_t>{0, 0, 0, 0};
  if (*autoPad != "SAME_UPPER" && *autoPad != "SAME_LOWER")
    return fail(c.error() << "unknown auto_pad '" << *autoPad << "'");
  SmallVector<int64_t> pads(4, 0);
  for (int i = 0; i < 2; ++i) {
    int64_t in = input[2 + i];
    if (in == kDyn)
      return fail(c.error() << "auto_pad " << *autoPad
                            << " needs static spatial dimensions");
    if (strides[i] <= 0 || dilations[i] <= 0 || kernel[i] <= 0)
      return fail(c.error()
                  << "kernel, strides and dilations must be positive");
    // Output size ceil(in / stride); the extra pixel of an odd total goes
    // at the end for SAME_UPPER, at the beginning for SAME_LOWER.
    int64_t out = (in + strides[i] - 1) / strides[i];
    int64_t total = std::max<int64_t>(
        0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - in);
    int64_t small = total / 2, large = total - small;
    pads[i] = *autoPad == "SAME_UPPER" ? small : large;
    pads[2 + i] = *autoPad == "SAME_UPPER" ? large : small;
  }
  return pads;
}

static LogicalResult convertConv(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  FailureOr<Value> w = im.getRuntimeInput(node, 1);
  if (failed(x) || failed(w))
    return failure();
  if (failed(c.require2D(*x, "convolution")) ||
      failed(c.requireRank(*w, 4, "the weight")))
    return failure();
  SmallVector<Value, 3> operands{*x, *w};
  if (node.hasInput(2)) {
    FailureOr<Value> b = im.getRuntimeInput(node, 2);
    if (failed(b))
      return failure();
    operands.push_back(*b);
  }
  ArrayRef<int64_t> wShape = shapeOf(*w);
  SmallVector<int64_t> kernel{wShape[2], wShape[3]};
  auto kernelAttr = c.window("kernel_shape", 2, kernel);
  auto strides = c.window("strides", 2, {1, 1});
  auto dilations = c.window("dilations", 2, {1, 1});
  FailureOr<int64_t> group = im.getIntAttr(node, "group", 1);
  if (failed(kernelAttr) || failed(strides) || failed(dilations) ||
      failed(group))
    return failure();
  if (*kernelAttr != kernel)
    return c.error() << "kernel_shape [" << (*kernelAttr)[0] << ", "
                     << (*kernelAttr)[1] << "] does not match the weight";
  auto pads = windowPads(c, shapeOf(*x), kernel, *strides, *dilations);
  if (failed(pads))
    return failure();
  return c.finish(im.create<cnn::Conv2dOp>(
      node.loc, operands,
      {c.attr("strides", c.ints(*strides)), c.attr("pads", c.ints(*pads)),
       c.attr("dilations", c.ints(*dilations)),
       c.attr("group", im.builder.getI64IntegerAttr(*group))}));
}

/// ConvTranspose: the adjoint of a convolution, i.e. the input gradient
/// of the convolution whose weight it has (cnn.conv2d_backward_input, with
/// the output's size given by the result type), plus the bias.
static LogicalResult convertConvTranspose(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  FailureOr<Value> w = im.getRuntimeInput(node, 1);
  if (failed(x) || failed(w))
    return failure();
  if (failed(c.require2D(*x, "transposed convolution")) ||
      failed(c.requireRank(*w, 4, "the weight")))
    return failure();
  ArrayRef<int64_t> in = shapeOf(*x), wShape = shapeOf(*w);
  SmallVector<int64_t> kernel{wShape[2], wShape[3]};
  auto kernelAttr = c.window("kernel_shape", 2, kernel);
  auto strides = c.window("strides", 2, {1, 1});
  auto dilations = c.window("dilations", 2, {1, 1});
  auto outputPadding = c.window("output_padding", 2, {0, 0});
  auto outputShape = im.getIntsAttr(node, "output_shape");
  FailureOr<int64_t> group = im.getIntAttr(node, "group", 1);
  FailureOr<std::string> autoPad = im.getStringAttr(node, "auto_pad", "NOTSET");
  if (failed(kernelAttr) || failed(strides) || failed(dilations) ||
      failed(outputPadding) || failed(outputShape) || failed(group) ||
      failed(autoPad))
    return failure();
  if (*kernelAttr != kernel)
    return c.error() << "kernel_shape [" << (*kernelAttr)[0] << ", "
                     << (*kernelAttr)[1] << "] does not match the weight";
  if (*group <= 0 || in[1] != wShape[0] || wShape[0] % *group != 0)
    return c.error() << "the input has " << in[1] << " channels but the weight "
                     << wShape[0] << "x" << wShape[1] << "x" << wShape[2] << "x"
                     << wShape[3] << " with group " << *group << " expects "
                     << wShape[0];
  if (*outputShape && (*outputShape)->size() != 2 &&
      (*outputShape)->size() != 4)
    return c.error() << "'output_shape' must have 2 entries (2-D only)";
  SmallVector<int64_t> pads(4, 0), out(2, 0);
  for (int i = 0; i < 2; ++i) {
    int64_t s = (*strides)[i], d = (*dilations)[i], k = kernel[i];
    int64_t extra = (*outputPadding)[i];
    if (s <= 0 || d <= 0 || k <= 0 || s > 65536 || d > 65536 || k > 65536)
      return c.error() << "kernel, strides and dilations must be from 1 to "
                          "65536";
    if (extra < 0 || extra >= std::max(s, d))
      return c.error() << "output_padding " << extra
                       << " must be less than the stride or the dilation";
    int64_t natural = s * (in[2 + i] - 1) + extra + (k - 1) * d + 1;
    bool given = *outputShape != None;
    if (given || *autoPad == "SAME_UPPER" || *autoPad == "SAME_LOWER") {
      // The padding that makes the output `target` large: split evenly,
      // the odd one at the end for SAME_UPPER, at the start otherwise; a
      // negative total grows the output at the end (as output_padding).
      int64_t target = given ? (**outputShape)[(**outputShape).size() - 2 + i]
                             : in[2 + i] * s;
      int64_t total = natural - target;
      int64_t small = std::max<int64_t>(total, 0) / 2;
      int64_t large = std::max<int64_t>(total, 0) - small;
      pads[i] = *autoPad == "SAME_UPPER" ? small : large;
      pads[2 + i] = *autoPad == "SAME_UPPER" ? large : small;
      out[i] = target;
    } else if (*autoPad == "NOTSET" || *autoPad == "VALID") {
      if (*autoPad == "NOTSET") {
        auto p = c.window("pads", 4, {0, 0, 0, 0});
        if (failed(p))
          return failure();
        pads[i] = (*p)[i];
        pads[2 + i] = (*p)[2 + i];
      }
      out[i] = natural - pads[i] - pads[2 + i];
    } else {
      return c.error() << "unknown auto_pad '" << *autoPad << "'";
    }
    if (out[i] <= 0)
      return c.error() << "the output would have size " << out[i];
  }
  SmallVector<int64_t> resultShape{in[0], wShape[1] * *group, out[0], out[1]};
  auto type = RankedTensorType::get(resultShape, im.builder.getF32Type());
  Value y = im.builder.create<cnn::Conv2dBackwardInputOp>(
      node.loc, TypeRange{type}, ValueRange{*x, *w},
      ArrayRef<NamedAttribute>{
          c.attr("strides", c.ints(*strides)), c.attr("pads", c.ints(pads)),
          c.attr("dilations", c.ints(*dilations)),
          c.attr("group", im.builder.getI64IntegerAttr(*group))});
  if (!node.hasInput(2))
    return c.finish(y);
  FailureOr<Value> bias = im.getRuntimeInput(node, 2);
  if (failed(bias))
    return failure();
  if (shapeOf(*bias).size() != 1 || shapeOf(*bias)[0] != resultShape[1])
    return c.error() << "the bias must have shape [" << resultShape[1] << "]";
  FailureOr<Value> perChannel =
      im.reshapeTo(node.loc, *bias, {resultShape[1], 1, 1});
  if (failed(perChannel))
    return failure();
  return c.finish(im.create<cnn::AddOp>(node.loc, ValueRange{y, *perChannel}));
}

/// The interpolation weights of one resized axis as ONNX's reference
/// defines them: row o of the [out x in] matrix holds the weights of output
/// o over the input. Each output maps to x = transform(o); from the pixel
/// left of x (x itself counts as the right one) n taps take weights by the
/// mode (nearest: 2 taps, one of them 1; linear: 2; cubic: 4, Keys with
/// `cubicA`); taps outside the axis repeat the edge, or with
/// `excludeOutside` get weight 0 and the rest is renormalized.
static std::vector<float> resizeWeights(int64_t in, int64_t out, double scale,
                                        StringRef mode, StringRef coords,
                                        StringRef rounding, double cubicA,
                                        bool excludeOutside) {
  std::vector<float> w(out * in, 0.0f);
  double outLength = scale * (double)in;
  for (int64_t o = 0; o < out; ++o) {
    double x;
    if (coords == "align_corners")
      x = outLength == 1 ? 0 : o * (double)(in - 1) / (outLength - 1);
    else if (coords == "asymmetric")
      x = o / scale;
    else if (coords == "tf_half_pixel_for_nn")
      x = (o + 0.5) / scale;
    else if (coords == "pytorch_half_pixel")
      x = out > 1 ? (o + 0.5) / scale - 0.5 : 0;
    else // half_pixel
      x = (o + 0.5) / scale - 0.5;
    double left = std::floor(x), r = x - left;
    if (r == 0) { // the pixel itself is the right tap
      left -= 1;
      r = 1;
    }
    SmallVector<double, 4> coeffs;
    if (mode == "nearest") {
      bool right = r == 1 || rounding == "ceil" ||
                   (rounding == "round_prefer_floor" && r > 0.5) ||
                   (rounding == "round_prefer_ceil" && r >= 0.5);
      coeffs = {right ? 0.0 : 1.0, right ? 1.0 : 0.0};
    } else if (mode == "linear") {
      coeffs = {1 - r, r};
    } else {
      double A = cubicA, s = r + 1, t = 1 - r, u = 2 - r;
      coeffs = {((A * s - 5 * A) * s + 8 * A) * s - 4 * A,
                ((A + 2) * r - (A + 3)) * r * r + 1,
                ((A + 2) * t - (A + 3)) * t * t + 1,
                ((A * u - 5 * A) * u + 8 * A) * u - 4 * A};
    }
    int64_t first = (int64_t)left - ((int64_t)coeffs.size() / 2 - 1);
    double total = 0;
    for (size_t t = 0; t < coeffs.size(); ++t) {
      int64_t idx = first + (int64_t)t;
      if (excludeOutside && (idx < 0 || idx >= in))
        coeffs[t] = 0;
      total += coeffs[t];
    }
    for (size_t t = 0; t < coeffs.size(); ++t) {
      int64_t idx = std::min(std::max<int64_t>(first + (int64_t)t, 0), in - 1);
      double c = excludeOutside && total != 0 ? coeffs[t] / total : coeffs[t];
      w[o * in + idx] += (float)c;
    }
  }
  return w;
}

/// Resize and Upsample along H and W. Nearest by whole factors, where
/// every output pixel copies input pixel (y / s, x / s), is a 6-D reshape,
/// a broadcast product with ones and a reshape back. Every other mode and
/// factor (linear, cubic, fractional or shrinking nearest) is separable:
/// Y = A_h X A_w^T with the constant interpolation matrices of each axis,
/// two MatMuls (the second a gemm over all rows). Both forms are ops with
/// derivatives, so resizing trains. The matrices cost in-extent times the
/// taps' work; resizing is rare in classifiers, and this keeps one exact
/// definition of ONNX's weights (resizeWeights).
static LogicalResult convertResize(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  FailureOr<std::string> mode = im.getStringAttr(node, "mode", "nearest");
  bool upsample = node.opType() == "Upsample";
  FailureOr<std::string> coords =
      im.getStringAttr(node, "coordinate_transformation_mode",
                       upsample || im.opset < 11 ? "asymmetric" : "half_pixel");
  FailureOr<std::string> rounding = im.getStringAttr(
      node, "nearest_mode", im.opset < 11 ? "floor" : "round_prefer_floor");
  FailureOr<float> cubicA = im.getFloatAttr(node, "cubic_coeff_a", -0.75f);
  FailureOr<int64_t> exclude = im.getIntAttr(node, "exclude_outside", 0);
  FailureOr<int64_t> antialias = im.getIntAttr(node, "antialias", 0);
  if (failed(x) || failed(mode) || failed(coords) || failed(rounding) ||
      failed(cubicA) || failed(exclude) || failed(antialias) ||
      failed(c.require2D(*x, "resizing")))
    return failure();
  if (*mode == "bilinear") // Upsample's first version
    *mode = "linear";
  if (*mode != "nearest" && *mode != "linear" && *mode != "cubic")
    return c.error() << "mode '" << *mode
                     << "' is not supported (nearest, linear and cubic are)";
  if (*coords != "half_pixel" && *coords != "pytorch_half_pixel" &&
      *coords != "align_corners" && *coords != "asymmetric" &&
      *coords != "tf_half_pixel_for_nn")
    return c.error() << "coordinate_transformation_mode '" << *coords
                     << "' is not supported (half_pixel, pytorch_half_pixel, "
                        "align_corners, asymmetric and tf_half_pixel_for_nn "
                        "are)";
  if (*mode == "nearest" && *rounding != "round_prefer_floor" &&
      *rounding != "round_prefer_ceil" && *rounding != "floor" &&
      *rounding != "ceil")
    return c.error() << "nearest_mode '" << *rounding << "' is not supported";
  if (*antialias != 0)
    return c.error() << "antialias is not supported";
  if (im.findAttr(node, "axes"))
    return c.error() << "the 'axes' attribute is not supported";
  if (auto *policy = im.findAttr(node, "keep_aspect_ratio_policy"))
    if (policy->s() != "stretch")
      return c.error() << "keep_aspect_ratio_policy '" << policy->s()
                       << "' is not supported (stretch is)";
  ArrayRef<int64_t> in = shapeOf(*x);
  if (in[2] < 0 || in[3] < 0)
    return c.error() << "the input's height and width must be known";
  SmallVector<double> scales;
  SmallVector<int64_t> sizes;
  if (upsample && im.opset < 9) {
    auto attr = im.findAttr(node, "scales");
    if (!attr)
      return c.error() << "needs 'scales'";
    scales.assign(attr->floats().begin(), attr->floats().end());
  } else {
    // Resize: X, roi, scales, sizes (scales at 1 before opset 11);
    // Upsample 9: X, scales.
    int scalesAt = upsample || im.opset < 11 ? 1 : 2;
    if (node.hasInput(scalesAt)) {
      FailureOr<StaticTensorRef> t =
          im.getStaticInput(node, scalesAt, "the scales");
      if (failed(t))
        return failure();
      FailureOr<std::vector<float>> v = im.floatsOf(node.loc, **t);
      if (failed(v))
        return failure();
      scales.assign(v->begin(), v->end());
    }
    if (scales.empty() && !upsample && node.hasInput(3)) {
      // PyTorch's interpolate(size=...) writes N and C as the input's own
      // dims (Shape, Slice, Concat): they may be known only at run time.
      FailureOr<StaticTensorRef> t = im.getStaticInput(node, 3, "the sizes");
      if (failed(t))
        return failure();
      if ((*t)->isFloat || (*t)->ints.size() != 4)
        return c.error() << "the sizes must be 4 integers";
      for (int i = 0; i < 4; ++i) {
        const SymInt &v = (*t)->ints[i];
        bool keeps = v.kind == SymInt::Kind::Dim && v.source == *x &&
                     v.dim == (unsigned)i;
        if (i < 2 &&
            (keeps || (v.kind == SymInt::Kind::Known && v.value == in[i]))) {
          sizes.push_back(in[i]);
          scales.push_back(1.0);
          continue;
        }
        if (i < 2)
          return c.error() << "size " << i << " must be the input's ("
                           << "N and C keep their size)";
        if (v.kind != SymInt::Kind::Known)
          return c.error() << "size " << i
                           << " depends on a dimension only known at run time";
        sizes.push_back(v.value);
        scales.push_back((double)v.value / (double)in[i]);
      }
    }
  }
  if (scales.size() != 4)
    return c.error() << "needs 4 scales (N, C, H, W), got " << scales.size();
  SmallVector<int64_t> out = {in[0], in[1], 0, 0};
  for (int i = 0; i < 4; ++i) {
    double s = scales[i];
    if (i < 2 && s != 1)
      return c.error() << "scale " << s << " of axis " << i
                       << " is not supported (N and C keep their size)";
    if (i < 2)
      continue;
    if (!(s > 0 && s <= 1024))
      return c.error() << "scale " << s << " of axis " << i
                       << " is not supported (from 0 to 1024 along H and W)";
    out[i] = sizes.empty() ? (int64_t)std::floor((double)in[i] * s) : sizes[i];
    if (out[i] < 1 || out[i] > 65536)
      return c.error() << "output extent " << out[i] << " of axis " << i
                       << " is not supported (1 to 65536)";
  }
  // Nearest by whole factors: a copy per block.
  bool halfPixel = *coords == "half_pixel" || *coords == "pytorch_half_pixel";
  bool wholeFactors = llvm::all_of(ArrayRef<int>{2, 3}, [&](int i) {
    return scales[i] >= 1 && scales[i] == std::floor(scales[i]) &&
           out[i] == in[i] * (int64_t)scales[i];
  });
  if (*mode == "nearest" && wholeFactors &&
      ((*coords == "asymmetric" && *rounding == "floor") ||
       (halfPixel && (*rounding == "round_prefer_floor" ||
                      *rounding == "round_prefer_ceil")))) {
    int64_t sh = (int64_t)scales[2], sw = (int64_t)scales[3];
    if (sh == 1 && sw == 1)
      return c.finish(*x);
    FailureOr<Value> split =
        im.reshapeTo(node.loc, *x, {in[0], in[1], in[2], 1, in[3], 1});
    if (failed(split))
      return failure();
    auto type =
        RankedTensorType::get({1, 1, 1, sh, 1, sw}, im.builder.getF32Type());
    Value ones = im.builder.create<cnn::ConstantOp>(
        node.loc, type, DenseElementsAttr::get(type, 1.0f));
    FailureOr<Value> spread =
        im.create<cnn::MulOp>(node.loc, ValueRange{*split, ones});
    if (failed(spread))
      return failure();
    return c.finish(im.reshapeTo(node.loc, *spread,
                                 {in[0], in[1], in[2] * sh, in[3] * sw}));
  }
  // Separable: rows, then columns; an axis whose matrix is the identity is
  // left alone.
  if (out[2] * in[2] > (1 << 24) || out[3] * in[3] > (1 << 24))
    return c.error() << "resizing " << in[2] << "x" << in[3] << " to " << out[2]
                     << "x" << out[3]
                     << " needs interpolation matrices over 2^24 elements";
  Value y = *x;
  for (int axis : {2, 3}) {
    std::vector<float> w =
        resizeWeights(in[axis], out[axis], scales[axis], *mode, *coords,
                      *rounding, *cubicA, *exclude != 0);
    bool identity = out[axis] == in[axis];
    for (int64_t o = 0; identity && o < out[axis]; ++o)
      for (int64_t i = 0; identity && i < in[axis]; ++i)
        identity = w[o * in[axis] + i] == (o == i ? 1.0f : 0.0f);
    if (identity)
      continue;
    // Rows: [out, in] from the left. Columns: the transpose, [in, out],
    // from the right.
    bool rows = axis == 2;
    if (!rows) {
      std::vector<float> wt(w.size());
      for (int64_t o = 0; o < out[3]; ++o)
        for (int64_t i = 0; i < in[3]; ++i)
          wt[i * out[3] + o] = w[o * in[3] + i];
      w.swap(wt);
    }
    auto type = RankedTensorType::get(rows ? ArrayRef<int64_t>{out[2], in[2]}
                                           : ArrayRef<int64_t>{in[3], out[3]},
                                      im.builder.getF32Type());
    Value m = im.builder.create<cnn::ConstantOp>(
        node.loc, type, DenseElementsAttr::get(type, llvm::makeArrayRef(w)));
    FailureOr<Value> step = im.create<cnn::MatMulOp>(
        node.loc, rows ? ValueRange{m, y} : ValueRange{y, m});
    if (failed(step))
      return failure();
    y = *step;
  }
  return c.finish(y);
}

template <typename PoolOp>
static LogicalResult convertPool(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  bool isMax = std::is_same<PoolOp, cnn::MaxPool2dOp>::value;
  if (isMax && failed(im.checkOutputUnused(node, 1, "Indices")))
    return failure();
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  if (failed(x) || failed(c.require2D(*x, "pooling")))
    return failure();
  auto kernel = c.window("kernel_shape", 2, {});
  auto strides = c.window("strides", 2, {1, 1});
  auto dilations = c.window("dilations", 2, {1, 1});
  FailureOr<int64_t> ceilMode = im.getIntAttr(node, "ceil_mode", 0);
  FailureOr<int64_t> countPad = im.getIntAttr(node, "count_include_pad", 0);
  if (failed(kernel) || failed(strides) || failed(dilations) ||
      failed(ceilMode) || failed(countPad))
    return failure();
  if (kernel->size() != 2)
    return c.error() << "needs a 2-D 'kernel_shape'";
  auto pads = windowPads(c, shapeOf(*x), *kernel, *strides, *dilations);
  if (failed(pads))
    return failure();
  SmallVector<NamedAttribute> attrs{
      c.attr("kernel_shape", c.ints(*kernel)),
      c.attr("strides", c.ints(*strides)), c.attr("pads", c.ints(*pads)),
      c.attr("dilations", c.ints(*dilations)),
      c.attr("ceil_mode", im.builder.getBoolAttr(*ceilMode != 0))};
  if (!isMax)
    attrs.push_back(
        c.attr("count_include_pad", im.builder.getBoolAttr(*countPad != 0)));
  return c.finish(im.create<PoolOp>(node.loc, *x, attrs));
}

template <typename GlobalPoolOp>
static LogicalResult convertGlobalPool(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  if (failed(x) || failed(c.require2D(*x, "global pooling")))
    return failure();
  return c.finish(im.create<GlobalPoolOp>(node.loc, *x));
}

static LogicalResult convertBatchNorm(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  // Training-mode outputs (running and batch statistics) are not modeled:
  // the cnn op is the inference form, and training updates the buffers.
  for (int i = 1; i < node.proto.output_size(); ++i)
    if (failed(im.checkOutputUnused(node, i, "training statistics")))
      return failure();
  FailureOr<int64_t> spatial = im.getIntAttr(node, "spatial", 1);
  FailureOr<float> epsilon = im.getFloatAttr(node, "epsilon", 1e-5f);
  FailureOr<float> momentum = im.getFloatAttr(node, "momentum", 0.9f);
  if (failed(spatial) || failed(epsilon) || failed(momentum))
    return failure();
  if (*spatial != 1)
    return c.error() << "spatial = 0 is not supported";
  SmallVector<Value, 5> operands;
  for (int i = 0; i < 5; ++i) {
    FailureOr<Value> v = im.getRuntimeInput(node, i, /*isBuffer=*/i >= 3);
    if (failed(v))
      return failure();
    if ((i > 0 && failed(c.requireRank(*v, 1, "a statistic or scale"))))
      return failure();
    operands.push_back(*v);
  }
  return c.finish(im.create<cnn::BatchNormOp>(
      node.loc, operands,
      {c.attr("epsilon", im.builder.getF32FloatAttr(*epsilon)),
       c.attr("momentum", im.builder.getF32FloatAttr(*momentum))}));
}

/// An f32 constant of `like`'s rank with every dimension 1, holding `v`:
/// an operand of the elementwise ops that activations and normalizations
/// decompose into.
static Value broadcastScalar(Importer &im, Location loc, Value like, float v) {
  SmallVector<int64_t> shape(shapeOf(like).size(), 1);
  auto type = RankedTensorType::get(shape, im.builder.getF32Type());
  return im.builder
      .create<cnn::ConstantOp>(loc, type, DenseElementsAttr::get(type, v))
      .getResult();
}

/// (x - mean) / sqrt(var + epsilon) over `axes`, the biased variance, as
/// cnn ops that all have derivatives: InstanceNormalization and
/// LayerNormalization train through it.
struct Normalized {
  Value output, mean, deviation;
};
static FailureOr<Normalized> normalize(Importer &im, Location loc, Value x,
                                       ArrayRef<int64_t> axes, float epsilon) {
  auto mean = [&](Value v) {
    return im.create<cnn::ReduceOp>(
        loc, v,
        {im.builder.getNamedAttr(
             "kind", cnn::ReductionAttr::get(im.builder.getContext(),
                                             cnn::Reduction::Mean)),
         im.builder.getNamedAttr("axes", im.builder.getI64ArrayAttr(axes)),
         im.builder.getNamedAttr("keepdims", im.builder.getBoolAttr(true))});
  };
  FailureOr<Value> mu = mean(x);
  if (failed(mu))
    return failure();
  FailureOr<Value> centered = im.create<cnn::SubOp>(loc, ValueRange{x, *mu});
  if (failed(centered))
    return failure();
  FailureOr<Value> squared =
      im.create<cnn::MulOp>(loc, ValueRange{*centered, *centered});
  if (failed(squared))
    return failure();
  FailureOr<Value> variance = mean(*squared);
  if (failed(variance))
    return failure();
  FailureOr<Value> shifted = im.create<cnn::AddOp>(
      loc, ValueRange{*variance, broadcastScalar(im, loc, x, epsilon)});
  if (failed(shifted))
    return failure();
  FailureOr<Value> deviation = im.create<cnn::SqrtOp>(loc, *shifted);
  if (failed(deviation))
    return failure();
  FailureOr<Value> y =
      im.create<cnn::DivOp>(loc, ValueRange{*centered, *deviation});
  if (failed(y))
    return failure();
  return Normalized{*y, *mu, *deviation};
}

/// y * scale + bias (bias optional), each broadcast as given.
static FailureOr<Value> affine(Importer &im, Location loc, Value y, Value scale,
                               Optional<Value> bias) {
  FailureOr<Value> scaled = im.create<cnn::MulOp>(loc, ValueRange{y, scale});
  if (failed(scaled) || !bias)
    return scaled;
  return im.create<cnn::AddOp>(loc, ValueRange{*scaled, *bias});
}

/// InstanceNormalization: per sample and channel over the spatial axes;
/// the scale and bias per channel, reshaped to [C, 1, ...] to broadcast.
static LogicalResult convertInstanceNorm(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  FailureOr<Value> scale = im.getRuntimeInput(node, 1);
  FailureOr<Value> bias = im.getRuntimeInput(node, 2);
  FailureOr<float> epsilon = im.getFloatAttr(node, "epsilon", 1e-5f);
  if (failed(x) || failed(scale) || failed(bias) || failed(epsilon))
    return failure();
  int64_t rank = shapeOf(*x).size();
  if (rank < 3)
    return c.error() << "the input must have spatial axes (rank 3 or more), "
                        "got rank "
                     << rank;
  int64_t channels = shapeOf(*x)[1];
  for (Value v : {*scale, *bias})
    if (shapeOf(v).size() != 1 || shapeOf(v)[0] != channels)
      return c.error() << "the scale and the bias must have shape [" << channels
                       << "]";
  SmallVector<int64_t> axes, perChannel(rank - 1, 1);
  for (int64_t i = 2; i < rank; ++i)
    axes.push_back(i);
  perChannel[0] = channels;
  FailureOr<Normalized> y = normalize(im, node.loc, *x, axes, *epsilon);
  FailureOr<Value> s = im.reshapeTo(node.loc, *scale, perChannel);
  FailureOr<Value> b = im.reshapeTo(node.loc, *bias, perChannel);
  if (failed(y) || failed(s) || failed(b))
    return failure();
  return c.finish(affine(im, node.loc, y->output, *s, *b));
}

/// LayerNormalization (opset 17): over the axes from `axis` on; the scale
/// and bias have those axes' shape and broadcast as they are. The optional
/// outputs: the mean and 1 / sqrt(variance + epsilon), of the input's shape
/// with the normalized axes of extent 1.
static LogicalResult convertLayerNorm(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  FailureOr<Value> scale = im.getRuntimeInput(node, 1);
  FailureOr<int64_t> axisAttr = im.getIntAttr(node, "axis", -1);
  FailureOr<float> epsilon = im.getFloatAttr(node, "epsilon", 1e-5f);
  if (failed(x) || failed(scale) || failed(axisAttr) || failed(epsilon))
    return failure();
  Optional<Value> bias;
  if (node.hasInput(2)) {
    FailureOr<Value> b = im.getRuntimeInput(node, 2);
    if (failed(b))
      return failure();
    bias = *b;
  }
  int64_t rank = shapeOf(*x).size();
  int64_t axis = *axisAttr < 0 ? *axisAttr + rank : *axisAttr;
  if (axis < 0 || axis >= rank)
    return c.error() << "axis " << *axisAttr << " is out of range for rank "
                     << rank;
  SmallVector<int64_t> axes;
  for (int64_t i = axis; i < rank; ++i)
    axes.push_back(i);
  FailureOr<Normalized> y = normalize(im, node.loc, *x, axes, *epsilon);
  if (failed(y))
    return failure();
  if (node.hasOutput(1))
    im.setOutput(node, 1, y->mean);
  if (node.hasOutput(2)) {
    FailureOr<Value> inverse = im.create<cnn::ElementwiseUnaryOp>(
        node.loc, y->deviation,
        {c.attr("fn", cnn::UnaryFnAttr::get(im.builder.getContext(),
                                            cnn::UnaryFn::Reciprocal))});
    if (failed(inverse))
      return failure();
    im.setOutput(node, 2, *inverse);
  }
  return c.finish(affine(im, node.loc, y->output, *scale, bias));
}

/// LRN: x / (bias + alpha / size * sum of x^2 over `size` neighbouring
/// channels)^beta. The channel window is an average pooling (padding
/// counted) over x^2 seen as [N, 1, C, pixels]; every op has a derivative.
static LogicalResult convertLRN(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  FailureOr<int64_t> size = im.getIntAttr(node, "size", 0);
  FailureOr<float> alpha = im.getFloatAttr(node, "alpha", 1e-4f);
  FailureOr<float> beta = im.getFloatAttr(node, "beta", 0.75f);
  FailureOr<float> bias = im.getFloatAttr(node, "bias", 1.0f);
  if (failed(x) || failed(size) || failed(alpha) || failed(beta) ||
      failed(bias))
    return failure();
  ArrayRef<int64_t> shape = shapeOf(*x);
  if (shape.size() < 3)
    return c.error() << "the input must have spatial axes (rank 3 or more), "
                        "got rank "
                     << shape.size();
  if (*size <= 0 || *size > 4096)
    return c.error() << "'size' must be from 1 to 4096, got " << *size;
  int64_t pixels = 1;
  for (size_t i = 2; i < shape.size(); ++i)
    pixels *= shape[i];
  FailureOr<Value> squared =
      im.create<cnn::MulOp>(node.loc, ValueRange{*x, *x});
  if (failed(squared))
    return failure();
  FailureOr<Value> planes =
      im.reshapeTo(node.loc, *squared, {shape[0], 1, shape[1], pixels});
  if (failed(planes))
    return failure();
  int64_t before = (*size - 1) / 2, after = *size - 1 - before;
  FailureOr<Value> window = im.create<cnn::AvgPool2dOp>(
      node.loc, *planes,
      {c.attr("kernel_shape", c.ints({*size, 1})),
       c.attr("strides", c.ints({1, 1})),
       c.attr("pads", c.ints({before, 0, after, 0})),
       c.attr("dilations", c.ints({1, 1})),
       c.attr("ceil_mode", im.builder.getBoolAttr(false)),
       c.attr("count_include_pad", im.builder.getBoolAttr(true))});
  if (failed(window))
    return failure();
  FailureOr<Value> mean = im.reshapeTo(node.loc, *window, shape);
  if (failed(mean))
    return failure();
  FailureOr<Value> scaled = im.create<cnn::MulOp>(
      node.loc, ValueRange{*mean, broadcastScalar(im, node.loc, *x, *alpha)});
  if (failed(scaled))
    return failure();
  FailureOr<Value> shifted = im.create<cnn::AddOp>(
      node.loc, ValueRange{*scaled, broadcastScalar(im, node.loc, *x, *bias)});
  if (failed(shifted))
    return failure();
  FailureOr<Value> denominator = im.create<cnn::PowOp>(
      node.loc, ValueRange{*shifted, broadcastScalar(im, node.loc, *x, *beta)});
  if (failed(denominator))
    return failure();
  return c.finish(
      im.create<cnn::DivOp>(node.loc, ValueRange{*x, *denominator}));
}

//===----------------------------------------------------------------------===//
// Dense layers and elementwise ops
//===----------------------------------------------------------------------===//

static LogicalResult convertGemm(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  SmallVector<Value, 3> operands;
  for (int i = 0; i < 3; ++i) {
    if (i == 2 && !node.hasInput(2))
      break;
    FailureOr<Value> v = im.getRuntimeInput(node, i);
    if (failed(v))
      return failure();
    operands.push_back(*v);
  }
  FailureOr<float> alpha = im.getFloatAttr(node, "alpha", 1.0f);
  FailureOr<float> beta = im.getFloatAttr(node, "beta", 1.0f);
  FailureOr<int64_t> transA = im.getIntAttr(node, "transA", 0);
  FailureOr<int64_t> transB = im.getIntAttr(node, "transB", 0);
  if (failed(alpha) || failed(beta) || failed(transA) || failed(transB))
    return failure();
  return c.finish(im.create<cnn::GemmOp>(
      node.loc, operands,
      {c.attr("alpha", im.builder.getF32FloatAttr(*alpha)),
       c.attr("beta", im.builder.getF32FloatAttr(*beta)),
       c.attr("transA", im.builder.getBoolAttr(*transA != 0)),
       c.attr("transB", im.builder.getBoolAttr(*transB != 0))}));
}

/// `OpTy(a, b)` with NumPy broadcasting: b reshaped to a's rank first (cnn's
/// binary ops broadcast operands of the same rank).
template <typename OpTy>
static FailureOr<Value> createBroadcast(Importer &im, const NodeRef &node,
                                        Value a, Value b) {
  auto rhsShape = im.broadcastRhsShape(node, shapeOf(a).size(), shapeOf(b));
  if (failed(rhsShape))
    return failure();
  if (*rhsShape != shapeOf(b)) {
    FailureOr<Value> reshaped = im.reshapeTo(node.loc, b, *rhsShape);
    if (failed(reshaped))
      return failure();
    b = *reshaped;
  }
  return im.create<OpTy>(node.loc, ValueRange{a, b});
}

template <typename OpTy>
static LogicalResult convertBinary(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> a = im.getRuntimeInput(node, 0);
  FailureOr<Value> b = im.getRuntimeInput(node, 1);
  if (failed(a) || failed(b))
    return failure();
  return c.finish(createBroadcast<OpTy>(im, node, *a, *b));
}

/// Sum, Mean, Max and Min of one or more inputs with NumPy broadcasting:
/// a chain of the binary op over the inputs in order (Mean: the Sum times
/// 1/n).
template <typename OpTy, bool Mean = false>
static LogicalResult convertVariadic(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  if (node.numInputs() < 1)
    return c.error() << "needs at least one input";
  FailureOr<Value> acc = im.getRuntimeInput(node, 0);
  if (failed(acc))
    return failure();
  for (int i = 1; i < node.numInputs(); ++i) {
    FailureOr<Value> b = im.getRuntimeInput(node, i);
    if (failed(b))
      return failure();
    // The operand of lower rank goes right (the ops are commutative).
    Value lhs = *acc, rhs = *b;
    if (shapeOf(rhs).size() > shapeOf(lhs).size())
      std::swap(lhs, rhs);
    acc = createBroadcast<OpTy>(im, node, lhs, rhs);
    if (failed(acc))
      return failure();
  }
  if (Mean && node.numInputs() > 1) {
    Value share =
        broadcastScalar(im, node.loc, *acc, 1.0f / (float)node.numInputs());
    acc = im.create<cnn::MulOp>(node.loc, ValueRange{*acc, share});
    if (failed(acc))
      return failure();
  }
  return c.finish(*acc);
}

template <typename OpTy>
static LogicalResult convertUnary(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  if (failed(x))
    return failure();
  return c.finish(im.create<OpTy>(node.loc, *x));
}

/// Pow: x * x for a constant exponent 2 (LayerNorm's variance, as PyTorch
/// exports it: exact, and it trains through mul), else powf.
static LogicalResult convertPow(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  if (failed(x))
    return failure();
  if (node.hasInput(1) &&
      im.kindOf(node.proto.input(1)) != Importer::ValueKind::Runtime) {
    FailureOr<StaticTensorRef> e = im.getStaticInput(node, 1, "the exponent");
    if (failed(e))
      return failure();
    if ((*e)->isFloat && (*e)->numElements() == 1) {
      FailureOr<float> v = im.getScalarFloat(node, 1, "the exponent");
      if (failed(v))
        return failure();
      if (*v == 2.0f)
        return c.finish(im.create<cnn::MulOp>(node.loc, ValueRange{*x, *x}));
    }
  }
  return convertBinary<cnn::PowOp>(im, node);
}

/// The pointwise functions of cnn.unary, with ONNX's attribute defaults.
template <cnn::UnaryFn Fn>
static LogicalResult convertUnaryFn(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  if (failed(x))
    return failure();
  float alpha = 1.0f, beta = 0.0f;
  const char *alphaName = "alpha", *betaName = nullptr;
  switch (Fn) {
  case cnn::UnaryFn::Selu:
    alpha = 1.67326319217681884765625f;
    beta = 1.05070102214813232421875f;
    betaName = "gamma";
    break;
  case cnn::UnaryFn::Shrink:
    alpha = 0.5f;
    alphaName = "lambd";
    betaName = "bias";
    break;
  default:
    break;
  }
  FailureOr<float> a = im.getFloatAttr(node, alphaName, alpha);
  FailureOr<float> b =
      betaName ? im.getFloatAttr(node, betaName, beta) : FailureOr<float>(beta);
  if (failed(a) || failed(b))
    return failure();
  if (!std::isfinite(*a) || !std::isfinite(*b) ||
      (Fn == cnn::UnaryFn::Celu && *a == 0.0f))
    return c.error() << "its parameters must be finite (and CELU's alpha "
                        "nonzero)";
  return c.finish(im.create<cnn::ElementwiseUnaryOp>(
      node.loc, *x,
      {c.attr("fn", cnn::UnaryFnAttr::get(im.builder.getContext(), Fn)),
       c.attr("alpha", im.builder.getF32FloatAttr(*a)),
       c.attr("beta", im.builder.getF32FloatAttr(*b))}));
}

/// PRelu: before opset 7, a 1-D slope of the channel count applies per
/// channel (axis 1); since, the slope broadcasts by NumPy's rules.
static LogicalResult convertPRelu(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  FailureOr<Value> slope = im.getRuntimeInput(node, 1);
  if (failed(x) || failed(slope))
    return failure();
  ArrayRef<int64_t> xs = shapeOf(*x), ss = shapeOf(*slope);
  if (im.opset < 7 && ss.size() == 1 && xs.size() >= 2 && ss[0] == xs[1] &&
      ss[0] != 1) {
    SmallVector<int64_t> perChannel(xs.size() - 1, 1);
    perChannel[0] = ss[0];
    slope = im.reshapeTo(node.loc, *slope, perChannel);
    if (failed(slope))
      return failure();
  }
  return c.finish(im.create<cnn::PReluOp>(node.loc, ValueRange{*x, *slope}));
}

static LogicalResult convertLeakyRelu(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  FailureOr<float> alpha = im.getFloatAttr(node, "alpha", 0.01f);
  if (failed(x) || failed(alpha))
    return failure();
  return c.finish(im.create<cnn::LeakyReluOp>(
      node.loc, *x, {c.attr("alpha", im.builder.getF32FloatAttr(*alpha))}));
}

static LogicalResult convertClip(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  if (failed(x))
    return failure();
  float lo = -FLT_MAX, hi = FLT_MAX;
  if (im.opset < 11) {
    FailureOr<float> min = im.getFloatAttr(node, "min", -FLT_MAX);
    FailureOr<float> max = im.getFloatAttr(node, "max", FLT_MAX);
    if (failed(min) || failed(max))
      return failure();
    lo = *min;
    hi = *max;
  } else {
    // Bounds are optional inputs; an omitted one is unbounded.
    for (int i = 1; i <= 2; ++i) {
      if (!node.hasInput(i))
        continue;
      FailureOr<float> v =
          im.getScalarFloat(node, i, i == 1 ? "the minimum" : "the maximum");
      if (failed(v))
        return failure();
      (i == 1 ? lo : hi) = *v;
    }
  }
  if (std::isnan(lo) || std::isnan(hi))
    return c.error() << "bounds must not be NaN";
  // Infinite bounds clamp to the largest finite floats, which the printed
  // IR and the code generators handle like any other value.
  lo = std::max(lo, -FLT_MAX);
  hi = std::min(hi, FLT_MAX);
  return c.finish(
      im.create<cnn::ClipOp>(node.loc, *x,
                             {c.attr("min", im.builder.getF32FloatAttr(lo)),
                              c.attr("max", im.builder.getF32FloatAttr(hi))}));
}

/// HardSigmoid, max(0, min(1, alpha * x + beta)), as a scale, a shift and a
/// clip to [0, 1]: ops that have their backward kernels, so a model using
/// it fine-tunes. HardSwish (opset 14) is x * HardSigmoid(x) with alpha
/// 1/6 and beta 1/2, as ONNX defines it.
static FailureOr<Value> hardSigmoid(Importer &im, Location loc, Value x,
                                    float alpha, float beta) {
  FailureOr<Value> scaled = im.create<cnn::MulOp>(
      loc, ValueRange{x, broadcastScalar(im, loc, x, alpha)});
  if (failed(scaled))
    return failure();
  FailureOr<Value> shifted = im.create<cnn::AddOp>(
      loc, ValueRange{*scaled, broadcastScalar(im, loc, x, beta)});
  if (failed(shifted))
    return failure();
  return im.create<cnn::ClipOp>(
      loc, *shifted,
      {im.builder.getNamedAttr("min", im.builder.getF32FloatAttr(0.0f)),
       im.builder.getNamedAttr("max", im.builder.getF32FloatAttr(1.0f))});
}

static LogicalResult convertHardSigmoid(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  FailureOr<float> alpha = im.getFloatAttr(node, "alpha", 0.2f);
  FailureOr<float> beta = im.getFloatAttr(node, "beta", 0.5f);
  if (failed(x) || failed(alpha) || failed(beta))
    return failure();
  if (!std::isfinite(*alpha) || !std::isfinite(*beta))
    return c.error() << "alpha and beta must be finite";
  return c.finish(hardSigmoid(im, node.loc, *x, *alpha, *beta));
}

static LogicalResult convertHardSwish(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  if (failed(x))
    return failure();
  FailureOr<Value> gate = hardSigmoid(im, node.loc, *x, 1.0f / 6, 0.5f);
  if (failed(gate))
    return failure();
  return c.finish(im.create<cnn::MulOp>(node.loc, ValueRange{*x, *gate}));
}

static LogicalResult convertDropout(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  if (failed(im.checkOutputUnused(node, 1, "mask")))
    return failure();
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  if (failed(x))
    return failure();
  float ratio = 0.5f;
  if (im.opset < 12) {
    FailureOr<float> r = im.getFloatAttr(node, "ratio", 0.5f);
    if (failed(r))
      return failure();
    ratio = *r;
  } else if (node.hasInput(1)) {
    FailureOr<float> r = im.getScalarFloat(node, 1, "the ratio");
    if (failed(r))
      return failure();
    ratio = *r;
  }
  // The graph is imported for inference; `training_mode` (input 2) only says
  // how the exporter ran, and training re-enables dropout by itself.
  return c.finish(im.create<cnn::DropoutOp>(
      node.loc, *x, {c.attr("ratio", im.builder.getF32FloatAttr(ratio))}));
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

static LogicalResult convertIdentity(Importer &im, const NodeRef &node) {
  FailureOr<OnnxValue> v = im.getInput(node, 0);
  if (failed(v))
    return failure();
  im.setOutput(node, 0, *v);
  return success();
}

static LogicalResult convertCast(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<int64_t> to = im.getIntAttr(node, "to", 0);
  if (failed(to))
    return failure();
  if (*to != onnx::TensorProto::FLOAT)
    return c.error() << "casting activations to " << dataTypeName(*to)
                     << " is not supported";
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  if (failed(x))
    return failure();
  im.setOutput(node, 0, *x);
  return success();
}

static LogicalResult convertFlatten(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  FailureOr<int64_t> axis = im.getIntAttr(node, "axis", 1);
  if (failed(x) || failed(axis))
    return failure();
  return c.finish(im.create<cnn::FlattenOp>(
      node.loc, *x, {c.attr("axis", im.builder.getI64IntegerAttr(*axis))}));
}

static LogicalResult convertReshape(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  FailureOr<StaticTensorRef> target =
      im.getStaticInput(node, 1, "the target shape");
  FailureOr<int64_t> allowZero = im.getIntAttr(node, "allowzero", 0);
  if (failed(x) || failed(target) || failed(allowZero))
    return failure();
  if ((*target)->isFloat || (*target)->shape.size() != 1)
    return c.error() << "the target shape must be a 1-D integer tensor";
  if (*allowZero)
    for (const SymInt &s : (*target)->ints)
      if (s.isKnown() && s.value == 0)
        return c.error() << "allowzero with a 0 in the target shape "
                            "(an empty tensor) is not supported";
  auto shape = im.resolveReshapeTarget(node, *x, (*target)->ints);
  if (failed(shape))
    return failure();
  return c.finish(im.create<cnn::ReshapeOp>(node.loc, *x,
                                            {c.attr("shape", c.ints(*shape))}));
}

/// Unsqueeze and Squeeze of activations: a reshape to the new shape.
static LogicalResult convertSqueezeLike(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  bool unsqueeze = node.opType() == "Unsqueeze";
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  if (failed(x))
    return failure();
  auto given = im.getIntsAttrOrInput(node, "axes", 1, 13);
  if (failed(given))
    return failure();
  Optional<SmallVector<int64_t>> axes = *given;
  ArrayRef<int64_t> in = shapeOf(*x);
  int64_t outRank = in.size() + (unsqueeze && axes ? axes->size() : 0);
  SmallVector<bool> marked(unsqueeze ? outRank : in.size(), false);
  if (unsqueeze && !axes)
    return c.error() << "needs 'axes'";
  if (axes) {
    for (int64_t a : *axes) {
      int64_t rank = marked.size(), axis = a < 0 ? a + rank : a;
      if (axis < 0 || axis >= rank || marked[axis])
        return c.error() << "invalid axis " << a;
      if (!unsqueeze && in[axis] != 1)
        return c.error() << "dimension " << axis << " is not 1";
      marked[axis] = true;
    }
  } else {
    for (size_t i = 0; i < in.size(); ++i)
      marked[i] = in[i] == 1;
  }
  SmallVector<int64_t> shape;
  size_t next = 0;
  for (size_t i = 0; i < marked.size(); ++i) {
    if (unsqueeze)
      shape.push_back(marked[i] ? 1 : in[next++]);
    else if (!marked[i])
      shape.push_back(in[i]);
  }
  return c.finish(im.reshapeTo(node.loc, *x, shape));
}

/// Transpose of a run-time tensor (at import time: ShapeEval.cpp).
static LogicalResult convertTranspose(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  if (failed(x))
    return failure();
  FailureOr<SmallVector<int64_t>> perm =
      im.resolvePerm(node, shapeOf(*x).size());
  if (failed(perm))
    return failure();
  return c.finish(im.create<cnn::TransposeOp>(node.loc, *x,
                                              {c.attr("perm", c.ints(*perm))}));
}

/// DepthToSpace (modes DCR and CRD) and SpaceToDepth: a 6-D reshape, a
/// transpose and a reshape back, as ONNX defines them.
template <bool toSpace>
static LogicalResult convertBlockShuffle(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  FailureOr<int64_t> block = im.getIntAttr(node, "blocksize", 0);
  FailureOr<std::string> mode = im.getStringAttr(node, "mode", "DCR");
  if (failed(x) || failed(block) || failed(mode) ||
      failed(c.requireRank(*x, 4, "the input")))
    return failure();
  int64_t b = *block;
  ArrayRef<int64_t> in = shapeOf(*x);
  int64_t n = in[0], ch = in[1], h = in[2], w = in[3];
  if (b <= 0 || b > 4096)
    return c.error() << "'blocksize' must be from 1 to 4096, got " << b;
  SmallVector<int64_t> split, perm, merged;
  if (toSpace) {
    if (*mode != "DCR" && *mode != "CRD")
      return c.error() << "mode '" << *mode << "' is not DCR or CRD";
    if (ch % (b * b) != 0)
      return c.error() << "the " << ch << " channels are not a multiple of "
                       << "blocksize^2 = " << b * b;
    int64_t out = ch / (b * b);
    if (*mode == "DCR") {
      split = {n, b, b, out, h, w};
      perm = {0, 3, 4, 1, 5, 2};
    } else {
      split = {n, out, b, b, h, w};
      perm = {0, 1, 4, 2, 5, 3};
    }
    merged = {n, out, h * b, w * b};
  } else {
    if (h % b != 0 || w % b != 0)
      return c.error() << "the spatial size " << h << "x" << w
                       << " is not a multiple of blocksize " << b;
    split = {n, ch, h / b, b, w / b, b};
    perm = {0, 3, 5, 1, 2, 4};
    merged = {n, ch * b * b, h / b, w / b};
  }
  FailureOr<Value> blocks = im.reshapeTo(node.loc, *x, split);
  if (failed(blocks))
    return failure();
  FailureOr<Value> moved = im.create<cnn::TransposeOp>(
      node.loc, *blocks, {c.attr("perm", c.ints(perm))});
  if (failed(moved))
    return failure();
  return c.finish(im.reshapeTo(node.loc, *moved, merged));
}

/// Slice of a run-time tensor, its bounds known at import time.
static LogicalResult convertSlice(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  if (failed(x))
    return failure();
  SmallVector<int64_t> begin, step, sizes;
  if (failed(im.resolveSlice(node, shapeOf(*x), begin, step, sizes)))
    return failure();
  if (llvm::is_contained(sizes, 0))
    return c.error() << "the slice is empty, which cnnc does not support";
  return c.finish(im.create<cnn::SliceOp>(node.loc, *x,
                                          {c.attr("starts", c.ints(begin)),
                                           c.attr("steps", c.ints(step)),
                                           c.attr("sizes", c.ints(sizes))}));
}

/// The axis attribute of Split and Gather on `x`, made non-negative; the
/// axis must have a static extent (`what` the op does along it).
static FailureOr<int64_t> staticAxis(OpContext &c, Value x, StringRef what) {
  FailureOr<int64_t> attr = c.im.getIntAttr(c.node, "axis", 0);
  if (failed(attr))
    return failure();
  ArrayRef<int64_t> shape = shapeOf(x);
  int64_t rank = shape.size();
  int64_t axis = *attr < 0 ? *attr + rank : *attr;
  if (axis < 0 || axis >= rank) {
    c.error() << "axis " << *attr << " is out of range for rank " << rank;
    return failure();
  }
  if (shape[axis] == ShapedType::kDynamicSize) {
    c.error() << what << " axis " << axis
              << ", whose extent is known only at run time (the batch), "
                 "which cnnc does not support";
    return failure();
  }
  return axis;
}

/// x[start : start + size] along `axis`, the other dims whole.
static FailureOr<Value> sliceAxis(OpContext &c, Value x, int64_t axis,
                                  int64_t start, int64_t size) {
  ArrayRef<int64_t> shape = shapeOf(x);
  SmallVector<int64_t> starts(shape.size(), 0), steps(shape.size(), 1), sizes;
  for (int64_t d : shape)
    sizes.push_back(d == ShapedType::kDynamicSize ? -1 : d);
  starts[axis] = start;
  sizes[axis] = size;
  return c.im.create<cnn::SliceOp>(c.node.loc, x,
                                   {c.attr("starts", c.ints(starts)),
                                    c.attr("steps", c.ints(steps)),
                                    c.attr("sizes", c.ints(sizes))});
}

/// Split: one cnn.slice per output along `axis`, of the sizes `split` (an
/// attribute before opset 13, an optional input known at import time
/// since) or of equal parts.
static LogicalResult convertSplit(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  if (failed(x))
    return failure();
  FailureOr<int64_t> axisOr = staticAxis(c, *x, "splits");
  if (failed(axisOr))
    return failure();
  int64_t axis = *axisOr;
  ArrayRef<int64_t> shape = shapeOf(*x);
  int64_t outputs = node.proto.output_size();
  auto given = im.getIntsAttrOrInput(node, "split", 1, 13);
  if (failed(given))
    return failure();
  SmallVector<int64_t> split = given->getValueOr(SmallVector<int64_t>());
  if (split.empty()) {
    if (outputs == 0 || shape[axis] % outputs != 0)
      return c.error() << "cannot split an axis of " << shape[axis] << " into "
                       << outputs << " equal parts";
    split.assign(outputs, shape[axis] / outputs);
  }
  if ((int64_t)split.size() != outputs)
    return c.error() << "'split' has " << split.size() << " entries for "
                     << outputs << " outputs";
  int64_t total = 0;
  for (int64_t part : split) {
    if (part <= 0)
      return c.error() << "a part of size " << part
                       << " (cnnc supports no empty tensors)";
    total += part;
  }
  if (total != shape[axis])
    return c.error() << "the parts sum to " << total << ", not the axis' "
                     << shape[axis];
  int64_t start = 0;
  for (int64_t i = 0; i < outputs; ++i) {
    FailureOr<Value> part = sliceAxis(c, *x, axis, start, split[i]);
    if (failed(part))
      return failure();
    if (node.hasOutput(i))
      im.setOutput(node, i, *part);
    start += split[i];
  }
  return success();
}

/// Gather on a tensor computed at run time, by indices known at import time
/// (channel and pixel selections, a permutation): the indices split into
/// runs of consecutive positions, each a cnn.slice; the runs are
/// concatenated along the axis and the result reshaped to the indices'
/// shape (a scalar index drops the axis).
/// Slices and concat have schedules and derivatives, so it trains; a
/// permutation costs one slice per run.
static LogicalResult convertGather(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  if (failed(x))
    return failure();
  FailureOr<int64_t> axisOr = staticAxis(c, *x, "gathers along");
  if (failed(axisOr))
    return failure();
  int64_t axis = *axisOr;
  ArrayRef<int64_t> shape = shapeOf(*x);
  int64_t extent = shape[axis];
  FailureOr<StaticTensorRef> t = im.getStaticInput(node, 1, "the indices");
  if (failed(t))
    return failure();
  if ((*t)->isFloat || !(*t)->allKnown())
    return c.error() << "the indices must be integers known at import time";
  SmallVector<int64_t> flat;
  for (const SymInt &v : (*t)->ints)
    flat.push_back(v.value);
  auto *values = &flat;
  if (values->empty())
    return c.error() << "the indices are empty, which cnnc does not support";
  if (values->size() > 4096)
    return c.error() << "gathers " << values->size()
                     << " indices; cnnc supports up to 4096";
  SmallVector<int64_t> idx;
  for (int64_t v : *values) {
    int64_t i = v < 0 ? v + extent : v;
    if (i < 0 || i >= extent)
      return c.error() << "index " << v << " is out of range for axis " << axis
                       << " of extent " << extent;
    idx.push_back(i);
  }
  SmallVector<Value> parts;
  for (size_t begin = 0; begin < idx.size();) {
    // The longest run of consecutive positions from `begin` (a strided
    // run would be one slice too, but a strided slice has no derivative).
    size_t end = begin + 1;
    while (end < idx.size() && idx[end] == idx[end - 1] + 1)
      ++end;
    FailureOr<Value> part =
        sliceAxis(c, *x, axis, idx[begin], (int64_t)(end - begin));
    if (failed(part))
      return failure();
    parts.push_back(*part);
    begin = end;
  }
  Value y = parts.front();
  if (parts.size() > 1) {
    FailureOr<Value> joined = im.create<cnn::ConcatOp>(
        node.loc, parts, {c.attr("axis", im.builder.getI64IntegerAttr(axis))});
    if (failed(joined))
      return failure();
    y = *joined;
  }
  // The indices' shape replaces the axis.
  ArrayRef<int64_t> ishape = (*t)->shape;
  if (ishape.size() == 1)
    return c.finish(y);
  SmallVector<int64_t> out(shape.begin(), shape.begin() + axis);
  out.append(ishape.begin(), ishape.end());
  out.append(shape.begin() + axis + 1, shape.end());
  return c.finish(im.reshapeTo(node.loc, y, out));
}

static LogicalResult convertConcat(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<int64_t> axis = im.getIntAttr(node, "axis", INT64_MIN);
  if (failed(axis))
    return failure();
  if (*axis == INT64_MIN)
    return c.error() << "needs 'axis'";
  SmallVector<Value> inputs;
  for (int i = 0; i < node.numInputs(); ++i) {
    if (!node.hasInput(i))
      continue;
    FailureOr<Value> v = im.getRuntimeInput(node, i);
    if (failed(v))
      return failure();
    inputs.push_back(*v);
  }
  return c.finish(im.create<cnn::ConcatOp>(
      node.loc, inputs, {c.attr("axis", im.builder.getI64IntegerAttr(*axis))}));
}

static LogicalResult convertPad(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<std::string> mode = im.getStringAttr(node, "mode", "constant");
  if (failed(mode))
    return failure();
  Optional<cnn::PadMode> padMode = cnn::symbolizePadMode(*mode);
  if (!padMode)
    return c.error() << "mode '" << *mode
                     << "' is not supported (constant, reflect and edge are)";
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  if (failed(x))
    return failure();
  SmallVector<int64_t> pads;
  float value = 0.0f;
  if (im.opset < 11) {
    auto p = im.getIntsAttr(node, "pads");
    FailureOr<float> v = im.getFloatAttr(node, "value", 0.0f);
    if (failed(p) || failed(v))
      return failure();
    if (!*p)
      return c.error() << "needs 'pads'";
    pads = **p;
    value = *v;
  } else {
    auto p = im.getKnownInts(node, 1, "'pads'");
    if (failed(p))
      return failure();
    pads = *p;
    if (node.hasInput(2)) {
      FailureOr<float> v = im.getScalarFloat(node, 2, "the constant value");
      if (failed(v))
        return failure();
      value = *v;
    }
  }
  SmallVector<NamedAttribute> attrs = {
      c.attr("pads", c.ints(pads)),
      c.attr("value", im.builder.getF32FloatAttr(value))};
  if (*padMode != cnn::PadMode::Constant) // the default, left unwritten
    attrs.push_back(c.attr(
        "mode", cnn::PadModeAttr::get(im.builder.getContext(), *padMode)));
  return c.finish(im.create<cnn::PadOp>(node.loc, *x, attrs));
}

template <typename SoftmaxLikeOp>
static LogicalResult convertSoftmax(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  FailureOr<int64_t> axisAttr =
      im.getIntAttr(node, "axis", im.opset < 13 ? 1 : -1);
  if (failed(x) || failed(axisAttr))
    return failure();
  ArrayRef<int64_t> shape = shapeOf(*x);
  int64_t rank = shape.size(),
          axis = *axisAttr < 0 ? *axisAttr + rank : *axisAttr;
  if (axis < 0 || axis >= rank)
    return c.error() << "axis " << *axisAttr << " is out of range for rank "
                     << rank;
  auto axisNamed = [&](int64_t a) {
    return c.attr("axis", im.builder.getI64IntegerAttr(a));
  };
  if (im.opset >= 13 || axis == rank - 1)
    return c.finish(im.create<SoftmaxLikeOp>(node.loc, *x, {axisNamed(axis)}));
  // Before opset 13 the input is coerced to 2-D at `axis` and normalized
  // over everything from `axis` on.
  FailureOr<Value> flat = im.create<cnn::FlattenOp>(
      node.loc, *x, {c.attr("axis", im.builder.getI64IntegerAttr(axis))});
  if (failed(flat))
    return failure();
  FailureOr<Value> normalized =
      im.create<SoftmaxLikeOp>(node.loc, *flat, {axisNamed(1)});
  if (failed(normalized))
    return failure();
  return c.finish(im.reshapeTo(node.loc, *normalized, shape));
}

/// ReduceSum, ReduceMean, ...: `axes` is an attribute until the opset
/// `axesInputSince` (13 for ReduceSum, 18 for the others), then an
/// optional input known at import time. No axes reduce them all, or none
/// with noop_with_empty_axes.
template <cnn::Reduction kind, int64_t axesInputSince>
static LogicalResult convertReduce(Importer &im, const NodeRef &node) {
  OpContext c{im, node};
  FailureOr<Value> x = im.getRuntimeInput(node, 0);
  FailureOr<int64_t> keepDims = im.getIntAttr(node, "keepdims", 1);
  FailureOr<int64_t> noop = im.getIntAttr(node, "noop_with_empty_axes", 0);
  if (failed(x) || failed(keepDims) || failed(noop))
    return failure();
  auto given = im.getIntsAttrOrInput(node, "axes", 1, axesInputSince);
  if (failed(given))
    return failure();
  SmallVector<int64_t> axes = given->getValueOr(SmallVector<int64_t>());
  if (axes.empty() && *noop)
    return c.finish(*x);
  if (axes.empty())
    for (size_t i = 0; i < shapeOf(*x).size(); ++i)
      axes.push_back(i);
  return c.finish(im.create<cnn::ReduceOp>(
      node.loc, *x,
      {c.attr("kind", cnn::ReductionAttr::get(im.builder.getContext(), kind)),
       c.attr("axes", c.ints(axes)),
       c.attr("keepdims", im.builder.getBoolAttr(*keepDims != 0))}));
}

//===----------------------------------------------------------------------===//
// Dispatch
//===----------------------------------------------------------------------===//

/// Every op cnnc converts, and what of it is not supported ("no backward":
/// DeriveTraining has no derivative, so `--train` trains only the
/// parameters after it): `cnnc --list-ops` and docs/supported-ops.md print
/// this table.
struct OpSupport {
  const char *opType;
  Converter convert;
  const char *limits;
};

static const OpSupport kConverters[] = {
    {"Conv", convertConv, "2-D (NCHW); auto_pad NOTSET, VALID, SAME_*"},
    {"ConvTranspose", convertConvTranspose,
     "2-D (NCHW); auto_pad NOTSET, VALID, SAME_*; output_shape and "
     "output_padding"},
    {"Resize", convertResize,
     "2-D, along H and W (scales or sizes known at import time); modes "
     "nearest, linear, cubic; coordinate modes half_pixel, "
     "pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn "
     "(not tf_crop_and_resize, half_pixel_symmetric); no "
     "antialias, axes or keep_aspect_ratio_policy other than stretch"},
    {"Upsample", convertResize, "2-D, along H and W; modes nearest, linear"},
    {"Gather", convertGather,
     "values known at import time are computed at import (shape "
     "computations); on values computed at run time: indices known at "
     "import time (up to "
     "4096), along an axis other than a batch known only at run time"},
    {"MaxPool", convertPool<cnn::MaxPool2dOp>,
     "2-D; the Indices output unused; storage_order 0"},
    {"AveragePool", convertPool<cnn::AvgPool2dOp>, "2-D"},
    {"GlobalAveragePool", convertGlobalPool<cnn::GlobalAvgPoolOp>, "2-D"},
    {"GlobalMaxPool", convertGlobalPool<cnn::GlobalMaxPoolOp>, "2-D"},
    {"BatchNormalization", convertBatchNorm,
     "spatial 1; the training-mode outputs (running and batch statistics) "
     "unused"},
    {"InstanceNormalization", convertInstanceNorm,
     "as reductions and elementwise ops (which train)"},
    {"LayerNormalization", convertLayerNorm,
     "as reductions and elementwise ops (which train)"},
    {"LRN", convertLRN,
     "as a channel-window average pooling and elementwise ops (which train)"},
    {"Gemm", convertGemm, ""},
    {"MatMul", convertBinary<cnn::MatMulOp>, ""},
    {"Add", convertBinary<cnn::AddOp>, "NumPy broadcasting"},
    {"Sum", convertVariadic<cnn::AddOp>, "NumPy broadcasting"},
    {"Mean", convertVariadic<cnn::AddOp, true>, "NumPy broadcasting"},
    {"Max", convertVariadic<cnn::MaxOp>, "NumPy broadcasting"},
    {"Min", convertVariadic<cnn::MinOp>, "NumPy broadcasting"},
    {"Sub", convertBinary<cnn::SubOp>, "NumPy broadcasting"},
    {"Mul", convertBinary<cnn::MulOp>, "NumPy broadcasting"},
    {"Div", convertBinary<cnn::DivOp>, "NumPy broadcasting"},
    {"Relu", convertUnary<cnn::ReluOp>, ""},
    {"Sigmoid", convertUnary<cnn::SigmoidOp>, ""},
    {"Tanh", convertUnary<cnn::TanhOp>, ""},
    {"PRelu", convertPRelu, "the slope broadcasts to the input (NumPy rules)"},
    {"Neg", convertUnaryFn<cnn::UnaryFn::Neg>, ""},
    {"Abs", convertUnaryFn<cnn::UnaryFn::Abs>, ""},
    {"Exp", convertUnaryFn<cnn::UnaryFn::Exp>, ""},
    {"Log", convertUnaryFn<cnn::UnaryFn::Log>, ""},
    {"Reciprocal", convertUnaryFn<cnn::UnaryFn::Reciprocal>, ""},
    {"Softplus", convertUnaryFn<cnn::UnaryFn::Softplus>, ""},
    {"Softsign", convertUnaryFn<cnn::UnaryFn::Softsign>, ""},
    {"Elu", convertUnaryFn<cnn::UnaryFn::Elu>, ""},
    {"Selu", convertUnaryFn<cnn::UnaryFn::Selu>, ""},
    {"Celu", convertUnaryFn<cnn::UnaryFn::Celu>, ""},
    {"ThresholdedRelu", convertUnaryFn<cnn::UnaryFn::ThresholdedRelu>, ""},
    {"Shrink", convertUnaryFn<cnn::UnaryFn::Shrink>, ""},
    {"Sqrt", convertUnary<cnn::SqrtOp>, ""},
    {"Erf", convertUnary<cnn::ErfOp>, ""},
    {"Pow", convertPow, "NumPy broadcasting"},
    {"LeakyRelu", convertLeakyRelu, ""},
    {"Clip", convertClip, "bounds known at import time"},
    {"HardSigmoid", convertHardSigmoid, ""},
    {"HardSwish", convertHardSwish, ""},
    {"Dropout", convertDropout,
     "ratio known at import time; the mask output unused"},
    {"Identity", convertIdentity, ""},
    {"Cast", convertCast, "to FLOAT only (integer shape values: any)"},
    {"Flatten", convertFlatten, ""},
    {"Reshape", convertReshape,
     "target shape known at import time (up to one entry from the "
     "input's shape); no allowzero with a 0 entry"},
    {"Unsqueeze", convertSqueezeLike, "axes known at import time"},
    {"Squeeze", convertSqueezeLike, "axes known at import time"},
    {"Concat", convertConcat, ""},
    {"Split", convertSplit,
     "split sizes known at import time; not along the batch; no empty part"},
    {"Transpose", convertTranspose, ""},
    {"DepthToSpace", convertBlockShuffle<true>, "modes DCR and CRD"},
    {"SpaceToDepth", convertBlockShuffle<false>, ""},
    {"Slice", convertSlice,
     "bounds known at import time; the batch axis whole; no empty result"},
    {"Pad", convertPad,
     "modes constant, reflect and edge (reflect and edge not along the batch); "
     "pads known at import time; reflect and edge backward for pads of 0 or "
     "more"},
    {"Softmax", convertSoftmax<cnn::SoftmaxOp>,
     "a final one over the classes: the cross-entropy loss of --train takes "
     "the logits before it"},
    {"LogSoftmax", convertSoftmax<cnn::LogSoftmaxOp>,
     "a final one over the classes: the cross-entropy loss of --train takes "
     "the logits before it"},
    {"ReduceSum", convertReduce<cnn::Reduction::Sum, 13>,
     "axes known at import time"},
    {"ReduceMean", convertReduce<cnn::Reduction::Mean, 18>,
     "axes known at import time"},
    {"ReduceMax", convertReduce<cnn::Reduction::Max, 18>,
     "axes known at import time"},
    {"ReduceMin", convertReduce<cnn::Reduction::Min, 18>,
     "axes known at import time"},
    {"ReduceProd", convertReduce<cnn::Reduction::Prod, 18>,
     "axes known at import time"},
    {"ReduceL1", convertReduce<cnn::Reduction::L1, 18>,
     "axes known at import time"},
    {"ReduceL2", convertReduce<cnn::Reduction::L2, 18>,
     "axes known at import time"},
    {"ReduceSumSquare", convertReduce<cnn::Reduction::SumSquare, 18>,
     "axes known at import time"},
    {"ReduceLogSum", convertReduce<cnn::Reduction::LogSum, 18>,
     "axes known at import time"},
    {"ReduceLogSumExp", convertReduce<cnn::Reduction::LogSumExp, 18>,
     "axes known at import time"},
};

static Converter findConverter(StringRef opType) {
  for (const OpSupport &entry : kConverters)
    if (opType == entry.opType)
      return entry.convert;
  return nullptr;
}

void cnnc::printSupportedOnnxOps(llvm::raw_ostream &os, bool markdown) {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const OpSupport &entry : kConverters)
    rows.push_back({entry.opType, entry.limits});
  for (StringRef op : onnximport::staticOnlyOpTypes())
    if (!findConverter(op))
      rows.push_back({op.str(), "only on values known at import time (shape "
                                "computations)"});
  llvm::sort(rows);
  os << "Opsets " << kMinOpset << " to " << kMaxOpset
     << " of the default domain (ai.onnx); float32 tensors. Opsets "
     << kMinLegacyOpset << " to " << kMinOpset - 1
     << " for graphs whose operators all have their opset-" << kMinOpset
     << " definition (ONNX's schemas decide).\n\n";
  if (markdown) {
    os << "| Operator | Conditions, and what is not supported |\n"
       << "|---|---|\n";
    for (const auto &[op, limits] : rows)
      os << "| " << op << " | " << (limits.empty() ? "-" : limits) << " |\n";
    return;
  }
  for (const auto &[op, limits] : rows)
    os << llvm::left_justify(op, 20) << (limits.empty() ? "-" : limits) << "\n";
}

bool cnnc::onnximport::isSupportedOpType(StringRef opType) {
  return findConverter(opType) || isStaticOnlyOpType(opType);
}

LogicalResult Importer::convertRuntimeNode(const NodeRef &node) {
  if (Converter convert = findConverter(node.opType()))
    return convert(*this, node);
  // Only static-only ops get here, when an input is computed at run time.
  return emitError(node.loc)
         << node.opType()
         << " is supported only on values known at import time (shape "
            "computations), but its input is computed at run time";
}
