/*===- params.c - the executor: parameters and their layouts ------------===*
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

/* The weights kept in two layouts (cnn.pack_weights of a parameter that
 * training or another graph also reads plain): the model's own Halide
 * kernels write the packed copies from the plain values. */
int cnnc_rt_relayout(cnnc_model *m) {
  if (m->model->relayout.num_kernels) {
    int status = cnnc_rt_run_graph(m, &m->relayout, 1, NULL, NULL);
    if (status != CNNC_OK)
      return status;
  }
  m->layouts_stale = 0;
  return CNNC_OK;
}

/* Runs one of a parameter's layout graphs (one kernel) from `in` to `out`,
 * one of which is the caller's plain values. */
static int run_layout(cnnc_model *m, const cnnc_rt_graph *graph,
                      const float *in, float *out) {
  graph_state g;
  memset(&g, 0, sizeof g);
  int32_t max_args = 0;
  const void *inputs[1] = {in};
  void *outputs[1] = {out};
  int status = cnnc_rt_init_graph(&g, graph, &max_args);
  if (status == CNNC_OK)
    status = cnnc_rt_run_graph(m, &g, 1, inputs, outputs);
  cnnc_rt_free_graph(&g);
  return status;
}

int cnnc_rt_read_param(cnnc_model *m, int32_t index, float *out) {
  const cnnc_rt_param *p = &m->model->params[index];
  if (p->from_layout)
    return run_layout(m, p->from_layout, NULL, out);
  memcpy(out, cnnc_rt_param_values(m, index),
         cnnc_rt_param_bytes(m->model, index));
  return CNNC_OK;
}

int cnnc_rt_write_param(cnnc_model *m, int32_t index, const float *values) {
  const cnnc_rt_param *p = &m->model->params[index];
  m->phase = -1; /* a phase that folded this parameter may be stale now */
  m->layouts_stale = 1;
  if (p->to_layout)
    return run_layout(m, p->to_layout, values, NULL);
  memcpy(cnnc_rt_param_values(m, index), values,
         cnnc_rt_param_bytes(m->model, index));
  return CNNC_OK;
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

size_t cnnc_rt_param_bytes(const cnnc_rt_model *model, int32_t index) {
  const cnnc_rt_buffer *b =
      &model->inference.buffers[model->params[index].buffer];
  return (size_t)cnnc_rt_num_elements(b, 1) * sizeof(float);
}

float *cnnc_rt_param_values(cnnc_model *m, int32_t index) {
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
    *status = cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                           "parameter index %d out of range [0, %d)",
                           (int)index, (int)model->num_params);
    return NULL;
  }
  size_t expected = cnnc_rt_param_bytes(model, index);
  if (bytes != expected) {
    *status = cnnc_rt_fail(m, CNNC_ERROR_SHAPE,
                           "parameter '%s' has %zu bytes, the caller gave %zu",
                           model->params[index].info.name, expected, bytes);
    return NULL;
  }
  *status = CNNC_OK;
  return cnnc_rt_param_values(m, index);
}

int cnnc_rt_get_param(cnnc_model *m, int32_t index, float *out, size_t bytes) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  if (!out)
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT, "null output buffer");
  int status;
  if (!param_data(m, index, bytes, &status))
    return status;
  return cnnc_rt_read_param(m, index, out);
}

int cnnc_rt_set_param(cnnc_model *m, int32_t index, const float *values,
                      size_t bytes) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  if (!values)
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT, "null input buffer");
  int status;
  if (!param_data(m, index, bytes, &status))
    return status;
  return cnnc_rt_write_param(m, index, values);
}
