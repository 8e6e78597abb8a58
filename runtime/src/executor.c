/*===- executor.c - runs a compiled model's kernels; trains it -----------===*
 *
 * Linked into every model library (hidden). See rt_executor.h.
 *
 * The optimizers' updates are Halide kernels compiled into each training
 * library (lib/Codegen/Optimizers.cpp); the executor runs them in place.
 *
 *===----------------------------------------------------------------------===*/
#include "cnnc/rt_executor.h"
#include "thread_pool.h"

#include <HalideRuntime.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CNNC_RT_ALIGN 64

/* Per-graph state: the arena of intermediates and Halide's descriptors. */
typedef struct graph_state {
  const cnnc_rt_graph *graph;
  unsigned char *arena;
  int64_t arena_batch;
  uint64_t *temp_offsets;
  halide_buffer_t *hbufs;
  halide_dimension_t *hdims;
  double *profile; /* CNNC_PROFILE=1: seconds per kernel */
  int64_t profile_runs;
} graph_state;

/* Optimizer state of one trainable parameter. */
typedef struct param_state {
  float lr;
  int32_t frozen;  /* at run time (set_trainable) */
  int64_t step;    /* optimizer steps taken (PyTorch's per-parameter step) */
  float *momentum; /* SGD momentum buffer or Adam first moment */
  float *second;   /* Adam second moment */
} param_state;

struct cnnc_model {
  const cnnc_rt_model *model;
  unsigned char *params; /* mutable copy of the weights blob */
  graph_state inference;
  /* per phase: its step, features and head graphs */
  graph_state *phase_states;
  int32_t phase;   /* the phase train steps use, -1 until chosen */
  int packs_stale; /* weights changed since the packed copies were made */
  void **args;
  int32_t threads;
  /* training */
  int configured;
  cnnc_train_config config;
  int64_t step;
  param_state *pstate;
  char error[1024];
};

static _Thread_local char halide_error_text[768];

/* Halide reports kernel errors (failed bound checks, allocation failures)
 * through this handler; its default would print and abort the process. */
