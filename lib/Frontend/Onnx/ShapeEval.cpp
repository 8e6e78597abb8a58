//===- ShapeEval.cpp - evaluate shape computations at import time ---------===//
//
// PyTorch exports `x.view(x.size(0), -1)` and F.pad as small graphs of
// integer ops (Shape, Gather, Unsqueeze, Concat, Slice...). The cnn dialect
// only computes on f32 activations, so these graphs are evaluated here, on
// StaticTensors whose integers may be symbolic ("dimension 0 of %x") when
// the batch is dynamic. Their results end up as attributes (a reshape
// target, pads).
//
//===----------------------------------------------------------------------===//

#include "OnnxImporterImpl.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace cnnc;
using namespace cnnc::onnximport;

static constexpr int64_t kDyn = ShapedType::kDynamicSize;

/// Ops whose every input must be known at import time.
static const char *const kStaticOnlyOps[] = {
    "Constant", "ConstantOfShape", "Shape", "Size", "Gather", "Slice"};
/// Ops evaluated at import time when their data inputs are static, and
/// converted to cnn ops otherwise (OnnxOps.cpp). A weight's Transpose (the
/// MatMul weights PyTorch exports) stays a cnn.transpose of the parameter,
/// so that training updates it; cnn-fold-batchnorm folds it where the
/// weight is constant.
static const char *const kDualOps[] = {
    "Identity", "Cast",      "Unsqueeze", "Squeeze", "Reshape",
    "Flatten",  "Concat",    "Add",       "Sub",     "Mul",
    "Div",      "Transpose", "Neg"};

llvm::ArrayRef<const char *> cnnc::onnximport::staticOnlyOpTypes() {
  return kStaticOnlyOps;
}

bool cnnc::onnximport::isStaticOnlyOpType(StringRef opType) {
  return llvm::is_contained(kStaticOnlyOps, opType);
}

bool Importer::shouldEvaluateStatically(const NodeRef &node) {
  StringRef type = node.opType();
  if (type == "Shape" || type == "Size")
    return true;
  bool staticOnly = isStaticOnlyOpType(type);
  if (!staticOnly && !llvm::is_contained(kDualOps, type))
    return false;
  // Axes and target shapes are static by construction; only data counts.
  bool dataIsFirstOnly =
      type == "Reshape" || type == "Unsqueeze" || type == "Squeeze";
  int numData = dataIsFirstOnly ? 1 : node.numInputs();
  for (int i = 0; i < numData; ++i) {
    if (!node.hasInput(i))
      continue;
    ValueKind kind = kindOf(node.proto.input(i));
    if (kind == ValueKind::Runtime)
      return false;
    // A weight that is reshaped or computed on stays a parameter, so that
    // training updates it; the op runs at run time on the param.
    if (kind == ValueKind::Weight && !staticOnly && type != "Identity" &&
        type != "Cast")
      return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Element count of `shape`, failing on overflow or beyond the limit for
/// tensors computed at import time.
static FailureOr<int64_t> checkedCount(const NodeRef &node,
                                       ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, d, &n) || n > kMaxComputedElements)
      return fail(emitError(node.loc)
                  << node.opType()
                  << ": the result would have too many elements "
                  << "to compute at import time");
  }
  return n;
}

static SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int i = (int)shape.size() - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

/// Calls `fn(outIndex, multiIndex)` for every element of `shape`, in order.
template <typename Fn>
static void forEachIndex(ArrayRef<int64_t> shape, int64_t count, Fn fn) {
  SmallVector<int64_t> idx(shape.size(), 0);
  for (int64_t flat = 0; flat < count; ++flat) {
    fn(flat, ArrayRef<int64_t>(idx));
    for (int d = (int)shape.size() - 1; d >= 0; --d) {
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
    }
  }
}

static FailureOr<int64_t> normalizeAxis(const NodeRef &node, int64_t axis,
                                        int64_t rank) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    return fail(emitError(node.loc) << node.opType() << ": axis " << axis
                                    << " is out of range for rank " << rank);
  return a;
}

namespace {
/// A static tensor with its elements in memory: float initializers are
/// decoded on demand, since most of them never need it.
struct Dense {
  StaticTensorRef ref;
  std::vector<float> floats;
  const StaticTensor &operator*() const { return *ref; }
  const StaticTensor *operator->() const { return ref.get(); }
};
} // namespace

