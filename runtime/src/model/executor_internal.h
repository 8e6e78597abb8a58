/*===- executor_internal.h - what the executor's files share -------------===*
 *
 * The executor linked into every model library is split by concern:
 *   executor.c  instances, errors, graphs: the arena, Halide's buffer
 *               descriptors, running a graph, inference
 *   params.c    parameters (get/set; weights stored in other layouts)
 *   train.c     training steps, optimizers, phases, run-time freezing
 *   features.c  the feature cache of a frozen prefix
 *   state.c     save_state / load_state
 * Everything here is hidden in the model library (-fvisibility=hidden) and
 * prefixed cnnc_rt_, so a static model library (-o model.a) does not
 * collide with an application's symbols.
 *
 *===----------------------------------------------------------------------===*/
#ifndef CNNC_RT_EXECUTOR_INTERNAL_H
#define CNNC_RT_EXECUTOR_INTERNAL_H

#include "cnnc/rt_executor.h"

#include <HalideRuntime.h>

#include <stddef.h>
#include <stdint.h>

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
  /* Per output: the last kernel that writes it (-1: none does), for the
   * gradient hook. */
  int32_t *output_writer;
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
  graph_state layouts, relayout; /* cnnc_rt_model's layout graphs */
  /* per phase: its step, features and head graphs */
  graph_state *phase_states;
  int32_t phase;     /* the phase train steps use, -1 until chosen */
  int layouts_stale; /* plain weights changed since `relayout` last ran */
  void **args;
  int32_t threads;
  /* training */
  int configured;
  cnnc_train_config config;
  int64_t step;
  param_state *pstate;
  /* ABI 4: the tensors of the last train_backward that ran its graph to
   * the end, which train_gradients lists (num_tensors -1: none), and
   * whether train_apply may apply them (a finite loss), in its phase. */
  int32_t num_tensors;
  cnnc_train_tensor *tensors;
  int pending;
  int32_t pending_phase;
  cnnc_gradient_hook hook;
  void *hook_user;
  graph_state *hooked; /* the graph whose kernels call the hook now */
  cnnc_replica_reduce_fn replica_reduce; /* SyncBatchNorm (NULL: none) */
  void *replica_user;
  double *replica_buf;
  size_t replica_cap;
  char error[1024];
};

/* The message of the Halide error being reported on this thread. */
extern _Thread_local char cnnc_rt_halide_error_text[768];

void *cnnc_rt_aligned_alloc_zero(size_t bytes);
/* The kernels' halide_malloc and halide_free, which keep large blocks for
 * reuse (alloc.c), and the release of what they keep. */
void cnnc_rt_install_kernel_allocator(void);
void cnnc_rt_kernel_cache_flush(void);
int cnnc_rt_check_io(cnnc_model *m, const char *what, int32_t count,
                     const cnnc_tensor_info *infos, const void *const *ptrs,
                     const size_t *bytes, int64_t batch);
int cnnc_rt_fail(cnnc_model *m, int status, const char *fmt, ...);
void cnnc_rt_free_optimizer(cnnc_model *m);
unsigned char *cnnc_rt_host_of(cnnc_model *m, graph_state *g, int32_t b,
                               const void *const *inputs, void *const *outputs,
                               int depth);
int64_t cnnc_rt_num_elements(const cnnc_rt_buffer *b, int64_t batch);
int cnnc_rt_run_graph(cnnc_model *m, graph_state *g, int64_t batch,
                      const void *const *inputs, void *const *outputs);
int cnnc_rt_run_to_outputs(cnnc_model *m, graph_state *g, int64_t batch,
                           const void *const *inputs, const size_t *input_bytes,
                           void *const *outputs, const size_t *output_bytes);
size_t cnnc_rt_param_bytes(const cnnc_rt_model *model, int32_t index);
float *cnnc_rt_param_values(cnnc_model *m, int32_t index);
int cnnc_rt_init_graph(graph_state *g, const cnnc_rt_graph *graph,
                       int32_t *max_args);
void cnnc_rt_free_graph(graph_state *g);
/* Rewrites the weights kept in two layouts from their plain values. */
int cnnc_rt_relayout(cnnc_model *m);
/* A parameter's plain values, from its layout when stored only in one. */
int cnnc_rt_read_param(cnnc_model *m, int32_t index, float *out);
int cnnc_rt_write_param(cnnc_model *m, int32_t index, const float *values);
int cnnc_rt_begin_step(cnnc_model *m, int64_t batch);
int cnnc_rt_choose_phase(cnnc_model *m);
int cnnc_rt_has_training(cnnc_model *m);
int cnnc_rt_train_on(cnnc_model *m, graph_state *g, int64_t batch,
                     const void *const *all_inputs, const size_t *all_bytes,
                     float *loss);
/* Forgets the last train_backward's tensors and pending step. */
void cnnc_rt_drop_pending(cnnc_model *m);
/* The first half of cnnc_rt_train_on: runs the graph, keeps the step
 * pending for cnnc_rt_train_apply. */
int cnnc_rt_backward_on(cnnc_model *m, graph_state *g, int64_t batch,
                        const void *const *all_inputs, const size_t *all_bytes,
                        float *loss);
/* Runs a step the executor computes itself (cnnc_rt_host_step). */
int cnnc_rt_run_host_step(cnnc_model *m, graph_state *g,
                          const cnnc_rt_kernel *kernel);
/* Calls the gradient hook for the gradients that kernel k (-1: before the
 * first) finished; run_graph calls it for m->hooked. */
void cnnc_rt_gradients_ready(cnnc_model *m, graph_state *g, int32_t k,
                             const void *const *inputs);

#endif /* CNNC_RT_EXECUTOR_INTERNAL_H */
