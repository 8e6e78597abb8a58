//===- OnnxModel.cpp - read and validate an ONNX model --------------------===//
//
// Everything that comes from the file is checked here before the importer
// reads it: the file and tensor sizes (before anything is allocated from
// them), that tensor data matches the dims, that external data stays inside
// the model's folder, and that the graph is a DAG over defined names. libonnx
// and protobuf report errors by throwing; every call into them is guarded.
//
//===----------------------------------------------------------------------===//

#include "OnnxImporterImpl.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SwapByteOrder.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <climits>
#include <cstring>
#include <queue>

using namespace mlir;
using namespace cnnc;
using namespace cnnc::onnximport;
using onnx::TensorProto;

//===----------------------------------------------------------------------===//
// Tensor data
//===----------------------------------------------------------------------===//

/// Bytes per element of an ONNX data type; 0 for types without a fixed size.
static int64_t elementBytes(int32_t type) {
  switch (type) {
  case TensorProto::BOOL:
  case TensorProto::INT8:
  case TensorProto::UINT8:
    return 1;
  case TensorProto::INT16:
  case TensorProto::UINT16:
  case TensorProto::FLOAT16:
  case TensorProto::BFLOAT16:
    return 2;
  case TensorProto::FLOAT:
  case TensorProto::INT32:
  case TensorProto::UINT32:
    return 4;
  case TensorProto::DOUBLE:
  case TensorProto::INT64:
  case TensorProto::UINT64:
  case TensorProto::COMPLEX64:
    return 8;
  case TensorProto::COMPLEX128:
    return 16;
  default:
    return 0;
  }
}

std::string cnnc::onnximport::dataTypeName(int32_t type) {
  if (TensorProto::DataType_IsValid(type))
    return TensorProto::DataType_Name(static_cast<TensorProto::DataType>(type));
  return "data type " + std::to_string(type);
}

bool cnnc::onnximport::isFloatType(int32_t type) {
  return type == TensorProto::FLOAT || type == TensorProto::DOUBLE;
}

bool cnnc::onnximport::isIntegerType(int32_t type) {
  switch (type) {
  case TensorProto::BOOL:
  case TensorProto::INT8:
  case TensorProto::UINT8:
  case TensorProto::INT16:
  case TensorProto::UINT16:
  case TensorProto::INT32:
  case TensorProto::UINT32:
  case TensorProto::INT64:
  case TensorProto::UINT64:
    return true;
  default:
    return false;
  }
}

int64_t cnnc::onnximport::numElements(const TensorProto &tensor) {
  int64_t n = 1;
  for (int64_t d : tensor.dims())
    n *= d;
  return n;
}

/// Number of elements held in the typed (non-raw) field of `tensor`'s type.
static int64_t typedFieldSize(const TensorProto &tensor) {
  switch (tensor.data_type()) {
  case TensorProto::FLOAT:
  case TensorProto::COMPLEX64:
    return tensor.float_data_size();
  case TensorProto::DOUBLE:
  case TensorProto::COMPLEX128:
    return tensor.double_data_size();
  case TensorProto::INT64:
    return tensor.int64_data_size();
  case TensorProto::UINT32:
  case TensorProto::UINT64:
    return tensor.uint64_data_size();
  default:
    return tensor.int32_data_size();
  }
}

/// Reads the little-endian element `i` of type T from raw bytes.
template <typename T> static T readRaw(const std::string &raw, int64_t i) {
  T v;
  std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
  if (!llvm::sys::IsLittleEndianHost)
    llvm::sys::swapByteOrder(v);
  return v;
}

LogicalResult cnnc::onnximport::decodeFloats(const TensorProto &tensor,
                                             std::vector<float> &out) {
  int64_t n = numElements(tensor);
  const std::string &raw = tensor.raw_data();
  out.resize(n);
  switch (tensor.data_type()) {
  case TensorProto::FLOAT:
    if (!raw.empty()) {
      if (llvm::sys::IsLittleEndianHost)
        std::memcpy(out.data(), raw.data(), n * sizeof(float));
      else
        for (int64_t i = 0; i < n; ++i)
          out[i] = readRaw<float>(raw, i);
    } else {
      std::copy(tensor.float_data().begin(), tensor.float_data().end(),
                out.begin());
    }
    return success();
  case TensorProto::DOUBLE:
    for (int64_t i = 0; i < n; ++i)
      out[i] = raw.empty() ? tensor.double_data(i) : readRaw<double>(raw, i);
    return success();
  default:
    return failure();
  }
}