static void record_halide_error(void *user_context, const char *message) {
  (void)user_context;
  snprintf(halide_error_text, sizeof halide_error_text, "%s", message);
  size_t n = strlen(halide_error_text);
  while (n &&
         (halide_error_text[n - 1] == '\n' || halide_error_text[n - 1] == ' '))
    halide_error_text[--n] = 0;
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

static size_t dtype_size(int32_t dtype) {
  return dtype == CNNC_DTYPE_I64 ? 8 : 4;
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

static int init_graph(graph_state *g, const cnnc_rt_graph *graph,
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

static void free_graph(graph_state *g) {
  free(g->arena);
  free(g->temp_offsets);
  free(g->hbufs);
  free(g->hdims);
  free(g->profile);
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
  int32_t max_args = 0;
  m->phase = -1;
  int status = init_graph(&m->inference, &model->inference, &max_args);
  m->phase_states =
      calloc(3 * (size_t)model->num_phases + 1, sizeof(graph_state));
  m->pstate = calloc((size_t)model->num_params + 1, sizeof(param_state));
  if (!m->phase_states || !m->pstate)
    status = CNNC_ERROR_OUT_OF_MEMORY;
  for (int32_t i = 0; status == CNNC_OK && i < model->num_phases; ++i) {
    const cnnc_rt_phase *ph = &model->phases[i];
    status = init_graph(&m->phase_states[3 * i], &ph->step, &max_args);
    if (status == CNNC_OK && ph->features)
      status = init_graph(&m->phase_states[3 * i + 1], ph->features, &max_args);
    if (status == CNNC_OK && ph->head)
      status = init_graph(&m->phase_states[3 * i + 2], ph->head, &max_args);
  }
  m->params = aligned_alloc_zero(model->weights_size);
  m->args = calloc((size_t)max_args + 1, sizeof(void *));
  if (status != CNNC_OK || !m->params || !m->args) {
    cnnc_rt_release(m);
    return CNNC_ERROR_OUT_OF_MEMORY;
  }
  if (model->weights_size)
    memcpy(m->params, model->weights, model->weights_size);
  halide_set_error_handler(record_halide_error);
  halide_set_custom_print(swallow_print);
  *out = m;
  return CNNC_OK;
}

static void free_optimizer(cnnc_model *m) {
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
  free_graph(&m->inference);
  if (m->phase_states)
    for (int32_t i = 0; i < 3 * m->model->num_phases; ++i) {
      static const char *const what[3] = {"training", "features", "head"};
      char label[64];
      snprintf(label, sizeof label, "%s, phase %d", what[i % 3], (int)(i / 3));
      if (m->phase_states[i].graph)
        print_profile(&m->phase_states[i], m->model->name, label);
      free_graph(&m->phase_states[i]);
    }
  free(m->phase_states);
  free_optimizer(m);
  free(m->pstate);
  free(m->params);
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
    int64_t n = num_elements(&graph->buffers[b], batch);
    if (n < 0 || (uint64_t)n > (UINT64_MAX - total) / 16)
      return fail(m, CNNC_ERROR_SHAPE, "batch %lld is too large for %s",
                  (long long)batch, m->model->name);
    g->temp_offsets[b] = total;
    total += ((uint64_t)n * dtype_size(graph->buffers[b].dtype) +
              CNNC_RT_ALIGN - 1) /
             CNNC_RT_ALIGN * CNNC_RT_ALIGN;
  }
  if (total > (uint64_t)SIZE_MAX / 2)
    return fail(m, CNNC_ERROR_OUT_OF_MEMORY, "batch %lld needs %llu bytes",
                (long long)batch, (unsigned long long)total);
  free(g->arena);
  g->arena_batch = 0;
  g->arena = aligned_alloc_zero((size_t)total);
  if (!g->arena)
    return fail(m, CNNC_ERROR_OUT_OF_MEMORY,
                "cannot allocate %llu bytes of intermediates for batch %lld",
                (unsigned long long)total, (long long)batch);
  g->arena_batch = batch;
  return CNNC_OK;
}

static unsigned char *host_of(cnnc_model *m, graph_state *g, int32_t b,
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
  case CNNC_RT_TEMP:
    return g->arena + g->temp_offsets[b];
  case CNNC_RT_ALIAS:
    if (depth > g->graph->num_buffers)
      return NULL;
    return host_of(m, g, buf->ref, inputs, outputs, depth + 1);
  case CNNC_RT_VIEW: {
    if (depth > g->graph->num_buffers)
      return NULL;
    unsigned char *base = host_of(m, g, buf->ref, inputs, outputs, depth + 1);
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
  h->host = host_of(m, g, b, inputs, outputs, 0);
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
      return fail(m, CNNC_ERROR_SHAPE,
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

static int check_io(cnnc_model *m, const char *what, int32_t count,
                    const cnnc_tensor_info *infos, const void *const *ptrs,
                    const size_t *bytes, int64_t batch) {
  if (count && (!ptrs || !bytes))
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                "%s pointer or size array is null", what);
  for (int32_t i = 0; i < count; ++i) {
    const cnnc_tensor_info *info = &infos[i];
    uint64_t n = dtype_size(info->dtype);
    for (int32_t d = 0; d < info->rank; ++d) {
      uint64_t extent =
          info->dims[d] < 0 ? (uint64_t)batch : (uint64_t)info->dims[d];
      if (extent && n > UINT64_MAX / extent)
        return fail(m, CNNC_ERROR_SHAPE, "%s '%s' overflows at batch %lld",
                    what, info->name, (long long)batch);
      n *= extent;
    }
    if (!ptrs[i])
      return fail(m, CNNC_ERROR_INVALID_ARGUMENT, "%s %d ('%s') is null", what,
                  (int)i, info->name);
    if (bytes[i] != n)
      return fail(m, CNNC_ERROR_SHAPE,
                  "%s %d ('%s') has %llu bytes, expected %llu for batch %lld",
                  what, (int)i, info->name, (unsigned long long)bytes[i],
                  (unsigned long long)n, (long long)batch);
  }
  return CNNC_OK;
}

/* Runs every kernel of a graph. */
static int run_graph(cnnc_model *m, graph_state *g, int64_t batch,
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
  for (int32_t k = 0; k < graph->num_kernels; ++k) {
    const cnnc_rt_kernel *kernel = &graph->kernels[k];
    for (int32_t a = 0; a < kernel->num_args; ++a)
      m->args[a] = &g->hbufs[kernel->args[a]];
    halide_error_text[0] = 0;
    double start = g->profile ? now_seconds() : 0.0;
    int result = kernel->fn(m->args);
    if (g->profile)
      g->profile[k] += now_seconds() - start;
    if (result != 0)
      return fail(m, CNNC_ERROR_KERNEL,
                  "kernel '%s' failed (Halide error %d): %s", kernel->name,
                  result, halide_error_text);
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
        status = fail(m, CNNC_ERROR_KERNEL, "copying %s from the GPU failed",
                      m->model->name);
    halide_device_free(NULL, h);
  }
  return status;
}

/* Runs an inference-style graph (outputs go to the caller's buffers). */
static int run_to_outputs(cnnc_model *m, graph_state *g, int64_t batch,
                          const void *const *inputs, const size_t *input_bytes,
                          void *const *outputs, const size_t *output_bytes) {
  const cnnc_rt_graph *graph = g->graph;
  if (batch < 1 || batch > INT32_MAX)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                "batch must be in [1, 2^31), got %lld", (long long)batch);
  int status = check_io(m, "input", graph->num_inputs, graph->inputs, inputs,
                        input_bytes, batch);
  if (status == CNNC_OK)
    status = check_io(m, "output", graph->num_outputs, graph->outputs,
                      (const void *const *)outputs, output_bytes, batch);
  if (status == CNNC_OK)
    status = run_graph(m, g, batch, inputs, outputs);
  if (status != CNNC_OK)
    return status;
  /* Outputs not written in place by a kernel (aliases, inputs, weights). */
  for (int32_t o = 0; o < graph->num_outputs; ++o) {
    int32_t b = graph->output_buffers[o];
    if (graph->buffers[b].kind == CNNC_RT_OUTPUT && graph->buffers[b].ref == o)
      continue;
    const unsigned char *src = host_of(m, g, b, inputs, outputs, 0);
    if (src && src != outputs[o])
      memmove(outputs[o], src, output_bytes[o]);
  }
  return CNNC_OK;
}

/* Element `co * per + j` of a [cout][cin][kh][kw] weight in the packed
 * [cout / lanes][cin][kh][kw][lanes] layout. */
static int64_t packed_index(const cnnc_rt_pack *k, int64_t co, int64_t j) {
  int64_t per = k->cin * k->kh * k->kw;
  return ((co / k->lanes) * per + j) * k->lanes + co % k->lanes;
}

/* The pack that stores the parameter at `data` (in the instance's weights)
 * only packed, or NULL. */
static const cnnc_rt_pack *packed_only(const cnnc_model *m, const float *data) {
  const cnnc_rt_model *model = m->model;
  uint64_t offset = (uint64_t)((const unsigned char *)data - m->params);
  for (int32_t i = 0; i < model->num_packs; ++i)
    if (model->packs[i].src_offset == offset &&
        model->packs[i].dst_offset == offset)
      return &model->packs[i];
  return NULL;
}

/* Copies a weight between the plain and the packed layout. */
static void convert_pack(const cnnc_rt_pack *k, const float *from, float *to,
                         int to_packed) {
  int64_t per = k->cin * k->kh * k->kw;
  for (int64_t co = 0; co < k->cout; ++co)
    for (int64_t j = 0; j < per; ++j) {
      if (to_packed)
        to[packed_index(k, co, j)] = from[co * per + j];
      else
        to[co * per + j] = from[packed_index(k, co, j)];
    }
}

/* Packs the weights of channel-vectorized convolutions again. */
static void repack(cnnc_model *m) {
  const cnnc_rt_model *model = m->model;
  for (int32_t i = 0; i < model->num_packs; ++i) {
    const cnnc_rt_pack *k = &model->packs[i];
    if (k->src_offset == k->dst_offset)
      continue; /* stored only packed: set_param packs it */
    convert_pack(k, (const float *)(m->params + k->src_offset),
                 (float *)(m->params + k->dst_offset), /*to_packed=*/1);
  }
  m->packs_stale = 0;
}

int cnnc_rt_run(cnnc_model *m, int64_t batch, const void *const *inputs,
                const size_t *input_bytes, void *const *outputs,
                const size_t *output_bytes) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  m->error[0] = 0;
  if (m->packs_stale)
    repack(m);
  return run_to_outputs(m, &m->inference, batch, inputs, input_bytes, outputs,
                        output_bytes);
}

/*===----------------------------------------------------------------------===*
 * Parameters
 *===----------------------------------------------------------------------===*/

int cnnc_rt_param_info(const cnnc_rt_model *model, int32_t index,
                       cnnc_param_info *out) {
  if (!model || !out || index < 0 || index >= model->num_params)
    return CNNC_ERROR_INVALID_ARGUMENT;
  *out = model->params[index].info;
  return CNNC_OK;
}

static size_t param_bytes(const cnnc_rt_model *model, int32_t index) {
  const cnnc_rt_buffer *b =
      &model->inference.buffers[model->params[index].buffer];
  return (size_t)num_elements(b, 1) * sizeof(float);
}

static float *param_values(cnnc_model *m, int32_t index) {
  const cnnc_rt_model *model = m->model;
  return (
      float *)(m->params +
               model->inference.buffers[model->params[index].buffer].offset);
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
  size_t expected = param_bytes(model, index);
  if (bytes != expected) {
    *status = fail(m, CNNC_ERROR_SHAPE,
                   "parameter '%s' has %zu bytes, the caller gave %zu",
                   model->params[index].info.name, expected, bytes);
    return NULL;
  }
  *status = CNNC_OK;
  return param_values(m, index);
}

int cnnc_rt_get_param(cnnc_model *m, int32_t index, float *out, size_t bytes) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  if (!out)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT, "null output buffer");
  int status;
  float *data = param_data(m, index, bytes, &status);
  const cnnc_rt_pack *k = data ? packed_only(m, data) : NULL;
  if (k)
    convert_pack(k, data, out, /*to_packed=*/0);
  else if (data)
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
  const cnnc_rt_pack *k = data ? packed_only(m, data) : NULL;
  if (k)
    convert_pack(k, values, data, /*to_packed=*/1);
  else if (data)
    memcpy(data, values, bytes);
  m->phase = -1; /* a phase that folded this parameter may be stale now */
  m->packs_stale = 1;
  return status;
}

