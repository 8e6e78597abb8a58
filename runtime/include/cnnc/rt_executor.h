/*===- rt_executor.h - the executor linked into every model library ------===*
 *
 * The compiler emits, per model, static tables (buffers, kernels, inputs,
 * outputs, weights, parameters; a second graph for training) and thin
 * prefixed API functions that forward to the cnnc_rt_* functions below.
 * This code is compiled once into libcnnc_rt.a (hidden visibility) and
 * linked into each model.so, so the logic that checks sizes, allocates
 * intermediates, turns Halide errors into status codes and applies the
 * optimizers is written and tested once.
 *
 *===----------------------------------------------------------------------===*/
#ifndef CNNC_RT_EXECUTOR_H
#define CNNC_RT_EXECUTOR_H

#include "cnnc/model_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cnnc_rt_buffer_kind {
  CNNC_RT_INPUT = 0, /* a graph input: the caller's memory */
  CNNC_RT_OUTPUT =
      1,             /* written by a kernel straight into the caller's output */
  CNNC_RT_PARAM = 2, /* weights: the instance's copy of the embedded blob */
  CNNC_RT_TEMP = 3,  /* an intermediate, in the instance's arena */
  CNNC_RT_ALIAS = 4, /* same memory as buffer `ref`, another shape */
  /* Part of buffer `ref` (a TEMP, or an ALIAS of one), with `ref`'s
   * strides, from `offset` elements into each of its images: the interior
   * of an NCHW tensor with a zero border (the padding of the convolution
   * that reads `ref`; nothing writes the border), or a slice of its
   * channels (an input or the result of a concatenation that has no
   * kernel). */
  CNNC_RT_VIEW = 5,
  /* Read only: the library's embedded weights at byte `offset` (the plain
   * values of a weight the instance stores in another layout). */
  CNNC_RT_EMBEDDED = 6
} cnnc_rt_buffer_kind;

/* The optimizer updates (cnnc_rt_model.optimizer_kernels), Halide kernels
 * that lib/Codegen/Optimizers.cpp declares and the executor calls with
 * their arguments at these positions, the outputs (the updated w, then m
 * and v, in place) after the inputs. */
typedef enum cnnc_rt_optimizer_kernel {
  CNNC_RT_OPT_SGD = 0,
  CNNC_RT_OPT_SGD_MOMENTUM = 1,
  CNNC_RT_OPT_ADAM = 2, /* Adam and AdamW */
  CNNC_RT_NUM_OPTIMIZER_KERNELS = 3
} cnnc_rt_optimizer_kernel;

enum { /* SGD: w - lr * (g + wd * w) */
       CNNC_RT_SGD_W,
       CNNC_RT_SGD_G,
       CNNC_RT_SGD_LR,
       CNNC_RT_SGD_WD,
       CNNC_RT_SGD_NUM_INPUTS
};
enum { /* SGD with (Nesterov) momentum, as PyTorch's */
       CNNC_RT_SGDM_W,
       CNNC_RT_SGDM_G,
       CNNC_RT_SGDM_M,
       CNNC_RT_SGDM_LR,
       CNNC_RT_SGDM_WD,
       CNNC_RT_SGDM_MOMENTUM,
       CNNC_RT_SGDM_NESTEROV, /* int32 */
       CNNC_RT_SGDM_FIRST,    /* int32: the first step (m starts at g) */
       CNNC_RT_SGDM_NUM_INPUTS
};
enum { /* Adam (L2 weight decay) and AdamW (decoupled) */
       CNNC_RT_ADAM_W,
       CNNC_RT_ADAM_G,
       CNNC_RT_ADAM_M,
       CNNC_RT_ADAM_V,
       CNNC_RT_ADAM_LR,
       CNNC_RT_ADAM_WD,
       CNNC_RT_ADAM_BETA1,
       CNNC_RT_ADAM_BETA2,
       CNNC_RT_ADAM_EPS,
       CNNC_RT_ADAM_STEP_SIZE, /* lr / (1 - beta1^t) */
       CNNC_RT_ADAM_SQRT_BC2,  /* sqrt(1 - beta2^t) */
       CNNC_RT_ADAM_DECOUPLED, /* int32: AdamW */
       CNNC_RT_ADAM_NUM_INPUTS
};

