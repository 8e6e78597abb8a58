/*===- features.c - the executor: the feature cache of a frozen prefix
 *------===*
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

/*===-- Feature cache -----------------------------------------------------===*/

/* The current phase, if it can cache the frozen prefix's features. */
static const cnnc_rt_phase *cache_phase(cnnc_model *m) {
  if (!cnnc_rt_has_training(m))
    return NULL;
  if (cnnc_rt_choose_phase(m) != CNNC_OK)
    return NULL;
  const cnnc_rt_phase *ph = &m->model->phases[m->phase];
  if (!ph->features || !ph->head) {
    cnnc_rt_fail(m, CNNC_ERROR_UNSUPPORTED, "no feature cache for %s: %s",
                 m->model->name,
                 ph->no_cache_reason ? ph->no_cache_reason
                                     : "no frozen prefix");
    return NULL;
  }
  return ph;
}

int cnnc_rt_feature_info(cnnc_model *m, cnnc_tensor_info *out) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  m->error[0] = 0;
  if (!out)
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT, "null output");
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
  return cnnc_rt_run_to_outputs(m, &m->phase_states[3 * m->phase + 1], batch,
                                inputs, input_bytes, outputs, output_bytes);
}

static int features_step(cnnc_model *m, int64_t batch, const void *features,
                         size_t feature_bytes, const void *labels,
                         size_t label_bytes, float *loss, int apply) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  cnnc_rt_drop_pending(m);
  int status = cnnc_rt_begin_step(m, batch);
  if (status != CNNC_OK)
    return status;
  if (!cache_phase(m))
    return CNNC_ERROR_UNSUPPORTED;
  const void *all_inputs[2] = {features, labels};
  size_t all_bytes[2] = {feature_bytes, label_bytes};
  graph_state *g = &m->phase_states[3 * m->phase + 2];
  return apply ? cnnc_rt_train_on(m, g, batch, all_inputs, all_bytes, loss)
               : cnnc_rt_backward_on(m, g, batch, all_inputs, all_bytes, loss);
}

int cnnc_rt_train_step_features(cnnc_model *m, int64_t batch,
                                const void *features, size_t feature_bytes,
                                const void *labels, size_t label_bytes,
                                float *loss) {
  return features_step(m, batch, features, feature_bytes, labels, label_bytes,
                       loss, 1);
}

int cnnc_rt_train_backward_features(cnnc_model *m, int64_t batch,
                                    const void *features, size_t feature_bytes,
                                    const void *labels, size_t label_bytes,
                                    float *loss) {
  return features_step(m, batch, features, feature_bytes, labels, label_bytes,
                       loss, 0);
}