static FailureOr<Dense> densify(Importer &importer, const NodeRef &node,
                                StaticTensorRef t) {
  Dense d{t, {}};
  if (t->isFloat) {
    FailureOr<std::vector<float>> f = importer.floatsOf(node.loc, *t);
    if (failed(f))
      return failure();
    d.floats = std::move(*f);
  }
  return d;
}

/// A tensor of `src`'s element type and `shape` whose element i is
/// src[index(i)].
template <typename IndexFn>
static StaticTensor gatherElements(const Dense &src, ArrayRef<int64_t> shape,
                                   int64_t count, IndexFn index) {
  StaticTensor out;
  out.isFloat = src->isFloat;
  out.shape.assign(shape.begin(), shape.end());
  if (out.isFloat)
    out.floats.reserve(count);
  else
    out.ints.reserve(count);
  forEachIndex(shape, count, [&](int64_t flat, ArrayRef<int64_t> idx) {
    int64_t from = index(flat, idx);
    if (out.isFloat)
      out.floats.push_back(src.floats[from]);
    else
      out.ints.push_back(src->ints[from]);
  });
  return out;
}

/// The same elements under another shape.
static StaticTensor withShape(const Dense &src, ArrayRef<int64_t> shape) {
  StaticTensor out;
  out.isFloat = src->isFloat;
  out.shape.assign(shape.begin(), shape.end());
  out.floats = src.floats;
  out.ints = src->ints;
  return out;
}

//===----------------------------------------------------------------------===//
// Evaluators
//===----------------------------------------------------------------------===//

namespace {
class Evaluator {
public:
  Evaluator(Importer &importer, const NodeRef &node)
      : im(importer), node(node) {}

  LogicalResult run();

private:
  FailureOr<Dense> input(int i) {
    FailureOr<StaticTensorRef> t = im.getStaticInput(node, i, "the input");
    if (failed(t))
      return failure();
    return densify(im, node, *t);
  }
  InFlightDiagnostic error() {
    return emitError(node.loc) << node.opType() << ": ";
  }
  LogicalResult done(StaticTensor t) {
    im.setOutput(node, 0, std::move(t));
    return success();
  }
  /// Axes from the attribute (older opsets) or input 1.
  FailureOr<Optional<SmallVector<int64_t>>> axes(int64_t inputSince);

  LogicalResult constant();
  LogicalResult constantOfShape();
  LogicalResult shape();
  LogicalResult size();
  LogicalResult neg();
  LogicalResult gather();
  LogicalResult slice();
  LogicalResult transpose();
  LogicalResult identity();
  LogicalResult cast();
  LogicalResult unsqueeze();
  LogicalResult squeeze();
  LogicalResult reshape();
  LogicalResult flatten();
  LogicalResult concat();
  LogicalResult elementwise();

  Importer &im;
  const NodeRef &node;
};
} // namespace

LogicalResult Evaluator::run() {
  StringRef t = node.opType();
  if (t == "Constant")
    return constant();
  if (t == "ConstantOfShape")
    return constantOfShape();
  if (t == "Shape")
    return shape();
  if (t == "Size")
    return size();
  if (t == "Neg")
    return neg();
  if (t == "Gather")
    return gather();
  if (t == "Slice")
    return slice();
  if (t == "Transpose")
    return transpose();
  if (t == "Identity")
    return identity();
  if (t == "Cast")
    return cast();
  if (t == "Unsqueeze")
    return unsqueeze();
  if (t == "Squeeze")
    return squeeze();
  if (t == "Reshape")
    return reshape();
  if (t == "Flatten")
    return flatten();
  if (t == "Concat")
    return concat();
  if (t == "Add" || t == "Sub" || t == "Mul" || t == "Div")
    return elementwise();
  return error() << "cannot be evaluated at import time";
}

