/*===- train.c - the executor: training steps, optimizers, phases
 *-----------===*
 *
 * Part of the executor linked into every model library (see
 * executor_internal.h for how it is split).
 *
 *===----------------------------------------------------------------------===*/
#include "executor_internal.h"
#include "thread_pool.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*===----------------------------------------------------------------------===*
 * Training
 *===----------------------------------------------------------------------===*/

int cnnc_rt_has_training(cnnc_model *m) {
  if (m->model->num_phases > 0)
    return 1;
  cnnc_rt_fail(m, CNNC_ERROR_UNSUPPORTED, "%s was compiled without --train",
               m->model->name);
  return 0;
}

int cnnc_rt_train_configure(cnnc_model *m, const cnnc_train_config *config) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  if (!cnnc_rt_has_training(m))
    return CNNC_ERROR_UNSUPPORTED;
  if (!config)
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT, "null training config");
  if (config->optimizer < CNNC_OPTIMIZER_SGD ||
      config->optimizer > CNNC_OPTIMIZER_ADAMW)
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT, "unknown optimizer %d",
                        (int)config->optimizer);
  if (!(config->lr >= 0) || !(config->momentum >= 0) ||
      !(config->weight_decay >= 0) ||
      (config->optimizer != CNNC_OPTIMIZER_SGD &&
       (!(config->beta1 >= 0 && config->beta1 < 1) ||
        !(config->beta2 >= 0 && config->beta2 < 1) || !(config->eps > 0))))
    return cnnc_rt_fail(
        m, CNNC_ERROR_INVALID_ARGUMENT,
        "invalid optimizer settings (lr %g, momentum %g, weight decay "
        "%g, betas %g/%g, eps %g)",
        config->lr, config->momentum, config->weight_decay, config->beta1,
        config->beta2, config->eps);
  if (config->nesterov &&
      (config->optimizer != CNNC_OPTIMIZER_SGD || config->momentum <= 0))
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                        "Nesterov momentum needs SGD with momentum > 0");
  cnnc_rt_free_optimizer(m);
  m->configured = 0;
  cnnc_rt_drop_pending(m);
  /* All optimizer state up front, so a step cannot cnnc_rt_fail half-way. */
  int needs_first =
      config->optimizer != CNNC_OPTIMIZER_SGD || config->momentum > 0;
  int needs_second = config->optimizer != CNNC_OPTIMIZER_SGD;
  for (int32_t p = 0; p < m->model->num_params; ++p) {
    param_state *s = &m->pstate[p];
    s->lr = config->lr;
    s->step = 0;
    if (!m->model->params[p].info.trainable)
      continue;
    size_t bytes = cnnc_rt_param_bytes(m->model, p);
    if (needs_first && !(s->momentum = cnnc_rt_aligned_alloc_zero(bytes)))
      return cnnc_rt_fail(m, CNNC_ERROR_OUT_OF_MEMORY,
                          "no memory for the optimizer");
    if (needs_second && !(s->second = cnnc_rt_aligned_alloc_zero(bytes)))
      return cnnc_rt_fail(m, CNNC_ERROR_OUT_OF_MEMORY,
                          "no memory for the optimizer");
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
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                        "call train_configure before set_learning_rate");
  if (!(lr >= 0))
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT, "learning rate %g < 0",
                        lr);
  int matched = 0;
  for (int32_t p = 0; p < m->model->num_params; ++p) {
    if (in_group(&m->model->params[p].info, group)) {
      m->pstate[p].lr = lr;
      ++matched;
    }
  }
  if (!matched)
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                        "no parameter group or name prefix '%s'", group);
  return CNNC_OK;
}

