/*===- executor.c - runs a compiled model's kernels -----------------------===*
 *
 * Linked into every model library (hidden). See rt_executor.h, and
 * executor_internal.h for the executor's other files (parameters, training
 * steps, feature cache, state). The optimizers' updates are Halide kernels
 * compiled into each training library (lib/Codegen/Optimizers.cpp); train.c
 * runs them in place.
 *
 *===----------------------------------------------------------------------===*/
#include "executor_internal.h"
#include "thread_pool.h"
#include <HalideRuntime.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

_Thread_local char cnnc_rt_halide_error_text[768];

/* Halide reports kernel errors (failed bound checks, allocation failures)
 * through this handler; its default would print and abort the process. */
static void record_halide_error(void *user_context, const char *message) {
  (void)user_context;
  snprintf(cnnc_rt_halide_error_text, sizeof cnnc_rt_halide_error_text, "%s",
           message);
  size_t n = strlen(cnnc_rt_halide_error_text);
  while (n && (cnnc_rt_halide_error_text[n - 1] == '\n' ||
               cnnc_rt_halide_error_text[n - 1] == ' '))
    cnnc_rt_halide_error_text[--n] = 0;
}

static void swallow_print(void *user_context, const char *message) {
  (void)user_context;
  (void)message;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cnnc_rt_fail(cnnc_model *m, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m->error, sizeof m->error, fmt, ap);
  va_end(ap);
  return status;
}

void *cnnc_rt_aligned_alloc_zero(size_t bytes) {
  size_t rounded = (bytes + CNNC_RT_ALIGN - 1) / CNNC_RT_ALIGN * CNNC_RT_ALIGN;
  if (rounded == 0)
    rounded = CNNC_RT_ALIGN;
  void *p = aligned_alloc(CNNC_RT_ALIGN, rounded);
  if (p)
    memset(p, 0, rounded);
  return p;
}

static size_t dtype_size(int32_t dtype) {
  return dtype == CNNC_DTYPE_I64 ? 8 : 4;
}

/* Elements of buffer `b` at `batch`, or -1 on overflow. */
int64_t cnnc_rt_num_elements(const cnnc_rt_buffer *b, int64_t batch) {
  int64_t n = 1;
  for (int32_t i = 0; i < b->rank; ++i) {
    int64_t d = b->dims[i] < 0 ? batch : b->dims[i];
    if (d != 0 && n > INT64_MAX / d)
      return -1;
    n *= d;
  }
  return n;
}

/* The buffer whose memory `b` is (through aliases and views). */
static int32_t buffer_root(const cnnc_rt_graph *graph, int32_t b) {
  for (int32_t hops = 0; hops < graph->num_buffers; ++hops) {
    const cnnc_rt_buffer *buf = &graph->buffers[b];
    if (buf->kind != CNNC_RT_ALIAS && buf->kind != CNNC_RT_VIEW)
      break;
    b = buf->ref;
  }
  return b;
}

int cnnc_rt_init_graph(graph_state *g, const cnnc_rt_graph *graph,
                       int32_t *max_args) {
  g->graph = graph;
  int32_t max_rank = 0;
  for (int32_t k = 0; k < graph->num_kernels; ++k)
    if (graph->kernels[k].num_args > *max_args)
      *max_args = graph->kernels[k].num_args;
  for (int32_t b = 0; b < graph->num_buffers; ++b)
    if (graph->buffers[b].rank > max_rank)
      max_rank = graph->buffers[b].rank;
  g->temp_offsets = calloc((size_t)graph->num_buffers + 1, sizeof(uint64_t));
  g->hbufs = calloc((size_t)graph->num_buffers + 1, sizeof(halide_buffer_t));
  g->hdims = calloc((size_t)(graph->num_buffers + 1) * (size_t)(max_rank + 1),
                    sizeof(halide_dimension_t));
  if (!g->temp_offsets || !g->hbufs || !g->hdims)
    return CNNC_ERROR_OUT_OF_MEMORY;
  for (int32_t b = 0; b < graph->num_buffers; ++b)
    g->hbufs[b].dim = g->hdims + (size_t)b * (size_t)(max_rank + 1);
  g->output_writer = calloc((size_t)graph->num_outputs + 1, sizeof(int32_t));
  if (!g->output_writer)
    return CNNC_ERROR_OUT_OF_MEMORY;
  for (int32_t o = 0; o < graph->num_outputs; ++o) {
    int32_t root = buffer_root(graph, graph->output_buffers[o]);
    g->output_writer[o] = -1;
    for (int32_t k = 0; k < graph->num_kernels; ++k) {
      const cnnc_rt_kernel *kernel = &graph->kernels[k];
      if (kernel->num_args > 0 &&
          buffer_root(graph, kernel->args[kernel->num_args - 1]) == root)
        g->output_writer[o] = k;
    }
  }
  const char *profile = getenv("CNNC_PROFILE");
  if (profile && profile[0] == '1')
    g->profile = calloc((size_t)graph->num_kernels + 1, sizeof(double));
  return CNNC_OK;
}

