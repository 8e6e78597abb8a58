/*===- dist_none.c - cnnc-train built without MPI -------------------------===*
 *
 * One process. Under an MPI launcher that started several, every process
 * says that multi-process training needs cnnc built with Open MPI, instead
 * of N processes each training alone.
 *
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L

#include "dist.h"
#include "train.h"

#include <stdlib.h>

bool dist_exit_agreed = false;

bool dist_init(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
  for (int i = 0; i < 2; ++i) {
    const char *v = getenv(vars[i]);
    if (v && atoi(v) > 1) {
      error("launched as one of %s processes (%s), but this cnnc-train was "
            "built without MPI: multi-process training needs Open MPI when "
            "cnnc is built (apt-get install libopenmpi-dev, then configure "
            "cnnc again)",
            v, vars[i]);
      return false;
    }
  }
  return true;
}
void dist_finalize(void) {}
void dist_abort(int exit_code) { exit(exit_code); }
int dist_rank(void) { return 0; }
int dist_size(void) { return 1; }
int dist_local_size(void) { return 1; }
const char *dist_backend(void) { return "none (built without MPI)"; }
bool dist_sum_doubles(double *values, int count) {
  (void)values;
  (void)count;
  return true;
}
bool dist_all_equal(uint64_t value, bool *equal) {
  (void)value;
  *equal = true;
  return true;
}
bool dist_broadcast(void *data, size_t bytes) {
  (void)data;
  (void)bytes;
  return true;
}
bool dist_allgather_samples(float *data, int64_t total, size_t sample_floats) {
  (void)data;
  (void)total;
  (void)sample_floats;
  return true;
}
/* With one rank nothing is reduced: train() never creates a reducer. */
dist_reducer *dist_reducer_create(size_t bucket_bytes) {
  (void)bucket_bytes;
  return NULL;
}
void dist_reducer_free(dist_reducer *r) { (void)r; }
void dist_reducer_begin(dist_reducer *r, double weight) {
  (void)r;
  (void)weight;
}
void dist_reducer_hook(void *user, const cnnc_train_tensor *t) {
  (void)user;
  (void)t;
}
bool dist_reducer_finish(dist_reducer *r, const cnnc_train_tensor *tensors,
                         int32_t num_tensors, double *scalars, int count) {
  (void)r;
  (void)tensors;
  (void)num_tensors;
  (void)scalars;
  (void)count;
  return true;
}
double dist_reducer_wait_seconds(const dist_reducer *r) {
  (void)r;
  return 0;
}