int cnnc_rt_set_trainable(cnnc_model *m, const char *group, int32_t trainable) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  if (!cnnc_rt_has_training(m))
    return CNNC_ERROR_UNSUPPORTED;
  int matched = 0;
  for (int32_t p = 0; p < m->model->num_params; ++p) {
    const cnnc_param_info *info = &m->model->params[p].info;
    if (!in_group(info, group))
      continue;
    ++matched;
    if (trainable && !info->trainable && !info->is_buffer)
      return cnnc_rt_fail(
          m, CNNC_ERROR_INVALID_ARGUMENT,
          "parameter '%s' was frozen at compile time (its layers are "
          "folded into constants); compile without --freeze for it, "
          "or with --unfreeze-at EPOCH:%s",
          info->name, group && *group ? group : info->name);
  }
  if (!matched)
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                        "no parameter group or name prefix '%s'", group);
  for (int32_t p = 0; p < m->model->num_params; ++p)
    if (in_group(&m->model->params[p].info, group))
      m->pstate[p].frozen = !trainable;
  m->phase = -1;
  cnnc_rt_drop_pending(m);
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
               cnnc_rt_param_bytes(model, p)) != 0)
      return 0;
  }
  return 1;
}

/* The phase that computes the fewest gradients while covering every
 * parameter that trains now (and whose folded constants are current). */
int cnnc_rt_choose_phase(cnnc_model *m) {
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
    return cnnc_rt_fail(m, CNNC_ERROR_UNSUPPORTED,
                        "no training graph trains '%s'",
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
  float *w = cnnc_rt_param_values(m, p);
  size_t n = cnnc_rt_param_bytes(model, p) / sizeof(float);
  if (n > INT32_MAX)
    return cnnc_rt_fail(m, CNNC_ERROR_UNSUPPORTED,
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
    return cnnc_rt_fail(
        m, CNNC_ERROR_UNSUPPORTED,
        "%s has no optimizer kernels (rebuild it with cnnc --train)",
        model->name);
  halide_set_num_threads(m->threads);
  cnnc_pool_configure(m->threads);
  cnnc_rt_halide_error_text[0] = 0;
  int result = fn(args);
  if (result != 0)
    return cnnc_rt_fail(
        m, CNNC_ERROR_KERNEL,
        "the optimizer update of '%s' failed (Halide error %d): %s",
        model->params[p].info.name, result, cnnc_rt_halide_error_text);
  return CNNC_OK;
}

/* Are all n values finite? (x - x is NaN exactly for NaN and +-Inf.) Eight
 * independent sums, which the compiler keeps in vector registers: one
 * dependent chain of adds ran at one element per add latency. */
static int all_finite(const float *v, size_t n) {
  float acc[8] = {0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j)
      acc[j] += v[i + j] - v[i + j];
  for (; i < n; ++i)
    acc[0] += v[i] - v[i];
  float total = 0.0f;
  for (int j = 0; j < 8; ++j)
    total += acc[j];
  return total == 0.0f;
}

/* Checks that a train step may run; chooses the phase. */
int cnnc_rt_begin_step(cnnc_model *m, int64_t batch) {
  m->error[0] = 0;
  if (!cnnc_rt_has_training(m))
    return CNNC_ERROR_UNSUPPORTED;
  if (!m->configured)
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                        "call train_configure before train_step");
  if (batch < 1 || batch > INT32_MAX)
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                        "batch must be in [1, 2^31), got %lld",
                        (long long)batch);
  return cnnc_rt_choose_phase(m);
}

/* Does a step update parameter p from its gradient? */
static int applies_gradient(const cnnc_model *m, int32_t p) {
  return m->model->params[p].info.trainable && !m->pstate[p].frozen;
}

void cnnc_rt_drop_pending(cnnc_model *m) {
  m->num_tensors = -1;
  m->pending = 0;
}

/* Output `out` of graph `g` of the current step: the new value of
 * parameter p, or its gradient. */
static cnnc_train_tensor step_tensor(cnnc_model *m, graph_state *g, int32_t out,
                                     int32_t p, int32_t kind,
                                     const void *const *inputs) {
  cnnc_train_tensor t;
  t.param = p;
  t.kind = kind;
  t.data = (float *)cnnc_rt_host_of(m, g, g->graph->output_buffers[out], inputs,
                                    NULL, 0);
  t.count = cnnc_rt_param_bytes(m->model, p) / sizeof(float);
  return t;
}