typedef struct cnnc_rt_buffer {
  int32_t kind;
  int32_t rank;
  int64_t dims[CNNC_MAX_RANK]; /* row-major; dims[0] == -1: the batch */
  int32_t ref;                 /* INPUT/OUTPUT: index; ALIAS, VIEW: buffer id */
  uint64_t offset; /* PARAM: byte offset into the weights blob; VIEW: element
                      offset of the interior in a plane of `ref` */
  int32_t dtype;   /* cnnc_dtype */
} cnnc_rt_buffer;

/* A Halide pipeline compiled ahead of time: its `_argv` entry point. */
typedef int (*cnnc_rt_kernel_fn)(void **args);

/* Steps of a graph that the executor runs itself (fn == NULL): the
 * kinds of cnn.replica_reduce (args: the per-channel value, the
 * BatchNorm's input, the result), which combine BatchNorm statistics and
 * sums across data-parallel processes through the application's reduction
 * (set_replica_reduce), or copy them with one process. */
typedef enum cnnc_rt_host_step {
  CNNC_RT_HOST_NONE = 0, /* a Halide kernel */
  CNNC_RT_HOST_REPLICA_BATCH_STATS = 1,
  CNNC_RT_HOST_REPLICA_RUNNING_STATS = 2,
  CNNC_RT_HOST_REPLICA_SUM = 3
} cnnc_rt_host_step;

typedef struct cnnc_rt_kernel {
  const char *name; /* the layer(s) it computes, for errors and profiles */
  cnnc_rt_kernel_fn fn;
  int32_t num_args; /* buffers in the pipeline's argument order, output last */
  const int32_t *args;
  int32_t host; /* cnnc_rt_host_step (fn is NULL) */
} cnnc_rt_kernel;

typedef struct cnnc_rt_graph {
  int32_t num_buffers;
  const cnnc_rt_buffer *buffers;
  int32_t num_kernels;
  const cnnc_rt_kernel *kernels;
  int32_t num_inputs;
  const cnnc_tensor_info *inputs;
  const int32_t *input_buffers;
  int32_t num_outputs;
  const cnnc_tensor_info *outputs;
  const int32_t *output_buffers;
} cnnc_rt_graph;

typedef struct cnnc_rt_param {
  cnnc_param_info info;
  int32_t buffer; /* a PARAM buffer of the inference graph */
  /* A parameter stored only in the layout its convolution reads
   * (cnn.pack_weights): set_param runs `to_layout` (input 0: the plain
   * values), get_param `from_layout` (output 0: the plain values). NULL
   * for a parameter stored plain. */
  const struct cnnc_rt_graph *to_layout, *from_layout;
} cnnc_rt_param;

/* One training graph: a phase of the plan (the parameters it trains). */
typedef struct cnnc_rt_phase {
  int32_t first_epoch; /* the plan's epoch it starts at (0: no plan) */
  /* inputs are the model's inputs then the labels; output 0 is the loss,
   * output k + 1 the gradient of parameter grad_params[k], then output
   * update_outputs[u] the new value of parameter update_params[u]
   * (BatchNorm running statistics). */
  cnnc_rt_graph step;
  int32_t num_grads;
  const int32_t *grad_params;
  int32_t num_updates;
  const int32_t *update_params;
  const int32_t *update_outputs;
  /* Parameters this phase folded into constants at their compiled values:
   * once one of them holds other values (set_param, load_state), the phase
   * is not used. */
  int32_t num_baked;
  const int32_t *baked_params;
  /* Feature cache (NULL: not possible): `features` maps the inputs to the
   * frozen prefix's output; `head` takes it and the labels and has the
   * outputs of `step`. */
  const cnnc_rt_graph *features;
  const cnnc_rt_graph *head;
  const char *no_cache_reason;
} cnnc_rt_phase;

