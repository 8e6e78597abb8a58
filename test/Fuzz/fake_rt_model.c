/*===- fake_rt_model.c - a model library's tables, without a compiler -----===*
 *
 * See fake_rt_model.h. The Halide runtime functions the executor calls are
 * stubbed: a real library links Halide's standalone runtime, which these
 * fuzzers never need (no kernel runs).
 *
 *===----------------------------------------------------------------------===*/
#include "fake_rt_model.h"

#include "cnnc/rt_executor.h"

#include <HalideRuntime.h>

#include <stdlib.h>
#include <string.h>

/*===-- Halide runtime stubs ----------------------------------------------===*/

halide_error_handler_t halide_set_error_handler(halide_error_handler_t h) {
  (void)h;
  return NULL;
}
halide_print_t halide_set_custom_print(halide_print_t print) {
  (void)print;
  return NULL;
}
halide_do_par_for_t halide_set_custom_do_par_for(halide_do_par_for_t f) {
  (void)f;
  return NULL;
}
halide_malloc_t halide_set_custom_malloc(halide_malloc_t f) {
  (void)f;
  return NULL;
}
halide_free_t halide_set_custom_free(halide_free_t f) {
  (void)f;
  return NULL;
}
int halide_set_num_threads(int n) { return n; }
int halide_copy_to_host(void *user_context, struct halide_buffer_t *buf) {
  (void)user_context;
  (void)buf;
  return 0;
}
int halide_device_free(void *user_context, struct halide_buffer_t *buf) {
  (void)user_context;
  (void)buf;
  return 0;
}

/*===-- The model's tables ------------------------------------------------===*/

enum {
  CONV_W_FLOATS = 2 * 1 * 3 * 3,
  CONV_B_FLOATS = 2,
  FC_W_FLOATS = 3 * 8,
  BN_MEAN_FLOATS = 2,
  /* Byte offsets into the weights blob. */
  CONV_W_OFFSET = 0,
  CONV_B_OFFSET = CONV_W_OFFSET + 4 * CONV_W_FLOATS,
  FC_W_OFFSET = CONV_B_OFFSET + 4 * CONV_B_FLOATS,
  BN_MEAN_OFFSET = FC_W_OFFSET + 4 * FC_W_FLOATS,
  RNG_OFFSET = BN_MEAN_OFFSET + 4 * BN_MEAN_FLOATS, /* 8-aligned */
  WEIGHTS_BYTES = RNG_OFFSET + 16
};

static const cnnc_rt_buffer buffers[] = {
    {CNNC_RT_INPUT, 4, {-1, 1, 4, 4}, 0, 0, CNNC_DTYPE_F32},
    {CNNC_RT_PARAM, 4, {2, 1, 3, 3}, 0, CONV_W_OFFSET, CNNC_DTYPE_F32},
    {CNNC_RT_PARAM, 1, {2}, 0, CONV_B_OFFSET, CNNC_DTYPE_F32},
    {CNNC_RT_PARAM, 2, {3, 8}, 0, FC_W_OFFSET, CNNC_DTYPE_F32},
    {CNNC_RT_PARAM, 1, {2}, 0, BN_MEAN_OFFSET, CNNC_DTYPE_F32},
    {CNNC_RT_OUTPUT, 2, {-1, 3}, 0, 0, CNNC_DTYPE_F32},
};
static const cnnc_tensor_info inputs[] = {
    {"x", CNNC_DTYPE_F32, 4, {-1, 1, 4, 4}}};
static const int32_t input_buffers[] = {0};
static const cnnc_tensor_info outputs[] = {{"y", CNNC_DTYPE_F32, 2, {-1, 3}}};
static const int32_t output_buffers[] = {5};

static const cnnc_rt_param params[] = {
    {{"conv.weight", "features", 4, {2, 1, 3, 3}, 1, 0}, 1},
    {{"conv.bias", "features", 1, {2}, 1, 0}, 2},
    {{"fc.weight", "classifier", 2, {3, 8}, 0, 0}, 3},
    {{"bn.running_mean", "features", 1, {2}, 0, 1}, 4},
};

