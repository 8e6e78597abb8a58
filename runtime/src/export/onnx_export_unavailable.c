/*===- onnx_export_unavailable.c - cnnc-train without protobuf ------------===*
 *
 * Builds of the tools without protobuf and libonnx (a cross build for a CPU
 * whose protobuf is not installed) cannot write ONNX: --export is refused
 * before training, with the reason; checkpoints still hold the weights.
 *
 *===----------------------------------------------------------------------===*/
#include "cnnc/onnx_export.h"
#include "cnnc/tool_support.h"

static const char kWhy[] =
    "this build of cnnc-train has no ONNX export (it was built without "
    "protobuf and libonnx); --checkpoint still saves the trained weights";

int cnnc_onnx_export_check(const cnnc_model_api *api, char *err,
                           size_t err_len) {
  (void)api;
  return cnnc_fail(err, err_len, CNNC_ERROR_UNSUPPORTED, "%s", kWhy);
}

int cnnc_export_onnx(const cnnc_model_api *api, cnnc_model *model,
                     const char *path, int32_t *num_written, char *err,
                     size_t err_len) {
  (void)api;
  (void)model;
  (void)path;
  if (num_written)
    *num_written = 0;
  return cnnc_fail(err, err_len, CNNC_ERROR_UNSUPPORTED, "%s", kWhy);
}
