/*===- dist_mpi.c - data-parallel training with MPI -----------------------===*
 *
 * See dist.h. The gradients of a step go through buckets: the model's
 * gradient hook copies each gradient, scaled by this rank's share of the
 * batch, into the open bucket as soon as the backward pass has finished it,
 * and a full bucket starts a non-blocking all-reduce (MPI_Iallreduce, sum)
 * while the pass computes the earlier layers' gradients. Every hook call
 * also tests the requests in flight, which lets MPI progress them without a
 * progress thread. Every rank runs the same graph, so the hook calls, the
 * buckets and their order are the same on all ranks.
 *
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L

#include "dist.h"
#include "train.h"

#include <mpi.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

bool dist_exit_agreed = false;
#include <string.h>

static int rank_ = 0, size_ = 1, local_size_ = 1;
static bool initialized_ = false;

/* Launched by an MPI launcher (Open MPI's mpirun, or a PMI/PMIx one)? */
static bool under_launcher(void) {
  return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") ||
         getenv("PMI_SIZE");
}

static bool check(int code, const char *what) {
  if (code == MPI_SUCCESS)
    return true;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  error("%s failed: %.*s", what, len, text);
  return false;
}

bool dist_init(int *argc, char ***argv) {
  if (!under_launcher())
    return true;
  if (!check(MPI_Init(argc, argv), "MPI_Init"))
    return false;
  initialized_ = true;
  /* Errors come back as codes: this tool prints them and ends the job. */
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm local;
  if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_,
                          MPI_INFO_NULL, &local) == MPI_SUCCESS) {
    MPI_Comm_size(local, &local_size_);
    MPI_Comm_free(&local);
  }
  return true;
}

void dist_finalize(void) {
  if (initialized_)
    MPI_Finalize();
  initialized_ = false;
}

void dist_abort(int exit_code) {
  fflush(stdout);
  fflush(stderr);
  if (initialized_ && size_ > 1)
    MPI_Abort(MPI_COMM_WORLD, exit_code);
  exit(exit_code);
}

int dist_rank(void) { return rank_; }
int dist_size(void) { return size_; }
int dist_local_size(void) { return local_size_; }

const char *dist_backend(void) {
  static char text[MPI_MAX_LIBRARY_VERSION_STRING + 8];
  if (!text[0]) {
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(version, &len);
    /* The first line: "Open MPI v4.1.4, package: ..." */
    char *comma = strchr(version, ',');
    if (comma)
      len = (int)(comma - version);
    snprintf(text, sizeof text, "MPI (%.*s)", len, version);
  }
  return text;
}

bool dist_sum_doubles(double *values, int count) {
  if (size_ == 1)
    return true;
  return check(MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_DOUBLE, MPI_SUM,
                             MPI_COMM_WORLD),
               "MPI_Allreduce");
}

bool dist_all_equal(uint64_t value, bool *equal) {
  *equal = true;
  if (size_ == 1)
    return true;
  uint64_t range[2] = {value, ~value}; /* max of both: max and ~min */
  if (!check(MPI_Allreduce(MPI_IN_PLACE, range, 2, MPI_UINT64_T, MPI_MAX,
                           MPI_COMM_WORLD),
             "MPI_Allreduce"))
    return false;
  *equal = range[0] == value && ~range[1] == value;
  return true;
}

bool dist_broadcast(void *data, size_t bytes) {
  if (size_ == 1)
    return true;
  /* MPI counts are ints: in pieces of 1 GiB. */
  for (size_t done = 0; done < bytes;) {
    size_t n = bytes - done < (1u << 30) ? bytes - done : (1u << 30);
    if (!check(
            MPI_Bcast((char *)data + done, (int)n, MPI_BYTE, 0, MPI_COMM_WORLD),
            "MPI_Bcast"))
      return false;
    done += n;
  }
  return true;
}