LogicalResult cnnc::onnximport::decodeInts(const TensorProto &tensor,
                                           std::vector<int64_t> &out) {
  int64_t n = numElements(tensor);
  const std::string &raw = tensor.raw_data();
  bool useRaw = !raw.empty();
  out.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    switch (tensor.data_type()) {
    case TensorProto::INT64:
      out[i] = useRaw ? readRaw<int64_t>(raw, i) : tensor.int64_data(i);
      break;
    case TensorProto::UINT64:
      // Shape data never needs the top bit; wrap like a C++ cast would.
      out[i] = useRaw ? (int64_t)readRaw<uint64_t>(raw, i)
                      : (int64_t)tensor.uint64_data(i);
      break;
    case TensorProto::UINT32:
      out[i] = useRaw ? readRaw<uint32_t>(raw, i) : tensor.uint64_data(i);
      break;
    case TensorProto::INT32:
      out[i] = useRaw ? readRaw<int32_t>(raw, i) : tensor.int32_data(i);
      break;
    case TensorProto::INT16:
      out[i] = useRaw ? readRaw<int16_t>(raw, i) : tensor.int32_data(i);
      break;
    case TensorProto::UINT16:
      out[i] = useRaw ? readRaw<uint16_t>(raw, i) : tensor.int32_data(i);
      break;
    case TensorProto::INT8:
      out[i] = useRaw ? readRaw<int8_t>(raw, i) : tensor.int32_data(i);
      break;
    case TensorProto::UINT8:
    case TensorProto::BOOL:
      out[i] = useRaw ? readRaw<uint8_t>(raw, i) : tensor.int32_data(i);
      break;
    default:
      return failure();
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

namespace {
/// Validates the tensors of one model and inlines their external data.
class TensorValidator {
public:
  TensorValidator(Location loc, StringRef modelDir, uint64_t budget)
      : loc(loc), modelDir(modelDir), budget(budget) {}

  LogicalResult validate(TensorProto &tensor, StringRef what);

private:
  LogicalResult loadExternal(TensorProto &tensor, StringRef what,
                             int64_t bytes);
  InFlightDiagnostic error(StringRef what, const TensorProto &tensor) {
    return emitError(loc) << what << " '" << tensor.name() << "': ";
  }

  Location loc;
  std::string modelDir;
  uint64_t budget;
  uint64_t used = 0;
};
} // namespace

LogicalResult TensorValidator::validate(TensorProto &tensor, StringRef what) {
  int64_t elemBytes = elementBytes(tensor.data_type());
  if (tensor.data_type() == TensorProto::STRING)
    return error(what, tensor) << "string tensors are not supported";
  if (elemBytes == 0)
    return error(what, tensor)
           << "unsupported element type " << dataTypeName(tensor.data_type());
  if (tensor.has_segment())
    return error(what, tensor) << "segmented tensors are not supported";

  // The element count is computed with overflow checks before anything is
  // allocated from it.
  int64_t count = 1;
  for (int64_t d : tensor.dims()) {
    if (d < 0)
      return error(what, tensor) << "negative dimension " << d;
    if (__builtin_mul_overflow(count, d, &count))
      return error(what, tensor) << "the element count overflows";
  }
  int64_t bytes;
  if (__builtin_mul_overflow(count, elemBytes, &bytes) ||
      (uint64_t)bytes > budget)
    return error(what, tensor)
           << count << " elements of " << dataTypeName(tensor.data_type())
           << " exceed the model size limit of " << budget << " bytes";
  used += bytes;
  if (used > budget)
    return error(what, tensor)
           << "the tensors of the model exceed the size limit of " << budget
           << " bytes";

  if (tensor.data_location() == TensorProto::EXTERNAL)
    return loadExternal(tensor, what, bytes);

  const std::string &raw = tensor.raw_data();
  int64_t typed = typedFieldSize(tensor);
  if (!raw.empty()) {
    if (typed != 0)
      return error(what, tensor) << "has both raw_data and typed data";
    if ((int64_t)raw.size() != bytes)
      return error(what, tensor)
             << "raw_data holds " << raw.size() << " bytes but the dims "
             << "need " << bytes;
    return success();
  }
  if (typed != count)
    return error(what, tensor) << "holds " << typed << " values but its dims "
                               << "need " << count;
  return success();
}

LogicalResult TensorValidator::loadExternal(TensorProto &tensor, StringRef what,
                                            int64_t bytes) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &entry : tensor.external_data()) {
    if (entry.key() == "location") {
      location = entry.value();
    } else if (entry.key() == "offset" || entry.key() == "length") {
      int64_t v;
      if (StringRef(entry.value()).getAsInteger(10, v) || v < 0)
        return error(what, tensor) << "invalid external data " << entry.key()
                                   << " '" << entry.value() << "'";
      (entry.key() == "offset" ? offset : length) = v;
    }
  }
  if (location.empty() || location.find('\0') != std::string::npos)
    return error(what, tensor) << "external data without a valid location";
  if (length >= 0 && length != bytes)
    return error(what, tensor)
           << "external data length " << length << " does not match the "
           << bytes << " bytes its dims need";

  // The location must name a file inside the model's folder: no absolute
  // path, no "..", and no symbolic link that resolves outside of it.
  StringRef loc(location);
  bool escapes = llvm::sys::path::is_absolute(loc) || loc.startswith("/") ||
                 loc.startswith("\\") || loc.contains(':');
  for (auto it = llvm::sys::path::begin(loc), e = llvm::sys::path::end(loc);
       it != e && !escapes; ++it)
    escapes = *it == "..";
  if (loc.contains("\\.."))
    escapes = true;
  SmallString<256> dirReal, fileReal, joined(modelDir);
  llvm::sys::path::append(joined, loc);
  if (!escapes) {
    if (llvm::sys::fs::real_path(modelDir, dirReal) ||
        llvm::sys::fs::real_path(joined, fileReal))
      return error(what, tensor)
             << "cannot open external data file '" << location << "'";
    StringRef prefix(dirReal);
    escapes = !StringRef(fileReal).startswith(prefix) ||
              fileReal.size() <= prefix.size() ||
              !llvm::sys::path::is_separator(fileReal[prefix.size()]);
  }
  if (escapes)
    return error(what, tensor) << "external data location '" << location
                               << "' is outside the model's folder";

  llvm::sys::fs::file_status status;
  if (llvm::sys::fs::status(fileReal, status) ||
      status.type() != llvm::sys::fs::file_type::regular_file)
    return error(what, tensor)
           << "external data '" << location << "' is not a regular file";
  uint64_t end;
  if (__builtin_add_overflow((uint64_t)offset, (uint64_t)bytes, &end) ||
      end > status.getSize())
    return error(what, tensor)
           << "external data file '" << location << "' holds "
           << status.getSize() << " bytes, too few for " << bytes
           << " bytes at offset " << offset;

  std::string data;
  if (bytes > 0) {
    auto buffer = llvm::MemoryBuffer::getFileSlice(fileReal, bytes, offset);
    if (!buffer)
      return error(what, tensor) << "cannot read external data '" << location
                                 << "': " << buffer.getError().message();
    data = (*buffer)->getBuffer().str();
  }
  tensor.clear_external_data();
  tensor.set_data_location(TensorProto::DEFAULT);
  tensor.set_raw_data(std::move(data));
  return success();
}

