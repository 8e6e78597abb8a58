//===- OnnxExport.cpp - cnn IR written as an ONNX model -------------------===//
//
// One ONNX node per cnn op of the imported graph, at opset 13 (the opset
// PyTorch 1.13 exports by default and every ONNX Runtime reads). Operands that
// ONNX 13 takes as inputs rather than attributes (Clip's bounds, Pad's pads,
// Reshape's shape, Dropout's ratio) become initializers of their own.
// Serialization, checking and shape inference are libonnx's and protobuf's.
//
//===----------------------------------------------------------------------===//

#include "cnnc/Target/OnnxExport.h"
#include "cnnc/Dialect/CNN/CNNOps.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <cstring>
#include <exception>
#include <vector>

using namespace mlir;
namespace cnn = cnnc::cnn;

namespace {

constexpr int64_t kOpset = 13;
constexpr int64_t kIrVersion = 7; // what opset 13 was released with

/// Raw little-endian bytes of `values`, as TensorProto.raw_data holds them.
template <typename T> std::string rawBytes(ArrayRef<T> values) {
  std::string raw(values.size() * sizeof(T), '\0');
  for (size_t i = 0; i < values.size(); ++i) {
    uint64_t bits = 0;
    std::memcpy(&bits, &values[i], sizeof(T));
    for (size_t b = 0; b < sizeof(T); ++b)
      raw[sizeof(T) * i + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
  }
  return raw;
}

/// The integers of an I64ArrayAttr.
SmallVector<int64_t> intsOf(ArrayAttr values) {
  SmallVector<int64_t> out;
  for (Attribute v : values)
    out.push_back(v.cast<IntegerAttr>().getInt());
  return out;
}

/// Writes `dense` as `init`'s raw data in ONNX element type `elementType`
/// (FLOAT, INT64 or INT32); false for any other type.
bool setDenseData(onnx::TensorProto *init, DenseElementsAttr dense,
                  int elementType) {
  if (elementType == onnx::TensorProto::FLOAT)
    init->set_raw_data(
        rawBytes<float>(llvm::to_vector(dense.getValues<float>())));
  else if (elementType == onnx::TensorProto::INT64)
    init->set_raw_data(
        rawBytes<int64_t>(llvm::to_vector(dense.getValues<int64_t>())));
  else if (elementType == onnx::TensorProto::INT32)
    init->set_raw_data(
        rawBytes<int32_t>(llvm::to_vector(dense.getValues<int32_t>())));
  else
    return false;
  return true;
}

class Exporter {
public:
  Exporter(ModuleOp module, const cnnc::OnnxExportOptions &options)
      : module(module), options(options) {}

  LogicalResult run(std::string &bytes);

private:
  /// A name no other value or node uses, starting from `base`.
  std::string unique(StringRef base) { return unique(base, used); }
  static std::string unique(StringRef base, llvm::StringSet<> &set);
  /// The name of `value`; values not defined yet are an internal error.
  FailureOr<std::string> nameOf(Value value, Operation *user);
  onnx::TensorProto *addInitializer(StringRef name);
  std::string floatScalar(StringRef base, float value);
  std::string int64Tensor(StringRef base, ArrayRef<int64_t> values);
  void setType(onnx::ValueInfoProto *info, Type type);
  LogicalResult exportParam(cnn::ParamOp param);
  LogicalResult exportConstant(cnn::ConstantOp constant);
  LogicalResult exportOp(Operation *op);
  onnx::NodeProto *addNode(Operation *op, StringRef opType,
                           ArrayRef<std::string> inputs);

  ModuleOp module;
  const cnnc::OnnxExportOptions &options;
  onnx::ModelProto model;
  onnx::GraphProto *graph = nullptr;
  llvm::DenseMap<Value, std::string> names;
  /// Names of values (inputs, initializers, node outputs) and of nodes.
  llvm::StringSet<> used, usedNodes;
  /// Parameters by name: one initializer for all cnn.param ops of a name.
  llvm::StringMap<Type> params;
  /// Results of `main` that take the name of their output.
  llvm::DenseMap<Value, std::string> outputNames;
};

std::string Exporter::unique(StringRef base, llvm::StringSet<> &set) {
  std::string name = base.empty() ? "t" : base.str();
  for (int i = 1; set.contains(name); ++i)
    name = (base + "_" + llvm::Twine(i)).str();
  set.insert(name);
  return name;
}

FailureOr<std::string> Exporter::nameOf(Value value, Operation *user) {
  auto it = names.find(value);
  if (it == names.end()) {
    user->emitError("internal error: an operand has no ONNX name");
    return failure();
  }
  return it->second;
}

onnx::TensorProto *Exporter::addInitializer(StringRef name) {
  onnx::TensorProto *init = graph->add_initializer();
  init->set_name(name.str());
  return init;
}

std::string Exporter::floatScalar(StringRef base, float value) {
  std::string name = unique(base);
  onnx::TensorProto *init = addInitializer(name);
  init->set_data_type(onnx::TensorProto::FLOAT);
  init->set_raw_data(rawBytes<float>(value));
  return name;
}

std::string Exporter::int64Tensor(StringRef base, ArrayRef<int64_t> values) {
  std::string name = unique(base);
  onnx::TensorProto *init = addInitializer(name);
  init->set_data_type(onnx::TensorProto::INT64);
  init->add_dims(static_cast<int64_t>(values.size()));
  init->set_raw_data(rawBytes(values));
  return name;
}

/// ONNX element type of an MLIR element type cnn tensors use.
static int onnxElementType(Type type) {
  if (type.isF32())
    return onnx::TensorProto::FLOAT;
  if (type.isInteger(64))
    return onnx::TensorProto::INT64;
  if (type.isInteger(32))
    return onnx::TensorProto::INT32;
  return onnx::TensorProto::UNDEFINED;
}

void Exporter::setType(onnx::ValueInfoProto *info, Type type) {
  auto shaped = type.cast<ShapedType>();
  onnx::TypeProto_Tensor *tensor = info->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnxElementType(shaped.getElementType()));
  onnx::TensorShapeProto *shape = tensor->mutable_shape();
  ArrayRef<int64_t> dims = shaped.getShape();
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t dim = dims[i];
    onnx::TensorShapeProto_Dimension *d = shape->add_dim();
    if (dim == ShapedType::kDynamicSize)
      d->set_dim_param(i == 0 ? "N" : ("d" + llvm::Twine(i)).str());
    else
      d->set_dim_value(dim);
  }
}