LogicalResult Evaluator::constant() {
  for (const onnx::AttributeProto &attr : node.proto.attribute()) {
    StringRef name = attr.name();
    StaticTensor t;
    if (name == "value" && attr.has_t()) {
      FailureOr<StaticTensor> fromProto =
          im.tensorFromProto(node.loc, attr.t());
      if (failed(fromProto))
        return failure();
      // Float data stays in the proto until used; without a paramName it
      // becomes a cnn.constant, not a weight.
      t = std::move(*fromProto);
    } else if (name == "value_float") {
      t.isFloat = true;
      t.floats = {attr.f()};
    } else if (name == "value_floats") {
      t.isFloat = true;
      t.shape = {attr.floats_size()};
      t.floats.assign(attr.floats().begin(), attr.floats().end());
    } else if (name == "value_int") {
      t.ints = {SymInt::known(attr.i())};
    } else if (name == "value_ints") {
      t.shape = {attr.ints_size()};
      for (int64_t v : attr.ints())
        t.ints.push_back(SymInt::known(v));
    } else {
      return error() << "attribute '" << name << "' is not supported";
    }
    return done(std::move(t));
  }
  return error() << "has no value";
}

LogicalResult Evaluator::constantOfShape() {
  FailureOr<SmallVector<int64_t>> shape = im.getKnownInts(node, 0, "the shape");
  if (failed(shape))
    return failure();
  FailureOr<int64_t> count = checkedCount(node, *shape);
  if (failed(count))
    return failure();
  StaticTensor t;
  t.shape.assign(shape->begin(), shape->end());
  t.isFloat = true;
  float fillFloat = 0.0f;
  int64_t fillInt = 0;
  if (const onnx::AttributeProto *attr = im.findAttr(node, "value")) {
    if (!attr->has_t())
      return error() << "attribute 'value' must be a tensor";
    FailureOr<StaticTensor> v = im.tensorFromProto(node.loc, attr->t());
    if (failed(v))
      return failure();
    if (v->numElements() != 1)
      return error() << "attribute 'value' must hold one element";
    t.isFloat = v->isFloat;
    if (v->isFloat) {
      FailureOr<std::vector<float>> f = im.floatsOf(node.loc, *v);
      if (failed(f))
        return failure();
      fillFloat = (*f)[0];
    } else {
      fillInt = v->ints[0].value;
    }
  }
  if (t.isFloat)
    t.floats.assign(*count, fillFloat);
  else
    t.ints.assign(*count, SymInt::known(fillInt));
  return done(std::move(t));
}

/// Size: the element count, known when every dimension is.
LogicalResult Evaluator::size() {
  FailureOr<OnnxValue> in = im.getInput(node, 0);
  if (failed(in))
    return failure();
  ArrayRef<int64_t> shape =
      in->isStatic() ? ArrayRef<int64_t>(in->constant->shape)
                     : in->runtime.getType().cast<ShapedType>().getShape();
  StaticTensor t;
  if (llvm::is_contained(shape, kDyn)) {
    t.ints = {SymInt::unknown()};
  } else {
    FailureOr<int64_t> count = checkedCount(node, shape);
    if (failed(count))
      return failure();
    t.ints = {SymInt::known(*count)};
  }
  return done(std::move(t));
}

/// Neg of a tensor known at import time (an axis count in a LayerNorm's
/// function body, ...).
LogicalResult Evaluator::neg() {
  FailureOr<Dense> a = input(0);
  if (failed(a))
    return failure();
  StaticTensor out;
  out.isFloat = (*a)->isFloat;
  out.shape = (*a)->shape;
  for (float v : a->floats)
    out.floats.push_back(-v);
  for (const SymInt &v : (*a)->ints) {
    if (v.isKnown() && v.value != INT64_MIN)
      out.ints.push_back(SymInt::known(-v.value));
    else
      out.ints.push_back(SymInt::unknown());
  }
  return done(std::move(out));
}

LogicalResult Evaluator::shape() {
  FailureOr<OnnxValue> in = im.getInput(node, 0);
  if (failed(in))
    return failure();
  std::vector<SymInt> dims;
  if (in->isStatic()) {
    for (int64_t d : in->constant->shape)
      dims.push_back(SymInt::known(d));
  } else {
    ArrayRef<int64_t> shape =
        in->runtime.getType().cast<ShapedType>().getShape();
    for (size_t i = 0; i < shape.size(); ++i)
      dims.push_back(shape[i] == kDyn ? SymInt::dimOf(in->runtime, i)
                                      : SymInt::known(shape[i]));
  }
  // Opset 15 slices the shape with `start` and `end` (clamped, not checked).
  int64_t rank = dims.size();
  FailureOr<int64_t> start = im.getIntAttr(node, "start", 0);
  FailureOr<int64_t> end = im.getIntAttr(node, "end", rank);
  if (failed(start) || failed(end))
    return failure();
  auto clamp = [&](int64_t v) {
    if (v < 0)
      v += rank;
    return std::min(std::max<int64_t>(v, 0), rank);
  };
  int64_t b = clamp(*start), e = clamp(*end);
  StaticTensor t;
  if (e > b)
    t.ints.assign(dims.begin() + b, dims.begin() + e);
  t.shape = {(int64_t)t.ints.size()};
  return done(std::move(t));
}

