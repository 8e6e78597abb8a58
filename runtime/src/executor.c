/*===- executor.c - runs a compiled model's kernels ----------------------===*
 *
 * Linked into every model library (hidden). See rt_executor.h.
 *
 *===----------------------------------------------------------------------===*/
#include "cnnc/rt_executor.h"

#include <HalideRuntime.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CNNC_RT_ALIGN 64

struct cnnc_model {
  const cnnc_rt_model *model;
  unsigned char *params; /* mutable copy of the weights blob */
  unsigned char *arena;  /* intermediates for `arena_batch` samples */
  size_t arena_bytes;
  int64_t arena_batch;
  uint64_t *temp_offsets; /* per buffer, offset in the arena (TEMP only) */
  halide_buffer_t *hbufs;
  halide_dimension_t *hdims;
  void **args;
  int32_t max_args;
  int32_t threads;
  /* CNNC_PROFILE=1: seconds spent per kernel call, printed at release. */
  double *profile;
  int64_t profile_runs;
  char error[1024];
};

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Halide reports kernel errors (failed bound checks, allocation failures)
 * through this handler; its default would print and abort the process. */
static _Thread_local char halide_error_text[768];

static void record_halide_error(void *user_context, const char *message) {
  (void)user_context;
  snprintf(halide_error_text, sizeof halide_error_text, "%s", message);
  size_t n = strlen(halide_error_text);
  while (n && (halide_error_text[n - 1] == '\n' || halide_error_text[n - 1] == ' '))
    halide_error_text[--n] = 0;
}

static void swallow_print(void *user_context, const char *message) {
  (void)user_context;
  (void)message;
}

static int fail(cnnc_model *m, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m->error, sizeof m->error, fmt, ap);
  va_end(ap);
  return status;
}

static void *aligned_alloc_zero(size_t bytes) {
  size_t rounded = (bytes + CNNC_RT_ALIGN - 1) / CNNC_RT_ALIGN * CNNC_RT_ALIGN;
  if (rounded == 0)
    rounded = CNNC_RT_ALIGN;
  void *p = aligned_alloc(CNNC_RT_ALIGN, rounded);
  if (p)
    memset(p, 0, rounded);
  return p;
}

/* Elements of buffer `b` at `batch`, or -1 on overflow. */
static int64_t num_elements(const cnnc_rt_buffer *b, int64_t batch) {
  int64_t n = 1;
  for (int32_t i = 0; i < b->rank; ++i) {
    int64_t d = b->dims[i] < 0 ? batch : b->dims[i];
    if (d != 0 && n > INT64_MAX / d)
      return -1;
    n *= d;
  }
  return n;
}

int cnnc_rt_create(const cnnc_rt_model *model, cnnc_model **out) {
  if (!out || !model)
    return CNNC_ERROR_INVALID_ARGUMENT;
  *out = NULL;
  cnnc_model *m = calloc(1, sizeof *m);
  if (!m)
    return CNNC_ERROR_OUT_OF_MEMORY;
  m->model = model;
  m->threads = 0;
  int32_t max_rank = 0;
  for (int32_t k = 0; k < model->num_kernels; ++k)
    if (model->kernels[k].num_args > m->max_args)
      m->max_args = model->kernels[k].num_args;
  for (int32_t b = 0; b < model->num_buffers; ++b)
    if (model->buffers[b].rank > max_rank)
      max_rank = model->buffers[b].rank;
  m->params = aligned_alloc_zero(model->weights_size);
  m->temp_offsets = calloc((size_t)model->num_buffers + 1, sizeof(uint64_t));
  m->hbufs = calloc((size_t)model->num_buffers + 1, sizeof(halide_buffer_t));
  m->hdims = calloc((size_t)(model->num_buffers + 1) * (size_t)(max_rank + 1),
                    sizeof(halide_dimension_t));
  m->args = calloc((size_t)m->max_args + 1, sizeof(void *));
  if (!m->params || !m->temp_offsets || !m->hbufs || !m->hdims || !m->args) {
    cnnc_rt_release(m);
    return CNNC_ERROR_OUT_OF_MEMORY;
  }
  if (model->weights_size)
    memcpy(m->params, model->weights, model->weights_size);
  for (int32_t b = 0; b < model->num_buffers; ++b)
    m->hbufs[b].dim = m->hdims + (size_t)b * (size_t)(max_rank + 1);
  const char *profile = getenv("CNNC_PROFILE");
  if (profile && profile[0] == '1')
    m->profile = calloc((size_t)model->num_kernels + 1, sizeof(double));
  halide_set_error_handler(record_halide_error);
  halide_set_custom_print(swallow_print);
  *out = m;
  return CNNC_OK;
}