std::string cnnc::onnximport::nodeDisplayName(const onnx::NodeProto &node,
                                              int index) {
  if (!node.name().empty())
    return node.name();
  return node.op_type() + "_" + std::to_string(index);
}

/// Sorts the graph's nodes topologically, in place, and records their
/// original indices.
static LogicalResult sortGraph(Location loc, onnx::GraphProto &graph,
                               std::vector<int> &originalIndex) {
  llvm::StringSet<> defined;
  for (const auto &input : graph.input())
    defined.insert(input.name());
  for (const auto &init : graph.initializer())
    defined.insert(init.name());

  int n = graph.node_size();
  llvm::StringMap<int> producer;
  for (int i = 0; i < n; ++i) {
    for (const std::string &out : graph.node(i).output()) {
      if (out.empty())
        continue;
      if (defined.count(out) || !producer.try_emplace(out, i).second)
        return emitError(loc)
               << "tensor '" << out << "' is defined more than once (again by "
               << "node \"" << nodeDisplayName(graph.node(i), i) << "\")";
    }
  }

  // Kahn's algorithm; `users` holds one entry per (input, node) edge.
  std::vector<int> pending(n, 0);
  std::vector<std::vector<int>> users(n);
  for (int i = 0; i < n; ++i) {
    for (const std::string &in : graph.node(i).input()) {
      if (in.empty() || defined.count(in))
        continue;
      auto it = producer.find(in);
      if (it == producer.end())
        return emitError(loc)
               << "node \"" << nodeDisplayName(graph.node(i), i)
               << "\" uses tensor '" << in
               << "', which is neither a graph input, an initializer nor "
                  "the output of a node";
      ++pending[i];
      users[it->second].push_back(i);
    }
  }
  // The ready node that comes first in the file goes first: a sorted graph
  // keeps its order.
  std::vector<int> order;
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < n; ++i)
    if (pending[i] == 0)
      ready.push(i);
  while (!ready.empty()) {
    int i = ready.top();
    ready.pop();
    order.push_back(i);
    for (int user : users[i])
      if (--pending[user] == 0)
        ready.push(user);
  }
  if ((int)order.size() != n) {
    // Walk producers of unresolved inputs from a blocked node until a node
    // repeats: that node lies on a cycle.
    int i = 0;
    while (pending[i] == 0)
      ++i;
    std::vector<bool> seen(n, false);
    while (!seen[i]) {
      seen[i] = true;
      for (const std::string &in : graph.node(i).input()) {
        auto it = in.empty() ? producer.end() : producer.find(in);
        if (it != producer.end() && pending[it->second] != 0) {
          i = it->second;
          break;
        }
      }
    }
    return emitError(loc) << "the graph has a cycle through node \""
                          << nodeDisplayName(graph.node(i), i) << "\"";
  }

  google::protobuf::RepeatedPtrField<onnx::NodeProto> sorted;
  sorted.Reserve(n);
  for (int i : order)
    sorted.Add(std::move(*graph.mutable_node(i)));
  graph.mutable_node()->Swap(&sorted);
  originalIndex = std::move(order);
  return success();
}

