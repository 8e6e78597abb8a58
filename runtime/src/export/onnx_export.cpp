//===- onnx_export.cpp - write trained parameters back into ONNX ----------===//
//
// The embedded source is parsed once per call with protobuf's generated
// onnx::ModelProto, edited in place and serialized again, so every field
// this file does not touch (nodes, opsets, metadata, unknown fields) comes
// out as it went in. libprotobuf may throw (bad_alloc, or a log fatal turned
// into an exception): nothing escapes the C API.
//
//===----------------------------------------------------------------------===//

#include "cnnc/onnx_export.h"
#include "cnnc/tool_support.h"

#include <onnx/onnx_pb.h>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

// One parameter and the initializers (usually one) that take its values.
struct ParamTarget {
  int32_t index;
  std::string name;
  size_t elements;
  std::vector<onnx::TensorProto *> initializers;
};

// Parses the embedded ONNX source and pairs parameters with initializers.
int prepare(const cnnc_model_api *api, onnx::ModelProto &proto,
            std::vector<ParamTarget> &targets, char *err, size_t errLen) {
  if (!api)
    return cnnc_fail(err, errLen, CNNC_ERROR_INVALID_ARGUMENT,
                     "null model table");
  const void *data = nullptr;
  size_t size = 0;
  if (api->source_onnx)
    api->source_onnx(&data, &size);
  if (!data || size == 0)
    return cnnc_fail(
        err, errLen, CNNC_ERROR_UNSUPPORTED,
        "the library embeds no ONNX form of the model, which --export "
        "writes the trained weights into: compile it with --train (or "
        "--embed-source)");
  if (!api->num_params || !api->param_info || !api->get_param)
    return cnnc_fail(err, errLen, CNNC_ERROR_INVALID_ARGUMENT,
                     "the model library does not describe its parameters "
                     "(num_params, param_info or get_param missing)");
  if (size > static_cast<size_t>(INT_MAX))
    return cnnc_fail(err, errLen, CNNC_ERROR_UNSUPPORTED,
                     "the embedded ONNX source (%zu bytes) is above protobuf's "
                     "2 GiB limit",
                     size);

  google::protobuf::io::ArrayInputStream stream(data, static_cast<int>(size));
  google::protobuf::io::CodedInputStream coded(&stream);
  coded.SetTotalBytesLimit(static_cast<int>(size));
  if (!proto.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage())
    return cnnc_fail(
        err, errLen, CNNC_ERROR_IO,
        "the ONNX source embedded in the model (%zu bytes) is not a "
        "valid ONNX model",
        size);

  std::multimap<std::string, onnx::TensorProto *> byName;
  onnx::GraphProto *graph = proto.mutable_graph();
  for (int i = 0; i < graph->initializer_size(); ++i)
    byName.emplace(graph->initializer(i).name(), graph->mutable_initializer(i));

  int32_t count = api->num_params();
  for (int32_t p = 0; p < count; ++p) {
    cnnc_param_info info;
    std::memset(&info, 0, sizeof(info));
    int status = api->param_info(p, &info);
    if (status != CNNC_OK || !info.name || info.rank < 0 ||
        info.rank > CNNC_MAX_RANK)
      return cnnc_fail(err, errLen, CNNC_ERROR_INVALID_ARGUMENT,
                       "the model library describes parameter %d badly",
                       (int)p);
    ParamTarget target{p, info.name, 1, {}};
    for (int32_t d = 0; d < info.rank; ++d) {
      if (info.dims[d] < 0 ||
          (info.dims[d] > 0 &&
           target.elements > SIZE_MAX / 4 / static_cast<size_t>(info.dims[d])))
        return cnnc_fail(err, errLen, CNNC_ERROR_INVALID_ARGUMENT,
                         "the model library describes parameter '%s' with an "
                         "impossible shape",
                         info.name);
      target.elements *= static_cast<size_t>(info.dims[d]);
    }
    bool changes = info.trainable || info.is_buffer;
    auto range = byName.equal_range(target.name);
    if (range.first == range.second) {
      if (changes)
        return cnnc_fail(
            err, errLen, CNNC_ERROR_UNSUPPORTED,
            "parameter '%s' has no initializer of that name in the "
            "model's ONNX source, so its trained values cannot be "
            "exported",
            info.name);
      continue; // a constant the compiler made: nothing to write back
    }
    for (auto it = range.first; it != range.second; ++it) {
      onnx::TensorProto *init = it->second;
      if (init->data_type() != onnx::TensorProto::FLOAT)
        return cnnc_fail(err, errLen, CNNC_ERROR_UNSUPPORTED,
                         "initializer '%s' has ONNX data type %d; only float32 "
                         "(1) initializers take exported parameters",
                         info.name, static_cast<int>(init->data_type()));
      size_t elements = 1;
      bool overflow = false;
      for (int64_t dim : init->dims()) {
        if (dim < 0 ||
            (dim > 0 && elements > SIZE_MAX / 4 / static_cast<size_t>(dim)))
          overflow = true;
        else
          elements *= static_cast<size_t>(dim);
      }
      if (overflow || elements != target.elements)
        return cnnc_fail(
            err, errLen, CNNC_ERROR_SHAPE,
            "initializer '%s' has %zu elements in the ONNX source, "
            "but the model's parameter of that name has %zu",
            info.name, elements, target.elements);
      target.initializers.push_back(init);
    }
    targets.push_back(std::move(target));
  }
  return CNNC_OK;
}