LogicalResult Exporter::exportParam(cnn::ParamOp param) {
  std::string name = param.getName().str();
  names[param.getResult()] = name;
  auto seen = params.find(name);
  if (seen != params.end()) {
    if (seen->second != param.getType())
      return param.emitError("parameter '")
             << name << "' appears twice with different types (" << seen->second
             << " and " << param.getType() << ")";
    return success();
  }
  if (used.contains(name))
    return param.emitError("parameter '")
           << name << "' has the name of another value of the graph";
  used.insert(name);
  params[name] = param.getType();

  auto type = param.getType().cast<ShapedType>();
  onnx::TensorProto *init = addInitializer(name);
  int elementType = onnxElementType(type.getElementType());
  init->set_data_type(elementType);
  for (int64_t d : type.getShape())
    init->add_dims(d);
  if (!param.getValue()) {
    if (!type.getElementType().isF32())
      return param.emitError("parameter '")
             << name << "' has no value and is not f32";
    std::vector<float> values(type.getNumElements());
    param.materializeInit(options.seed, values.data());
    init->set_raw_data(rawBytes<float>(values));
    return success();
  }
  auto dense = param.getValue()->dyn_cast<DenseElementsAttr>();
  if (!dense)
    return param.emitError("parameter '")
           << name << "' is not held as dense elements";
  if (!setDenseData(init, dense, elementType))
    return param.emitError("parameter '")
           << name << "' has element type " << type.getElementType()
           << ", which ONNX export does not write";
  return success();
}

LogicalResult Exporter::exportConstant(cnn::ConstantOp constant) {
  auto type = constant.getType().cast<ShapedType>();
  auto dense = constant.getValue().dyn_cast<DenseElementsAttr>();
  int elementType = onnxElementType(type.getElementType());
  if (!dense || elementType == onnx::TensorProto::UNDEFINED)
    return constant.emitError("constant of type ")
           << type << " cannot be written as an ONNX initializer";
  std::string name = unique("const");
  names[constant.getResult()] = name;
  onnx::TensorProto *init = addInitializer(name);
  init->set_data_type(elementType);
  for (int64_t d : type.getShape())
    init->add_dims(d);
  setDenseData(init, dense, elementType); // a type onnxElementType knows
  return success();
}

static void setInts(onnx::NodeProto *node, StringRef name,
                    ArrayRef<int64_t> values) {
  onnx::AttributeProto *a = node->add_attribute();
  a->set_name(name.str());
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values)
    a->add_ints(v);
}

static void setInts(onnx::NodeProto *node, StringRef name, ArrayAttr values) {
  setInts(node, name, intsOf(values));
}