/// The part of a libonnx exception message worth showing.
static std::string exceptionText(const std::exception &e) {
  std::string text = e.what();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text;
}

static LogicalResult parseModel(Location loc, StringRef path,
                                const OnnxImportOptions &options,
                                onnx::ModelProto &proto) {
  llvm::sys::fs::file_status status;
  if (std::error_code ec = llvm::sys::fs::status(path, status))
    return emitError(loc) << "cannot open '" << path << "': " << ec.message();
  if (status.type() != llvm::sys::fs::file_type::regular_file)
    return emitError(loc) << "'" << path << "' is not a regular file";
  uint64_t size = status.getSize();
  if (size == 0)
    return emitError(loc) << "'" << path
                          << "' is empty; expected an ONNX model";
  if (size > options.maxModelBytes)
    return emitError(loc) << "'" << path << "' has " << size
                          << " bytes, over the model size limit of "
                          << options.maxModelBytes << " bytes";
  if (size > (uint64_t)INT_MAX)
    return emitError(loc) << "'" << path << "' has " << size
                          << " bytes; protobuf files are limited to 2 GiB "
                             "(store the weights as external data)";

  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return emitError(loc) << "cannot read '" << path
                          << "': " << buffer.getError().message();
  // The file may have changed since it was measured.
  if ((*buffer)->getBufferSize() != size)
    return emitError(loc) << "'" << path << "' changed while being read";

  google::protobuf::io::ArrayInputStream stream((*buffer)->getBufferStart(),
                                                (int)size);
  google::protobuf::io::CodedInputStream coded(&stream);
  coded.SetTotalBytesLimit((int)size);
  bool parsed = false;
  try {
    parsed =
        proto.ParseFromCodedStream(&coded) && coded.ConsumedEntireMessage();
  } catch (const std::exception &e) {
    return emitError(loc) << "'" << path << "' is not a valid ONNX model: "
                          << exceptionText(e);
  }
  if (!parsed)
    return emitError(loc) << "'" << path
                          << "' is not a valid ONNX model (the protobuf "
                             "data is malformed or truncated)";
  return success();
}