LogicalResult Evaluator::gather() {
  FailureOr<Dense> data = input(0);
  FailureOr<StaticTensorRef> indicesT =
      im.getStaticInput(node, 1, "the indices");
  FailureOr<int64_t> axisAttr = im.getIntAttr(node, "axis", 0);
  if (failed(data) || failed(indicesT) || failed(axisAttr))
    return failure();
  const StaticTensor &indices = **indicesT;
  if (indices.isFloat || !indices.allKnown())
    return error() << "the indices must be known integers";
  int64_t rank = (*data)->shape.size();
  FailureOr<int64_t> axis = normalizeAxis(node, *axisAttr, rank);
  if (failed(axis))
    return failure();
  ArrayRef<int64_t> dataShape = (*data)->shape;
  int64_t axisSize = dataShape[*axis];
  SmallVector<int64_t> idx;
  for (const SymInt &s : indices.ints) {
    int64_t v = s.value < 0 ? s.value + axisSize : s.value;
    if (v < 0 || v >= axisSize)
      return error() << "index " << s.value << " is out of range for size "
                     << axisSize;
    idx.push_back(v);
  }
  SmallVector<int64_t> outShape(dataShape.begin(), dataShape.begin() + *axis);
  outShape.append(indices.shape.begin(), indices.shape.end());
  outShape.append(dataShape.begin() + *axis + 1, dataShape.end());
  FailureOr<int64_t> count = checkedCount(node, outShape);
  if (failed(count))
    return failure();
  SmallVector<int64_t> strides = stridesOf(dataShape);
  SmallVector<int64_t> idxStrides = stridesOf(indices.shape);
  int64_t idxRank = indices.shape.size();
  return done(gatherElements(*data, outShape, *count,
                             [&](int64_t, ArrayRef<int64_t> o) {
                               int64_t from = 0, which = 0;
                               for (int64_t d = 0; d < *axis; ++d)
                                 from += o[d] * strides[d];
                               for (int64_t d = 0; d < idxRank; ++d)
                                 which += o[*axis + d] * idxStrides[d];
                               from += idx[which] * strides[*axis];
                               for (int64_t d = *axis + 1; d < rank; ++d)
                                 from += o[d + idxRank - 1] * strides[d];
                               return from;
                             }));
}