static void setInt(onnx::NodeProto *node, StringRef name, int64_t value) {
  onnx::AttributeProto *a = node->add_attribute();
  a->set_name(name.str());
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

static void setFloat(onnx::NodeProto *node, StringRef name, float value) {
  onnx::AttributeProto *a = node->add_attribute();
  a->set_name(name.str());
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(value);
}

onnx::NodeProto *Exporter::addNode(Operation *op, StringRef opType,
                                   ArrayRef<std::string> inputs) {
  onnx::NodeProto *node = graph->add_node();
  node->set_op_type(opType.str());
  // DSL layers and ONNX nodes keep their names (the NameLoc the importers
  // set); other ops are named after their ONNX type.
  StringRef base = opType;
  if (auto loc = op->getLoc().dyn_cast<NameLoc>())
    base = loc.getName().getValue();
  node->set_name(unique(base, usedNodes));
  for (const std::string &input : inputs)
    node->add_input(input);
  Value result = op->getResult(0);
  auto output = outputNames.find(result);
  std::string resultName =
      output != outputNames.end() ? output->second : unique(base);
  names[result] = resultName;
  node->add_output(resultName);
  return node;
}

LogicalResult Exporter::exportOp(Operation *op) {
  if (auto param = dyn_cast<cnn::ParamOp>(op))
    return exportParam(param);
  if (auto constant = dyn_cast<cnn::ConstantOp>(op))
    return exportConstant(constant);
  std::vector<std::string> inputs;
  for (Value operand : op->getOperands()) {
    FailureOr<std::string> name = nameOf(operand, op);
    if (failed(name))
      return failure();
    inputs.push_back(*name);
  }
  // Ops that are one ONNX node with the same inputs and no attributes.
  StringRef plain =
      llvm::TypeSwitch<Operation *, StringRef>(op)
          .Case([](cnn::GlobalAvgPoolOp) { return "GlobalAveragePool"; })
          .Case([](cnn::GlobalMaxPoolOp) { return "GlobalMaxPool"; })
          .Case([](cnn::MatMulOp) { return "MatMul"; })
          .Case([](cnn::ReluOp) { return "Relu"; })
          .Case([](cnn::SigmoidOp) { return "Sigmoid"; })
          .Case([](cnn::TanhOp) { return "Tanh"; })
          .Case([](cnn::AddOp) { return "Add"; })
          .Case([](cnn::SubOp) { return "Sub"; })
          .Case([](cnn::MulOp) { return "Mul"; })
          .Case([](cnn::DivOp) { return "Div"; })
          .Default([](Operation *) { return StringRef(); });
  if (!plain.empty()) {
    addNode(op, plain, inputs);
    return success();
  }
  auto pool = [&](auto p, StringRef type) {
    onnx::NodeProto *node = addNode(op, type, inputs);
    setInts(node, "kernel_shape", p.getKernelShape());
    setInts(node, "strides", p.getStrides());
    setInts(node, "pads", p.getPads());
    setInt(node, "ceil_mode", p.getCeilMode());
    return node;
  };
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](cnn::Conv2dOp conv) {
        onnx::NodeProto *node = addNode(op, "Conv", inputs);
        auto w = conv.getWeight().getType().cast<ShapedType>().getShape();
        setInts(node, "kernel_shape", w.drop_front(2));
        setInts(node, "strides", conv.getStrides());
        setInts(node, "pads", conv.getPads());
        setInts(node, "dilations", conv.getDilations());
        setInt(node, "group", conv.getGroup());
        return success();
      })
      .Case([&](cnn::Conv2dBackwardInputOp convT) -> LogicalResult {
        // An imported ConvTranspose: its end pads and output padding follow
        // from the output's size.
        auto in = convT.getGradOutput().getType().cast<ShapedType>().getShape();
        auto w = convT.getOther().getType().cast<ShapedType>().getShape();
        auto out = convT.getType().cast<ShapedType>().getShape();
        SmallVector<int64_t> s = intsOf(convT.getStrides()),
                             d = intsOf(convT.getDilations()),
                             p = intsOf(convT.getPads());
        SmallVector<int64_t> pads = {p[0], p[1], 0, 0}, extra = {0, 0};
        for (int i = 0; i < 2; ++i) {
          int64_t rest = s[i] * (in[2 + i] - 1) + (w[2 + i] - 1) * d[i] + 1 -
                         p[i] - out[2 + i];
          if (rest >= 0)
            pads[2 + i] = rest;
          else
            extra[i] = -rest;
        }
        onnx::NodeProto *node = addNode(op, "ConvTranspose", inputs);
        setInts(node, "kernel_shape", w.drop_front(2));
        setInts(node, "strides", s);
        setInts(node, "pads", pads);
        setInts(node, "dilations", d);
        setInts(node, "output_padding", extra);
        setInt(node, "group", convT.getGroup());
        return success();
      })
      .Case([&](cnn::MaxPool2dOp p) {
        onnx::NodeProto *node = pool(p, "MaxPool");
        setInts(node, "dilations", p.getDilations());
        return success();
      })
      .Case([&](cnn::AvgPool2dOp p) -> LogicalResult {
        for (Attribute d : p.getDilations())
          if (d.cast<IntegerAttr>().getInt() != 1)
            return op->emitError("a dilated average pooling has no ONNX form "
                                 "at opset 13 (AveragePool gains dilations "
                                 "at opset 19)");
        onnx::NodeProto *node = pool(p, "AveragePool");
        setInt(node, "count_include_pad", p.getCountIncludePad());
        return success();
      })
      .Case([&](cnn::BatchNormOp bn) {
        onnx::NodeProto *node = addNode(op, "BatchNormalization", inputs);
        setFloat(node, "epsilon", bn.getEpsilon().convertToFloat());
        setFloat(node, "momentum", bn.getMomentum().convertToFloat());
        return success();
      })
      .Case([&](cnn::GemmOp gemm) {
        onnx::NodeProto *node = addNode(op, "Gemm", inputs);
        setFloat(node, "alpha", gemm.getAlpha().convertToFloat());
        setFloat(node, "beta", gemm.getBeta().convertToFloat());
        setInt(node, "transA", gemm.getTransA());
        setInt(node, "transB", gemm.getTransB());
        return success();
      })
      .Case([&](cnn::LeakyReluOp leaky) {
        onnx::NodeProto *node = addNode(op, "LeakyRelu", inputs);
        setFloat(node, "alpha", leaky.getAlpha().convertToFloat());
        return success();
      })
      .Case([&](cnn::ClipOp clip) {
        inputs.push_back(
            floatScalar("clip_min", clip.getMin().convertToFloat()));
        inputs.push_back(
            floatScalar("clip_max", clip.getMax().convertToFloat()));
        addNode(op, "Clip", inputs);
        return success();
      })
      .Case([&](cnn::DropoutOp dropout) {
        // Inference form: ONNX's Dropout without training_mode is identity
        // too; the ratio is kept so a trainer reading the file sees it.
        inputs.push_back(
            floatScalar("dropout_ratio", dropout.getRatio().convertToFloat()));
        addNode(op, "Dropout", inputs);
        return success();
      })
      .Case([&](cnn::FlattenOp flatten) {
        onnx::NodeProto *node = addNode(op, "Flatten", inputs);
        setInt(node, "axis", flatten.getAxis());
        return success();
      })
      .Case([&](cnn::ReshapeOp reshape) {
        inputs.push_back(
            int64Tensor("reshape_shape", intsOf(reshape.getShape())));
        addNode(op, "Reshape", inputs);
        return success();
      })
      .Case([&](cnn::ConcatOp concat) {
        onnx::NodeProto *node = addNode(op, "Concat", inputs);
        setInt(node, "axis", concat.getAxis());
        return success();
      })
      .Case([&](cnn::PadOp pad) {
        inputs.push_back(int64Tensor("pads", intsOf(pad.getPads())));
        inputs.push_back(
            floatScalar("pad_value", pad.getValue().convertToFloat()));
        onnx::NodeProto *node = addNode(op, "Pad", inputs);
        onnx::AttributeProto *mode = node->add_attribute();
        mode->set_name("mode");
        mode->set_type(onnx::AttributeProto::STRING);
        mode->set_s(cnn::stringifyPadMode(pad.getMode()).str());
        return success();
      })
      .Case([&](cnn::SoftmaxOp softmax) {
        onnx::NodeProto *node = addNode(op, "Softmax", inputs);
        setInt(node, "axis", softmax.getAxis());
        return success();
      })
      .Case([&](cnn::LogSoftmaxOp softmax) {
        onnx::NodeProto *node = addNode(op, "LogSoftmax", inputs);
        setInt(node, "axis", softmax.getAxis());
        return success();
      })
      .Case([&](cnn::ReduceOp reduce) {
        // sum_square -> ReduceSumSquare, l1 -> ReduceL1, ...
        std::string opType =
            "Reduce" + llvm::convertToCamelFromSnakeCase(
                           cnn::stringifyReduction(reduce.getKind()),
                           /*capitalizeFirst=*/true);
        // At opset 13 ReduceSum alone takes its axes as an input.
        bool axesInput = reduce.getKind() == cnn::Reduction::Sum;
        if (axesInput)
          inputs.push_back(
              int64Tensor("reduce_axes", intsOf(reduce.getAxes())));
        onnx::NodeProto *node = addNode(op, opType, inputs);
        if (!axesInput)
          setInts(node, "axes", reduce.getAxes());
        setInt(node, "keepdims", reduce.getKeepdims());
        return success();
      })
      .Default([&](Operation *) {
        return op->emitError("'")
               << op->getName()
               << "' has no ONNX form in cnnc's exporter (it writes the "
                  "graph as imported, before the graph passes)";
      });
}