/*===----------------------------------------------------------------------===*
 * Training
 *===----------------------------------------------------------------------===*/

static int has_training(cnnc_model *m) {
  if (m->model->num_phases > 0)
    return 1;
  fail(m, CNNC_ERROR_UNSUPPORTED, "%s was compiled without --train",
       m->model->name);
  return 0;
}

int cnnc_rt_train_configure(cnnc_model *m, const cnnc_train_config *config) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  if (!has_training(m))
    return CNNC_ERROR_UNSUPPORTED;
  if (!config)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT, "null training config");
  if (config->optimizer < CNNC_OPTIMIZER_SGD ||
      config->optimizer > CNNC_OPTIMIZER_ADAMW)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT, "unknown optimizer %d",
                (int)config->optimizer);
  if (!(config->lr >= 0) || !(config->momentum >= 0) ||
      !(config->weight_decay >= 0) ||
      (config->optimizer != CNNC_OPTIMIZER_SGD &&
       (!(config->beta1 >= 0 && config->beta1 < 1) ||
        !(config->beta2 >= 0 && config->beta2 < 1) || !(config->eps > 0))))
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                "invalid optimizer settings (lr %g, momentum %g, weight decay "
                "%g, betas %g/%g, eps %g)",
                config->lr, config->momentum, config->weight_decay,
                config->beta1, config->beta2, config->eps);
  if (config->nesterov &&
      (config->optimizer != CNNC_OPTIMIZER_SGD || config->momentum <= 0))
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                "Nesterov momentum needs SGD with momentum > 0");
  free_optimizer(m);
  m->configured = 0;
  /* All optimizer state up front, so a step cannot fail half-way. */
  int needs_first =
      config->optimizer != CNNC_OPTIMIZER_SGD || config->momentum > 0;
  int needs_second = config->optimizer != CNNC_OPTIMIZER_SGD;
  for (int32_t p = 0; p < m->model->num_params; ++p) {
    param_state *s = &m->pstate[p];
    s->lr = config->lr;
    s->step = 0;
    if (!m->model->params[p].info.trainable)
      continue;
    size_t bytes = param_bytes(m->model, p);
    if (needs_first && !(s->momentum = aligned_alloc_zero(bytes)))
      return fail(m, CNNC_ERROR_OUT_OF_MEMORY, "no memory for the optimizer");
    if (needs_second && !(s->second = aligned_alloc_zero(bytes)))
      return fail(m, CNNC_ERROR_OUT_OF_MEMORY, "no memory for the optimizer");
  }
  m->config = *config;
  m->step = 0;
  m->configured = 1;
  if (m->model->rng_offset >= 0) {
    int64_t *rng = (int64_t *)(m->params + m->model->rng_offset);
    rng[0] = (int64_t)config->seed;
    rng[1] = 0;
  }
  return CNNC_OK;
}