void cnnc_rt_gradients_ready(cnnc_model *m, graph_state *g, int32_t k,
                             const void *const *inputs) {
  const cnnc_rt_phase *ph = &m->model->phases[m->phase];
  for (int32_t i = 0; i < ph->num_grads; ++i) {
    int32_t p = ph->grad_params[i];
    if (g->output_writer[i + 1] != k || !applies_gradient(m, p))
      continue;
    cnnc_train_tensor t =
        step_tensor(m, g, i + 1, p, CNNC_TRAIN_GRADIENT, inputs);
    m->hook(m->hook_user, &t);
  }
}

/* Runs a training graph (step or head) of the current phase on
 * `all_inputs` (the last is the labels); the step is then pending: its
 * gradients and new running statistics are m->tensors. */
int cnnc_rt_backward_on(cnnc_model *m, graph_state *g, int64_t batch,
                        const void *const *all_inputs, const size_t *all_bytes,
                        float *loss) {
  const cnnc_rt_model *model = m->model;
  const cnnc_rt_phase *ph = &model->phases[m->phase];
  const cnnc_rt_graph *graph = g->graph;
  int32_t n_in = graph->num_inputs;
  int status = cnnc_rt_check_io(m, "training input", n_in, graph->inputs,
                                all_inputs, all_bytes, batch);
  if (status != CNNC_OK)
    return status;
  const cnnc_tensor_info *label_info = &graph->inputs[n_in - 1];
  if (label_info->dtype == CNNC_DTYPE_I64) {
    const cnnc_tensor_info *out = &model->inference.outputs[0];
    int64_t classes = out->rank >= 2 ? out->dims[out->rank - 1] : 0;
    const int64_t *l = (const int64_t *)all_inputs[n_in - 1];
    for (int64_t i = 0; i < batch; ++i)
      if (l[i] < 0 || l[i] >= classes)
        return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                            "label %lld of sample %lld is outside [0, %lld)",
                            (long long)l[i], (long long)i, (long long)classes);
  }
  if (model->rng_offset >= 0) /* a new dropout mask every step */
    ((int64_t *)(m->params + model->rng_offset))[1] = m->step + 1;
  m->hooked = g;
  status = cnnc_rt_run_graph(m, g, batch, all_inputs, NULL);
  m->hooked = NULL;
  if (status != CNNC_OK)
    return status;
  /* What train_apply writes: the gradients, then the running statistics
   * (listed also when the loss turns out not to be finite, so that a
   * data-parallel app can finish the reductions it started in the hook). */
  m->num_tensors = 0;
  for (int32_t k = 0; k < ph->num_grads; ++k)
    if (applies_gradient(m, ph->grad_params[k]))
      m->tensors[m->num_tensors++] = step_tensor(
          m, g, k + 1, ph->grad_params[k], CNNC_TRAIN_GRADIENT, all_inputs);
  for (int32_t u = 0; u < ph->num_updates; ++u)
    if (!m->pstate[ph->update_params[u]].frozen)
      m->tensors[m->num_tensors++] =
          step_tensor(m, g, ph->update_outputs[u], ph->update_params[u],
                      CNNC_TRAIN_RUNNING_STAT, all_inputs);
  const float *loss_value = (const float *)cnnc_rt_host_of(
      m, g, graph->output_buffers[0], all_inputs, NULL, 0);
  if (loss)
    *loss = *loss_value;
  if (!isfinite(*loss_value))
    return cnnc_rt_fail(
        m, CNNC_ERROR_NUMERIC,
        "the loss is %s at step %lld; the parameters keep the values "
        "of the last good step",
        isnan(*loss_value) ? "NaN" : "infinite", (long long)m->step + 1);
  m->pending = 1;
  m->pending_phase = m->phase;
  return CNNC_OK;
}