void cnnc_rt_release(cnnc_model *m) {
  if (!m)
    return;
  if (m->profile && m->profile_runs) {
    double total = 0;
    for (int32_t k = 0; k < m->model->num_kernels; ++k)
      total += m->profile[k];
    fprintf(stderr, "cnnc profile of %s: %lld runs, %.4f ms per run\n",
            m->model->name, (long long)m->profile_runs,
            1e3 * total / (double)m->profile_runs);
    for (int32_t k = 0; k < m->model->num_kernels; ++k)
      fprintf(stderr, "  %-32s %9.4f ms %5.1f%%\n", m->model->kernels[k].name,
              1e3 * m->profile[k] / (double)m->profile_runs,
              total > 0 ? 100.0 * m->profile[k] / total : 0.0);
  }
  free(m->profile);
  free(m->params);
  free(m->arena);
  free(m->temp_offsets);
  free(m->hbufs);
  free(m->hdims);
  free(m->args);
  free(m);
}

int cnnc_rt_tensor_info(const cnnc_tensor_info *table, int32_t count,
                        int32_t index, cnnc_tensor_info *out) {
  if (!out || index < 0 || index >= count)
    return CNNC_ERROR_INVALID_ARGUMENT;
  *out = table[index];
  return CNNC_OK;
}

int cnnc_rt_set_num_threads(cnnc_model *m, int32_t threads) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  if (threads < 0 || threads > 1024)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                "thread count must be in [0, 1024] (0: all cores), got %d",
                (int)threads);
  m->threads = threads;
  return CNNC_OK;
}

const char *cnnc_rt_last_error(const cnnc_model *m) {
  if (!m)
    return "null model instance";
  return m->error;
}

/* Lays out every TEMP buffer for `batch` samples in one arena. */
static int prepare_arena(cnnc_model *m, int64_t batch) {
  if (m->arena && m->arena_batch == batch)
    return CNNC_OK;
  const cnnc_rt_model *model = m->model;
  uint64_t total = 0;
  for (int32_t b = 0; b < model->num_buffers; ++b) {
    if (model->buffers[b].kind != CNNC_RT_TEMP)
      continue;
    int64_t n = num_elements(&model->buffers[b], batch);
    if (n < 0 || (uint64_t)n > (UINT64_MAX - total) / 8)
      return fail(m, CNNC_ERROR_SHAPE, "batch %lld is too large for %s",
                  (long long)batch, model->name);
    m->temp_offsets[b] = total;
    total += ((uint64_t)n * sizeof(float) + CNNC_RT_ALIGN - 1) /
             CNNC_RT_ALIGN * CNNC_RT_ALIGN;
  }
  if (total > (uint64_t)SIZE_MAX / 2)
    return fail(m, CNNC_ERROR_OUT_OF_MEMORY, "batch %lld needs %llu bytes",
                (long long)batch, (unsigned long long)total);
  free(m->arena);
  m->arena = NULL;
  m->arena_batch = 0;
  m->arena = aligned_alloc_zero((size_t)total);
  if (!m->arena)
    return fail(m, CNNC_ERROR_OUT_OF_MEMORY,
                "cannot allocate %llu bytes of intermediates for batch %lld",
                (unsigned long long)total, (long long)batch);
  m->arena_bytes = (size_t)total;
  m->arena_batch = batch;
  return CNNC_OK;
}