/// --input-shape and --dynamic-batch: the graph inputs get the shapes the
/// user gave, a dynamic batch as the symbolic dimension "N". The exporter's
/// intermediate and output shapes were computed at the old batch: they are
/// dropped (value_info) or lose their first dimension (outputs), and shape
/// inference computes them again.
static LogicalResult
overrideInputShapes(Location loc, onnx::GraphProto &graph,
                    const OnnxImportOptions &options,
                    const llvm::StringSet<> &initializerNames) {
  if (options.inputShapes.empty() && !options.dynamicBatch)
    return success();
  auto setBatch = [](onnx::TensorShapeProto::Dimension *dim) {
    dim->clear_dim_value();
    dim->set_dim_param("N");
  };
  llvm::StringSet<> given;
  for (const auto &[name, dims] : options.inputShapes) {
    onnx::ValueInfoProto *input = nullptr;
    std::string names;
    for (onnx::ValueInfoProto &in : *graph.mutable_input()) {
      if (initializerNames.contains(in.name()))
        continue;
      names += (names.empty() ? "'" : ", '") + in.name() + "'";
      if (in.name() == name)
        input = &in;
    }
    if (!input)
      return emitError(loc) << "--input-shape names '" << name
                            << "', which is not an input of the graph (its "
                               "inputs: "
                            << (names.empty() ? "none" : names) << ")";
    if (!given.insert(name).second)
      return emitError(loc)
             << "--input-shape gives input '" << name << "' twice";
    if (!input->type().has_tensor_type())
      return emitError(loc) << "graph input '" << name << "' is not a tensor";
    onnx::TensorShapeProto *shape =
        input->mutable_type()->mutable_tensor_type()->mutable_shape();
    if (shape->dim_size() != 0 && shape->dim_size() != (int)dims.size())
      return emitError(loc)
             << "--input-shape gives input '" << name << "' " << dims.size()
             << " dimensions; the graph says " << shape->dim_size();
    shape->clear_dim();
    for (int64_t d : dims) {
      onnx::TensorShapeProto::Dimension *dim = shape->add_dim();
      if (d < 0)
        setBatch(dim);
      else
        dim->set_dim_value(d);
    }
  }
  if (options.dynamicBatch)
    for (onnx::ValueInfoProto &in : *graph.mutable_input()) {
      if (initializerNames.contains(in.name()) || given.contains(in.name()) ||
          !in.type().has_tensor_type() ||
          !in.type().tensor_type().has_shape() ||
          in.type().tensor_type().shape().dim_size() == 0)
        continue;
      setBatch(in.mutable_type()
                   ->mutable_tensor_type()
                   ->mutable_shape()
                   ->mutable_dim(0));
    }
  graph.clear_value_info();
  for (onnx::ValueInfoProto &out : *graph.mutable_output())
    if (out.type().has_tensor_type() && out.type().tensor_type().has_shape() &&
        out.type().tensor_type().shape().dim_size() > 0)
      setBatch(out.mutable_type()
                   ->mutable_tensor_type()
                   ->mutable_shape()
                   ->mutable_dim(0));
  return success();
}