/* Does parameter `info` belong to `group` (a group name or a name prefix;
 * NULL or "" matches all)? */
static int in_group(const cnnc_param_info *info, const char *group) {
  return !group || !group[0] || strcmp(info->group, group) == 0 ||
         strncmp(info->name, group, strlen(group)) == 0;
}

int cnnc_rt_set_learning_rate(cnnc_model *m, const char *group, float lr) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  if (!m->configured)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                "call train_configure before set_learning_rate");
  if (!(lr >= 0))
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT, "learning rate %g < 0", lr);
  int matched = 0;
  for (int32_t p = 0; p < m->model->num_params; ++p) {
    if (in_group(&m->model->params[p].info, group)) {
      m->pstate[p].lr = lr;
      ++matched;
    }
  }
  if (!matched)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                "no parameter group or name prefix '%s'", group);
  return CNNC_OK;
}

int cnnc_rt_set_trainable(cnnc_model *m, const char *group, int32_t trainable) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  if (!has_training(m))
    return CNNC_ERROR_UNSUPPORTED;
  int matched = 0;
  for (int32_t p = 0; p < m->model->num_params; ++p) {
    const cnnc_param_info *info = &m->model->params[p].info;
    if (!in_group(info, group))
      continue;
    ++matched;
    if (trainable && !info->trainable && !info->is_buffer)
      return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                  "parameter '%s' was frozen at compile time (its layers are "
                  "folded into constants); compile without --freeze for it, "
                  "or with --unfreeze-at EPOCH:%s",
                  info->name, group && *group ? group : info->name);
  }
  if (!matched)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                "no parameter group or name prefix '%s'", group);
  for (int32_t p = 0; p < m->model->num_params; ++p)
    if (in_group(&m->model->params[p].info, group))
      m->pstate[p].frozen = !trainable;
  m->phase = -1;
  return CNNC_OK;
}

static int in_list(int32_t value, const int32_t *list, int32_t n) {
  for (int32_t i = 0; i < n; ++i)
    if (list[i] == value)
      return 1;
  return 0;
}

/* Do the parameters that phase `ph` folded into constants still hold the
 * values it was compiled with? */
static int baked_values_hold(cnnc_model *m, const cnnc_rt_phase *ph) {
  const cnnc_rt_model *model = m->model;
  for (int32_t i = 0; i < ph->num_baked; ++i) {
    int32_t p = ph->baked_params[i];
    uint64_t offset = model->inference.buffers[model->params[p].buffer].offset;
    if (memcmp(m->params + offset, model->weights + offset,
               param_bytes(model, p)) != 0)
      return 0;
  }
  return 1;
}

/* The phase that computes the fewest gradients while covering every
 * parameter that trains now (and whose folded constants are current). */
static int choose_phase(cnnc_model *m) {
  if (m->phase >= 0)
    return CNNC_OK;
  const cnnc_rt_model *model = m->model;
  const cnnc_rt_phase *full = &model->phases[model->num_phases - 1];
  int32_t best = -1;
  const char *uncovered = NULL;
  for (int32_t i = 0; i < model->num_phases; ++i) {
    const cnnc_rt_phase *ph = &model->phases[i];
    int covers = 1;
    for (int32_t k = 0; k < full->num_grads && covers; ++k) {
      int32_t p = full->grad_params[k];
      if (!m->pstate[p].frozen && !in_list(p, ph->grad_params, ph->num_grads)) {
        covers = 0;
        uncovered = model->params[p].info.name;
      }
    }
    if (covers && (best < 0 || ph->num_grads < model->phases[best].num_grads) &&
        baked_values_hold(m, ph))
      best = i;
  }
  if (best < 0)
    return fail(m, CNNC_ERROR_UNSUPPORTED, "no training graph trains '%s'",
                uncovered ? uncovered : "?");
  m->phase = best;
  return CNNC_OK;
}

/* A 1-D Halide buffer over `n` floats at `data`. */
static void flat_buffer(halide_buffer_t *b, halide_dimension_t *d,
                        const float *data, size_t n) {
  memset(b, 0, sizeof *b);
  memset(d, 0, sizeof *d);
  b->host = (uint8_t *)data;
  b->type.code = halide_type_float;
  b->type.bits = 32;
  b->type.lanes = 1;
  b->dimensions = 1;
  b->dim = d;
  d->extent = (int32_t)n;
  d->stride = 1;
}

/* One optimizer step for parameter p: PyTorch's update formulas, as Halide
 * kernels (lib/Codegen/Optimizers.cpp) that update the weights and moments
 * in place. */