static const int32_t grad_params[] = {0, 1};
static const cnnc_rt_phase phases[] = {{
    0,
    {6, buffers, 0, NULL, 1, inputs, input_buffers, 1, outputs, output_buffers},
    2,
    grad_params,
    0,
    NULL,
    NULL,
    0,
    NULL,
    NULL,
    NULL,
    "no frozen prefix",
}};

static unsigned char weights[WEIGHTS_BYTES];

static const cnnc_rt_model model = {
    "fuzz_model",
    {6, buffers, 0, NULL, 1, inputs, input_buffers, 1, outputs, output_buffers},
    1,
    phases,
    weights,
    sizeof weights,
    sizeof weights, /* params_size: no layout copies */
    4,
    params,
    RNG_OFFSET,
    NULL,
    {NULL, NULL, NULL},
    {0}, /* no weights in other layouts */
    {0},
    "x86-64-linux",
    "",
};

/*===-- The ABI (what LibraryWriter.cpp emits, minus the kernels) ---------===*/

static int fake_create(cnnc_model **out) { return cnnc_rt_create(&model, out); }
static int32_t fake_num_inputs(void) { return 1; }
static int32_t fake_num_outputs(void) { return 1; }
static int fake_input_info(int32_t index, cnnc_tensor_info *out) {
  return cnnc_rt_tensor_info(inputs, 1, index, out);
}
static int fake_output_info(int32_t index, cnnc_tensor_info *out) {
  return cnnc_rt_tensor_info(outputs, 1, index, out);
}
static int32_t fake_num_params(void) { return model.num_params; }
static int fake_param_info(int32_t index, cnnc_param_info *out) {
  return cnnc_rt_param_info(&model, index, out);
}

static const cnnc_model_api api = {
    .abi_version = CNNC_ABI_VERSION,
    .model_name = "fuzz_model",
    .create = fake_create,
    .release = cnnc_rt_release,
    .num_inputs = fake_num_inputs,
    .num_outputs = fake_num_outputs,
    .input_info = fake_input_info,
    .output_info = fake_output_info,
    .set_num_threads = cnnc_rt_set_num_threads,
    .last_error = cnnc_rt_last_error,
    .num_params = fake_num_params,
    .param_info = fake_param_info,
    .get_param = cnnc_rt_get_param,
    .set_param = cnnc_rt_set_param,
    .train_configure = cnnc_rt_train_configure,
    .set_learning_rate = cnnc_rt_set_learning_rate,
    .set_trainable = cnnc_rt_set_trainable,
    .save_state = cnnc_rt_save_state,
    .load_state = cnnc_rt_load_state,
};

const cnnc_model_api *fake_rt_model_api(void) {
  for (size_t i = 0; i < RNG_OFFSET; ++i)
    weights[i] = (unsigned char)(i * 37u + 11u);
  return &api;
}

unsigned char *fake_rt_model_state(int kind, size_t *size) {
  const cnnc_model_api *a = fake_rt_model_api();
  cnnc_model *m = NULL;
  if (a->create(&m) != CNNC_OK)
    return NULL;
  cnnc_train_config config = {
      CNNC_OPTIMIZER_SGD, 0.01f, 0, 0, 0.9f, 0.999f, 1e-8f, 0, 42};
  if (kind == 1)
    config.momentum = 0.9f;
  if (kind >= 2)
    config.optimizer = kind == 3 ? CNNC_OPTIMIZER_ADAMW : CNNC_OPTIMIZER_ADAM;
  if (kind == 4) {
    config.weight_decay = 5e-4f;
    config.beta1 = 0.5f;
    config.seed = 7;
  }
  unsigned char *blob = NULL;
  *size = 0;
  if (a->train_configure(m, &config) == CNNC_OK &&
      (kind != 4 || (a->set_trainable(m, "conv.bias", 0) == CNNC_OK &&
                     a->set_learning_rate(m, "features", 0.5f) == CNNC_OK)) &&
      a->save_state(m, NULL, size) == CNNC_OK && (blob = malloc(*size)) &&
      a->save_state(m, blob, size) != CNNC_OK) {
    free(blob);
    blob = NULL;
  }
  a->release(m);
  return blob;
}
