/*===- params.c - the executor: parameters and their packed copies
 *----------===*
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
void cnnc_rt_repack(cnnc_model *m) {
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
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT, "null input buffer");
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