int cnnc_rt_train_apply(cnnc_model *m) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  m->error[0] = 0;
  if (!m->pending || m->pending_phase != m->phase)
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                        "no pending step: call train_backward before "
                        "train_apply (once per train_backward; "
                        "set_trainable, train_configure and load_state "
                        "drop a pending step)");
  /* A finite loss can hide a non-finite gradient (an overflow that a ReLU
   * or a max pooling drops in the forward pass): check every value that is
   * about to be written, so that no step leaves a NaN or an Inf behind. */
  for (int32_t i = 0; i < m->num_tensors; ++i) {
    const cnnc_train_tensor *t = &m->tensors[i];
    if (!all_finite(t->data, t->count))
      return cnnc_rt_fail(
          m, CNNC_ERROR_NUMERIC,
          "the %s of '%s' is not finite at step %lld; the parameters "
          "keep the values of the last good step",
          t->kind == CNNC_TRAIN_GRADIENT ? "gradient" : "new value",
          m->model->params[t->param].info.name, (long long)m->step + 1);
  }
  m->pending = 0;
  ++m->step;
  m->layouts_stale = 1;
  for (int32_t i = 0; i < m->num_tensors; ++i) {
    const cnnc_train_tensor *t = &m->tensors[i];
    if (t->kind == CNNC_TRAIN_GRADIENT) {
      int status = update_param(m, t->param, t->data);
      if (status != CNNC_OK)
        return status;
    } else {
      memcpy(cnnc_rt_param_values(m, t->param), t->data,
             t->count * sizeof(float));
    }
  }
  return CNNC_OK;
}

int cnnc_rt_train_on(cnnc_model *m, graph_state *g, int64_t batch,
                     const void *const *all_inputs, const size_t *all_bytes,
                     float *loss) {
  int status = cnnc_rt_backward_on(m, g, batch, all_inputs, all_bytes, loss);
  return status == CNNC_OK ? cnnc_rt_train_apply(m) : status;
}

int cnnc_rt_train_gradients(cnnc_model *m, cnnc_train_tensor *out,
                            int32_t capacity, int32_t *count) {
  if (!m || !count || capacity < 0 || (capacity > 0 && !out))
    return CNNC_ERROR_INVALID_ARGUMENT;
  if (m->num_tensors < 0)
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                        "no step to list: call train_backward first");
  *count = m->num_tensors;
  for (int32_t i = 0; i < m->num_tensors && i < capacity; ++i)
    out[i] = m->tensors[i];
  return CNNC_OK;
}

int cnnc_rt_set_gradient_hook(cnnc_model *m, cnnc_gradient_hook hook,
                              void *user) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  m->hook = hook;
  m->hook_user = hook ? user : NULL;
  return CNNC_OK;
}

/* Runs the step graph of the current phase on the model's inputs and the
 * labels; with `apply`, the optimizer step too. */
static int step_on_inputs(cnnc_model *m, int64_t batch,
                          const void *const *inputs, const size_t *input_bytes,
                          const void *labels, size_t label_bytes, float *loss,
                          int apply) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  cnnc_rt_drop_pending(m);
  int status = cnnc_rt_begin_step(m, batch);
  if (status != CNNC_OK)
    return status;
  graph_state *g = &m->phase_states[3 * m->phase];
  int32_t n_in = g->graph->num_inputs; /* model inputs + labels */
  const void *all_inputs[CNNC_MAX_RANK + 9];
  size_t all_bytes[CNNC_MAX_RANK + 9];
  if (n_in < 1 || n_in > CNNC_MAX_RANK + 8)
    return cnnc_rt_fail(m, CNNC_ERROR_UNSUPPORTED, "too many inputs");
  if (n_in > 1 && (!inputs || !input_bytes))
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT, "null inputs");
  for (int32_t i = 0; i + 1 < n_in; ++i) {
    all_inputs[i] = inputs[i];
    all_bytes[i] = input_bytes[i];
  }
  all_inputs[n_in - 1] = labels;
  all_bytes[n_in - 1] = label_bytes;
  return apply ? cnnc_rt_train_on(m, g, batch, all_inputs, all_bytes, loss)
               : cnnc_rt_backward_on(m, g, batch, all_inputs, all_bytes, loss);
}

int cnnc_rt_train_step(cnnc_model *m, int64_t batch, const void *const *inputs,
                       const size_t *input_bytes, const void *labels,
                       size_t label_bytes, float *loss) {
  return step_on_inputs(m, batch, inputs, input_bytes, labels, label_bytes,
                        loss, 1);
}

int cnnc_rt_train_backward(cnnc_model *m, int64_t batch,
                           const void *const *inputs, const size_t *input_bytes,
                           const void *labels, size_t label_bytes,
                           float *loss) {
  return step_on_inputs(m, batch, inputs, input_bytes, labels, label_bytes,
                        loss, 0);
}
