/* A stand-in for a model library built by `cnnc --train`, implementing the
 * whole C ABI of runtime/include/cnnc/model_abi.h by hand, so cnnc-train is
 * tested without the compiler.
 *
 * The model is a linear softmax classifier, logits = x W^T + b, with the
 * parameters "fc.weight" (C, F) in group "weights" and "fc.bias" (C,) in
 * group "biases", a real mean cross-entropy loss and real PyTorch-style
 * SGD (momentum, nesterov, weight decay), Adam and AdamW updates, so
 * training really learns.
 *
 * Default: input "x" float32 (N, 4), output "logits" float32 (N, 3).
 * Variants (-D...):
 *   FAKE_MNIST          input (N, 1, 28, 28), 10 classes
 *   FAKE_ONNX_PATH="f"  source_onnx() returns the bytes of file f (read on
 *                       the first call); without it source_onnx is NULL
 *   FAKE_NAN_AT_STEP=k  the k-th train_step (from 1) sees a NaN loss
 *   FAKE_NO_TRAIN       a library built without --train
 *   FAKE_RUN_FAILS      run() reports a kernel error
 * Environment:
 *   FAKE_TRAIN_LOG=f    appends one line per API call to f: configure,
 *                       set_learning_rate, threads, step (with the batch
 *                       size and its labels), run
 *   FAKE_TRAIN_DUMP=f   release() writes the parameters to f as raw
 *                       little-endian float32, fc.weight then fc.bias
 */
#include "cnnc/model_abi.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef FAKE_MNIST
#define FEATURES 784
#define CLASSES 10
#else
#define FEATURES 4
#define CLASSES 3
#endif
#define NUM_PARAMS 2
#define MAX_BATCH 100000

struct cnnc_model {
  float w[CLASSES * FEATURES], b[CLASSES];
  /* Optimizer state: SGD momentum buffers, Adam moments. */
  float buf_w[CLASSES * FEATURES], buf_b[CLASSES];
  float v_w[CLASSES * FEATURES], v_b[CLASSES];
  int has_buf;
  int64_t t;     /* optimizer steps since train_configure */
  int64_t calls; /* train_step calls since create */
  int configured;
  cnnc_train_config config;
  float lr[NUM_PARAMS];
  char error[160];
};

static const cnnc_tensor_info input = {
#ifdef FAKE_MNIST
    "x", CNNC_DTYPE_F32, 4, {-1, 1, 28, 28}};
#else
    "x", CNNC_DTYPE_F32, 2, {-1, FEATURES}};
#endif
static const cnnc_tensor_info output = {
    "logits", CNNC_DTYPE_F32, 2, {-1, CLASSES}};
static const cnnc_param_info params[NUM_PARAMS] = {
    {"fc.weight", "weights", 2, {CLASSES, FEATURES}, 1, 0},
    {"fc.bias", "biases", 1, {CLASSES}, 1, 0},
};

static void log_line(const char *fmt, ...) {
  const char *path = getenv("FAKE_TRAIN_LOG");
  if (!path)
    return;
  FILE *f = fopen(path, "a");
  if (!f)
    return;
  va_list args;
  va_start(args, fmt);
  vfprintf(f, fmt, args);
  va_end(args);
  fputc('\n', f);
  fclose(f);
}

static int fail(cnnc_model *model, int status, const char *message) {
  snprintf(model->error, sizeof(model->error), "%s", message);
  return status;
}

static int fake_create(cnnc_model **out) {
  if (!out)
    return CNNC_ERROR_INVALID_ARGUMENT;
  cnnc_model *m = calloc(1, sizeof(cnnc_model));
  if (!m)
    return CNNC_ERROR_OUT_OF_MEMORY;
  /* The same initial values as make_data.py's ONNX source. */
  for (int i = 0; i < CLASSES * FEATURES; ++i)
    m->w[i] = 0.01f * (float)(i % 7 - 3);
  *out = m;
  return CNNC_OK;
}