static void print_profile(const graph_state *g, const char *model,
                          const char *what) {
  if (!g->profile || !g->profile_runs)
    return;
  double total = 0;
  for (int32_t k = 0; k < g->graph->num_kernels; ++k)
    total += g->profile[k];
  fprintf(stderr, "cnnc profile of %s (%s): %lld runs, %.4f ms per run\n",
          model, what, (long long)g->profile_runs,
          1e3 * total / (double)g->profile_runs);
  for (int32_t k = 0; k < g->graph->num_kernels; ++k)
    fprintf(stderr, "  %-40s %9.4f ms %5.1f%%\n", g->graph->kernels[k].name,
            1e3 * g->profile[k] / (double)g->profile_runs,
            total > 0 ? 100.0 * g->profile[k] / total : 0.0);
}

void cnnc_rt_free_graph(graph_state *g) {
  free(g->arena);
  free(g->temp_offsets);
  free(g->hbufs);
  free(g->hdims);
  free(g->profile);
  free(g->output_writer);
}

/* The message of this thread's last failed create (last_error(NULL)). */
static _Thread_local char create_error[512];

/* Whether this CPU has `feature` (a GCC __builtin_cpu_supports name);
 * -1 for a name this runtime does not know. */
static int cpu_supports(const char *feature) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
#define CNNC_CPU_FEATURE(name)                                                 \
  if (!strcmp(feature, name))                                                  \
    return __builtin_cpu_supports(name) != 0;
  CNNC_CPU_FEATURE("sse4.1")
  CNNC_CPU_FEATURE("sse4.2")
  CNNC_CPU_FEATURE("avx")
  CNNC_CPU_FEATURE("avx2")
  CNNC_CPU_FEATURE("fma")
#if !defined(__clang__) /* clang 14 knows neither name; unchecked there */
  CNNC_CPU_FEATURE("f16c")
#endif
  CNNC_CPU_FEATURE("avx512f")
  CNNC_CPU_FEATURE("avx512cd")
  CNNC_CPU_FEATURE("avx512bw")
  CNNC_CPU_FEATURE("avx512dq")
  CNNC_CPU_FEATURE("avx512vl")
  CNNC_CPU_FEATURE("avx512er")
  CNNC_CPU_FEATURE("avx512pf")
  CNNC_CPU_FEATURE("avx512ifma")
  CNNC_CPU_FEATURE("avx512vbmi")
  CNNC_CPU_FEATURE("avx512vnni")
  CNNC_CPU_FEATURE("avx512bf16")
#if !defined(__clang__)
  CNNC_CPU_FEATURE("avxvnni")
#endif
#undef CNNC_CPU_FEATURE
#endif
  (void)feature;
  return -1;
}

/* Writes the features of `list` (comma-separated) this CPU lacks into
 * `missing`; returns their number. */
static int missing_cpu_features(const char *list, char *missing, size_t n) {
  int count = 0;
  missing[0] = 0;
  while (list && *list) {
    const char *end = strchr(list, ',');
    size_t len = end ? (size_t)(end - list) : strlen(list);
    char name[32];
    if (len > 0 && len < sizeof name) {
      memcpy(name, list, len);
      name[len] = 0;
      if (cpu_supports(name) == 0) {
        size_t used = strlen(missing);
        snprintf(missing + used, n - used, "%s%s", count ? ", " : "", name);
        ++count;
      }
    }
    list = end ? end + 1 : NULL;
  }
  return count;
}

