//===- OnnxImporter.cpp - ONNX graph -> `func @main` over the cnn dialect -===//
//
// Drives the import: loads and validates the model, picks the nodes the
// results need (the whole graph, or the part before a cut), lists every
// unsupported op at once, then walks the nodes in topological order and
// builds the module. Weights are materialized lazily, at their first use, so
// that integer initializers used only for shapes never become parameters.
//
//===----------------------------------------------------------------------===//

#include "OnnxImporterImpl.h"

#include "cnnc/Dialect/CNN/CNNDialect.h"
#include "cnnc/Dialect/CNN/CNNOps.h"
#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SwapByteOrder.h"

#include <map>

using namespace mlir;
using namespace cnnc;
using namespace cnnc::onnximport;

static constexpr int64_t kDyn = ShapedType::kDynamicSize;

/// Turns `raw` into a valid bare symbol name: [A-Za-z_][A-Za-z0-9_]*.
static std::string sanitizeSymbol(StringRef raw, StringRef fallback) {
  std::string s;
  for (char c : raw)
    s += llvm::isAlnum(c) || c == '_' ? c : '_';
  if (s.empty())
    return fallback.str();
  if (llvm::isDigit(s[0]))
    s = "_" + s;
  return s;
}

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

int64_t StaticTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

bool StaticTensor::allKnown() const {
  return llvm::all_of(ints, [](const SymInt &s) { return s.isKnown(); });
}

Importer::Importer(MLIRContext *context, const LoadedModel &model,
                   StringRef path, const OnnxImportOptions &options)
    : context(context), builder(context), opset(model.opset), model(model),
      graph(model.proto.graph()), path(path.str()), options(options),
      fileLoc(FileLineColLoc::get(context, path, 0, 0)) {
  for (const onnx::TensorProto &init : graph.initializer())
    initializers[init.name()] = &init;
}

NodeRef Importer::nodeRef(int index) {
  const onnx::NodeProto &node = graph.node(index);
  std::string name = nodeDisplayName(node, model.originalIndex[index]);
  return NodeRef{node, NameLoc::get(StringAttr::get(context, name), fileLoc)};
}

FailureOr<StaticTensor>
Importer::tensorFromProto(Location loc, const onnx::TensorProto &proto) {
  StaticTensor t;
  t.shape.assign(proto.dims().begin(), proto.dims().end());
  int32_t type = proto.data_type();
  if (isFloatType(type)) {
    t.isFloat = true;
    t.initializer = &proto;
    return t;
  }
  if (!isIntegerType(type))
    return fail(emitError(loc)
                << "tensor '" << proto.name() << "' has element type "
                << dataTypeName(type) << ", which cnnc does not support");
  if (numElements(proto) > kMaxComputedElements)
    return fail(emitError(loc)
                << "integer tensor '" << proto.name() << "' has "
                << numElements(proto)
                << " elements; only small integer tensors (shape "
                   "data) are supported");
  std::vector<int64_t> raw;
  if (failed(decodeInts(proto, raw)))
    return fail(emitError(loc)
                << "cannot decode tensor '" << proto.name() << "'");
  t.ints.reserve(raw.size());
  for (int64_t v : raw)
    t.ints.push_back(SymInt::known(v));
  return t;
}

Importer::ValueKind Importer::kindOf(StringRef name) {
  auto it = values.find(name);
  if (it != values.end()) {
    if (!it->second.isStatic())
      return ValueKind::Runtime;
    return it->second.constant->paramName.empty() ? ValueKind::Static
                                                  : ValueKind::Weight;
  }
  auto init = initializers.find(name);
  if (init == initializers.end())
    return ValueKind::Runtime; // Undefined: the converter reports it.
  return isFloatType(init->second->data_type()) ? ValueKind::Weight
                                                : ValueKind::Static;
}

