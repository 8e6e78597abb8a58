/*===- model_abi.h - the C ABI of every cnnc model library ---------------===*
 *
 * A library built by `cnnc model.onnx -o model.so --name P` exports the
 * functions below with the prefix `P_` (declared with the prefix in the
 * generated `model.h`), plus one unprefixed entry point,
 * `cnnc_model_entry`, that returns the same functions in a table, so a
 * generic loader (runtime/include/cnnc/loader.h) can drive any model it
 * dlopens. Nothing else is exported: the Halide runtime and the cnnc
 * executor inside the library are hidden, so several models live side by
 * side in one process.
 *
 * Conventions: every function that can fail returns a cnnc_status; the
 * message of the last failure of an instance is P_last_error(instance), and
 * P_last_error(NULL) is the message of the calling thread's last failed
 * P_create (e.g. CNNC_ERROR_CPU: "compiled for x86-64-linux-avx2-...: this
 * CPU lacks avx2, fma").
 * Buffers are owned by the caller; the library never keeps a pointer to them
 * after a call returns. Tensors are dense, row-major (C order), NCHW.
 *
 *===----------------------------------------------------------------------===*/
#ifndef CNNC_MODEL_ABI_H
#define CNNC_MODEL_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CNNC_ABI_VERSION 4
#define CNNC_MAX_RANK 8

typedef enum cnnc_status {
  CNNC_OK = 0,
  CNNC_ERROR_INVALID_ARGUMENT = 1, /* null pointer, bad index, batch < 1 */
  CNNC_ERROR_SHAPE = 2,            /* a buffer size does not match its shape */
  CNNC_ERROR_OUT_OF_MEMORY = 3,
  CNNC_ERROR_KERNEL = 4,      /* a Halide kernel reported an error */
  CNNC_ERROR_UNSUPPORTED = 5, /* e.g. training a model built without it */
  CNNC_ERROR_IO = 6,
  CNNC_ERROR_NUMERIC = 7, /* NaN or Inf in a loss */
  CNNC_ERROR_CPU = 8 /* the CPU lacks features the library was compiled for */
} cnnc_status;

typedef enum cnnc_dtype { CNNC_DTYPE_F32 = 1, CNNC_DTYPE_I64 = 2 } cnnc_dtype;

/* Shape of a model input or output. dims[0] == -1 marks the batch dimension,
 * whose extent is chosen per call. */
typedef struct cnnc_tensor_info {
  const char *name;
  cnnc_dtype dtype;
  int32_t rank;
  int64_t dims[CNNC_MAX_RANK];
} cnnc_tensor_info;

typedef struct cnnc_model cnnc_model; /* opaque instance */

/* Training (libraries compiled with `cnnc --train`) --------------------- */

typedef enum cnnc_optimizer {
  CNNC_OPTIMIZER_SGD = 0,  /* momentum, nesterov, weight_decay (PyTorch SGD) */
  CNNC_OPTIMIZER_ADAM = 1, /* beta1, beta2, eps, weight_decay (L2, PyTorch) */
  CNNC_OPTIMIZER_ADAMW = 2 /* decoupled weight decay (PyTorch AdamW) */
} cnnc_optimizer;

typedef struct cnnc_train_config {
  int32_t optimizer; /* cnnc_optimizer */
  float lr;
  float momentum;
  float weight_decay;
  float beta1, beta2, eps;
  int32_t nesterov;
  uint64_t seed; /* dropout masks */
} cnnc_train_config;

/* A parameter of the model: learnable weights and, with is_buffer, running
 * statistics (BatchNorm mean/variance), which train steps update but the
 * optimizer does not. */
typedef struct cnnc_param_info {
  const char *name;  /* the ONNX initializer's or the DSL's name */
  const char *group; /* parameter group ("" when none) */
  int32_t rank;
  int64_t dims[CNNC_MAX_RANK];
  int32_t trainable; /* 0: frozen at compile time (constant) */
  int32_t is_buffer;
} cnnc_param_info;

/* The fine-tuning plan compiled into the library (a DSL `train { }` block,
 * or `cnnc --unfreeze-at` for ONNX models); cnnc-train uses it by default.
 * Per group: its learning rate (< 0: the base rate) and the epoch (1-based)
 * it is unfrozen at (0: trains from the start). `name` is a parameter group
 * or a parameter name prefix, as set_trainable and set_learning_rate take. */