static void fake_release(cnnc_model *model) {
  const char *path = getenv("FAKE_TRAIN_DUMP");
  if (model && path) {
    FILE *f = fopen(path, "wb");
    if (f) {
      fwrite(model->w, sizeof(float), CLASSES * FEATURES, f);
      fwrite(model->b, sizeof(float), CLASSES, f);
      fclose(f);
    }
  }
  free(model);
}

static int32_t fake_one(void) { return 1; }

static int fake_input_info(int32_t index, cnnc_tensor_info *out) {
  if (index != 0 || !out)
    return CNNC_ERROR_INVALID_ARGUMENT;
  *out = input;
  return CNNC_OK;
}

static int fake_output_info(int32_t index, cnnc_tensor_info *out) {
  if (index != 0 || !out)
    return CNNC_ERROR_INVALID_ARGUMENT;
  *out = output;
  return CNNC_OK;
}

static void forward(const cnnc_model *m, const float *x, int64_t n,
                    float *logits) {
  for (int64_t i = 0; i < n; ++i)
    for (int c = 0; c < CLASSES; ++c) {
      float sum = m->b[c];
      for (int f = 0; f < FEATURES; ++f)
        sum += m->w[c * FEATURES + f] * x[i * FEATURES + f];
      logits[i * CLASSES + c] = sum;
    }
}

static int fake_run(cnnc_model *model, int64_t batch, const void *const *in,
                    const size_t *in_bytes, void *const *out,
                    const size_t *out_bytes) {
  if (!model || !in || !out || !in_bytes || !out_bytes)
    return CNNC_ERROR_INVALID_ARGUMENT;
#ifdef FAKE_RUN_FAILS
  (void)batch;
  return fail(model, CNNC_ERROR_KERNEL, "simulated kernel failure");
#else
  if (batch < 1 || batch > MAX_BATCH)
    return fail(model, CNNC_ERROR_INVALID_ARGUMENT, "bad batch");
  size_t n = (size_t)batch;
  if (in_bytes[0] != n * FEATURES * sizeof(float) ||
      out_bytes[0] != n * CLASSES * sizeof(float))
    return fail(model, CNNC_ERROR_SHAPE, "x or logits has the wrong size");
  log_line("run batch=%lld", (long long)batch);
  forward(model, in[0], batch, out[0]);
  return CNNC_OK;
#endif
}

static int fake_set_num_threads(cnnc_model *model, int32_t threads) {
  if (!model)
    return CNNC_ERROR_INVALID_ARGUMENT;
  if (threads < 1 || threads > 64)
    return fail(model, CNNC_ERROR_INVALID_ARGUMENT,
                "this model runs on 1 to 64 threads");
  log_line("threads %d", (int)threads);
  return CNNC_OK;
}

static const char *fake_last_error(const cnnc_model *model) {
  return model ? model->error : "null model";
}

static int32_t fake_num_params(void) { return NUM_PARAMS; }

static int fake_param_info(int32_t index, cnnc_param_info *out) {
  if (index < 0 || index >= NUM_PARAMS || !out)
    return CNNC_ERROR_INVALID_ARGUMENT;
  *out = params[index];
  return CNNC_OK;
}

static float *param_data(cnnc_model *m, int32_t index, size_t *count) {
  *count = index == 0 ? CLASSES * FEATURES : CLASSES;
  return index == 0 ? m->w : m->b;
}

static int fake_get_param(cnnc_model *model, int32_t index, float *out,
                          size_t bytes) {
  if (!model || !out || index < 0 || index >= NUM_PARAMS)
    return CNNC_ERROR_INVALID_ARGUMENT;
  size_t count;
  const float *data = param_data(model, index, &count);
  if (bytes != count * sizeof(float))
    return fail(model, CNNC_ERROR_SHAPE, "wrong parameter size");
  memcpy(out, data, bytes);
  return CNNC_OK;
}

static int fake_set_param(cnnc_model *model, int32_t index, const float *values,
                          size_t bytes) {
  if (!model || !values || index < 0 || index >= NUM_PARAMS)
    return CNNC_ERROR_INVALID_ARGUMENT;
  size_t count;
  float *data = param_data(model, index, &count);
  if (bytes != count * sizeof(float))
    return fail(model, CNNC_ERROR_SHAPE, "wrong parameter size");
  memcpy(data, values, bytes);
  return CNNC_OK;
}