int cnnc_rt_create(const cnnc_rt_model *model, cnnc_model **out) {
  if (!out || !model)
    return CNNC_ERROR_INVALID_ARGUMENT;
  *out = NULL;
  create_error[0] = 0;
  char missing[256];
  if (missing_cpu_features(model->cpu_features, missing, sizeof missing)) {
    snprintf(create_error, sizeof create_error,
             "model '%s' was compiled for %s: this CPU lacks %s (compile it "
             "with cnnc --target for this CPU, or for several levels, e.g. "
             "--target=x86-64-linux-avx2-fma-f16c-sse41,x86-64-linux-sse41)",
             model->name, model->target ? model->target : "another CPU",
             missing);
    return CNNC_ERROR_CPU;
  }
  cnnc_model *m = calloc(1, sizeof *m);
  if (!m)
    return CNNC_ERROR_OUT_OF_MEMORY;
  m->model = model;
  cnnc_rt_drop_pending(m);
  int32_t max_args = 0;
  m->phase = -1;
  int status = cnnc_rt_init_graph(&m->inference, &model->inference, &max_args);
  if (status == CNNC_OK)
    status = cnnc_rt_init_graph(&m->layouts, &model->layouts, &max_args);
  if (status == CNNC_OK)
    status = cnnc_rt_init_graph(&m->relayout, &model->relayout, &max_args);
  /* set_param and get_param run a parameter's layout graph. */
  for (int32_t p = 0; p < model->num_params; ++p)
    for (int32_t g = 0; g < 2; ++g) {
      const cnnc_rt_graph *graph =
          g ? model->params[p].from_layout : model->params[p].to_layout;
      for (int32_t k = 0; graph && k < graph->num_kernels; ++k)
        if (graph->kernels[k].num_args > max_args)
          max_args = graph->kernels[k].num_args;
    }
  m->phase_states =
      calloc(3 * (size_t)model->num_phases + 1, sizeof(graph_state));
  m->pstate = calloc((size_t)model->num_params + 1, sizeof(param_state));
  m->tensors =
      calloc(2 * (size_t)model->num_params + 1, sizeof(cnnc_train_tensor));
  if (!m->phase_states || !m->pstate || !m->tensors)
    status = CNNC_ERROR_OUT_OF_MEMORY;
  for (int32_t i = 0; status == CNNC_OK && i < model->num_phases; ++i) {
    const cnnc_rt_phase *ph = &model->phases[i];
    status = cnnc_rt_init_graph(&m->phase_states[3 * i], &ph->step, &max_args);
    if (status == CNNC_OK && ph->features)
      status = cnnc_rt_init_graph(&m->phase_states[3 * i + 1], ph->features,
                                  &max_args);
    if (status == CNNC_OK && ph->head)
      status =
          cnnc_rt_init_graph(&m->phase_states[3 * i + 2], ph->head, &max_args);
  }
  m->params = cnnc_rt_aligned_alloc_zero(model->params_size);
  m->args = calloc((size_t)max_args + 1, sizeof(void *));
  if (status != CNNC_OK || !m->params || !m->args) {
    cnnc_rt_release(m);
    return CNNC_ERROR_OUT_OF_MEMORY;
  }
  if (model->weights_size)
    memcpy(m->params, model->weights, model->weights_size);
  halide_set_error_handler(record_halide_error);
  halide_set_custom_print(swallow_print);
  cnnc_rt_install_kernel_allocator();
  /* The weights stored in the layouts their convolutions read. */
  if (model->layouts.num_kernels)
    status = cnnc_rt_run_graph(m, &m->layouts, 1, NULL, NULL);
  if (status == CNNC_OK)
    status = cnnc_rt_relayout(m);
  if (status != CNNC_OK) {
    snprintf(create_error, sizeof create_error, "%.*s",
             (int)sizeof create_error - 1, m->error);
    cnnc_rt_release(m);
    return status;
  }
  *out = m;
  return CNNC_OK;
}

void cnnc_rt_free_optimizer(cnnc_model *m) {
  if (m->pstate)
    for (int32_t p = 0; p < m->model->num_params; ++p) {
      free(m->pstate[p].momentum);
      free(m->pstate[p].second);
      m->pstate[p].momentum = m->pstate[p].second = NULL;
    }
}

