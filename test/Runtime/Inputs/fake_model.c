/* A stand-in for a model library built by cnnc, implementing the C ABI of
 * runtime/include/cnnc/model_abi.h by hand, so the loader and cnnc-run are
 * tested without the compiler.
 *
 * Default: input "x" float32 (N, 3) -> output "y" float32 (N, 3) = 2 * x + 1.
 * Variants (-D...):
 *   FAKE_TWO_INPUTS   adds input "idx" int64 (N,) and output "z" int64 (N,)
 *                     = 10 * idx
 *   FAKE_ABI_VERSION  the abi_version to report (default CNNC_ABI_VERSION)
 *   FAKE_NO_ENTRY     exports no cnnc_model_entry
 *   FAKE_RUN_FAILS    run() reports a kernel error
 *   FAKE_NO_RUN       the function table lacks run()
 */
#include "cnnc/model_abi.h"

#include <stdlib.h>
#include <string.h>

#ifndef FAKE_ABI_VERSION
#define FAKE_ABI_VERSION CNNC_ABI_VERSION
#endif
#ifdef FAKE_TWO_INPUTS
#define FAKE_NUM_TENSORS 2
#else
#define FAKE_NUM_TENSORS 1
#endif
#define FAKE_MAX_THREADS 64

struct cnnc_model {
  int32_t threads;
  char error[128];
};

static const cnnc_tensor_info inputs[] = {
    {"x", CNNC_DTYPE_F32, 2, {-1, 3}},
    {"idx", CNNC_DTYPE_I64, 1, {-1}},
};
static const cnnc_tensor_info outputs[] = {
    {"y", CNNC_DTYPE_F32, 2, {-1, 3}},
    {"z", CNNC_DTYPE_I64, 1, {-1}},
};

static int fake_create(cnnc_model **out) {
  if (!out)
    return CNNC_ERROR_INVALID_ARGUMENT;
  *out = calloc(1, sizeof(cnnc_model));
  return *out ? CNNC_OK : CNNC_ERROR_OUT_OF_MEMORY;
}

static void fake_release(cnnc_model *model) { free(model); }

static int32_t fake_num_tensors(void) { return FAKE_NUM_TENSORS; }

static int fake_input_info(int32_t index, cnnc_tensor_info *out) {
  if (index < 0 || index >= FAKE_NUM_TENSORS || !out)
    return CNNC_ERROR_INVALID_ARGUMENT;
  *out = inputs[index];
  return CNNC_OK;
}

static int fake_output_info(int32_t index, cnnc_tensor_info *out) {
  if (index < 0 || index >= FAKE_NUM_TENSORS || !out)
    return CNNC_ERROR_INVALID_ARGUMENT;
  *out = outputs[index];
  return CNNC_OK;
}

static int fail(cnnc_model *model, int status, const char *message) {
  strncpy(model->error, message, sizeof(model->error) - 1);
  return status;
}

static int fake_run(cnnc_model *model, int64_t batch, const void *const *in,
                    const size_t *in_bytes, void *const *out,
                    const size_t *out_bytes) {
  if (!model)
    return CNNC_ERROR_INVALID_ARGUMENT;
#ifdef FAKE_RUN_FAILS
  (void)batch, (void)in, (void)in_bytes, (void)out, (void)out_bytes;
  return fail(model, CNNC_ERROR_KERNEL, "simulated kernel failure");
#else
  if (batch < 1)
    return fail(model, CNNC_ERROR_INVALID_ARGUMENT, "batch < 1");
  size_t n = (size_t)batch;
  if (in_bytes[0] != n * 3 * sizeof(float) ||
      out_bytes[0] != n * 3 * sizeof(float))
    return fail(model, CNNC_ERROR_SHAPE, "x or y has the wrong size");
  const float *x = in[0];
  float *y = out[0];
  for (size_t i = 0; i < n * 3; ++i)
    y[i] = 2.0f * x[i] + 1.0f;
#ifdef FAKE_TWO_INPUTS
  if (in_bytes[1] != n * sizeof(int64_t) || out_bytes[1] != n * sizeof(int64_t))
    return fail(model, CNNC_ERROR_SHAPE, "idx or z has the wrong size");
  const int64_t *idx = in[1];
  int64_t *z = out[1];
  for (size_t i = 0; i < n; ++i)
    z[i] = 10 * idx[i];
#endif
  return CNNC_OK;
#endif
}

static int fake_set_num_threads(cnnc_model *model, int32_t threads) {
  if (!model)
    return CNNC_ERROR_INVALID_ARGUMENT;
  /* As the ABI says: 0 is all cores (here, the most it runs on). */
  if (threads < 0 || threads > FAKE_MAX_THREADS)
    return fail(model, CNNC_ERROR_INVALID_ARGUMENT,
                "this model runs on 1 to 64 threads");
  model->threads = threads ? threads : FAKE_MAX_THREADS;
  return CNNC_OK;
}

static const char *fake_last_error(const cnnc_model *model) {
  return model ? model->error : "null model";
}

static const cnnc_model_api api = {
    FAKE_ABI_VERSION,
    "fake",
    fake_create,
    fake_release,
    fake_num_tensors,
    fake_num_tensors,
    fake_input_info,
    fake_output_info,
#ifdef FAKE_NO_RUN
    NULL,
#else
    fake_run,
#endif
    fake_set_num_threads,
    fake_last_error,
};

#ifdef FAKE_NO_ENTRY
const cnnc_model_api *not_the_entry_point(void) { return &api; }
#else
const cnnc_model_api *cnnc_model_entry(void) { return &api; }
#endif