LogicalResult cnnc::onnximport::loadModel(Location loc, StringRef path,
                                          const OnnxImportOptions &options,
                                          LoadedModel &model) {
  onnx::ModelProto &proto = model.proto;
  if (failed(parseModel(loc, path, options, proto)))
    return failure();
  if (!proto.has_graph())
    return emitError(loc) << "'" << path
                          << "' is not an ONNX model: it has no graph";

  bool hasDefaultDomain = false;
  for (const auto &opset : proto.opset_import()) {
    if (opset.domain().empty() || opset.domain() == "ai.onnx") {
      model.opset = opset.version();
      hasDefaultDomain = true;
    }
  }
  if (!hasDefaultDomain)
    return emitError(loc) << "the model does not import the default ONNX "
                             "operator set (ai.onnx)";
  if (model.opset < kMinLegacyOpset || model.opset > kMaxOpset)
    return emitError(loc) << "the model uses ONNX opset " << model.opset
                          << "; cnnc supports opsets " << kMinOpset << " to "
                          << kMaxOpset << " (and older ones for operators "
                          << "unchanged since)";
  if (model.opset < kMinOpset) {
    // ONNX's own schemas say which operators changed between the model's
    // opset and kMinOpset (Relu and Add lost `consumed_inputs` at 6, ...).
    for (const onnx::NodeProto &node : proto.graph().node()) {
      if (!node.domain().empty() && node.domain() != "ai.onnx")
        continue;
      const auto *then =
          onnx::OpSchemaRegistry::Schema(node.op_type(), (int)model.opset, "");
      const auto *now =
          onnx::OpSchemaRegistry::Schema(node.op_type(), (int)kMinOpset, "");
      if (!then)
        continue; // the checker and the converter table report it
      if (!now || now->since_version() != then->since_version())
        return emitError(loc)
               << "node \"" << node.name() << "\": " << node.op_type()
               << " of opset " << model.opset << " (version "
               << then->since_version()
               << ") differs from its later definitions; cnnc supports it "
                  "from opset "
               << (now ? now->since_version() : kMinOpset)
               << " (re-export the model at opset " << kMinOpset
               << " or later)";
    }
    model.opset = kMinOpset;
  }

  onnx::GraphProto &graph = *proto.mutable_graph();
  if (graph.sparse_initializer_size() != 0)
    return emitError(loc) << "sparse initializers are not supported";

  SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  TensorValidator validator(loc, dir, options.maxModelBytes);
  for (TensorProto &init : *graph.mutable_initializer())
    if (failed(validator.validate(init, "initializer")))
      return failure();
  for (int i = 0; i < graph.node_size(); ++i) {
    onnx::NodeProto &node = *graph.mutable_node(i);
    for (onnx::AttributeProto &attr : *node.mutable_attribute()) {
      std::string what = "attribute '" + attr.name() + "' of node \"" +
                         nodeDisplayName(node, i) + "\", tensor";
      if (attr.has_t() && failed(validator.validate(*attr.mutable_t(), what)))
        return failure();
      for (TensorProto &t : *attr.mutable_tensors())
        if (failed(validator.validate(t, what)))
          return failure();
    }
  }

  llvm::StringSet<> inputNames, initializerNames;
  for (const auto &input : graph.input())
    if (!inputNames.insert(input.name()).second)
      return emitError(loc)
             << "graph input '" << input.name() << "' is listed twice";
  for (const auto &init : graph.initializer())
    if (!initializerNames.insert(init.name()).second)
      return emitError(loc)
             << "initializer '" << init.name() << "' is defined twice";
  if (failed(overrideInputShapes(loc, graph, options, initializerNames)))
    return failure();
  if (failed(sortGraph(loc, graph, model.originalIndex)))
    return failure();

  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception &e) {
    return emitError(loc) << "the ONNX checker rejects the model: "
                          << exceptionText(e);
  } catch (...) {
    return emitError(loc) << "the ONNX checker rejects the model";
  }
  return success();
}

LogicalResult cnnc::onnximport::inferShapes(Location loc, LoadedModel &model,
                                            llvm::ArrayRef<int> nodes) {
  // The graph reduced in place to the imported nodes (moved, not copied:
  // the initializers, the bulk of the file, stay where they are), and the
  // graph outputs they (or the inputs and initializers) define.
  onnx::ModelProto &proto = model.proto;
  onnx::GraphProto &graph = *proto.mutable_graph();
  google::protobuf::RepeatedPtrField<onnx::NodeProto> all;
  all.Swap(graph.mutable_node());
  llvm::StringSet<> defined;
  for (const auto &in : graph.input())
    defined.insert(in.name());
  for (const auto &init : graph.initializer())
    defined.insert(init.name());
  for (int i : nodes) {
    onnx::NodeProto &node = *graph.add_node();
    node.Swap(all.Mutable(i));
    for (const std::string &out : node.output())
      defined.insert(out);
  }
  google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> outputs;
  for (const auto &out : graph.output())
    if (defined.count(out.name()))
      *outputs.Add() = out;
  graph.mutable_output()->Swap(&outputs);
  try {
    onnx::shape_inference::InferShapes(proto);
  } catch (const std::exception &e) {
    return emitError(loc) << "ONNX shape inference failed: "
                          << exceptionText(e);
  } catch (...) {
    return emitError(loc) << "ONNX shape inference failed";
  }
  return success();
}