FailureOr<OnnxValue> Importer::lookup(Location loc, StringRef name) {
  auto it = values.find(name);
  if (it != values.end())
    return it->second;
  auto init = initializers.find(name);
  if (init == initializers.end())
    return fail(emitError(loc) << "tensor '" << name << "' has no value");
  FailureOr<StaticTensor> tensor = tensorFromProto(loc, *init->second);
  if (failed(tensor))
    return failure();
  if (tensor->isFloat)
    tensor->paramName = name.str();
  OnnxValue value{{}, std::make_shared<StaticTensor>(std::move(*tensor))};
  values[name] = value;
  return value;
}

FailureOr<OnnxValue> Importer::getInput(const NodeRef &node, int i) {
  if (!node.hasInput(i))
    return fail(emitError(node.loc) << node.opType() << " needs input " << i);
  return lookup(node.loc, node.proto.input(i));
}

FailureOr<Value> Importer::getRuntimeInput(const NodeRef &node, int i,
                                           bool isBuffer) {
  FailureOr<OnnxValue> value = getInput(node, i);
  if (failed(value))
    return failure();
  if (!value->isStatic())
    return value->runtime;
  return materialize(node.loc, node.proto.name(), *value->constant, isBuffer);
}

FailureOr<StaticTensorRef> Importer::getStaticInput(const NodeRef &node, int i,
                                                    StringRef what) {
  FailureOr<OnnxValue> value = getInput(node, i);
  if (failed(value))
    return failure();
  if (!value->isStatic())
    return fail(
        emitError(node.loc)
        << node.opType() << ": " << what
        << " must be known at import time, but it is computed at run time");
  return value->constant;
}

FailureOr<SmallVector<int64_t>> Importer::getKnownInts(const NodeRef &node,
                                                       int i, StringRef what) {
  FailureOr<StaticTensorRef> t = getStaticInput(node, i, what);
  if (failed(t))
    return failure();
  if ((*t)->isFloat || (*t)->shape.size() > 1)
    return fail(emitError(node.loc) << node.opType() << ": " << what
                                    << " must be a 1-D integer tensor");
  if (!(*t)->allKnown())
    return fail(emitError(node.loc)
                << node.opType() << ": " << what
                << " depends on a dimension only known at run "
                   "time");
  SmallVector<int64_t> out;
  for (const SymInt &s : (*t)->ints)
    out.push_back(s.value);
  return out;
}

FailureOr<Optional<SmallVector<int64_t>>>
Importer::getIntsAttrOrInput(const NodeRef &node, StringRef name, int i,
                             int64_t inputSince) {
  if (opset < inputSince)
    return getIntsAttr(node, name);
  if (!node.hasInput(i))
    return Optional<SmallVector<int64_t>>();
  FailureOr<SmallVector<int64_t>> v =
      getKnownInts(node, i, ("'" + name + "'").str());
  if (failed(v))
    return failure();
  return Optional<SmallVector<int64_t>>(*v);
}

FailureOr<std::vector<float>> Importer::floatsOf(Location loc,
                                                 const StaticTensor &t) {
  if (!t.initializer)
    return t.floats;
  if (t.numElements() > kMaxComputedElements)
    return fail(emitError(loc)
                << "a tensor of " << t.numElements()
                << " elements is too large to compute on at import "
                   "time");
  std::vector<float> out;
  if (failed(decodeFloats(*t.initializer, out)))
    return fail(emitError(loc) << "cannot decode a tensor of type "
                               << dataTypeName(t.initializer->data_type()));
  return out;
}

FailureOr<float> Importer::getScalarFloat(const NodeRef &node, int i,
                                          StringRef what) {
  FailureOr<StaticTensorRef> t = getStaticInput(node, i, what);
  if (failed(t))
    return failure();
  if ((*t)->numElements() != 1)
    return fail(emitError(node.loc) << node.opType() << ": " << what
                                    << " must hold exactly one value");
  if (!(*t)->isFloat) {
    if (!(*t)->allKnown())
      return fail(emitError(node.loc) << node.opType() << ": " << what
                                      << " depends on a dynamic dimension");
    return (float)(*t)->ints[0].value;
  }
  FailureOr<std::vector<float>> data = floatsOf(node.loc, **t);
  if (failed(data))
    return failure();
  return (*data)[0];
}