LogicalResult Exporter::run(std::string &bytes) {
  auto main = module.lookupSymbol<FuncOp>("main");
  if (!main)
    return module.emitError("the model has no 'main' function to export");

  model.set_ir_version(kIrVersion);
  model.set_producer_name("cnnc");
  model.set_producer_version(options.producerVersion);
  onnx::OperatorSetIdProto *opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpset);
  graph = model.mutable_graph();
  graph->set_name(module.getName() ? module.getName()->str() : "model");

  // Inputs keep their names; results computed by an op take their output's
  // name directly, others (an input or parameter returned as it is, a value
  // returned twice) go through an Identity node.
  for (BlockArgument arg : main.getArguments()) {
    auto attr =
        main.getArgAttrOfType<StringAttr>(arg.getArgNumber(), cnn::kNameAttr);
    std::string name =
        unique(attr ? attr.getValue()
                    : StringRef("input" + std::to_string(arg.getArgNumber())));
    names[arg] = name;
    onnx::ValueInfoProto *info = graph->add_input();
    info->set_name(name);
    if (onnxElementType(arg.getType().cast<ShapedType>().getElementType()) ==
        onnx::TensorProto::UNDEFINED)
      return main.emitError("input ")
             << arg.getArgNumber() << " has type " << arg.getType()
             << ", which ONNX export does not write";
    setType(info, arg.getType());
  }
  Operation *terminator = main.getBody().front().getTerminator();
  std::vector<std::string> resultNames;
  llvm::DenseMap<Value, int> returned;
  for (Value v : terminator->getOperands())
    ++returned[v];
  for (unsigned i = 0; i < terminator->getNumOperands(); ++i) {
    Value v = terminator->getOperand(i);
    auto attr = main.getResultAttrOfType<StringAttr>(i, cnn::kNameAttr);
    std::string name =
        attr ? attr.getValue().str() : "output" + std::to_string(i);
    if (used.contains(name) && !names.count(v))
      name = unique(name);
    else if (!used.contains(name))
      used.insert(name);
    resultNames.push_back(name);
    Operation *def = v.getDefiningOp();
    if (def && returned[v] == 1 && !isa<cnn::ParamOp, cnn::ConstantOp>(def))
      outputNames[v] = name;
  }

  for (Operation &op : main.getBody().front().without_terminator())
    if (failed(exportOp(&op)))
      return failure();

  for (unsigned i = 0; i < terminator->getNumOperands(); ++i) {
    Value v = terminator->getOperand(i);
    FailureOr<std::string> name = nameOf(v, terminator);
    if (failed(name))
      return failure();
    if (*name != resultNames[i]) {
      onnx::NodeProto *node = graph->add_node();
      node->set_op_type("Identity");
      node->set_name(unique("Identity", usedNodes));
      node->add_input(*name);
      node->add_output(resultNames[i]);
    }
    onnx::ValueInfoProto *info = graph->add_output();
    info->set_name(resultNames[i]);
    setType(info, v.getType());
  }

  // What cnnc writes, libonnx must accept: a model others reject is worse
  // than an error here.
  try {
    onnx::checker::check_model(model);
    onnx::ModelProto inferred = model;
    onnx::ShapeInferenceOptions strict(/*check_type_val=*/true,
                                       /*strict_mode_val=*/1);
    onnx::shape_inference::InferShapes(
        inferred, onnx::OpSchemaRegistry::Instance(), strict);
  } catch (const std::exception &e) {
    return module.emitError("internal error: the exported ONNX model does not "
                            "pass libonnx's checks: ")
           << e.what();
  }
  if (!model.SerializeToString(&bytes))
    return module.emitError("cannot serialize the exported ONNX model "
                            "(above protobuf's 2 GiB limit?)");
  return success();
}

} // namespace

LogicalResult cnnc::exportOnnx(ModuleOp module,
                               const OnnxExportOptions &options,
                               std::string &bytes) {
  return Exporter(module, options).run(bytes);
}