typedef struct cnnc_plan_group {
  const char *name;
  float lr;
  int32_t unfreeze_epoch;
} cnnc_plan_group;

typedef struct cnnc_train_plan {
  const char *loss;         /* "cross_entropy" or "mse" */
  int32_t has_optimizer;    /* 0: only groups/unfreezing were given */
  cnnc_train_config config; /* optimizer settings (seed 0) */
  int32_t epochs, batch;    /* 0: not given */
  int32_t num_groups;
  const cnnc_plan_group *groups;
} cnnc_train_plan;

/* A tensor of a train step that another process may need to combine
 * (train_gradients, the gradient hook): the gradient of a parameter, or the
 * new value of a BatchNorm running statistic. `data` points into the
 * instance and stays valid until the next training call on it; an app may
 * change the values in place (e.g. all-reduce them) before train_apply. */
typedef enum cnnc_train_tensor_kind {
  CNNC_TRAIN_GRADIENT = 0,
  CNNC_TRAIN_RUNNING_STAT = 1
} cnnc_train_tensor_kind;

typedef struct cnnc_train_tensor {
  int32_t param; /* index for param_info */
  int32_t kind;  /* cnnc_train_tensor_kind */
  float *data;
  size_t count; /* floats */
} cnnc_train_tensor;

/* Called during train_backward as soon as a gradient is final, in the
 * order the backward pass finishes them (the same order on every instance
 * of the model with the same trainable parameters), so that a data-parallel
 * app can start reducing it while the pass goes on. */
typedef void (*cnnc_gradient_hook)(void *user, const cnnc_train_tensor *t);

/* Sums `values` over the processes of a data-parallel run, in place (each
 * process passes its own values; the sum is not weighted); returns 0, or
 * non-zero after a failure. */
typedef int (*cnnc_replica_reduce_fn)(void *user, double *values, size_t count);