void Importer::setOutput(const NodeRef &node, int i, OnnxValue value) {
  if (node.hasOutput(i))
    values[node.proto.output(i)] = std::move(value);
}

LogicalResult Importer::checkOutputUnused(const NodeRef &node, int i,
                                          StringRef what) {
  if (node.hasOutput(i) && usedNames.count(node.proto.output(i)))
    return emitError(node.loc)
           << node.opType() << ": the " << what << " output ('"
           << node.proto.output(i) << "') is used, which cnnc does not support";
  return success();
}

std::string Importer::groupFor(StringRef paramName, StringRef consumerName) {
  // "layer1.0.conv1.weight" belongs to layer1. PyTorch names folded weights
  // "onnx::Conv_193"; their consumer "/layer1/layer1.0/conv1/Conv" tells.
  size_t dot = paramName.find('.');
  if (dot != StringRef::npos && dot > 0)
    return sanitizeSymbol(paramName.substr(0, dot), "model");
  SmallVector<StringRef, 4> parts;
  consumerName.split(parts, '/', -1, /*KeepEmpty=*/false);
  if (parts.size() >= 2)
    return sanitizeSymbol(parts.front(), "model");
  return "model";
}

/// The elements of a static float tensor as an attribute. Weights are
/// decoded without the import-time computation limit: their size was checked
/// against the model budget when the file was loaded.
static FailureOr<DenseElementsAttr>
weightData(Location loc, RankedTensorType type, const StaticTensor &tensor) {
  if (!tensor.initializer)
    return DenseElementsAttr::get(type, llvm::makeArrayRef(tensor.floats));
  const onnx::TensorProto &proto = *tensor.initializer;
  // PyTorch's raw little-endian f32 data is the attribute's own layout: it
  // is used in place instead of being decoded into a copy first.
  bool detectedSplat = false;
  ArrayRef<char> raw(proto.raw_data().data(), proto.raw_data().size());
  if (proto.data_type() == onnx::TensorProto::FLOAT &&
      llvm::sys::IsLittleEndianHost && !raw.empty() &&
      DenseElementsAttr::isValidRawBuffer(type, raw, detectedSplat))
    return DenseElementsAttr::getFromRawBuffer(type, raw, detectedSplat);
  std::vector<float> decoded;
  if (failed(decodeFloats(proto, decoded)))
    return fail(emitError(loc) << "cannot decode a tensor of type "
                               << dataTypeName(proto.data_type()));
  return DenseElementsAttr::get(type, llvm::makeArrayRef(decoded));
}

FailureOr<Value> Importer::materialize(Location loc, StringRef consumerName,
                                       const StaticTensor &tensor,
                                       bool isBuffer) {
  if (!tensor.isFloat)
    return fail(emitError(loc) << "an integer tensor is used as data; cnnc "
                                  "computes on f32 tensors only");
  if (!tensor.paramName.empty()) {
    auto it = params.find(tensor.paramName);
    if (it != params.end())
      return it->second;
  }
  auto type = RankedTensorType::get(tensor.shape, builder.getF32Type());
  FailureOr<DenseElementsAttr> value = weightData(loc, type, tensor);
  if (failed(value))
    return failure();
  if (tensor.paramName.empty())
    return builder.create<cnn::ConstantOp>(loc, type, *value).getResult();

  std::string group = groupFor(tensor.paramName, consumerName);
  groups.insert(group);
  Location paramLoc =
      NameLoc::get(StringAttr::get(context, tensor.paramName), fileLoc);
  auto param = builder.create<cnn::ParamOp>(
      paramLoc, type, tensor.paramName, *value, /*init=*/StringAttr(),
      FlatSymbolRefAttr::get(context, group), /*frozen=*/false, isBuffer);
  params[tensor.paramName] = param.getResult();
  return param.getResult();
}