bool dist_allgather_samples(float *data, int64_t total, size_t sample_floats) {
  if (size_ == 1 || total == 0)
    return true;
  if (total > INT_MAX || sample_floats > INT_MAX) {
    error("the feature cache has more than 2^31 samples or values per "
          "sample: too large to share between ranks");
    return false;
  }
  int *counts = malloc((size_t)size_ * sizeof(int));
  int *displs = malloc((size_t)size_ * sizeof(int));
  if (!counts || !displs) {
    free(counts);
    free(displs);
    error("out of memory");
    return false;
  }
  for (int r = 0; r < size_; ++r) {
    int64_t first = total * r / size_, end = total * (r + 1) / size_;
    displs[r] = (int)first;
    counts[r] = (int)(end - first);
  }
  MPI_Datatype sample;
  bool ok = check(MPI_Type_contiguous((int)sample_floats, MPI_FLOAT, &sample),
                  "MPI_Type_contiguous") &&
            check(MPI_Type_commit(&sample), "MPI_Type_commit");
  if (ok) {
    ok = check(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data, counts,
                              displs, sample, MPI_COMM_WORLD),
               "MPI_Allgatherv of the feature cache");
    MPI_Type_free(&sample);
  }
  free(counts);
  free(displs);
  return ok;
}

/*===-- Gradient buckets --------------------------------------------------===*/

typedef struct bucket {
  float *data;
  size_t capacity, used; /* floats */
  bool started;
} bucket;

typedef struct entry {
  float *data; /* the model's tensor */
  size_t count;
  int bucket;
  size_t offset;
} entry;

struct dist_reducer {
  size_t bucket_floats;
  double weight;
  bucket *buckets;
  int num_buckets, cap_buckets, open; /* open: the bucket being filled */
  entry *entries;
  int num_entries, cap_entries;
  MPI_Request *requests;
  int num_requests, cap_requests;
  bool failed;
  double wait_seconds;
};

dist_reducer *dist_reducer_create(size_t bucket_bytes) {
  dist_reducer *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->bucket_floats = bucket_bytes / sizeof(float);
  if (r->bucket_floats < 1024)
    r->bucket_floats = 1024;
  return r;
}

void dist_reducer_free(dist_reducer *r) {
  if (!r)
    return;
  for (int b = 0; b < r->cap_buckets; ++b)
    free(r->buckets[b].data);
  free(r->buckets);
  free(r->entries);
  free(r->requests);
  free(r);
}

void dist_reducer_begin(dist_reducer *r, double weight) {
  r->weight = weight;
  r->num_buckets = 0;
  r->open = -1;
  r->num_entries = 0;
  r->num_requests = 0;
  r->failed = false;
}

static bool grow(void **p, int *cap, int need, size_t elem) {
  if (need <= *cap)
    return true;
  int n = *cap ? 2 * *cap : 16;
  while (n < need)
    n *= 2;
  void *q = realloc(*p, (size_t)n * elem);
  if (!q)
    return false;
  memset((char *)q + (size_t)*cap * elem, 0, (size_t)(n - *cap) * elem);
  *p = q;
  *cap = n;
  return true;
}

/* Starts the sum of bucket b over the ranks. */
static void start_bucket(dist_reducer *r, int b) {
  bucket *k = &r->buckets[b];
  if (k->started || k->used == 0 || r->failed)
    return;
  k->started = true;
  if (!grow((void **)&r->requests, &r->cap_requests, r->num_requests + 1,
            sizeof(MPI_Request))) {
    error("out of memory for an all-reduce");
    r->failed = true;
    return;
  }
  if (!check(MPI_Iallreduce(MPI_IN_PLACE, k->data, (int)k->used, MPI_FLOAT,
                            MPI_SUM, MPI_COMM_WORLD,
                            &r->requests[r->num_requests]),
             "MPI_Iallreduce of the gradients"))
    r->failed = true;
  else
    ++r->num_requests;
}