void setRawFloats(onnx::TensorProto *init, const std::vector<float> &values) {
  std::string raw(values.size() * 4, '\0');
  for (size_t i = 0; i < values.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &values[i], 4);
    for (int b = 0; b < 4; ++b) // ONNX raw_data is little-endian
      raw[4 * i + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
  }
  init->clear_float_data();
  init->clear_external_data();
  init->set_data_location(onnx::TensorProto::DEFAULT);
  init->set_raw_data(std::move(raw));
}

int exportOnnx(const cnnc_model_api *api, cnnc_model *model, const char *path,
               int32_t *numWritten, char *err, size_t errLen) {
  onnx::ModelProto proto;
  std::vector<ParamTarget> targets;
  int status = prepare(api, proto, targets, err, errLen);
  if (status != CNNC_OK)
    return status;
  int32_t written = 0;
  std::vector<float> values;
  for (const ParamTarget &target : targets) {
    if (target.initializers.empty())
      continue;
    values.assign(target.elements, 0.0f);
    status = api->get_param(model, target.index, values.data(),
                            values.size() * sizeof(float));
    if (status != CNNC_OK) {
      const char *why = api->last_error ? api->last_error(model) : nullptr;
      return cnnc_fail(err, errLen, status,
                       "cannot read parameter '%s' from the model: %s",
                       target.name.c_str(), why && *why ? why : "no message");
    }
    for (onnx::TensorProto *init : target.initializers) {
      setRawFloats(init, values);
      ++written;
    }
  }
  std::string bytes;
  if (!proto.SerializeToString(&bytes))
    return cnnc_fail(err, errLen, CNNC_ERROR_IO,
                     "%s: cannot serialize the ONNX model (above 2 GiB?)",
                     path);
  status =
      cnnc_write_file_atomically(path, bytes.data(), bytes.size(), err, errLen);
  if (status == CNNC_OK && numWritten)
    *numWritten = written;
  return status;
}

} // namespace

extern "C" int cnnc_onnx_export_check(const cnnc_model_api *api, char *err,
                                      size_t err_len) {
  try {
    onnx::ModelProto proto;
    std::vector<ParamTarget> targets;
    return prepare(api, proto, targets, err, err_len);
  } catch (const std::bad_alloc &) {
    return cnnc_fail(err, err_len, CNNC_ERROR_OUT_OF_MEMORY,
                     "out of memory reading the model's ONNX source");
  } catch (const std::exception &e) {
    return cnnc_fail(err, err_len, CNNC_ERROR_IO,
                     "cannot read the model's ONNX source: %s", e.what());
  } catch (...) {
    return cnnc_fail(err, err_len, CNNC_ERROR_IO,
                     "cannot read the model's ONNX source");
  }
}

extern "C" int cnnc_export_onnx(const cnnc_model_api *api, cnnc_model *model,
                                const char *path, int32_t *num_written,
                                char *err, size_t err_len) {
  if (!path || !model)
    return cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                     "cnnc_export_onnx: null argument");
  try {
    return exportOnnx(api, model, path, num_written, err, err_len);
  } catch (const std::bad_alloc &) {
    return cnnc_fail(err, err_len, CNNC_ERROR_OUT_OF_MEMORY,
                     "%s: out of memory exporting the model", path);
  } catch (const std::exception &e) {
    return cnnc_fail(err, err_len, CNNC_ERROR_IO, "%s: cannot export: %s", path,
                     e.what());
  } catch (...) {
    return cnnc_fail(err, err_len, CNNC_ERROR_IO, "%s: cannot export", path);
  }
}