FailureOr<Value> Importer::createInferred(Location loc, StringRef opName,
                                          ValueRange operands,
                                          ArrayRef<NamedAttribute> attrs,
                                          InferFn infer) {
  SmallVector<Type, 1> types;
  if (failed(infer(context, loc, operands, DictionaryAttr::get(context, attrs),
                   /*regions=*/{}, types)))
    return failure();
  for (Type type : types) {
    int64_t elements = 1;
    for (int64_t d : type.cast<ShapedType>().getShape())
      if (d != kDyn && (__builtin_mul_overflow(elements, d, &elements) ||
                        elements > kMaxTensorElements))
        return fail(emitError(loc) << "the result of " << opName
                                   << " would have absurdly many elements");
  }
  OperationState state(loc, opName);
  state.addOperands(operands);
  state.addAttributes(attrs);
  state.addTypes(types);
  return builder.createOperation(state)->getResult(0);
}

FailureOr<Value> Importer::reshapeTo(Location loc, Value input,
                                     ArrayRef<int64_t> shape) {
  ArrayRef<int64_t> in = input.getType().cast<ShapedType>().getShape();
  SmallVector<int64_t> target;
  int inferred = 0;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] != kDyn) {
      if (shape[i] == 0)
        return fail(emitError(loc) << "tensors with a zero-sized dimension are "
                                      "not supported");
      target.push_back(shape[i]);
    } else if (i < in.size() && in[i] == kDyn) {
      target.push_back(0);
    } else {
      target.push_back(-1);
      ++inferred;
    }
  }
  if (inferred > 1)
    return fail(emitError(loc)
                << "cannot express this reshape with one inferred "
                   "dimension");
  return create<cnn::ReshapeOp>(
      loc, input,
      {builder.getNamedAttr("shape", builder.getI64ArrayAttr(target))});
}

FailureOr<SmallVector<int64_t>>
Importer::resolveReshapeTarget(const NodeRef &node, Value input,
                               const std::vector<SymInt> &target) {
  ArrayRef<int64_t> in = input.getType().cast<ShapedType>().getShape();
  SmallVector<int64_t> out;
  SmallVector<size_t> unresolved;
  bool hasInferred = false;
  for (size_t i = 0; i < target.size(); ++i) {
    const SymInt &s = target[i];
    if (s.isKnown()) {
      if (s.value < -1 || s.value > kMaxShapeValue)
        return fail(emitError(node.loc)
                    << node.opType() << ": invalid target dimension "
                    << s.value);
      // A batch the user made dynamic, reshaped to the exported one.
      bool madeDynamic = options.dynamicBatch || !options.inputShapes.empty();
      if (i == 0 && s.value > 0 && madeDynamic && !in.empty() && in[0] == kDyn)
        return fail(emitError(node.loc)
                    << node.opType()
                    << " bakes the batch into its target shape (its first "
                       "entry is "
                    << s.value
                    << "): the graph runs only at the batch it was exported "
                       "with; export it with a dynamic batch "
                       "(torch.onnx.export's dynamic_axes) or compile it "
                       "without --dynamic-batch and --input-shape");
      hasInferred |= s.value == -1;
      out.push_back(s.value);
      continue;
    }
    if (s.kind == SymInt::Kind::Dim) {
      ArrayRef<int64_t> src = s.source.getType().cast<ShapedType>().getShape();
      // `x.view(x.size(0), ...)`: the dimension is copied in place. A
      // dynamic leading dimension of another tensor is the same batch.
      bool samePlace = s.dim == i && i < in.size() && in[i] == kDyn &&
                       (s.source == input || (i == 0 && src[0] == kDyn));
      if (samePlace) {
        out.push_back(0);
        continue;
      }
    }
    unresolved.push_back(i);
    out.push_back(-1);
  }
  if (unresolved.empty() || (unresolved.size() == 1 && !hasInferred))
    return out;
  return fail(emitError(node.loc)
              << node.opType() << ": the target shape has " << unresolved.size()
              << " entries known only at run time; cnnc needs all but one of "
                 "them at import time");
}