static int update_param(cnnc_model *m, int32_t p, const float *grad) {
  const cnnc_train_config *c = &m->config;
  const cnnc_rt_model *model = m->model;
  param_state *s = &m->pstate[p];
  float *w = param_values(m, p);
  size_t n = param_bytes(model, p) / sizeof(float);
  if (n > INT32_MAX)
    return fail(m, CNNC_ERROR_UNSUPPORTED,
                "parameter '%s' has more than 2^31 values",
                model->params[p].info.name);
  ++s->step;
  /* inputs: w g [m] [v]; outputs: the same storage */
  halide_buffer_t in[4], out[3];
  halide_dimension_t din[4], dout[3];
  float *state[2] = {s->momentum, s->second};
  flat_buffer(&in[0], &din[0], w, n);
  flat_buffer(&in[1], &din[1], grad, n);
  flat_buffer(&out[0], &dout[0], w, n);
  for (int k = 0; k < 2; ++k)
    if (state[k]) {
      flat_buffer(&in[2 + k], &din[2 + k], state[k], n);
      flat_buffer(&out[1 + k], &dout[1 + k], state[k], n);
    }
  /* The scalars' addresses go into args: all of them live until the call. */
  float lr = s->lr, wd = c->weight_decay, momentum = c->momentum;
  float beta1 = c->beta1, beta2 = c->beta2, eps = c->eps;
  double t = (double)s->step;
  float bc1 = (float)(1.0 - pow(c->beta1, t));
  float bc2 = (float)(1.0 - pow(c->beta2, t));
  float step_size = lr / bc1, sqrt_bc2 = sqrtf(bc2);
  int32_t nesterov = c->nesterov, first = s->step == 1;
  int32_t decoupled = c->optimizer == CNNC_OPTIMIZER_ADAMW;
  /* Arguments at rt_executor.h's positions, the outputs after the inputs. */
  cnnc_rt_optimizer_kernel kernel;
  void *args[CNNC_RT_ADAM_NUM_INPUTS + 3];
  if (c->optimizer == CNNC_OPTIMIZER_SGD && !(momentum > 0)) {
    kernel = CNNC_RT_OPT_SGD;
    args[CNNC_RT_SGD_W] = &in[0];
    args[CNNC_RT_SGD_G] = &in[1];
    args[CNNC_RT_SGD_LR] = &lr;
    args[CNNC_RT_SGD_WD] = &wd;
    args[CNNC_RT_SGD_NUM_INPUTS] = &out[0];
  } else if (c->optimizer == CNNC_OPTIMIZER_SGD) {
    kernel = CNNC_RT_OPT_SGD_MOMENTUM;
    args[CNNC_RT_SGDM_W] = &in[0];
    args[CNNC_RT_SGDM_G] = &in[1];
    args[CNNC_RT_SGDM_M] = &in[2];
    args[CNNC_RT_SGDM_LR] = &lr;
    args[CNNC_RT_SGDM_WD] = &wd;
    args[CNNC_RT_SGDM_MOMENTUM] = &momentum;
    args[CNNC_RT_SGDM_NESTEROV] = &nesterov;
    args[CNNC_RT_SGDM_FIRST] = &first;
    args[CNNC_RT_SGDM_NUM_INPUTS] = &out[0];
    args[CNNC_RT_SGDM_NUM_INPUTS + 1] = &out[1];
  } else {
    kernel = CNNC_RT_OPT_ADAM;
    args[CNNC_RT_ADAM_W] = &in[0];
    args[CNNC_RT_ADAM_G] = &in[1];
    args[CNNC_RT_ADAM_M] = &in[2];
    args[CNNC_RT_ADAM_V] = &in[3];
    args[CNNC_RT_ADAM_LR] = &lr;
    args[CNNC_RT_ADAM_WD] = &wd;
    args[CNNC_RT_ADAM_BETA1] = &beta1;
    args[CNNC_RT_ADAM_BETA2] = &beta2;
    args[CNNC_RT_ADAM_EPS] = &eps;
    args[CNNC_RT_ADAM_STEP_SIZE] = &step_size;
    args[CNNC_RT_ADAM_SQRT_BC2] = &sqrt_bc2;
    args[CNNC_RT_ADAM_DECOUPLED] = &decoupled;
    args[CNNC_RT_ADAM_NUM_INPUTS] = &out[0];
    args[CNNC_RT_ADAM_NUM_INPUTS + 1] = &out[1];
    args[CNNC_RT_ADAM_NUM_INPUTS + 2] = &out[2];
  }
  cnnc_rt_kernel_fn fn = model->optimizer_kernels[kernel];
  if (!fn)
    return fail(m, CNNC_ERROR_UNSUPPORTED,
                "%s has no optimizer kernels (rebuild it with cnnc --train)",
                model->name);
  halide_set_num_threads(m->threads);
  cnnc_pool_configure(m->threads);
  halide_error_text[0] = 0;
  int result = fn(args);
  if (result != 0)
    return fail(m, CNNC_ERROR_KERNEL,
                "the optimizer update of '%s' failed (Halide error %d): %s",
                model->params[p].info.name, result, halide_error_text);
  return CNNC_OK;
}

/* Are all n values finite? (x - x is NaN exactly for NaN and +-Inf; the sum
 * vectorizes.) */
static int all_finite(const float *v, size_t n) {
  float acc = 0.0f;
  for (size_t i = 0; i < n; ++i)
    acc += v[i] - v[i];
  return acc == 0.0f;
}

/* Checks that a train step may run; chooses the phase. */
static int begin_step(cnnc_model *m, int64_t batch) {
  m->error[0] = 0;
  if (!has_training(m))
    return CNNC_ERROR_UNSUPPORTED;
  if (!m->configured)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                "call train_configure before train_step");
  if (batch < 1 || batch > INT32_MAX)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                "batch must be in [1, 2^31), got %lld", (long long)batch);
  return choose_phase(m);
}

