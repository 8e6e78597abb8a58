/*===- features.c - the feature cache of cnnc-train -----------------------===*
 *
 * When only layers after a frozen prefix train (and the inputs are not
 * augmented, which cnnc-train never does), the prefix's output for a sample
 * is the same at every step. The cache computes it once per training sample
 * (through the model's compute_features) and the steps train on it
 * (train_step_features). It lives in memory, or in an unlinked temporary
 * file mapped into memory when it is larger than --cache-memory.
 *
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L

#include "cnnc/tool_support.h"
#include "dist.h"
#include "train.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHUNK 256

void feature_cache_free(feature_cache *c) {
  if (c->data) {
    if (c->mapped)
      munmap(c->data, c->bytes);
    else
      free(c->data);
  }
  memset(c, 0, sizeof *c);
}

/* Storage for `bytes`: memory, or a mapped temporary file. */
static bool cache_alloc(feature_cache *c, size_t bytes, bool to_file) {
  c->bytes = bytes;
  if (!to_file) {
    c->data = malloc(bytes ? bytes : 1);
    if (c->data)
      return true;
  }
  const char *dir = getenv("TMPDIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/cnnc-feature-cache-XXXXXX",
           dir && *dir ? dir : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0) {
    error("feature cache: cannot create a file in %s: %s",
          dir && *dir ? dir : "/tmp", strerror(errno));
    return false;
  }
  unlink(path); /* gone when the process ends, whatever happens */
  void *p = MAP_FAILED;
  if (ftruncate(fd, (off_t)bytes) == 0)
    p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
             0);
  int err = errno;
  close(fd);
  if (p == MAP_FAILED) {
    error("feature cache: cannot map %zu bytes: %s", bytes, strerror(err));
    return false;
  }
  c->data = p;
  c->mapped = true;
  return true;
}

int feature_cache_build(session *s, feature_cache *c, bool quiet) {
  const options *opts = s->opts;
  const cnnc_model_api *api = s->api;
  feature_cache_free(c);
  if (opts->cache == CACHE_OFF || !api->feature_info)
    return 0;
  if (api->feature_info(s->model, &c->info) != CNNC_OK) {
    if (opts->cache == CACHE_FILE && !quiet)
      note("feature cache not used: %s", api->last_error(s->model));
    return 0;
  }
  int64_t per = 1;
  for (int32_t d = 1; d < c->info.rank; ++d)
    per *= c->info.dims[d];
  int64_t count = s->train_images.count;
  c->sample_floats = (size_t)per;
  size_t bytes = (size_t)per * (size_t)count * sizeof(float);
  bool to_file = opts->cache == CACHE_FILE ||
                 bytes > (size_t)opts->cache_memory_mb * 1024 * 1024;
  if (!cache_alloc(c, bytes, to_file))
    return -1;
  double start = now_seconds();
  size_t sample = (size_t)s->input_sample_elements;
  float *images = malloc((size_t)CHUNK * sample * sizeof(float));
  int64_t *indices = malloc(CHUNK * sizeof(int64_t));
  if (!images || !indices) {
    free(images);
    free(indices);
    feature_cache_free(c);
    error("feature cache: out of memory");
    return -1;
  }
  /* Several ranks: each computes its share, then all share them. */
  int64_t lo = count * dist_rank() / dist_size();
  int64_t hi = count * (dist_rank() + 1) / dist_size();
  for (int64_t first = lo; first < hi; first += CHUNK) {
    int64_t n = hi - first < CHUNK ? hi - first : CHUNK;
    for (int64_t i = 0; i < n; ++i)
      indices[i] = first + i;
    cnnc_dataset_gather_images(&s->train_images, indices, n, opts->mean,
                               opts->std, images);
    const void *inputs[1] = {images};
    size_t input_bytes[1] = {(size_t)n * sample * sizeof(float)};
    int status = api->compute_features(s->model, n, inputs, input_bytes,
                                       c->data + (size_t)first * per,
                                       (size_t)n * (size_t)per * sizeof(float));
    if (status != CNNC_OK) {
      error("feature cache: samples %lld..%lld: %s", (long long)first,
            (long long)(first + n - 1), api->last_error(s->model));
      free(images);
      free(indices);
      feature_cache_free(c);
      return -1;
    }
  }
  free(images);
  free(indices);
  if (!dist_allgather_samples(c->data, count, c->sample_floats)) {
    feature_cache_free(c);
    return -1;
  }
  c->active = true;
  if (!quiet) {
    char shape[128];
    cnnc_format_shape(shape, sizeof shape, c->info.rank, c->info.dims);
    printf("feature cache: the frozen layers' output '%s' %s of %lld samples "
           "computed once (%.1f MiB %s, %.2f s%s); only the layers after "
           "it run per step\n",
           c->info.name, shape, (long long)count,
           (double)bytes / (1024.0 * 1024.0),
           c->mapped ? "in a temporary file" : "in memory",
           now_seconds() - start,
           dist_size() > 1 ? ", shared by the ranks" : "");
    fflush(stdout);
  }
  return 1;
}

void feature_cache_gather(const feature_cache *c, const int64_t *indices,
                          int64_t n, float *out) {
  for (int64_t i = 0; i < n; ++i)
    memcpy(out + (size_t)i * c->sample_floats,
           c->data + (size_t)indices[i] * c->sample_floats,
           c->sample_floats * sizeof(float));
}
