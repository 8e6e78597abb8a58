/*===- dist.h - data-parallel training across processes (MPI) ------------===*
 *
 * `mpirun -np N cnnc-train model.so ...` trains one model on N processes
 * (ranks). Every rank holds the whole model and the whole data set; each
 * step's global batch (the samples one process would take) is split into N
 * contiguous shards, one per rank. A rank runs train_backward on its shard;
 * its gradients, scaled by its share of the batch (shard / batch), are
 * summed over the ranks while the backward pass goes on (the model's
 * gradient hook fills buckets that are all-reduced as they fill); then the
 * BatchNorm running statistics (weighted the same way) and the loss are
 * summed, and every rank applies the same optimizer step (train_apply).
 * The weights stay identical on every rank and equal, up to rounding, to
 * those of one process.
 *
 * dist_mpi.c implements it with MPI; dist_none.c, built when cnnc is
 * configured without MPI, runs one process and refuses to run under an MPI
 * launcher with more than one process.
 *
 *===----------------------------------------------------------------------===*/
#ifndef CNNC_TRAIN_DIST_H
#define CNNC_TRAIN_DIST_H

#include "cnnc/model_abi.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Joins the job when launched by mpirun; false (after an error) when it
 * cannot. Without a launcher: one rank. */
bool dist_init(int *argc, char ***argv);
void dist_finalize(void);
/* Ends every rank of the job at once (a rank's error must not leave the
 * others waiting in a collective). */
void dist_abort(int exit_code) __attribute__((noreturn));
int dist_rank(void);
int dist_size(void);
/* Processes of this job on this machine (for the default thread count). */
int dist_local_size(void);
/* "MPI" or "none", and the library's version, for --version. */
const char *dist_backend(void);

/* Set when the run ends in a way every rank agrees on (a stop signal, a
 * non-finite loss, a checkpoint that rank 0 cannot read): the ranks then
 * exit normally; after any other error the job is aborted, so that no rank
 * waits forever for another. */
extern bool dist_exit_agreed;

/* Collectives over every rank; false after an error. */
bool dist_sum_doubles(double *values, int count);
bool dist_broadcast(void *data, size_t bytes); /* from rank 0 */
/* *equal: whether every rank passed the same value. */
bool dist_all_equal(uint64_t value, bool *equal);
/* Every rank has computed samples [first_r, first_r + count_r) of `data`
 * (sample_floats floats each; first_r = total * r / size): afterwards all
 * ranks hold every sample. */
bool dist_allgather_samples(float *data, int64_t total, size_t sample_floats);

/* The gradient all-reduce of one step. */
typedef struct dist_reducer dist_reducer;
/* bucket_bytes: how much gradient one all-reduce carries (the last bucket
 * of a step may be smaller). */
dist_reducer *dist_reducer_create(size_t bucket_bytes);
void dist_reducer_free(dist_reducer *r);
/* Before train_backward: this rank's share of the step's batch. */
void dist_reducer_begin(dist_reducer *r, double weight);
/* The model's gradient hook (user: the reducer). */
void dist_reducer_hook(void *user, const cnnc_train_tensor *t);
/* After train_backward: completes the sums of every gradient and running
 * statistic in `tensors` (the model's train_gradients) in place, and of
 * `scalars` (count doubles: already weighted by the caller). */
bool dist_reducer_finish(dist_reducer *r, const cnnc_train_tensor *tensors,
                         int32_t num_tensors, double *scalars, int count);
/* Seconds spent waiting for all-reduces that the backward pass did not
 * hide, since the reducer was created. */
double dist_reducer_wait_seconds(const dist_reducer *r);

#endif /* CNNC_TRAIN_DIST_H */