void cnnc_rt_release(cnnc_model *m) {
  if (!m)
    return;
  print_profile(&m->inference, m->model->name, "inference");
  cnnc_rt_free_graph(&m->inference);
  cnnc_rt_free_graph(&m->layouts);
  cnnc_rt_free_graph(&m->relayout);
  if (m->phase_states)
    for (int32_t i = 0; i < 3 * m->model->num_phases; ++i) {
      static const char *const what[3] = {"training", "features", "head"};
      char label[64];
      snprintf(label, sizeof label, "%s, phase %d", what[i % 3], (int)(i / 3));
      if (m->phase_states[i].graph)
        print_profile(&m->phase_states[i], m->model->name, label);
      cnnc_rt_free_graph(&m->phase_states[i]);
    }
  free(m->phase_states);
  cnnc_rt_free_optimizer(m);
  free(m->pstate);
  free(m->tensors);
  free(m->replica_buf);
  free(m->params);
  free(m->args);
  free(m);
  cnnc_rt_kernel_cache_flush();
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
    return cnnc_rt_fail(
        m, CNNC_ERROR_INVALID_ARGUMENT,
        "thread count must be in [0, 1024] (0: all cores), got %d",
        (int)threads);
  m->threads = threads;
  return CNNC_OK;
}

const char *cnnc_rt_last_error(const cnnc_model *m) {
  if (!m)
    return create_error[0] ? create_error : "null model instance";
  return m->error;
}

/* Lays out every TEMP buffer of a graph for `batch` samples in one arena. */
static int prepare_arena(cnnc_model *m, graph_state *g, int64_t batch) {
  if (g->arena && g->arena_batch == batch)
    return CNNC_OK;
  const cnnc_rt_graph *graph = g->graph;
  uint64_t total = 0;
  for (int32_t b = 0; b < graph->num_buffers; ++b) {
    if (graph->buffers[b].kind != CNNC_RT_TEMP)
      continue;
    int64_t n = cnnc_rt_num_elements(&graph->buffers[b], batch);
    if (n < 0 || (uint64_t)n > (UINT64_MAX - total) / 16)
      return cnnc_rt_fail(m, CNNC_ERROR_SHAPE, "batch %lld is too large for %s",
                          (long long)batch, m->model->name);
    g->temp_offsets[b] = total;
    total += ((uint64_t)n * dtype_size(graph->buffers[b].dtype) +
              CNNC_RT_ALIGN - 1) /
             CNNC_RT_ALIGN * CNNC_RT_ALIGN;
  }
  if (total > (uint64_t)SIZE_MAX / 2)
    return cnnc_rt_fail(m, CNNC_ERROR_OUT_OF_MEMORY,
                        "batch %lld needs %llu bytes", (long long)batch,
                        (unsigned long long)total);
  free(g->arena);
  g->arena_batch = 0;
  g->arena = cnnc_rt_aligned_alloc_zero((size_t)total);
  if (!g->arena)
    return cnnc_rt_fail(
        m, CNNC_ERROR_OUT_OF_MEMORY,
        "cannot allocate %llu bytes of intermediates for batch %lld",
        (unsigned long long)total, (long long)batch);
  g->arena_batch = batch;
  return CNNC_OK;
}

unsigned char *cnnc_rt_host_of(cnnc_model *m, graph_state *g, int32_t b,
                               const void *const *inputs, void *const *outputs,
                               int depth) {
  const cnnc_rt_buffer *buf = &g->graph->buffers[b];
  switch (buf->kind) {
  case CNNC_RT_INPUT:
    return (unsigned char *)inputs[buf->ref];
  case CNNC_RT_OUTPUT:
    return (unsigned char *)outputs[buf->ref];
  case CNNC_RT_PARAM:
    return m->params + buf->offset;
  case CNNC_RT_EMBEDDED: /* read only: no kernel writes it */
    return (unsigned char *)m->model->weights + buf->offset;
  case CNNC_RT_TEMP:
    return g->arena + g->temp_offsets[b];
  case CNNC_RT_ALIAS:
    if (depth > g->graph->num_buffers)
      return NULL;
    return cnnc_rt_host_of(m, g, buf->ref, inputs, outputs, depth + 1);
  case CNNC_RT_VIEW: {
    if (depth > g->graph->num_buffers)
      return NULL;
    unsigned char *base =
        cnnc_rt_host_of(m, g, buf->ref, inputs, outputs, depth + 1);
    return base ? base + buf->offset * dtype_size(buf->dtype) : NULL;
  }
  }
  return NULL;
}