LogicalResult Importer::resolveSlice(const NodeRef &node,
                                     ArrayRef<int64_t> shape,
                                     SmallVectorImpl<int64_t> &begin,
                                     SmallVectorImpl<int64_t> &step,
                                     SmallVectorImpl<int64_t> &outShape) {
  auto error = [&]() { return emitError(node.loc) << node.opType() << ": "; };
  int64_t rank = shape.size();
  SmallVector<int64_t> starts, ends, axes, steps;
  if (opset < 10) {
    auto s = getIntsAttr(node, "starts"), e = getIntsAttr(node, "ends"),
         a = getIntsAttr(node, "axes");
    if (failed(s) || failed(e) || failed(a))
      return failure();
    if (!*s || !*e)
      return error() << "needs 'starts' and 'ends'";
    starts = **s;
    ends = **e;
    if (*a)
      axes = **a;
  } else {
    auto s = getKnownInts(node, 1, "'starts'");
    auto e = getKnownInts(node, 2, "'ends'");
    if (failed(s) || failed(e))
      return failure();
    starts = *s;
    ends = *e;
    if (node.hasInput(3)) {
      auto a = getKnownInts(node, 3, "'axes'");
      if (failed(a))
        return failure();
      axes = *a;
    }
    if (node.hasInput(4)) {
      auto st = getKnownInts(node, 4, "'steps'");
      if (failed(st))
        return failure();
      steps = *st;
    }
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    return error() << "starts, ends, axes and steps differ in length";

  begin.assign(rank, 0);
  step.assign(rank, 1);
  outShape.assign(shape.begin(), shape.end());
  SmallVector<bool> seen(rank, false);
  for (size_t i = 0; i < starts.size(); ++i) {
    FailureOr<int64_t> axis = normalizeAxis(node, axes[i], rank);
    if (failed(axis))
      return failure();
    if (seen[*axis])
      return error() << "axis " << axes[i] << " is sliced twice";
    seen[*axis] = true;
    int64_t dim = shape[*axis], s = starts[i], e = ends[i], st = steps[i];
    if (st == 0)
      return error() << "a step of 0 is invalid";
    if (dim == kDyn) {
      // The batch, known only at run time: taken whole or not at all.
      if (s == 0 && st == 1 && e >= kMaxShapeValue)
        continue;
      return error() << "slicing axis " << *axis
                     << " (the batch, known only at run time) is not "
                        "supported; only all of it";
    }
    // Any step beyond the dimension takes one element; clamping keeps the
    // arithmetic below (and -INT64_MIN) from overflowing.
    st = std::max<int64_t>(std::min<int64_t>(st, kMaxShapeValue),
                           -kMaxShapeValue);
    // ONNX's clamping rules; the bounds are compared before adding `dim`
    // so that INT64_MIN/MAX sentinels cannot overflow.
    if (s < 0)
      s = s < -dim ? -1 : s + dim;
    if (e < 0)
      e = e < -dim ? -1 : e + dim;
    if (st > 0) {
      s = std::min(std::max<int64_t>(s, 0), dim);
      e = std::min(std::max<int64_t>(e, 0), dim);
      outShape[*axis] = e > s ? (e - s + st - 1) / st : 0;
    } else {
      s = std::min(std::max<int64_t>(s, 0), dim - 1);
      e = std::min(std::max<int64_t>(e, -1), dim - 1);
      outShape[*axis] = s > e ? (s - e + (-st) - 1) / (-st) : 0;
    }
    begin[*axis] = s;
    step[*axis] = st;
  }
  return success();
}

FailureOr<SmallVector<int64_t>> Importer::resolvePerm(const NodeRef &node,
                                                      int64_t rank) {
  auto permAttr = getIntsAttr(node, "perm");
  if (failed(permAttr))
    return failure();
  SmallVector<int64_t> perm;
  if (*permAttr)
    perm = **permAttr;
  else
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  SmallVector<bool> seen(rank, false);
  if ((int64_t)perm.size() != rank)
    return fail(emitError(node.loc) << node.opType() << ": 'perm' must have "
                                    << rank << " entries");
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[p])
      return fail(emitError(node.loc)
                  << node.opType() << ": 'perm' is not a permutation");
    seen[p] = true;
  }
  return perm;
}

LogicalResult Evaluator::slice() {
  FailureOr<Dense> data = input(0);
  if (failed(data))
    return failure();
  int64_t rank = (*data)->shape.size();
  SmallVector<int64_t> begin, step, outShape;
  if (failed(im.resolveSlice(node, (*data)->shape, begin, step, outShape)))
    return failure();
  FailureOr<int64_t> count = checkedCount(node, outShape);
  if (failed(count))
    return failure();
  SmallVector<int64_t> strides = stridesOf((*data)->shape);
  return done(gatherElements(
      *data, outShape, *count, [&](int64_t, ArrayRef<int64_t> o) {
        int64_t from = 0;
        for (int64_t d = 0; d < rank; ++d)
          from += (begin[d] + o[d] * step[d]) * strides[d];
        return from;
      }));
}

LogicalResult Evaluator::transpose() {
  FailureOr<Dense> data = input(0);
  if (failed(data))
    return failure();
  int64_t rank = (*data)->shape.size();
  FailureOr<SmallVector<int64_t>> permOr = im.resolvePerm(node, rank);
  if (failed(permOr))
    return failure();
  SmallVector<int64_t> perm = *permOr;
  SmallVector<int64_t> outShape;
  for (int64_t p : perm)
    outShape.push_back((*data)->shape[p]);
  SmallVector<int64_t> strides = stridesOf((*data)->shape);
  return done(gatherElements(*data, outShape, (*data)->numElements(),
                             [&](int64_t, ArrayRef<int64_t> o) {
                               int64_t from = 0;
                               for (int64_t d = 0; d < rank; ++d)
                                 from += o[d] * strides[perm[d]];
                               return from;
                             }));
}