/* A bucket with room for `count` more floats (a new one when the open one
 * is full: its all-reduce starts). */
static int bucket_for(dist_reducer *r, size_t count) {
  if (r->open >= 0) {
    bucket *k = &r->buckets[r->open];
    if (k->used + count <= k->capacity)
      return r->open;
    start_bucket(r, r->open);
  }
  int b = r->num_buckets;
  if (!grow((void **)&r->buckets, &r->cap_buckets, b + 1, sizeof(bucket)))
    return -1;
  bucket *k = &r->buckets[b];
  size_t need = count > r->bucket_floats ? count : r->bucket_floats;
  if (k->capacity < need) {
    free(k->data);
    k->data = malloc(need * sizeof(float));
    k->capacity = k->data ? need : 0;
    if (!k->data)
      return -1;
  }
  k->used = 0;
  k->started = false;
  r->num_buckets = b + 1;
  r->open = b;
  return b;
}

/* Copies `count` floats at `data`, times the weight, into a bucket. */
static void add(dist_reducer *r, float *data, size_t count) {
  if (r->failed || count == 0)
    return;
  int b = bucket_for(r, count);
  if (b < 0 || !grow((void **)&r->entries, &r->cap_entries, r->num_entries + 1,
                     sizeof(entry))) {
    error("out of memory for the gradient buckets");
    r->failed = true;
    return;
  }
  bucket *k = &r->buckets[b];
  float w = (float)r->weight;
  float *dst = k->data + k->used;
  for (size_t i = 0; i < count; ++i)
    dst[i] = w * data[i];
  r->entries[r->num_entries++] = (entry){data, count, b, k->used};
  k->used += count;
  if (k->used >= r->bucket_floats)
    start_bucket(r, b);
}

void dist_reducer_hook(void *user, const cnnc_train_tensor *t) {
  dist_reducer *r = user;
  add(r, t->data, t->count);
  /* Lets MPI progress the buckets in flight. */
  if (r->num_requests > 0 && !r->failed) {
    int done = 0;
    MPI_Testall(r->num_requests, r->requests, &done, MPI_STATUSES_IGNORE);
  }
}

bool dist_reducer_finish(dist_reducer *r, const cnnc_train_tensor *tensors,
                         int32_t num_tensors, double *scalars, int count) {
  /* Every gradient went through the hook, in the same order on every
   * rank; the running statistics follow in the last bucket. */
  int hooked = r->num_entries;
  for (int32_t i = 0; i < num_tensors && !r->failed; ++i) {
    const cnnc_train_tensor *t = &tensors[i];
    if (t->kind != CNNC_TRAIN_GRADIENT) {
      add(r, t->data, t->count);
      continue;
    }
    bool seen = false;
    for (int e = 0; e < hooked && !seen; ++e)
      seen = r->entries[e].data == t->data && r->entries[e].count == t->count;
    if (!seen) {
      error("internal error: the gradient of parameter %d did not reach the "
            "gradient hook",
            (int)t->param);
      return false;
    }
  }
  if (r->open >= 0)
    start_bucket(r, r->open);
  double start = now_seconds();
  bool ok = !r->failed;
  if (ok && r->num_requests > 0)
    ok = check(MPI_Waitall(r->num_requests, r->requests, MPI_STATUSES_IGNORE),
               "MPI_Waitall of the gradient all-reduce");
  if (ok && count > 0)
    ok = dist_sum_doubles(scalars, count);
  r->wait_seconds += now_seconds() - start;
  if (!ok)
    return false;
  for (int e = 0; e < r->num_entries; ++e) {
    const entry *x = &r->entries[e];
    memcpy(x->data, r->buckets[x->bucket].data + x->offset,
           x->count * sizeof(float));
  }
  return true;
}

double dist_reducer_wait_seconds(const dist_reducer *r) {
  return r->wait_seconds;
}
