/*===- replica.c - the executor: BatchNorm across data-parallel processes -===*
 *
 * Part of the executor linked into every model library (see
 * executor_internal.h). cnn.replica_reduce becomes a host step of the
 * training graphs: with one process it copies its value; with the
 * application's reduction installed (set_replica_reduce) it combines the
 * value with the other processes' (SyncBatchNorm). Every process weighs its
 * part by its element count n per channel, so shards of different sizes
 * combine as one batch:
 *   batch_stats    [mean; var] -> those of the global batch, from the sums
 *                  of n, n * mean and n * (var + mean^2) (in double)
 *   running_stats  the same, with the variance scaled by
 *                  M / (M - 1) * (n - 1) / n (M: the global count), so that
 *                  the running update's n / (n - 1) gives the global
 *                  batch's unbiased variance
 *   sum            a per-channel sum over this process's elements, in its
 *                  gradient scale (a loss averaged over its shard) -> the
 *                  sum over the global batch in the same scale:
 *                  sum_s(n_s * value_s) / M
 *
 *===----------------------------------------------------------------------===*/
#include "executor_internal.h"

#include <stdlib.h>
#include <string.h>

int cnnc_rt_set_replica_reduce(cnnc_model *m, cnnc_replica_reduce_fn reduce,
                               void *user) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  m->replica_reduce = reduce;
  m->replica_user = reduce ? user : NULL;
  return CNNC_OK;
}

static int64_t elements(const halide_buffer_t *b) {
  int64_t n = 1;
  for (int32_t d = 0; d < b->dimensions; ++d)
    n *= b->dim[d].extent;
  return n;
}

int cnnc_rt_run_host_step(cnnc_model *m, graph_state *g,
                          const cnnc_rt_kernel *kernel) {
  if (kernel->host < CNNC_RT_HOST_REPLICA_BATCH_STATS ||
      kernel->host > CNNC_RT_HOST_REPLICA_SUM || kernel->num_args != 3)
    return cnnc_rt_fail(m, CNNC_ERROR_UNSUPPORTED,
                        "step '%s' has no kernel and no host step %d this "
                        "runtime knows",
                        kernel->name, (int)kernel->host);
  halide_buffer_t *value = &g->hbufs[kernel->args[0]];
  halide_buffer_t *input = &g->hbufs[kernel->args[1]];
  halide_buffer_t *out = &g->hbufs[kernel->args[2]];
  /* GPU graphs: the value may be on the device only. */
  if (value->device && (value->flags & halide_buffer_flag_device_dirty) &&
      halide_copy_to_host(NULL, value) != 0)
    return cnnc_rt_fail(m, CNNC_ERROR_KERNEL,
                        "'%s': copying BatchNorm statistics from the GPU "
                        "failed",
                        kernel->name);
  const float *v = (const float *)value->host;
  float *o = (float *)out->host;
  int64_t count = elements(value);
  int sum = kernel->host == CNNC_RT_HOST_REPLICA_SUM;
  int64_t c = sum ? count : count / 2;
  out->flags |= halide_buffer_flag_host_dirty;
  if (!m->replica_reduce || c <= 0) {
    memmove(o, v, (size_t)count * sizeof(float));
    return CNNC_OK;
  }
  /* Elements per channel of this process's batch. */
  double n = (double)elements(input) / (double)c;
  size_t need = (size_t)(sum ? c + 1 : 2 * c + 1);
  if (need > m->replica_cap) {
    double *buf = realloc(m->replica_buf, need * sizeof(double));
    if (!buf)
      return cnnc_rt_fail(m, CNNC_ERROR_OUT_OF_MEMORY,
                          "no memory for the BatchNorm statistics");
    m->replica_buf = buf;
    m->replica_cap = need;
  }
  double *buf = m->replica_buf;
  if (sum) {
    for (int64_t i = 0; i < c; ++i)
      buf[i] = n * (double)v[i];
  } else {
    for (int64_t i = 0; i < c; ++i) {
      double mean = v[i], var = v[c + i];
      buf[i] = n * mean;
      buf[c + i] = n * (var + mean * mean);
    }
  }
  buf[need - 1] = n;
  if (m->replica_reduce(m->replica_user, buf, need) != 0)
    return cnnc_rt_fail(m, CNNC_ERROR_IO,
                        "'%s': the reduction across processes failed",
                        kernel->name);
  double total = buf[need - 1];
  if (!(total > 0))
    return cnnc_rt_fail(m, CNNC_ERROR_NUMERIC,
                        "'%s': the processes' batches hold no element",
                        kernel->name);
  if (sum) {
    for (int64_t i = 0; i < c; ++i)
      o[i] = (float)(buf[i] / total);
    return CNNC_OK;
  }
  double scale = 1.0;
  if (kernel->host == CNNC_RT_HOST_REPLICA_RUNNING_STATS && total > 1)
    scale = total / (total - 1) * (n > 1 ? (n - 1) / n : 1.0);
  for (int64_t i = 0; i < c; ++i) {
    double mean = buf[i] / total;
    double var = buf[c + i] / total - mean * mean;
    o[i] = (float)mean;
    o[c + i] = (float)((var > 0 ? var : 0) * scale);
  }
  return CNNC_OK;
}