LogicalResult Evaluator::identity() {
  FailureOr<StaticTensorRef> in = im.getStaticInput(node, 0, "the input");
  if (failed(in))
    return failure();
  if ((*in)->paramName.empty()) {
    im.setOutput(node, 0, OnnxValue{{}, *in});
    return success();
  }
  // PyTorch ties equal initializers together and recovers the other names
  // with Identity (bn.running_var = Identity(bn.weight)): the output is a
  // parameter of its own, under its own name.
  StaticTensor t = **in;
  t.paramName = node.proto.output(0);
  return done(std::move(t));
}

LogicalResult Evaluator::cast() {
  FailureOr<StaticTensorRef> in = im.getStaticInput(node, 0, "the input");
  FailureOr<int64_t> to = im.getIntAttr(node, "to", 0);
  if (failed(in) || failed(to))
    return failure();
  bool toFloat = isFloatType(*to);
  if (!toFloat && !isIntegerType(*to))
    return error() << "casting to " << dataTypeName(*to) << " is not supported";
  if (toFloat == (*in)->isFloat && toFloat) {
    im.setOutput(node, 0, OnnxValue{{}, *in});
    return success();
  }
  FailureOr<Dense> d = densify(im, node, *in);
  if (failed(d))
    return failure();
  StaticTensor t;
  t.isFloat = toFloat;
  t.shape = (*in)->shape;
  if (toFloat) {
    for (const SymInt &s : (*in)->ints) {
      if (!s.isKnown())
        return error() << "cannot convert a dimension known only at run "
                          "time to a float";
      t.floats.push_back((float)s.value);
    }
  } else if ((*in)->isFloat) {
    for (float f : d->floats) {
      if (!(f > -9.2e18f && f < 9.2e18f))
        return error() << "the value " << f << " does not fit an integer";
      t.ints.push_back(SymInt::known(
          *to == onnx::TensorProto::BOOL ? f != 0.0f : (int64_t)f));
    }
  } else {
    t.ints = (*in)->ints;
    if (*to == onnx::TensorProto::BOOL)
      for (SymInt &s : t.ints)
        if (s.isKnown())
          s.value = s.value != 0;
  }
  return done(std::move(t));
}

FailureOr<Optional<SmallVector<int64_t>>> Evaluator::axes(int64_t inputSince) {
  return im.getIntsAttrOrInput(node, "axes", 1, inputSince);
}

/// The shape after inserting 1s at `axes` (ONNX Unsqueeze).
static FailureOr<SmallVector<int64_t>> unsqueezedShape(const NodeRef &node,
                                                       ArrayRef<int64_t> in,
                                                       ArrayRef<int64_t> axes) {
  int64_t rank = in.size() + axes.size();
  SmallVector<bool> isNew(rank, false);
  for (int64_t a : axes) {
    FailureOr<int64_t> axis = normalizeAxis(node, a, rank);
    if (failed(axis))
      return failure();
    if (isNew[*axis])
      return fail(emitError(node.loc)
                  << "Unsqueeze: axis " << a << " is repeated");
    isNew[*axis] = true;
  }
  SmallVector<int64_t> out;
  size_t next = 0;
  for (int64_t i = 0; i < rank; ++i)
    out.push_back(isNew[i] ? 1 : in[next++]);
  return out;
}

/// The shape after removing `axes`, or every static 1 (ONNX Squeeze).
static FailureOr<SmallVector<int64_t>>
squeezedShape(const NodeRef &node, ArrayRef<int64_t> in,
              const Optional<SmallVector<int64_t>> &axes) {
  int64_t rank = in.size();
  SmallVector<bool> drop(rank, false);
  if (!axes) {
    for (int64_t i = 0; i < rank; ++i)
      drop[i] = in[i] == 1;
  } else {
    for (int64_t a : *axes) {
      FailureOr<int64_t> axis = normalizeAxis(node, a, rank);
      if (failed(axis))
        return failure();
      if (in[*axis] != 1)
        return fail(emitError(node.loc)
                    << "Squeeze: dimension " << *axis << " is not 1");
      drop[*axis] = true;
    }
  }
  SmallVector<int64_t> out;
  for (int64_t i = 0; i < rank; ++i)
    if (!drop[i])
      out.push_back(in[i]);
  return out;
}