/* Does a step update parameter p from its gradient? */
static int applies_gradient(const cnnc_model *m, int32_t p) {
  return m->model->params[p].info.trainable && !m->pstate[p].frozen;
}

/* CNNC_ERROR_NUMERIC unless output `out` of the step (the `what` of
 * parameter p) is finite. */
static int check_finite(cnnc_model *m, graph_state *g,
                        const void *const *all_inputs, int32_t p, int32_t out,
                        const char *what) {
  const float *v = (const float *)host_of(m, g, g->graph->output_buffers[out],
                                          all_inputs, NULL, 0);
  if (all_finite(v, param_bytes(m->model, p) / sizeof(float)))
    return CNNC_OK;
  return fail(m, CNNC_ERROR_NUMERIC,
              "the %s of '%s' is not finite at step %lld; the parameters "
              "keep the values of the last good step",
              what, m->model->params[p].info.name, (long long)m->step + 1);
}

/* Runs a training graph (step or head) of the current phase on
 * `all_inputs` (the last is the labels) and applies the optimizer. */
static int train_on(cnnc_model *m, graph_state *g, int64_t batch,
                    const void *const *all_inputs, const size_t *all_bytes,
                    float *loss) {
  const cnnc_rt_model *model = m->model;
  const cnnc_rt_phase *ph = &model->phases[m->phase];
  const cnnc_rt_graph *graph = g->graph;
  int32_t n_in = graph->num_inputs;
  int status = check_io(m, "training input", n_in, graph->inputs, all_inputs,
                        all_bytes, batch);
  if (status != CNNC_OK)
    return status;
  const cnnc_tensor_info *label_info = &graph->inputs[n_in - 1];
  if (label_info->dtype == CNNC_DTYPE_I64) {
    const cnnc_tensor_info *out = &model->inference.outputs[0];
    int64_t classes = out->rank >= 2 ? out->dims[out->rank - 1] : 0;
    const int64_t *l = (const int64_t *)all_inputs[n_in - 1];
    for (int64_t i = 0; i < batch; ++i)
      if (l[i] < 0 || l[i] >= classes)
        return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                    "label %lld of sample %lld is outside [0, %lld)",
                    (long long)l[i], (long long)i, (long long)classes);
  }
  if (model->rng_offset >= 0) /* a new dropout mask every step */
    ((int64_t *)(m->params + model->rng_offset))[1] = m->step + 1;
  status = run_graph(m, g, batch, all_inputs, NULL);
  if (status != CNNC_OK)
    return status;
  const float *loss_value = (const float *)host_of(
      m, g, graph->output_buffers[0], all_inputs, NULL, 0);
  if (loss)
    *loss = *loss_value;
  if (!isfinite(*loss_value))
    return fail(m, CNNC_ERROR_NUMERIC,
                "the loss is %s at step %lld; the parameters keep the values "
                "of the last good step",
                isnan(*loss_value) ? "NaN" : "infinite",
                (long long)m->step + 1);
  /* A finite loss can hide a non-finite gradient (an overflow that a ReLU
   * or a max pooling drops in the forward pass): check every value that is
   * about to be written, so that no step leaves a NaN or an Inf behind. */
  for (int32_t k = 0; k < ph->num_grads; ++k)
    if (applies_gradient(m, ph->grad_params[k]) &&
        (status = check_finite(m, g, all_inputs, ph->grad_params[k], k + 1,
                               "gradient")) != CNNC_OK)
      return status;
  for (int32_t u = 0; u < ph->num_updates; ++u)
    if (!m->pstate[ph->update_params[u]].frozen &&
        (status = check_finite(m, g, all_inputs, ph->update_params[u],
                               ph->update_outputs[u], "new value")) != CNNC_OK)
      return status;
  ++m->step;
  m->packs_stale = 1;
  for (int32_t k = 0; k < ph->num_grads; ++k) {
    int32_t p = ph->grad_params[k];
    if (!applies_gradient(m, p))
      continue;
    const float *grad = (const float *)host_of(
        m, g, graph->output_buffers[k + 1], all_inputs, NULL, 0);
    if ((status = update_param(m, p, grad)) != CNNC_OK)
      return status;
  }
  for (int32_t u = 0; u < ph->num_updates; ++u) {
    int32_t p = ph->update_params[u];
    if (m->pstate[p].frozen)
      continue;
    const float *value = (const float *)host_of(
        m, g, graph->output_buffers[ph->update_outputs[u]], all_inputs, NULL,
        0);
    memcpy(param_values(m, p), value, param_bytes(model, p));
  }
  return CNNC_OK;
}

int cnnc_rt_train_step(cnnc_model *m, int64_t batch, const void *const *inputs,
                       const size_t *input_bytes, const void *labels,
                       size_t label_bytes, float *loss) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  int status = begin_step(m, batch);
  if (status != CNNC_OK)
    return status;
  graph_state *g = &m->phase_states[3 * m->phase];
  int32_t n_in = g->graph->num_inputs; /* model inputs + labels */
  const void *all_inputs[CNNC_MAX_RANK + 9];
  size_t all_bytes[CNNC_MAX_RANK + 9];
  if (n_in < 1 || n_in > CNNC_MAX_RANK + 8)
    return fail(m, CNNC_ERROR_UNSUPPORTED, "too many inputs");
  if (n_in > 1 && (!inputs || !input_bytes))
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT, "null inputs");
  for (int32_t i = 0; i + 1 < n_in; ++i) {
    all_inputs[i] = inputs[i];
    all_bytes[i] = input_bytes[i];
  }
  all_inputs[n_in - 1] = labels;
  all_bytes[n_in - 1] = label_bytes;
  return train_on(m, g, batch, all_inputs, all_bytes, loss);
}