/* Describes buffer `b` to Halide: row-major dims become Halide's
 * innermost-first dims. */
static int describe(cnnc_model *m, graph_state *g, int32_t b, int64_t batch,
                    const void *const *inputs, void *const *outputs) {
  const cnnc_rt_buffer *buf = &g->graph->buffers[b];
  halide_buffer_t *h = &g->hbufs[b];
  halide_dimension_t *dims = h->dim;
  memset(h, 0, sizeof *h);
  h->dim = dims;
  h->host = cnnc_rt_host_of(m, g, b, inputs, outputs, 0);
  h->type.code =
      buf->dtype == CNNC_DTYPE_I64 ? halide_type_int : halide_type_float;
  h->type.bits = (uint8_t)(8 * dtype_size(buf->dtype));
  h->type.lanes = 1;
  h->dimensions = buf->rank;
  /* A VIEW steps through the planes of the padded buffer it lies in. */
  const cnnc_rt_buffer *layout = buf;
  if (buf->kind == CNNC_RT_VIEW && buf->ref >= 0 &&
      buf->ref < g->graph->num_buffers &&
      g->graph->buffers[buf->ref].rank == buf->rank)
    layout = &g->graph->buffers[buf->ref];
  int64_t stride = 1;
  for (int32_t i = 0; i < buf->rank; ++i) {
    int32_t t = buf->rank - 1 - i;
    int64_t extent = buf->dims[t] < 0 ? batch : buf->dims[t];
    int64_t span = layout->dims[t] < 0 ? batch : layout->dims[t];
    if (extent > INT32_MAX || stride > INT32_MAX)
      return cnnc_rt_fail(
          m, CNNC_ERROR_SHAPE,
          "a tensor of %s is too large for 32-bit indexing at batch "
          "%lld",
          m->model->name, (long long)batch);
    dims[i].min = 0;
    dims[i].extent = (int32_t)extent;
    dims[i].stride = (int32_t)stride;
    dims[i].flags = 0;
    stride *= span;
  }
  return CNNC_OK;
}

int cnnc_rt_check_io(cnnc_model *m, const char *what, int32_t count,
                     const cnnc_tensor_info *infos, const void *const *ptrs,
                     const size_t *bytes, int64_t batch) {
  if (count && (!ptrs || !bytes))
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                        "%s pointer or size array is null", what);
  for (int32_t i = 0; i < count; ++i) {
    const cnnc_tensor_info *info = &infos[i];
    uint64_t n = dtype_size(info->dtype);
    for (int32_t d = 0; d < info->rank; ++d) {
      uint64_t extent =
          info->dims[d] < 0 ? (uint64_t)batch : (uint64_t)info->dims[d];
      if (extent && n > UINT64_MAX / extent)
        return cnnc_rt_fail(m, CNNC_ERROR_SHAPE,
                            "%s '%s' overflows at batch %lld", what, info->name,
                            (long long)batch);
      n *= extent;
    }
    if (!ptrs[i])
      return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                          "%s %d ('%s') is null", what, (int)i, info->name);
    if (bytes[i] != n)
      return cnnc_rt_fail(
          m, CNNC_ERROR_SHAPE,
          "%s %d ('%s') has %llu bytes, expected %llu for batch %lld", what,
          (int)i, info->name, (unsigned long long)bytes[i],
          (unsigned long long)n, (long long)batch);
  }
  return CNNC_OK;
}