LogicalResult Evaluator::unsqueeze() {
  FailureOr<Dense> data = input(0);
  auto a = axes(13);
  if (failed(data) || failed(a))
    return failure();
  if (!*a)
    return error() << "needs 'axes'";
  auto shape = unsqueezedShape(node, (*data)->shape, **a);
  if (failed(shape))
    return failure();
  return done(withShape(*data, *shape));
}

LogicalResult Evaluator::squeeze() {
  FailureOr<Dense> data = input(0);
  auto a = axes(13);
  if (failed(data) || failed(a))
    return failure();
  auto shape = squeezedShape(node, (*data)->shape, *a);
  if (failed(shape))
    return failure();
  return done(withShape(*data, *shape));
}

LogicalResult Evaluator::reshape() {
  FailureOr<Dense> data = input(0);
  FailureOr<SmallVector<int64_t>> target =
      im.getKnownInts(node, 1, "the target shape");
  if (failed(data) || failed(target))
    return failure();
  ArrayRef<int64_t> in = (*data)->shape;
  SmallVector<int64_t> out;
  int inferAt = -1;
  int64_t known = 1;
  for (size_t i = 0; i < target->size(); ++i) {
    int64_t d = (*target)[i];
    if (d == 0 && i < in.size())
      d = in[i];
    if (d == -1) {
      if (inferAt >= 0)
        return error() << "more than one -1 in the target shape";
      inferAt = i;
      out.push_back(1);
      continue;
    }
    if (d < 0 || __builtin_mul_overflow(known, d, &known))
      return error() << "invalid target shape";
    out.push_back(d);
  }
  int64_t total = (*data)->numElements();
  if (inferAt >= 0) {
    if (known == 0 || total % known != 0)
      return error() << "cannot reshape " << total << " elements";
    out[inferAt] = total / known;
  } else if (known != total) {
    return error() << "cannot reshape " << total << " elements into " << known;
  }
  return done(withShape(*data, out));
}

LogicalResult Evaluator::flatten() {
  FailureOr<Dense> data = input(0);
  FailureOr<int64_t> axisAttr = im.getIntAttr(node, "axis", 1);
  if (failed(data) || failed(axisAttr))
    return failure();
  ArrayRef<int64_t> in = (*data)->shape;
  int64_t rank = in.size(), axis = *axisAttr < 0 ? *axisAttr + rank : *axisAttr;
  if (axis < 0 || axis > rank)
    return error() << "axis " << *axisAttr << " is out of range";
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i)
    (i < axis ? outer : inner) *= in[i];
  return done(withShape(*data, {outer, inner}));
}

LogicalResult Evaluator::concat() {
  FailureOr<int64_t> axisAttr = im.getIntAttr(node, "axis", INT64_MIN);
  if (failed(axisAttr))
    return failure();
  if (*axisAttr == INT64_MIN)
    return error() << "needs 'axis'";
  SmallVector<Dense> parts;
  for (int i = 0; i < node.numInputs(); ++i) {
    if (!node.hasInput(i))
      continue;
    FailureOr<Dense> d = input(i);
    if (failed(d))
      return failure();
    parts.push_back(std::move(*d));
  }
  if (parts.empty())
    return error() << "needs at least one input";
  int64_t rank = parts[0]->shape.size();
  FailureOr<int64_t> axis = normalizeAxis(node, *axisAttr, rank);
  if (failed(axis))
    return failure();
  SmallVector<int64_t> outShape(parts[0]->shape.begin(), parts[0]->shape.end());
  outShape[*axis] = 0;
  for (const Dense &p : parts) {
    if (p->isFloat != parts[0]->isFloat || (int64_t)p->shape.size() != rank)
      return error() << "inputs differ in type or rank";
    for (int64_t d = 0; d < rank; ++d)
      if (d != *axis && p->shape[d] != outShape[d])
        return error() << "inputs differ in dimension " << d;
    outShape[*axis] += p->shape[*axis];
  }
  FailureOr<int64_t> count = checkedCount(node, outShape);
  if (failed(count))
    return failure();
  // Elements are copied in blocks: outer index, then each part's slab.
  StaticTensor out;
  out.isFloat = parts[0]->isFloat;
  out.shape.assign(outShape.begin(), outShape.end());
  int64_t outer = 1;
  for (int64_t d = 0; d < *axis; ++d)
    outer *= outShape[d];
  for (int64_t o = 0; o < outer; ++o) {
    for (const Dense &p : parts) {
      int64_t slab = p->numElements() / outer;
      int64_t from = o * slab;
      if (out.isFloat)
        out.floats.insert(out.floats.end(), p.floats.begin() + from,
                          p.floats.begin() + from + slab);
      else
        out.ints.insert(out.ints.end(), p->ints.begin() + from,
                        p->ints.begin() + from + slab);
    }
  }
  return done(std::move(out));
}