static unsigned char *host_of(cnnc_model *m, int32_t b,
                              const void *const *inputs, void *const *outputs,
                              int depth) {
  const cnnc_rt_buffer *buf = &m->model->buffers[b];
  switch (buf->kind) {
  case CNNC_RT_INPUT:
    return (unsigned char *)inputs[buf->ref];
  case CNNC_RT_OUTPUT:
    return (unsigned char *)outputs[buf->ref];
  case CNNC_RT_PARAM:
    return m->params + buf->offset;
  case CNNC_RT_TEMP:
    return m->arena + m->temp_offsets[b];
  case CNNC_RT_ALIAS:
    if (depth > m->model->num_buffers)
      return NULL;
    return host_of(m, buf->ref, inputs, outputs, depth + 1);
  }
  return NULL;
}

/* Describes buffer `b` to Halide: row-major dims become Halide's
 * innermost-first dims. */
static int describe(cnnc_model *m, int32_t b, int64_t batch,
                    const void *const *inputs, void *const *outputs) {
  const cnnc_rt_buffer *buf = &m->model->buffers[b];
  halide_buffer_t *h = &m->hbufs[b];
  halide_dimension_t *dims = h->dim;
  memset(h, 0, sizeof *h);
  h->dim = dims;
  h->host = host_of(m, b, inputs, outputs, 0);
  h->type.code = halide_type_float;
  h->type.bits = 32;
  h->type.lanes = 1;
  h->dimensions = buf->rank;
  int64_t stride = 1;
  for (int32_t i = 0; i < buf->rank; ++i) {
    int32_t t = buf->rank - 1 - i;
    int64_t extent = buf->dims[t] < 0 ? batch : buf->dims[t];
    if (extent > INT32_MAX || stride > INT32_MAX)
      return fail(m, CNNC_ERROR_SHAPE,
                  "a tensor of %s is too large for 32-bit indexing at batch "
                  "%lld",
                  m->model->name, (long long)batch);
    dims[i].min = 0;
    dims[i].extent = (int32_t)extent;
    dims[i].stride = (int32_t)stride;
    dims[i].flags = 0;
    stride *= extent;
  }
  return CNNC_OK;
}

static int check_io(cnnc_model *m, const char *what, int32_t count,
                    const cnnc_tensor_info *infos, const void *const *ptrs,
                    const size_t *bytes, int64_t batch) {
  if (count && (!ptrs || !bytes))
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                "%s pointer or size array is null", what);
  for (int32_t i = 0; i < count; ++i) {
    const cnnc_tensor_info *info = &infos[i];
    uint64_t n = info->dtype == CNNC_DTYPE_I64 ? 8 : 4;
    for (int32_t d = 0; d < info->rank; ++d) {
      uint64_t extent = info->dims[d] < 0 ? (uint64_t)batch : (uint64_t)info->dims[d];
      if (extent && n > UINT64_MAX / extent)
        return fail(m, CNNC_ERROR_SHAPE, "%s '%s' overflows at batch %lld",
                    what, info->name, (long long)batch);
      n *= extent;
    }
    if (!ptrs[i])
      return fail(m, CNNC_ERROR_INVALID_ARGUMENT, "%s %d ('%s') is null",
                  what, (int)i, info->name);
    if (bytes[i] != n)
      return fail(m, CNNC_ERROR_SHAPE,
                  "%s %d ('%s') has %llu bytes, expected %llu for batch %lld",
                  what, (int)i, info->name, (unsigned long long)bytes[i],
                  (unsigned long long)n, (long long)batch);
  }
  return CNNC_OK;
}