/* Runs every kernel of a graph. */
int cnnc_rt_run_graph(cnnc_model *m, graph_state *g, int64_t batch,
                      const void *const *inputs, void *const *outputs) {
  const cnnc_rt_graph *graph = g->graph;
  int status = prepare_arena(m, g, batch);
  if (status != CNNC_OK)
    return status;
  for (int32_t b = 0; b < graph->num_buffers; ++b)
    if ((status = describe(m, g, b, batch, inputs, outputs)) != CNNC_OK)
      return status;
  halide_set_num_threads(m->threads);
  cnnc_pool_configure(m->threads);
  /* GPU kernels leave their results on the device until the end: the
   * hook then sees every gradient after the last kernel. */
  int on_gpu = m->model->target && strstr(m->model->target, "cuda");
  int hooked = m->hook && m->hooked == g && !on_gpu;
  if (hooked)
    cnnc_rt_gradients_ready(m, g, -1, inputs);
  for (int32_t k = 0; k < graph->num_kernels; ++k) {
    const cnnc_rt_kernel *kernel = &graph->kernels[k];
    for (int32_t a = 0; a < kernel->num_args; ++a)
      m->args[a] = &g->hbufs[kernel->args[a]];
    cnnc_rt_halide_error_text[0] = 0;
    double start = g->profile ? now_seconds() : 0.0;
    int result = 0;
    if (kernel->fn)
      result = kernel->fn(m->args);
    else /* a step the executor runs itself */
      status = cnnc_rt_run_host_step(m, g, kernel);
    if (g->profile)
      g->profile[k] += now_seconds() - start;
    if (status != CNNC_OK)
      return status;
    if (result != 0)
      return cnnc_rt_fail(m, CNNC_ERROR_KERNEL,
                          "kernel '%s' failed (Halide error %d): %s",
                          kernel->name, result, cnnc_rt_halide_error_text);
    if (hooked)
      cnnc_rt_gradients_ready(m, g, k, inputs);
  }
  if (g->profile)
    ++g->profile_runs;
  /* GPU targets: bring results back and free device memory; descriptors are
   * rebuilt for the next run. */
  for (int32_t b = 0; b < graph->num_buffers; ++b) {
    halide_buffer_t *h = &g->hbufs[b];
    if (!h->device)
      continue;
    if (h->flags & halide_buffer_flag_device_dirty)
      if (halide_copy_to_host(NULL, h) != 0)
        status = cnnc_rt_fail(m, CNNC_ERROR_KERNEL,
                              "copying %s from the GPU failed", m->model->name);
    halide_device_free(NULL, h);
  }
  if (status == CNNC_OK && on_gpu && m->hook && m->hooked == g)
    for (int32_t k = -1; k < graph->num_kernels; ++k)
      cnnc_rt_gradients_ready(m, g, k, inputs);
  return status;
}

/* Runs an inference-style graph (outputs go to the caller's buffers). */
int cnnc_rt_run_to_outputs(cnnc_model *m, graph_state *g, int64_t batch,
                           const void *const *inputs, const size_t *input_bytes,
                           void *const *outputs, const size_t *output_bytes) {
  const cnnc_rt_graph *graph = g->graph;
  if (batch < 1 || batch > INT32_MAX)
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                        "batch must be in [1, 2^31), got %lld",
                        (long long)batch);
  int status = cnnc_rt_check_io(m, "input", graph->num_inputs, graph->inputs,
                                inputs, input_bytes, batch);
  if (status == CNNC_OK)
    status =
        cnnc_rt_check_io(m, "output", graph->num_outputs, graph->outputs,
                         (const void *const *)outputs, output_bytes, batch);
  if (status == CNNC_OK)
    status = cnnc_rt_run_graph(m, g, batch, inputs, outputs);
  if (status != CNNC_OK)
    return status;
  /* Outputs not written in place by a kernel (aliases, inputs, weights). */
  for (int32_t o = 0; o < graph->num_outputs; ++o) {
    int32_t b = graph->output_buffers[o];
    if (graph->buffers[b].kind == CNNC_RT_OUTPUT && graph->buffers[b].ref == o)
      continue;
    const unsigned char *src = cnnc_rt_host_of(m, g, b, inputs, outputs, 0);
    if (src && src != outputs[o])
      memmove(outputs[o], src, output_bytes[o]);
  }
  return CNNC_OK;
}

int cnnc_rt_run(cnnc_model *m, int64_t batch, const void *const *inputs,
                const size_t *input_bytes, void *const *outputs,
                const size_t *output_bytes) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  m->error[0] = 0;
  if (m->layouts_stale) {
    int status = cnnc_rt_relayout(m);
    if (status != CNNC_OK)
      return status;
  }
  return cnnc_rt_run_to_outputs(m, &m->inference, batch, inputs, input_bytes,
                                outputs, output_bytes);
}