static int fake_train_configure(cnnc_model *model, const cnnc_train_config *c) {
  if (!model || !c)
    return CNNC_ERROR_INVALID_ARGUMENT;
  if (c->optimizer < CNNC_OPTIMIZER_SGD || c->optimizer > CNNC_OPTIMIZER_ADAMW)
    return fail(model, CNNC_ERROR_INVALID_ARGUMENT, "unknown optimizer");
  model->config = *c;
  model->configured = 1;
  model->t = 0;
  model->has_buf = 0;
  memset(model->buf_w, 0, sizeof(model->buf_w));
  memset(model->buf_b, 0, sizeof(model->buf_b));
  memset(model->v_w, 0, sizeof(model->v_w));
  memset(model->v_b, 0, sizeof(model->v_b));
  for (int p = 0; p < NUM_PARAMS; ++p)
    model->lr[p] = c->lr;
  log_line("configure optimizer=%d lr=%g momentum=%g weight_decay=%g "
           "beta1=%g beta2=%g eps=%g nesterov=%d seed=%llu",
           (int)c->optimizer, (double)c->lr, (double)c->momentum,
           (double)c->weight_decay, (double)c->beta1, (double)c->beta2,
           (double)c->eps, (int)c->nesterov, (unsigned long long)c->seed);
  return CNNC_OK;
}

static int fake_set_learning_rate(cnnc_model *model, const char *group,
                                  float lr) {
  if (!model)
    return CNNC_ERROR_INVALID_ARGUMENT;
  int matched = 0;
  for (int p = 0; p < NUM_PARAMS; ++p)
    if (!group || !*group || strcmp(group, params[p].group) == 0) {
      model->lr[p] = lr;
      matched = 1;
    }
  if (!matched)
    return fail(model, CNNC_ERROR_INVALID_ARGUMENT,
                "no parameter group named this (groups: weights, biases)");
  log_line("set_learning_rate group=%s lr=%g", group ? group : "", (double)lr);
  return CNNC_OK;
}

/* One PyTorch-style update of `count` values of parameter p. */
static void update(cnnc_model *m, int p, float *w, const float *grad,
                   float *buf, float *v, int count) {
  const cnnc_train_config *c = &m->config;
  float lr = m->lr[p];
  for (int i = 0; i < count; ++i) {
    float g = grad[i];
    if (c->optimizer == CNNC_OPTIMIZER_SGD) {
      g += c->weight_decay * w[i];
      if (c->momentum != 0) {
        buf[i] = m->has_buf ? c->momentum * buf[i] + g : g;
        g = c->nesterov ? g + c->momentum * buf[i] : buf[i];
      }
      w[i] -= lr * g;
      continue;
    }
    if (c->optimizer == CNNC_OPTIMIZER_ADAMW)
      w[i] *= 1.0f - lr * c->weight_decay;
    else
      g += c->weight_decay * w[i];
    buf[i] = c->beta1 * buf[i] + (1.0f - c->beta1) * g;
    v[i] = c->beta2 * v[i] + (1.0f - c->beta2) * g * g;
    float m_hat = buf[i] / (1.0f - powf(c->beta1, (float)m->t));
    float v_hat = v[i] / (1.0f - powf(c->beta2, (float)m->t));
    w[i] -= lr * m_hat / (sqrtf(v_hat) + c->eps);
  }
}