int cnnc_rt_run(cnnc_model *m, int64_t batch, const void *const *inputs,
                const size_t *input_bytes, void *const *outputs,
                const size_t *output_bytes) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  m->error[0] = 0;
  const cnnc_rt_model *model = m->model;
  if (batch < 1 || batch > INT32_MAX)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                "batch must be in [1, 2^31), got %lld", (long long)batch);
  int status = check_io(m, "input", model->num_inputs, model->inputs, inputs,
                        input_bytes, batch);
  if (status == CNNC_OK)
    status = check_io(m, "output", model->num_outputs, model->outputs,
                      (const void *const *)outputs, output_bytes, batch);
  if (status == CNNC_OK)
    status = prepare_arena(m, batch);
  if (status != CNNC_OK)
    return status;
  for (int32_t b = 0; b < model->num_buffers; ++b)
    if ((status = describe(m, b, batch, inputs, outputs)) != CNNC_OK)
      return status;
  halide_set_num_threads(m->threads);
  for (int32_t k = 0; k < model->num_kernels; ++k) {
    const cnnc_rt_kernel *kernel = &model->kernels[k];
    for (int32_t a = 0; a < kernel->num_args; ++a)
      m->args[a] = &m->hbufs[kernel->args[a]];
    halide_error_text[0] = 0;
    double start = m->profile ? now_seconds() : 0.0;
    int result = kernel->fn(m->args);
    if (m->profile)
      m->profile[k] += now_seconds() - start;
    if (result != 0)
      return fail(m, CNNC_ERROR_KERNEL, "kernel '%s' failed (Halide error %d): %s",
                  kernel->name, result, halide_error_text);
  }
  if (m->profile)
    ++m->profile_runs;
  /* Outputs not written in place by a kernel (aliases, inputs, weights). */
  for (int32_t o = 0; o < model->num_outputs; ++o) {
    int32_t b = model->output_buffers[o];
    if (model->buffers[b].kind == CNNC_RT_OUTPUT &&
        model->buffers[b].ref == o)
      continue;
    const unsigned char *src = host_of(m, b, inputs, outputs, 0);
    if (src && src != outputs[o])
      memmove(outputs[o], src, output_bytes[o]);
  }
  return CNNC_OK;
}

int cnnc_rt_param_info(const cnnc_rt_model *model, int32_t index,
                       cnnc_param_info *out) {
  if (!model || !out || index < 0 || index >= model->num_params)
    return CNNC_ERROR_INVALID_ARGUMENT;
  *out = model->params[index].info;
  return CNNC_OK;
}

/* The parameter's bytes in the instance, after checking the caller's size. */
static float *param_data(cnnc_model *m, int32_t index, size_t bytes,
                         int *status) {
  const cnnc_rt_model *model = m->model;
  if (index < 0 || index >= model->num_params) {
    *status = fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                   "parameter index %d out of range [0, %d)", (int)index,
                   (int)model->num_params);
    return NULL;
  }
  const cnnc_rt_param *p = &model->params[index];
  const cnnc_rt_buffer *b = &model->buffers[p->buffer];
  size_t expected = (size_t)num_elements(b, 1) * sizeof(float);
  if (bytes != expected) {
    *status = fail(m, CNNC_ERROR_SHAPE,
                   "parameter '%s' has %zu bytes, the caller gave %zu",
                   p->info.name, expected, bytes);
    return NULL;
  }
  *status = CNNC_OK;
  return (float *)(m->params + b->offset);
}

int cnnc_rt_get_param(cnnc_model *m, int32_t index, float *out, size_t bytes) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  if (!out)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT, "null output buffer");
  int status;
  float *data = param_data(m, index, bytes, &status);
  if (data)
    memcpy(out, data, bytes);
  return status;
}

int cnnc_rt_set_param(cnnc_model *m, int32_t index, const float *values,
                      size_t bytes) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  if (!values)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT, "null input buffer");
  int status;
  float *data = param_data(m, index, bytes, &status);
  if (data)
    memcpy(data, values, bytes);
  return status;
}