/// `a op b` on shape integers; a symbolic operand stays symbolic only where
/// the result is that same dimension.
static FailureOr<SymInt> applyInt(StringRef op, const SymInt &a,
                                  const SymInt &b) {
  if (a.isKnown() && b.isKnown()) {
    int64_t r;
    if (op == "Add" && !__builtin_add_overflow(a.value, b.value, &r))
      return SymInt::known(r);
    if (op == "Sub" && !__builtin_sub_overflow(a.value, b.value, &r))
      return SymInt::known(r);
    if (op == "Mul" && !__builtin_mul_overflow(a.value, b.value, &r))
      return SymInt::known(r);
    if (op == "Div" && b.value != 0 && !(a.value == INT64_MIN && b.value == -1))
      return SymInt::known(a.value / b.value);
    return failure();
  }
  bool bIsNeutral =
      b.isKnown() && (((op == "Add" || op == "Sub") && b.value == 0) ||
                      ((op == "Mul" || op == "Div") && b.value == 1));
  if (bIsNeutral)
    return a;
  if (a.isKnown() && op == "Add" && a.value == 0)
    return b;
  if (a.isKnown() && op == "Mul" && a.value == 1)
    return b;
  return SymInt::unknown();
}

LogicalResult Evaluator::elementwise() {
  FailureOr<Dense> a = input(0), b = input(1);
  if (failed(a) || failed(b))
    return failure();
  if ((*a)->isFloat != (*b)->isFloat)
    return error() << "operands differ in element type";
  auto rhsShape = im.broadcastRhsShape(node, (*a)->shape.size(), (*b)->shape);
  if (failed(rhsShape))
    return failure();
  ArrayRef<int64_t> sa = (*a)->shape, sb = *rhsShape;
  size_t rank = std::max(sa.size(), sb.size());
  SmallVector<int64_t> outShape(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i + sa.size() >= rank ? sa[i + sa.size() - rank] : 1;
    int64_t db = i + sb.size() >= rank ? sb[i + sb.size() - rank] : 1;
    if (da != db && da != 1 && db != 1)
      return error() << "shapes do not broadcast";
    outShape[i] = da == 1 ? db : da;
  }
  FailureOr<int64_t> count = checkedCount(node, outShape);
  if (failed(count))
    return failure();
  // Flat index into an operand broadcast to `outShape`.
  SmallVector<int64_t> stridesA = stridesOf(sa), stridesB = stridesOf(sb);
  auto indexInto = [&](ArrayRef<int64_t> s, ArrayRef<int64_t> strides,
                       ArrayRef<int64_t> o) {
    int64_t from = 0;
    for (size_t i = 0; i < s.size(); ++i)
      if (s[i] != 1)
        from += o[i + rank - s.size()] * strides[i];
    return from;
  };
  StringRef op = node.opType();
  StaticTensor out;
  out.isFloat = (*a)->isFloat;
  out.shape.assign(outShape.begin(), outShape.end());
  LogicalResult status = success();
  forEachIndex(outShape, *count, [&](int64_t, ArrayRef<int64_t> o) {
    int64_t ia = indexInto(sa, stridesA, o), ib = indexInto(sb, stridesB, o);
    if (out.isFloat) {
      float x = a->floats[ia], y = b->floats[ib];
      out.floats.push_back(op == "Add"   ? x + y
                           : op == "Sub" ? x - y
                           : op == "Mul" ? x * y
                                         : x / y);
      return;
    }
    FailureOr<SymInt> r = applyInt(op, (*a)->ints[ia], (*b)->ints[ib]);
    if (failed(r)) {
      status = failure();
      r = SymInt::unknown();
    }
    out.ints.push_back(*r);
  });
  if (failed(status))
    return error() << "integer overflow or division by zero";
  return done(std::move(out));
}

LogicalResult Importer::evaluateStaticNode(const NodeRef &node) {
  return Evaluator(*this, node).run();
}