/*===-- Feature cache -----------------------------------------------------===*/

/* The current phase, if it can cache the frozen prefix's features. */
static const cnnc_rt_phase *cache_phase(cnnc_model *m) {
  if (!has_training(m))
    return NULL;
  if (choose_phase(m) != CNNC_OK)
    return NULL;
  const cnnc_rt_phase *ph = &m->model->phases[m->phase];
  if (!ph->features || !ph->head) {
    fail(m, CNNC_ERROR_UNSUPPORTED, "no feature cache for %s: %s",
         m->model->name,
         ph->no_cache_reason ? ph->no_cache_reason : "no frozen prefix");
    return NULL;
  }
  return ph;
}

int cnnc_rt_feature_info(cnnc_model *m, cnnc_tensor_info *out) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  m->error[0] = 0;
  if (!out)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT, "null output");
  const cnnc_rt_phase *ph = cache_phase(m);
  if (!ph)
    return CNNC_ERROR_UNSUPPORTED;
  *out = ph->features->outputs[0];
  return CNNC_OK;
}

int cnnc_rt_compute_features(cnnc_model *m, int64_t batch,
                             const void *const *inputs,
                             const size_t *input_bytes, void *features,
                             size_t feature_bytes) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  m->error[0] = 0;
  if (!cache_phase(m))
    return CNNC_ERROR_UNSUPPORTED;
  void *outputs[1] = {features};
  size_t output_bytes[1] = {feature_bytes};
  return run_to_outputs(m, &m->phase_states[3 * m->phase + 1], batch, inputs,
                        input_bytes, outputs, output_bytes);
}

int cnnc_rt_train_step_features(cnnc_model *m, int64_t batch,
                                const void *features, size_t feature_bytes,
                                const void *labels, size_t label_bytes,
                                float *loss) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  int status = begin_step(m, batch);
  if (status != CNNC_OK)
    return status;
  if (!cache_phase(m))
    return CNNC_ERROR_UNSUPPORTED;
  const void *all_inputs[2] = {features, labels};
  size_t all_bytes[2] = {feature_bytes, label_bytes};
  return train_on(m, &m->phase_states[3 * m->phase + 2], batch, all_inputs,
                  all_bytes, loss);
}

/*===-- Training state ----------------------------------------------------===*
 *
 * "CNNCSTAT", u32 version, then little-endian fields as written below. */

#define STATE_MAGIC "CNNCSTAT"
/* Version 2 ends with a CRC-32 of every byte before it, so a damaged state
 * (a flipped bit in a weight) is refused instead of loaded. */
#define STATE_VERSION 2u

/* zlib's CRC-32 (reflected polynomial 0xEDB88320). Written here because the
 * code inside a model library links nothing but libc. */
static uint32_t state_crc32(const unsigned char *p, size_t n) {
  uint32_t table[256];
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    table[i] = c;
  }
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i)
    crc = table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

typedef struct state_io {
  unsigned char *out; /* NULL: only count */
  const unsigned char *in;
  size_t pos, size;
  int bad;
} state_io;

static void put(state_io *io, const void *data, size_t n) {
  if (io->out)
    memcpy(io->out + io->pos, data, n);
  io->pos += n;
}

static int get(state_io *io, void *data, size_t n) {
  if (io->bad || n > io->size - io->pos) {
    io->bad = 1;
    return 0;
  }
  if (data)
    memcpy(data, io->in + io->pos, n);
  io->pos += n;
  return 1;
}

static void put_u32(state_io *io, uint32_t v) { put(io, &v, 4); }
static void put_i64(state_io *io, int64_t v) { put(io, &v, 8); }
static void put_str(state_io *io, const char *s) {
  uint32_t n = (uint32_t)strlen(s);
  put_u32(io, n);
  put(io, s, n);
}

static void write_state(cnnc_model *m, state_io *io) {
  const cnnc_rt_model *model = m->model;
  put(io, STATE_MAGIC, 8);
  put_u32(io, STATE_VERSION);
  put_str(io, model->name);
  put_u32(io, (uint32_t)model->num_params);
  put_u32(io, (uint32_t)m->configured);
  put(io, &m->config, sizeof m->config);
  put_i64(io, m->step);
  int64_t rng[2] = {0, 0};
  if (model->rng_offset >= 0)
    memcpy(rng, m->params + model->rng_offset, sizeof rng);
  put(io, rng, sizeof rng);
  for (int32_t p = 0; p < model->num_params; ++p) {
    const param_state *s = &m->pstate[p];
    size_t bytes = param_bytes(model, p);
    put_str(io, model->params[p].info.name);
    put_i64(io, (int64_t)bytes);
    put_u32(io, (uint32_t)s->frozen);
    put(io, &s->lr, sizeof s->lr);
    put_i64(io, s->step);
    put_u32(io, (s->momentum ? 1u : 0u) | (s->second ? 2u : 0u));
    put(io, param_values(m, p), bytes);
    if (s->momentum)
      put(io, s->momentum, bytes);
    if (s->second)
      put(io, s->second, bytes);
  }
  uint32_t crc = io->out ? state_crc32(io->out, io->pos) : 0;
  put_u32(io, crc);
}