typedef struct cnnc_rt_model {
  const char *name;
  cnnc_rt_graph inference;
  /* Training graphs (none unless compiled with --train), the last one
   * training every parameter that is not frozen at compile time. */
  int32_t num_phases;
  const cnnc_rt_phase *phases;
  const unsigned char *weights;
  uint64_t weights_size;
  /* The instance's parameter memory: the weights, then (from a multiple of
   * 64) the layout copies that the `layouts` graph writes at create. */
  uint64_t params_size;
  int32_t num_params;
  const cnnc_rt_param *params;
  /* Byte offset of the dropout generator state [seed, step] (int64) in the
   * weights, or -1 when the model has no training-mode dropout. */
  int64_t rng_offset;
  const cnnc_train_plan *plan; /* NULL: none */
  /* Optimizer updates by cnnc_rt_optimizer_kernel (NULL without
   * training); their arguments are the CNNC_RT_SGD_*, CNNC_RT_SGDM_* and
   * CNNC_RT_ADAM_* positions above. */
  cnnc_rt_kernel_fn optimizer_kernels[CNNC_RT_NUM_OPTIMIZER_KERNELS];
  /* Weights the inference graph reads in another layout (cnn.pack_weights,
   * Halide kernels of the model): `layouts` writes those stored only in
   * that layout from the embedded plain values (EMBEDDED buffers) when an
   * instance is created; `relayout` rewrites the copies of weights kept in
   * both layouts, at create and before `run` once the plain values have
   * changed (set_param, training steps, load_state). */
  cnnc_rt_graph layouts;
  cnnc_rt_graph relayout;
  /* The target the kernels were compiled for (Halide's target string), and
   * the CPU features it needs, comma-separated in GCC's
   * __builtin_cpu_supports names ("" when none are checked): create refuses
   * a CPU that lacks one (CNNC_ERROR_CPU) instead of dying of SIGILL. */
  const char *target;
  const char *cpu_features;
} cnnc_rt_model;

int cnnc_rt_create(const cnnc_rt_model *model, cnnc_model **out);
void cnnc_rt_release(cnnc_model *instance);
int cnnc_rt_tensor_info(const cnnc_tensor_info *table, int32_t count,
                        int32_t index, cnnc_tensor_info *out);
int cnnc_rt_run(cnnc_model *instance, int64_t batch, const void *const *inputs,
                const size_t *input_bytes, void *const *outputs,
                const size_t *output_bytes);
int cnnc_rt_set_num_threads(cnnc_model *instance, int32_t threads);
const char *cnnc_rt_last_error(const cnnc_model *instance);
int cnnc_rt_param_info(const cnnc_rt_model *model, int32_t index,
                       cnnc_param_info *out);
int cnnc_rt_get_param(cnnc_model *instance, int32_t index, float *out,
                      size_t bytes);
int cnnc_rt_set_param(cnnc_model *instance, int32_t index, const float *values,
                      size_t bytes);
int cnnc_rt_train_configure(cnnc_model *instance,
                            const cnnc_train_config *config);
int cnnc_rt_train_step(cnnc_model *instance, int64_t batch,
                       const void *const *inputs, const size_t *input_bytes,
                       const void *labels, size_t label_bytes, float *loss);
int cnnc_rt_set_learning_rate(cnnc_model *instance, const char *group,
                              float lr);
int cnnc_rt_set_trainable(cnnc_model *instance, const char *group,
                          int32_t trainable);
int cnnc_rt_feature_info(cnnc_model *instance, cnnc_tensor_info *out);
int cnnc_rt_compute_features(cnnc_model *instance, int64_t batch,
                             const void *const *inputs,
                             const size_t *input_bytes, void *features,
                             size_t feature_bytes);
int cnnc_rt_train_step_features(cnnc_model *instance, int64_t batch,
                                const void *features, size_t feature_bytes,
                                const void *labels, size_t label_bytes,
                                float *loss);
int cnnc_rt_save_state(cnnc_model *instance, void *data, size_t *bytes);
int cnnc_rt_load_state(cnnc_model *instance, const void *data, size_t bytes);
int cnnc_rt_train_backward(cnnc_model *instance, int64_t batch,
                           const void *const *inputs, const size_t *input_bytes,
                           const void *labels, size_t label_bytes, float *loss);
int cnnc_rt_train_backward_features(cnnc_model *instance, int64_t batch,
                                    const void *features, size_t feature_bytes,
                                    const void *labels, size_t label_bytes,
                                    float *loss);
int cnnc_rt_train_gradients(cnnc_model *instance, cnnc_train_tensor *out,
                            int32_t capacity, int32_t *count);
int cnnc_rt_train_apply(cnnc_model *instance);
int cnnc_rt_set_gradient_hook(cnnc_model *instance, cnnc_gradient_hook hook,
                              void *user);
int cnnc_rt_set_replica_reduce(cnnc_model *instance,
                               cnnc_replica_reduce_fn reduce, void *user);

#ifdef __cplusplus
}
#endif

#endif /* CNNC_RT_EXECUTOR_H */