/* The function table returned by cnnc_model_entry(). */
typedef struct cnnc_model_api {
  int32_t abi_version; /* CNNC_ABI_VERSION */
  const char *model_name;
  int (*create)(cnnc_model **out);
  void (*release)(cnnc_model *model);
  int32_t (*num_inputs)(void);
  int32_t (*num_outputs)(void);
  int (*input_info)(int32_t index, cnnc_tensor_info *out);
  int (*output_info)(int32_t index, cnnc_tensor_info *out);
  /* Runs inference on `batch` samples. inputs[i] holds input_bytes[i] bytes,
   * outputs[i] has room for output_bytes[i] bytes; both must equal the
   * tensor's size at this batch exactly. */
  int (*run)(cnnc_model *model, int64_t batch, const void *const *inputs,
             const size_t *input_bytes, void *const *outputs,
             const size_t *output_bytes);
  int (*set_num_threads)(cnnc_model *model, int32_t threads);
  const char *(*last_error)(const cnnc_model *model);

  /* Parameters: every library has them; set_param changes what `run` uses. */
  int32_t (*num_params)(void);
  int (*param_info)(int32_t index, cnnc_param_info *out);
  int (*get_param)(cnnc_model *model, int32_t index, float *out, size_t bytes);
  int (*set_param)(cnnc_model *model, int32_t index, const float *values,
                   size_t bytes);

  /* Training: NULL unless compiled with --train. train_configure sets the
   * optimizer and resets its state (momentum buffers, Adam moments, step
   * count). train_step runs forward, loss, backward and one optimizer step
   * on `batch` samples; labels are int64 class indices for cross-entropy
   * (label_bytes = 8 * batch) or f32 targets shaped like the output for
   * MSE. A NaN or Inf loss (or gradient, or running statistic) returns
   * CNNC_ERROR_NUMERIC and leaves the parameters as they were before the
   * step. */
  int (*train_configure)(cnnc_model *model, const cnnc_train_config *config);
  int (*train_step)(cnnc_model *model, int64_t batch, const void *const *inputs,
                    const size_t *input_bytes, const void *labels,
                    size_t label_bytes, float *loss);
  /* Learning rate of the parameters of `group` (all parameters when group
   * is NULL or ""). */
  int (*set_learning_rate)(cnnc_model *model, const char *group, float lr);
  /* Original ONNX file the library was compiled from (for export of the
   * trained weights), or NULL/0 for DSL models. */
  void (*source_onnx)(const void **data, size_t *size);

  /* --- ABI 3: transfer learning ------------------------------------------
   * Freezes (trainable = 0) or unfreezes the parameters of a group (or with
   * a name prefix) at run time. The library holds a training graph per
   * phase of its plan and picks, per step, the one that computes the fewest
   * gradients covering the trainable parameters; parameters that are frozen
   * at run time are not updated (as PyTorch with requires_grad = False).
   * Unfreezing a parameter frozen at compile time is an error. */
  int (*set_trainable)(cnnc_model *model, const char *group, int32_t trainable);
  /* NULL when the library was compiled without a plan. */
  const cnnc_train_plan *(*train_plan)(void);
  /* Feature cache. When every trainable parameter comes after a frozen
   * prefix whose output is one tensor (and no dropout precedes it),
   * feature_info describes that tensor and returns CNNC_OK; otherwise
   * CNNC_ERROR_UNSUPPORTED with the reason in last_error. compute_features
   * runs the frozen prefix; train_step_features is train_step on features
   * (the same loss and update as train_step on the inputs). */
  int (*feature_info)(cnnc_model *model, cnnc_tensor_info *out);
  int (*compute_features)(cnnc_model *model, int64_t batch,
                          const void *const *inputs, const size_t *input_bytes,
                          void *features, size_t feature_bytes);
  int (*train_step_features)(cnnc_model *model, int64_t batch,
                             const void *features, size_t feature_bytes,
                             const void *labels, size_t label_bytes,
                             float *loss);
  /* The whole training state (parameters, optimizer moments and steps,
   * learning rates, frozen flags, generator state) as a versioned byte
   * string: save_state with data == NULL sets *bytes to the size needed.
   * load_state validates everything (model, names, shapes, sizes) before it
   * changes anything; after it, training continues exactly. */
  int (*save_state)(cnnc_model *model, void *data, size_t *bytes);
  int (*load_state)(cnnc_model *model, const void *data, size_t bytes);

  /* --- ABI 4: a train step in two calls, for data-parallel training -----
   * train_step is train_backward then train_apply. train_backward runs
   * forward, loss and backward and keeps the gradients and the new running
   * statistics in the instance (a NaN or Inf loss returns
   * CNNC_ERROR_NUMERIC; the graph has still run to its end, so every hook
   * call was made and train_gradients lists the step's tensors, but
   * train_apply refuses it). train_gradients lists them: the gradients of the
   * parameters the step updates, in the hook's order, then the running
   * statistics. An app may change them in place (an all-reduce across
   * processes) before train_apply, which checks that every value it is
   * about to write is finite (CNNC_ERROR_NUMERIC otherwise, the parameters
   * unchanged) and applies the optimizer. train_backward_features is
   * train_backward on the feature cache (train_step_features). */
  int (*train_backward)(cnnc_model *model, int64_t batch,
                        const void *const *inputs, const size_t *input_bytes,
                        const void *labels, size_t label_bytes, float *loss);
  int (*train_backward_features)(cnnc_model *model, int64_t batch,
                                 const void *features, size_t feature_bytes,
                                 const void *labels, size_t label_bytes,
                                 float *loss);
  /* Writes up to `capacity` entries to `out` and their number to *count
   * (out may be NULL with capacity 0 to ask for the count). */
  int (*train_gradients)(cnnc_model *model, cnnc_train_tensor *out,
                         int32_t capacity, int32_t *count);
  int (*train_apply)(cnnc_model *model);
  /* hook == NULL removes it. */
  int (*set_gradient_hook)(cnnc_model *model, cnnc_gradient_hook hook,
                           void *user);
  /* SyncBatchNorm: with a reduction installed, BatchNorm layers in
   * training mode normalize with the statistics of the global batch (every
   * process's shard), and their gradients go through them, as PyTorch's
   * SyncBatchNorm; the train step calls `reduce` (twice per BatchNorm in the
   * forward pass and twice in the backward pass), in the same order on
   * every process. Without one (reduce == NULL, the default) each instance
   * uses its own batch's statistics. The gradients train_gradients lists
   * are still this process's; their weighted sum (shard / global batch) is
   * the global batch's gradient either way. */
  int (*set_replica_reduce)(cnnc_model *model, cnnc_replica_reduce_fn reduce,
                            void *user);
} cnnc_model_api;

/* Exported by every model library (unprefixed, for dlopen + dlsym). */
const cnnc_model_api *cnnc_model_entry(void);

#ifdef __cplusplus
}
#endif

#endif /* CNNC_MODEL_ABI_H */