static int fake_train_step(cnnc_model *model, int64_t batch,
                           const void *const *in, const size_t *in_bytes,
                           const void *labels_data, size_t label_bytes,
                           float *loss_out) {
  if (!model || !in || !in_bytes || !labels_data || !loss_out)
    return CNNC_ERROR_INVALID_ARGUMENT;
  if (!model->configured)
    return fail(model, CNNC_ERROR_INVALID_ARGUMENT,
                "train_step before train_configure");
  if (batch < 1 || batch > MAX_BATCH)
    return fail(model, CNNC_ERROR_INVALID_ARGUMENT, "bad batch");
  size_t n = (size_t)batch;
  if (in_bytes[0] != n * FEATURES * sizeof(float) ||
      label_bytes != n * sizeof(int64_t))
    return fail(model, CNNC_ERROR_SHAPE, "x or labels has the wrong size");
  const float *x = in[0];
  const int64_t *labels = labels_data;
  ++model->calls;

  if (getenv("FAKE_TRAIN_LOG")) {
    char text[4096];
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof(text) - 24; ++i)
      used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%lld",
                               i ? "," : "", (long long)labels[i]);
    log_line("step batch=%lld labels=%s", (long long)batch, text);
  }

  float *logits = malloc(n * CLASSES * sizeof(float));
  if (!logits)
    return fail(model, CNNC_ERROR_OUT_OF_MEMORY, "out of memory");
  forward(model, x, batch, logits);
  float grad_w[CLASSES * FEATURES] = {0}, grad_b[CLASSES] = {0};
  double loss = 0;
  for (size_t i = 0; i < n; ++i) {
    if (labels[i] < 0 || labels[i] >= CLASSES) {
      free(logits);
      return fail(model, CNNC_ERROR_INVALID_ARGUMENT, "label out of range");
    }
    float *row = logits + i * CLASSES;
    float max = row[0];
    for (int c = 1; c < CLASSES; ++c)
      max = row[c] > max ? row[c] : max;
    float sum = 0;
    for (int c = 0; c < CLASSES; ++c)
      sum += expf(row[c] - max);
    loss += -(double)(row[labels[i]] - max - logf(sum));
    for (int c = 0; c < CLASSES; ++c) {
      float d = (expf(row[c] - max) / sum - (c == labels[i])) / (float)n;
      grad_b[c] += d;
      for (int f = 0; f < FEATURES; ++f)
        grad_w[c * FEATURES + f] += d * x[i * FEATURES + f];
    }
  }
  free(logits);
  loss /= (double)n;
#ifdef FAKE_NAN_AT_STEP
  if (model->calls == FAKE_NAN_AT_STEP)
    loss = NAN;
#endif
  *loss_out = (float)loss;
  if (!isfinite(loss))
    return fail(model, CNNC_ERROR_NUMERIC,
                "the loss is NaN; the parameters are unchanged");

  ++model->t;
  update(model, 0, model->w, grad_w, model->buf_w, model->v_w,
         CLASSES * FEATURES);
  update(model, 1, model->b, grad_b, model->buf_b, model->v_b, CLASSES);
  model->has_buf = 1;
  return CNNC_OK;
}

#ifdef FAKE_ONNX_PATH
static void *bytes;
static size_t length;

/* Freed at unload, so leak checkers running cnnc-train stay quiet. */
__attribute__((destructor)) static void free_source_onnx(void) { free(bytes); }

static void fake_source_onnx(const void **data, size_t *size) {
  if (!bytes) {
    FILE *f = fopen(FAKE_ONNX_PATH, "rb");
    if (f) {
      fseek(f, 0, SEEK_END);
      long end = ftell(f);
      fseek(f, 0, SEEK_SET);
      bytes = malloc(end > 0 ? (size_t)end : 1);
      if (bytes && end > 0 && fread(bytes, 1, (size_t)end, f) == (size_t)end)
        length = (size_t)end;
      fclose(f);
    }
  }
  *data = length ? bytes : NULL;
  *size = length;
}
#endif

static const cnnc_model_api api = {
    CNNC_ABI_VERSION,
    "fake_train",
    fake_create,
    fake_release,
    fake_one,
    fake_one,
    fake_input_info,
    fake_output_info,
    fake_run,
    fake_set_num_threads,
    fake_last_error,
    fake_num_params,
    fake_param_info,
    fake_get_param,
    fake_set_param,
#ifdef FAKE_NO_TRAIN
    NULL,
    NULL,
    NULL,
#else
    fake_train_configure,
    fake_train_step,
    fake_set_learning_rate,
#endif
#ifdef FAKE_ONNX_PATH
    fake_source_onnx,
#else
    NULL,
#endif
};

const cnnc_model_api *cnnc_model_entry(void) { return &api; }
