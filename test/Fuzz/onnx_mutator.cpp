//===- onnx_mutator.cpp - a structure-aware mutator of ONNX models --------===//
//
// libFuzzer's byte mutations rarely keep a protobuf parseable, so most of
// their inputs stop at the first check. This mutator parses the input as a
// ModelProto, makes one to three edits of the kinds that broke importers
// before (zero strides, a weight of the wrong rank, float attributes, cut
// edges), and serializes the model again:
//   - attributes: values set to 0, -1, huge or NaN, lists grown, shrunk or
//     emptied, the type changed (INTS <-> FLOATS ...), attributes removed or
//     added from the names cnnc's ops read;
//   - dims of inputs, outputs, value_info and initializers: interesting
//     values, symbolic dims, ranks grown and shrunk;
//   - dtypes of tensor types and initializers;
//   - graph edges: a node input or output renamed to another value, to a new
//     name or to "", inputs added and removed, nodes reordered, removed or
//     duplicated, graph outputs renamed;
//   - op types and the opset version;
//   - initializer data truncated or extended.
// An input that does not parse, and one call in eight, gets libFuzzer's own
// byte mutations instead, so the corpus also keeps malformed files.
//
//===----------------------------------------------------------------------===//
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

extern "C" size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t maxSize);

namespace {

using Rng = std::minstd_rand;

/// float -> int64 without UB: out-of-range values become 0.
int64_t toInt(float v) {
  return std::isfinite(v) && std::fabs(v) < 9.0e18f ? int64_t(v) : 0;
}

size_t pick(Rng &rng, size_t n) {
  return std::uniform_int_distribution<size_t>(0, n - 1)(rng);
}

bool chance(Rng &rng, unsigned oneIn) { return pick(rng, oneIn) == 0; }

int64_t interestingInt(Rng &rng) {
  static const int64_t values[] = {0,
                                   1,
                                   -1,
                                   2,
                                   3,
                                   7,
                                   -2,
                                   255,
                                   65536,
                                   INT32_MAX,
                                   INT32_MIN,
                                   int64_t(1) << 32,
                                   int64_t(1) << 40,
                                   std::numeric_limits<int64_t>::max(),
                                   std::numeric_limits<int64_t>::min()};
  if (chance(rng, 3))
    return int64_t(pick(rng, 16)) - 4;
  return values[pick(rng, sizeof values / sizeof values[0])];
}

float interestingFloat(Rng &rng) {
  static const float values[] = {0.f,
                                 -0.f,
                                 1.f,
                                 -1.f,
                                 0.5f,
                                 1e-5f,
                                 1e30f,
                                 -1e30f,
                                 2.f,
                                 std::numeric_limits<float>::infinity(),
                                 -std::numeric_limits<float>::infinity(),
                                 std::numeric_limits<float>::quiet_NaN(),
                                 std::numeric_limits<float>::denorm_min()};
  return values[pick(rng, sizeof values / sizeof values[0])];
}

const char *const kAttributeNames[] = {"strides",
                                       "pads",
                                       "kernel_shape",
                                       "dilations",
                                       "group",
                                       "auto_pad",
                                       "axis",
                                       "axes",
                                       "epsilon",
                                       "momentum",
                                       "alpha",
                                       "beta",
                                       "transA",
                                       "transB",
                                       "ceil_mode",
                                       "count_include_pad",
                                       "storage_order",
                                       "min",
                                       "max",
                                       "mode",
                                       "value",
                                       "perm",
                                       "keepdims",
                                       "allowzero",
                                       "ratio",
                                       "seed",
                                       "output_padding",
                                       "output_shape",
                                       "to",
                                       "spatial",
                                       "broadcast",
                                       "starts",
                                       "ends",
                                       "value_int",
                                       "value_ints",
                                       "value_float",
                                       "value_floats",
                                       "training_mode"};

const char *const kStrings[] = {"SAME_UPPER", "SAME_LOWER", "VALID",
                                "NOTSET",     "constant",   "reflect",
                                "edge",       "",           "bogus"};

const char *const kOpTypes[] = {"Conv",
                                "ConvTranspose",
                                "MaxPool",
                                "AveragePool",
                                "GlobalAveragePool",
                                "GlobalMaxPool",
                                "Relu",
                                "BatchNormalization",
                                "Gemm",
                                "MatMul",
                                "Add",
                                "Mul",
                                "Sub",
                                "Div",
                                "Flatten",
                                "Reshape",
                                "Concat",
                                "Pad",
                                "Clip",
                                "Softmax",
                                "LogSoftmax",
                                "Dropout",
                                "Identity",
                                "Transpose",
                                "Sigmoid",
                                "Tanh",
                                "LeakyRelu",
                                "Constant",
                                "Shape",
                                "Gather",
                                "Unsqueeze",
                                "Squeeze",
                                "Slice",
                                "Cast",
                                "ReduceMean",
                                "ReduceSum",
                                "ReduceMax",
                                "ReduceLogSumExp",
                                "ConstantOfShape",
                                "Sum",
                                "Split",
                                "Resize",
                                "LRN"};

template <typename Repeated> void mutateIntList(Repeated *list, Rng &rng) {
  switch (pick(rng, 5)) {
  case 0:
    if (!list->empty()) {
      list->Set(int(pick(rng, list->size())), interestingInt(rng));
      break;
    }
    [[fallthrough]];
  case 1:
    list->Add(interestingInt(rng));
    break;
  case 2:
    if (!list->empty())
      list->RemoveLast();
    break;
  case 3:
    list->Clear();
    break;
  default: {
    int64_t v = interestingInt(rng);
    for (int i = 0; i < list->size(); ++i)
      list->Set(i, v);
  }
  }
}

template <typename Repeated> void mutateFloatList(Repeated *list, Rng &rng) {
  switch (pick(rng, 4)) {
  case 0:
    if (!list->empty()) {
      list->Set(int(pick(rng, list->size())), interestingFloat(rng));
      break;
    }
    [[fallthrough]];
  case 1:
    list->Add(interestingFloat(rng));
    break;
  case 2:
    if (!list->empty())
      list->RemoveLast();
    break;
  default:
    list->Clear();
  }
}

/// Rewrites `attr` as another type, keeping its values where they convert
/// (strides = [2.0, 2] is how a float attribute reaches cnn's verifier).
void changeAttributeType(onnx::AttributeProto &attr, Rng &rng) {
  using A = onnx::AttributeProto;
  switch (pick(rng, 5)) {
  case 0: // INTS -> FLOATS
    for (int64_t v : attr.ints())
      attr.add_floats(float(v));
    attr.clear_ints();
    attr.set_type(A::FLOATS);
    break;
  case 1: // FLOATS -> INTS
    for (float v : attr.floats())
      attr.add_ints(toInt(v));
    attr.clear_floats();
    attr.set_type(A::INTS);
    break;
  case 2: // INT <-> FLOAT
    if (attr.type() == A::INT) {
      attr.set_f(float(attr.i()));
      attr.clear_i();
      attr.set_type(A::FLOAT);
    } else {
      attr.set_i(toInt(attr.f()));
      attr.clear_f();
      attr.set_type(A::INT);
    }
    break;
  case 3: // a declared type without the matching field
    attr.set_type(A::AttributeType(pick(rng, 15)));
    break;
  default: // both a scalar and a list
    attr.set_i(interestingInt(rng));
    attr.add_ints(interestingInt(rng));
  }
}

void mutateAttributeValue(onnx::AttributeProto &attr, Rng &rng) {
  using A = onnx::AttributeProto;
  if (chance(rng, 6))
    return changeAttributeType(attr, rng);
  switch (attr.type()) {
  case A::INT:
    attr.set_i(interestingInt(rng));
    break;
  case A::INTS:
    mutateIntList(attr.mutable_ints(), rng);
    break;
  case A::FLOAT:
    attr.set_f(interestingFloat(rng));
    break;
  case A::FLOATS:
    mutateFloatList(attr.mutable_floats(), rng);
    break;
  case A::STRING:
    attr.set_s(kStrings[pick(rng, sizeof kStrings / sizeof kStrings[0])]);
    break;
  case A::TENSOR:
    if (attr.has_t()) {
      onnx::TensorProto &t = *attr.mutable_t();
      if (chance(rng, 2))
        mutateIntList(t.mutable_dims(), rng);
      else
        t.set_data_type(int32_t(pick(rng, 17)));
    }
    break;
  default:
    changeAttributeType(attr, rng);
  }
}

void addAttribute(onnx::NodeProto &node, Rng &rng) {
  using A = onnx::AttributeProto;
  A &attr = *node.add_attribute();
  attr.set_name(kAttributeNames[pick(rng, sizeof kAttributeNames /
                                              sizeof kAttributeNames[0])]);
  switch (pick(rng, 5)) {
  case 0:
    attr.set_type(A::INT);
    attr.set_i(interestingInt(rng));
    break;
  case 1:
  case 2: {
    attr.set_type(A::INTS);
    size_t n = pick(rng, 5);
    for (size_t i = 0; i < n; ++i)
      attr.add_ints(interestingInt(rng));
    break;
  }
  case 3:
    attr.set_type(A::FLOAT);
    attr.set_f(interestingFloat(rng));
    break;
  default:
    attr.set_type(A::STRING);
    attr.set_s(kStrings[pick(rng, sizeof kStrings / sizeof kStrings[0])]);
  }
}

bool mutateAttributes(onnx::GraphProto &graph, Rng &rng) {
  if (graph.node_size() == 0)
    return false;
  onnx::NodeProto &node =
      *graph.mutable_node(int(pick(rng, graph.node_size())));
  if (node.attribute_size() == 0 || chance(rng, 5)) {
    addAttribute(node, rng);
    return true;
  }
  int index = int(pick(rng, node.attribute_size()));
  if (chance(rng, 8)) {
    node.mutable_attribute()->DeleteSubrange(index, 1);
    return true;
  }
  mutateAttributeValue(*node.mutable_attribute(index), rng);
  return true;
}

/// The ValueInfos of the graph: inputs, outputs and value_info.
std::vector<onnx::ValueInfoProto *> valueInfos(onnx::GraphProto &graph) {
  std::vector<onnx::ValueInfoProto *> all;
  for (auto &v : *graph.mutable_input())
    all.push_back(&v);
  for (auto &v : *graph.mutable_output())
    all.push_back(&v);
  for (auto &v : *graph.mutable_value_info())
    all.push_back(&v);
  return all;
}

bool mutateDims(onnx::GraphProto &graph, Rng &rng) {
  if (graph.initializer_size() && chance(rng, 3)) {
    onnx::TensorProto &t =
        *graph.mutable_initializer(int(pick(rng, graph.initializer_size())));
    mutateIntList(t.mutable_dims(), rng);
    return true;
  }
  std::vector<onnx::ValueInfoProto *> infos = valueInfos(graph);
  if (infos.empty())
    return false;
  onnx::ValueInfoProto &info = *infos[pick(rng, infos.size())];
  onnx::TensorShapeProto &shape =
      *info.mutable_type()->mutable_tensor_type()->mutable_shape();
  switch (pick(rng, 5)) {
  case 0:
    shape.add_dim()->set_dim_value(interestingInt(rng));
    break;
  case 1:
    if (shape.dim_size())
      shape.mutable_dim()->RemoveLast();
    break;
  case 2:
    if (shape.dim_size()) {
      shape.mutable_dim(int(pick(rng, shape.dim_size())))
          ->set_dim_param(chance(rng, 2) ? "N" : "");
      break;
    }
    [[fallthrough]];
  default:
    if (shape.dim_size())
      shape.mutable_dim(int(pick(rng, shape.dim_size())))
          ->set_dim_value(interestingInt(rng));
    else
      info.mutable_type()->mutable_tensor_type()->clear_shape();
  }
  return true;
}

int32_t randomDataType(Rng &rng) {
  // Mostly the common ones; sometimes any value, valid or not.
  static const int32_t common[] = {
      onnx::TensorProto::FLOAT,   onnx::TensorProto::INT64,
      onnx::TensorProto::INT32,   onnx::TensorProto::DOUBLE,
      onnx::TensorProto::FLOAT16, onnx::TensorProto::UINT8,
      onnx::TensorProto::BOOL,    onnx::TensorProto::STRING};
  if (chance(rng, 4))
    return int32_t(pick(rng, 24));
  return common[pick(rng, sizeof common / sizeof common[0])];
}

bool mutateDtypes(onnx::GraphProto &graph, Rng &rng) {
  if (graph.initializer_size() && chance(rng, 2)) {
    graph.mutable_initializer(int(pick(rng, graph.initializer_size())))
        ->set_data_type(randomDataType(rng));
    return true;
  }
  std::vector<onnx::ValueInfoProto *> infos = valueInfos(graph);
  if (infos.empty())
    return false;
  infos[pick(rng, infos.size())]
      ->mutable_type()
      ->mutable_tensor_type()
      ->set_elem_type(randomDataType(rng));
  return true;
}

/// Every value name of the graph, to rewire edges between existing values.
std::vector<std::string> valueNames(const onnx::GraphProto &graph) {
  std::vector<std::string> names;
  for (const auto &v : graph.input())
    names.push_back(v.name());
  for (const auto &t : graph.initializer())
    names.push_back(t.name());
  for (const auto &node : graph.node())
    for (const auto &out : node.output())
      names.push_back(out);
  return names;
}

std::string someName(const std::vector<std::string> &names, Rng &rng) {
  if (names.empty() || chance(rng, 6))
    return chance(rng, 2) ? std::string()
                          : "fuzz_" + std::to_string(pick(rng, 4));
  return names[pick(rng, names.size())];
}

bool mutateEdges(onnx::GraphProto &graph, Rng &rng) {
  if (graph.node_size() == 0)
    return false;
  std::vector<std::string> names = valueNames(graph);
  int index = int(pick(rng, graph.node_size()));
  onnx::NodeProto &node = *graph.mutable_node(index);
  switch (pick(rng, 8)) {
  case 0:
  case 1:
    if (node.input_size()) {
      node.set_input(int(pick(rng, node.input_size())), someName(names, rng));
      break;
    }
    [[fallthrough]];
  case 2:
    node.add_input(someName(names, rng));
    break;
  case 3:
    if (node.input_size())
      node.mutable_input()->RemoveLast();
    break;
  case 4:
    if (node.output_size())
      node.set_output(int(pick(rng, node.output_size())), someName(names, rng));
    break;
  case 5: // reorder: swap with another node
    graph.mutable_node()->SwapElements(index,
                                       int(pick(rng, graph.node_size())));
    break;
  case 6: // remove or duplicate the node
    if (chance(rng, 2)) {
      graph.mutable_node()->DeleteSubrange(index, 1);
    } else {
      onnx::NodeProto copy = node;
      *graph.add_node() = copy;
    }
    break;
  default:
    if (graph.output_size())
      graph.mutable_output(int(pick(rng, graph.output_size())))
          ->set_name(someName(names, rng));
  }
  return true;
}

bool mutateOps(onnx::ModelProto &model, Rng &rng) {
  onnx::GraphProto &graph = *model.mutable_graph();
  if (chance(rng, 4) || graph.node_size() == 0) {
    for (auto &opset : *model.mutable_opset_import())
      if (opset.domain().empty() || opset.domain() == "ai.onnx")
        opset.set_version(int64_t(5 + pick(rng, 15)));
    return true;
  }
  graph.mutable_node(int(pick(rng, graph.node_size())))
      ->set_op_type(kOpTypes[pick(rng, sizeof kOpTypes / sizeof kOpTypes[0])]);
  return true;
}

bool mutateData(onnx::GraphProto &graph, Rng &rng) {
  if (graph.initializer_size() == 0)
    return false;
  onnx::TensorProto &t =
      *graph.mutable_initializer(int(pick(rng, graph.initializer_size())));
  if (t.has_raw_data()) {
    std::string &raw = *t.mutable_raw_data();
    if (chance(rng, 2) && !raw.empty())
      raw.resize(pick(rng, raw.size()));
    else
      raw.append(size_t(1) << pick(rng, 6), '\x7f');
  } else if (chance(rng, 2)) {
    mutateFloatList(t.mutable_float_data(), rng);
  } else {
    mutateIntList(t.mutable_int64_data(), rng);
  }
  return true;
}

bool mutateOnce(onnx::ModelProto &model, Rng &rng) {
  onnx::GraphProto &graph = *model.mutable_graph();
  switch (pick(rng, 12)) {
  case 0:
  case 1:
  case 2:
  case 3:
    return mutateAttributes(graph, rng);
  case 4:
  case 5:
    return mutateDims(graph, rng);
  case 6:
    return mutateDtypes(graph, rng);
  case 7:
  case 8:
    return mutateEdges(graph, rng);
  case 9:
  case 10:
    return mutateOps(model, rng);
  default:
    return mutateData(graph, rng);
  }
}

} // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size,
                                          size_t maxSize, unsigned int seed) {
  Rng rng(seed);
  onnx::ModelProto model;
  if (chance(rng, 8) || !model.ParseFromArray(data, int(size)) ||
      !model.has_graph())
    return LLVMFuzzerMutate(data, size, maxSize);
  bool changed = false;
  for (size_t n = 1 + pick(rng, 3); n > 0; --n)
    changed |= mutateOnce(model, rng);
  std::string bytes;
  if (!changed || !model.SerializeToString(&bytes) || bytes.size() > maxSize)
    return LLVMFuzzerMutate(data, size, maxSize);
  std::memcpy(data, bytes.data(), bytes.size());
  return bytes.size();
}