int cnnc_rt_save_state(cnnc_model *m, void *data, size_t *bytes) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  m->error[0] = 0;
  if (!bytes)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT, "null size pointer");
  /* As load_state: a training state needs a training library (whose
   * parameters are stored in their plain layout). */
  if (!has_training(m))
    return CNNC_ERROR_UNSUPPORTED;
  state_io io = {0};
  write_state(m, &io);
  if (!data) {
    *bytes = io.pos;
    return CNNC_OK;
  }
  if (*bytes < io.pos)
    return fail(m, CNNC_ERROR_SHAPE,
                "the training state needs %zu bytes, the caller gave %zu",
                io.pos, *bytes);
  state_io w = {0};
  w.out = data;
  write_state(m, &w);
  *bytes = w.pos;
  return CNNC_OK;
}

/* Reads a state; with apply == 0 only checks it. */
static int read_state(cnnc_model *m, const unsigned char *data, size_t size,
                      int apply) {
  const cnnc_rt_model *model = m->model;
  state_io io = {0};
  io.in = data;
  io.size = size;
  char magic[8];
  uint32_t version = 0, n = 0, configured = 0;
  if (!get(&io, magic, 8) || memcmp(magic, STATE_MAGIC, 8) != 0)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                "not a cnnc training state (bad magic)");
  get(&io, &version, 4);
  if (io.bad || version != STATE_VERSION)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                "training state version %u, this library reads version %u",
                version, STATE_VERSION);
  /* The checksum covers everything before it; checked once, before any
   * field is trusted. */
  if (size < io.pos + 4)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                "truncated training state (no checksum)");
  size -= 4;
  io.size = size;
  if (!apply) {
    uint32_t stored;
    memcpy(&stored, data + size, 4);
    if (state_crc32(data, size) != stored)
      return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                  "the training state is damaged (checksum mismatch)");
  }
  char name[256];
  if (!get(&io, &n, 4) || n >= sizeof name || !get(&io, name, n))
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                "truncated training state (model name)");
  name[n] = 0;
  if (strcmp(name, model->name) != 0)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                "the training state is of model '%s', not '%s'", name,
                model->name);
  if (!get(&io, &n, 4) || n != (uint32_t)model->num_params)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                "the training state has %u parameters, %s has %d", n,
                model->name, (int)model->num_params);
  cnnc_train_config config;
  int64_t step = 0, rng[2];
  get(&io, &configured, 4);
  get(&io, &config, sizeof config);
  get(&io, &step, 8);
  get(&io, rng, sizeof rng);
  if (io.bad)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT, "truncated training state");
  if (!configured)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                "the training state was saved before train_configure");
  if (apply) {
    int status = cnnc_rt_train_configure(m, &config);
    if (status != CNNC_OK)
      return status;
    m->step = step;
    if (model->rng_offset >= 0)
      memcpy(m->params + model->rng_offset, rng, sizeof rng);
  } else if (step < 0) {
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT, "bad step count %lld",
                (long long)step);
  }
  for (int32_t p = 0; p < model->num_params; ++p) {
    param_state *s = &m->pstate[p];
    const char *pname = model->params[p].info.name;
    uint32_t frozen = 0, flags = 0;
    int64_t bytes = 0, pstep = 0;
    float lr = 0;
    if (!get(&io, &n, 4))
      return fail(m, CNNC_ERROR_INVALID_ARGUMENT, "truncated training state");
    if (io.pos + n > size || strlen(pname) != n ||
        memcmp(io.in + io.pos, pname, n) != 0)
      return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                  "parameter %d of the training state is not '%s'", (int)p,
                  pname);
    get(&io, NULL, n);
    get(&io, &bytes, 8);
    get(&io, &frozen, 4);
    get(&io, &lr, 4);
    get(&io, &pstep, 8);
    get(&io, &flags, 4);
    if (io.bad)
      return fail(m, CNNC_ERROR_INVALID_ARGUMENT, "truncated training state");
    if (bytes != (int64_t)param_bytes(model, p))
      return fail(m, CNNC_ERROR_SHAPE,
                  "parameter '%s' has %lld bytes in the training state, %zu "
                  "in the model",
                  pname, (long long)bytes, param_bytes(model, p));
    int trainable = model->params[p].info.trainable;
    uint32_t expected =
        trainable
            ? (config.optimizer != CNNC_OPTIMIZER_SGD || config.momentum > 0
                   ? 1u
                   : 0u) |
                  (config.optimizer != CNNC_OPTIMIZER_SGD ? 2u : 0u)
            : 0u;
    if (!(lr >= 0) || pstep < 0 || frozen > 1u || flags != expected)
      return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                  "bad optimizer state of parameter '%s'", pname);
    int has_first = (flags & 1u) != 0, has_second = (flags & 2u) != 0;
    if (apply) {
      s->frozen = (int32_t)frozen;
      s->lr = lr;
      s->step = pstep;
      get(&io, param_values(m, p), (size_t)bytes);
      if (has_first)
        get(&io, s->momentum, (size_t)bytes);
      if (has_second)
        get(&io, s->second, (size_t)bytes);
    } else {
      get(&io, NULL, (size_t)bytes * (size_t)(1 + has_first + has_second));
      if (io.bad)
        return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                    "truncated training state (values of '%s')", pname);
    }
  }
  if (io.pos != size)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                "%zu unexpected bytes after the training state", size - io.pos);
  if (apply) {
    m->phase = -1;
    m->packs_stale = 1;
  }
  return CNNC_OK;
}

int cnnc_rt_load_state(cnnc_model *m, const void *data, size_t bytes) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  m->error[0] = 0;
  if (!data)
    return fail(m, CNNC_ERROR_INVALID_ARGUMENT, "null training state");
  if (!has_training(m))
    return CNNC_ERROR_UNSUPPORTED;
  int status = read_state(m, data, bytes, /*apply=*/0);
  if (status == CNNC_OK)
    status = read_state(m, data, bytes, /*apply=*/1);
  return status;
}