FailureOr<SmallVector<int64_t>>
Importer::broadcastRhsShape(const NodeRef &node, int64_t lhsRank,
                            ArrayRef<int64_t> rhs) {
  SmallVector<int64_t> shape(rhs.begin(), rhs.end());
  if (opset >= 7 || !findAttr(node, "axis"))
    return shape;
  FailureOr<int64_t> broadcast = getIntAttr(node, "broadcast", 0);
  FailureOr<int64_t> axis = getIntAttr(node, "axis", 0);
  if (failed(broadcast) || failed(axis))
    return failure();
  if (!*broadcast)
    return shape;
  int64_t start = *axis < 0 ? *axis + lhsRank : *axis;
  int64_t trailing = lhsRank - start - (int64_t)rhs.size();
  if (start < 0 || trailing < 0)
    return fail(emitError(node.loc)
                << node.opType() << ": cannot broadcast a rank-" << rhs.size()
                << " operand at axis " << *axis << " of a rank-" << lhsRank
                << " operand");
  shape.append(trailing, 1);
  return shape;
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

const onnx::AttributeProto *Importer::findAttr(const NodeRef &node,
                                               StringRef name) {
  for (const onnx::AttributeProto &attr : node.proto.attribute())
    if (attr.name() == name)
      return &attr;
  return nullptr;
}

FailureOr<int64_t> Importer::getIntAttr(const NodeRef &node, StringRef name,
                                        int64_t defaultValue) {
  const onnx::AttributeProto *attr = findAttr(node, name);
  if (!attr)
    return defaultValue;
  if (attr->type() != onnx::AttributeProto::INT)
    return fail(emitError(node.loc) << node.opType() << ": attribute '" << name
                                    << "' must be an integer");
  return attr->i();
}

FailureOr<float> Importer::getFloatAttr(const NodeRef &node, StringRef name,
                                        float defaultValue) {
  const onnx::AttributeProto *attr = findAttr(node, name);
  if (!attr)
    return defaultValue;
  if (attr->type() != onnx::AttributeProto::FLOAT)
    return fail(emitError(node.loc) << node.opType() << ": attribute '" << name
                                    << "' must be a float");
  return attr->f();
}

FailureOr<std::string> Importer::getStringAttr(const NodeRef &node,
                                               StringRef name,
                                               StringRef defaultValue) {
  const onnx::AttributeProto *attr = findAttr(node, name);
  if (!attr)
    return defaultValue.str();
  if (attr->type() != onnx::AttributeProto::STRING)
    return fail(emitError(node.loc) << node.opType() << ": attribute '" << name
                                    << "' must be a string");
  return attr->s();
}

FailureOr<Optional<SmallVector<int64_t>>>
Importer::getIntsAttr(const NodeRef &node, StringRef name) {
  const onnx::AttributeProto *attr = findAttr(node, name);
  if (!attr)
    return Optional<SmallVector<int64_t>>();
  if (attr->type() != onnx::AttributeProto::INTS)
    return fail(emitError(node.loc) << node.opType() << ": attribute '" << name
                                    << "' must be a list of integers");
  return Optional<SmallVector<int64_t>>(
      SmallVector<int64_t>(attr->ints().begin(), attr->ints().end()));
}

//===----------------------------------------------------------------------===//
// The graph walk
//===----------------------------------------------------------------------===//

static const onnx::NodeProto *findNode(const onnx::GraphProto &graph,
                                       StringRef name) {
  for (const onnx::NodeProto &node : graph.node())
    if (node.name() == name)
      return &node;
  return nullptr;
}

LogicalResult Importer::selectNodes(SmallVectorImpl<std::string> &resultNames,
                                    std::vector<int> &nodes,
                                    const onnx::NodeProto *&cutBeforeNode) {
  // Names the imported function must compute.
  SmallVector<std::string> targets;
  cutBeforeNode = nullptr;
  if (!options.cutAfter.empty()) {
    const onnx::NodeProto *node = findNode(graph, options.cutAfter);
    if (!node)
      return emitError(fileLoc)
             << "cannot cut after node \"" << options.cutAfter
             << "\": the graph has no node of that name";
    if (node->output_size() == 0 || node->output(0).empty())
      return emitError(fileLoc) << "cannot cut after node \""
                                << options.cutAfter << "\": it has no output";
    targets.push_back(node->output(0));
    resultNames.push_back(node->output(0));
  } else if (!options.cutBefore.empty()) {
    cutBeforeNode = findNode(graph, options.cutBefore);
    if (!cutBeforeNode)
      return emitError(fileLoc)
             << "cannot cut before node \"" << options.cutBefore
             << "\": the graph has no node of that name";
    // Which input is the data is known only once the shape computations are
    // evaluated; import what all inputs need and pick the runtime one.
    for (const std::string &in : cutBeforeNode->input())
      if (!in.empty())
        targets.push_back(in);
  } else {
    llvm::StringSet<> seen;
    for (const onnx::ValueInfoProto &out : graph.output()) {
      if (!seen.insert(out.name()).second)
        return emitError(fileLoc)
               << "graph output '" << out.name() << "' is listed twice";
      targets.push_back(out.name());
      resultNames.push_back(out.name());
    }
    if (targets.empty())
      return emitError(fileLoc) << "the graph has no outputs";
  }

  llvm::StringSet<> defined;
  for (const auto &in : graph.input())
    defined.insert(in.name());
  for (const auto &init : graph.initializer())
    defined.insert(init.name());
  llvm::StringMap<int> producer;
  for (int i = 0; i < graph.node_size(); ++i)
    for (const std::string &out : graph.node(i).output())
      if (!out.empty())
        producer[out] = i;
  for (const std::string &t : targets)
    if (!defined.count(t) && !producer.count(t))
      return emitError(fileLoc)
             << "graph output '" << t << "' is not computed by the graph";

  // Nodes are topologically sorted: one backward sweep finds the needed ones.
  for (const std::string &t : targets)
    usedNames.insert(t);
  std::vector<bool> needed(graph.node_size(), false);
  for (int i = graph.node_size() - 1; i >= 0; --i) {
    const onnx::NodeProto &node = graph.node(i);
    needed[i] = llvm::any_of(node.output(), [&](const std::string &out) {
      return !out.empty() && usedNames.count(out);
    });
    if (!needed[i])
      continue;
    for (const std::string &in : node.input())
      if (!in.empty())
        usedNames.insert(in);
  }
  for (int i = 0; i < graph.node_size(); ++i)
    if (needed[i])
      nodes.push_back(i);
  return success();
}

LogicalResult Importer::reportUnsupported(ArrayRef<int> nodes) {
  llvm::MapVector<std::string, SmallVector<std::string>,
                  std::map<std::string, unsigned>>
      unsupported;
  for (int i : nodes) {
    const onnx::NodeProto &node = graph.node(i);
    bool defaultDomain = node.domain().empty() || node.domain() == "ai.onnx";
    if (defaultDomain && isSupportedOpType(node.op_type()))
      continue;
    std::string key =
        defaultDomain ? node.op_type() : node.domain() + "." + node.op_type();
    unsupported[key].push_back(nodeDisplayName(node, model.originalIndex[i]));
  }
  if (unsupported.empty())
    return success();
  // Long lists are cut: the op types matter more than every node name.
  constexpr size_t kMaxNames = 8;
  std::string text;
  llvm::raw_string_ostream os(text);
  bool firstType = true;
  for (auto &entry : unsupported) {
    os << (firstType ? "" : ", ") << entry.first << " (node"
       << (entry.second.size() > 1 ? "s " : " ");
    firstType = false;
    for (size_t j = 0; j < entry.second.size() && j < kMaxNames; ++j)
      os << (j ? ", " : "") << '"' << entry.second[j] << '"';
    if (entry.second.size() > kMaxNames)
      os << " and " << entry.second.size() - kMaxNames << " more";
    os << ")";
  }
  return emitError(fileLoc) << "unsupported ONNX operators: " << os.str();
}

LogicalResult Importer::defineGraphInputs(SmallVectorImpl<Type> &types,
                                          bool onlyUsed) {
  for (const onnx::ValueInfoProto &input : graph.input()) {
    const std::string &name = input.name();
    if (initializers.count(name) || (onlyUsed && !usedNames.count(name)))
      continue;
    const onnx::TypeProto &type = input.type();
    if (!type.has_tensor_type())
      return emitError(fileLoc)
             << "graph input '" << name << "' is not a tensor";
    const onnx::TypeProto::Tensor &tensor = type.tensor_type();
    if (tensor.elem_type() != onnx::TensorProto::FLOAT)
      return emitError(fileLoc)
             << "graph input '" << name << "' has element type "
             << dataTypeName(tensor.elem_type())
             << "; cnnc imports FLOAT inputs only";
    if (!tensor.has_shape())
      return emitError(fileLoc) << "graph input '" << name
                                << "' has no shape; cnnc needs every "
                                   "dimension but the batch";
    SmallVector<int64_t> shape;
    int64_t elements = 1;
    for (int i = 0; i < tensor.shape().dim_size(); ++i) {
      const auto &dim = tensor.shape().dim(i);
      bool known = dim.has_dim_value() && dim.dim_value() != 0;
      if (known && dim.dim_value() < 0)
        return emitError(fileLoc)
               << "graph input '" << name << "' has a negative dimension "
               << dim.dim_value();
      if (!known) {
        if (i == 0) {
          shape.push_back(kDyn);
          continue;
        }
        std::string what =
            dim.has_dim_param() && !dim.dim_param().empty()
                ? "a symbolic dimension '" + dim.dim_param() + "'"
                : "an unknown dimension";
        return emitError(fileLoc)
               << "graph input '" << name << "' has " << what << " at index "
               << i << "; only the batch dimension (index 0) may be dynamic";
      }
      if (__builtin_mul_overflow(elements, dim.dim_value(), &elements) ||
          elements > kMaxTensorElements)
        return emitError(fileLoc)
               << "graph input '" << name << "' has absurdly large dimensions";
      shape.push_back(dim.dim_value());
    }
    types.push_back(RankedTensorType::get(shape, builder.getF32Type()));
    argInputs.push_back(&input);
  }
  return success();
}

OwningOpRef<ModuleOp> Importer::run() {
  SmallVector<std::string> resultNames;
  std::vector<int> nodes;
  const onnx::NodeProto *cutBeforeNode;
  if (failed(selectNodes(resultNames, nodes, cutBeforeNode)) ||
      failed(reportUnsupported(nodes)))
    return nullptr;
  imported = nodes;

  std::string moduleName = options.moduleName;
  if (moduleName.empty())
    moduleName = llvm::sys::path::stem(path).str();
  OwningOpRef<ModuleOp> module(ModuleOp::create(
      fileLoc, StringRef(sanitizeSymbol(moduleName, "model"))));

  SmallVector<Type> argTypes;
  bool isCut = !options.cutAfter.empty() || !options.cutBefore.empty();
  if (failed(defineGraphInputs(argTypes, /*onlyUsed=*/isCut)))
    return nullptr;
  builder.setInsertionPointToEnd(module->getBody());
  auto func = builder.create<FuncOp>(fileLoc, "main",
                                     builder.getFunctionType(argTypes, {}));
  Block *body = func.addEntryBlock();
  for (size_t i = 0; i < argInputs.size(); ++i) {
    func.setArgAttr(i, cnn::kNameAttr,
                    builder.getStringAttr(argInputs[i]->name()));
    values[argInputs[i]->name()] = OnnxValue{body->getArgument(i), nullptr};
  }

  builder.setInsertionPointToStart(body);
  for (int i : nodes) {
    NodeRef node = nodeRef(i);
    LogicalResult converted = shouldEvaluateStatically(node)
                                  ? evaluateStaticNode(node)
                                  : convertRuntimeNode(node);
    if (failed(converted))
      return nullptr;
  }

  SmallVector<Value> results;
  if (cutBeforeNode) {
    SmallVector<std::string> dataInputs;
    for (const std::string &in : cutBeforeNode->input()) {
      if (in.empty())
        continue;
      FailureOr<OnnxValue> value = lookup(fileLoc, in);
      if (failed(value))
        return nullptr;
      if (!value->isStatic() && !llvm::is_contained(dataInputs, in)) {
        dataInputs.push_back(in);
        results.push_back(value->runtime);
      }
    }
    if (dataInputs.size() != 1) {
      emitError(fileLoc) << "cannot cut before node \"" << options.cutBefore
                         << "\": it has " << dataInputs.size()
                         << " data inputs; a cut needs exactly one";
      return nullptr;
    }
    resultNames.push_back(dataInputs.front());
  } else {
    for (const std::string &name : resultNames) {
      FailureOr<OnnxValue> value = lookup(fileLoc, name);
      if (failed(value))
        return nullptr;
      Value v = value->runtime;
      if (value->isStatic() && !value->constant->isFloat) {
        emitError(fileLoc) << "graph output '" << name
                           << "' is an integer tensor; cnnc's results are "
                              "f32 tensors";
        return nullptr;
      }
      if (value->isStatic()) {
        FailureOr<Value> m =
            materialize(fileLoc, name, *value->constant, /*isBuffer=*/false);
        if (failed(m))
          return nullptr;
        v = *m;
      }
      results.push_back(v);
    }
  }
  builder.create<ReturnOp>(fileLoc, results);
  func.setType(
      builder.getFunctionType(argTypes, ValueRange(results).getTypes()));
  for (size_t i = 0; i < resultNames.size(); ++i)
    func.setResultAttr(i, cnn::kNameAttr,
                       builder.getStringAttr(resultNames[i]));

  builder.setInsertionPointToStart(module->getBody());
  for (const std::string &group : groups)
    builder.create<cnn::GroupOp>(fileLoc, group, /*frozen=*/false, FloatAttr(),
                                 IntegerAttr());

  if (failed(verify(*module)))
    return nullptr;
  return module;
}

OwningOpRef<ModuleOp> cnnc::importOnnxFile(MLIRContext *context, StringRef path,
                                           const OnnxImportOptions &options) {
  context->loadDialect<cnn::CNNDialect, StandardOpsDialect>();
  Location fileLoc = FileLineColLoc::get(context, path, 0, 0);
  if (!options.cutBefore.empty() && !options.cutAfter.empty()) {
    emitError(fileLoc) << "cut before and cut after cannot be used together";
    return nullptr;
  }
  // libonnx and protobuf throw; nothing may escape into the caller.
  try {
    LoadedModel model;
    if (failed(loadModel(fileLoc, path, options, model)))
      return nullptr;
    Importer importer(context, model, path, options);
    OwningOpRef<ModuleOp> module = importer.run();
    if (!module ||
        failed(inferShapes(fileLoc, model, importer.importedNodes())))
      return nullptr;
    return module;
  } catch (const std::bad_alloc &) {
    emitError(fileLoc) << "out of memory while importing the model";
  } catch (const std::exception &e) {
    emitError(fileLoc) << "cannot import the model: " << e.what();
  } catch (...) {
    emitError(fileLoc) << "cannot import the model: unknown error";
  }
  return nullptr;
}
