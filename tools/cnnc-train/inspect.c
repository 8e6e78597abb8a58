/*===- inspect.c - cnnc-train --inspect-data ------------------------------===*
 *
 * Describes data files without a model, so a user can check a download (or
 * a conversion) before training:
 *
 *   t10k-images-idx3-ubyte.gz: 10000 images of 28x28 (IDX ubyte, gzip),
 *     values 0..255
 *   t10k-labels-idx1-ubyte.gz: 10000 labels, classes 0..9 (IDX ubyte,
 *     gzip), per class 1000 1000 ...
 *
 * Integer files of rank 1 are labels; uint8 and float files of higher rank
 * are images.
 *
 *===----------------------------------------------------------------------===*/
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Classes whose counts are listed; above, only the range is printed. */
#define MAX_LISTED_CLASSES 32

static void print_labels(const char *path, const cnnc_dataset *d) {
  int64_t min, max;
  cnnc_dataset_label_range(d, &min, &max);
  printf("%s: %lld labels, classes %lld..%lld (%s)", path, (long long)d->count,
         (long long)min, (long long)max, d->format);
  if (min >= 0 && max - min + 1 <= MAX_LISTED_CLASSES) {
    int64_t counts[MAX_LISTED_CLASSES] = {0};
    int64_t *all = malloc((size_t)d->count * sizeof(int64_t));
    int64_t *indices = malloc((size_t)d->count * sizeof(int64_t));
    if (all && indices) {
      for (int64_t i = 0; i < d->count; ++i)
        indices[i] = i;
      cnnc_dataset_gather_labels(d, indices, d->count, all);
      for (int64_t i = 0; i < d->count; ++i)
        ++counts[all[i] - min];
      printf(", per class");
      for (int64_t c = 0; c <= max - min; ++c)
        printf(" %lld", (long long)counts[c]);
    }
    free(all);
    free(indices);
  }
  printf("\n");
}

static void print_samples(const char *path, const cnnc_dataset *d) {
  char shape[256] = "";
  size_t n = 0;
  for (int32_t i = 1; i < d->rank && n < sizeof(shape); ++i)
    n += (size_t)snprintf(shape + n, sizeof(shape) - n, "%s%lld",
                          i > 1 ? "x" : "", (long long)d->dims[i]);
  if (d->rank == 1)
    snprintf(shape, sizeof(shape), "1 value");
  const char *what = d->type == CNNC_DATASET_I64 ? "samples" : "images";
  printf("%s: %lld %s of %s (%s)", path, (long long)d->count, what, shape,
         d->format);
  int64_t total = d->count * d->sample_elements;
  if (total > 0 && d->type == CNNC_DATASET_U8) {
    const uint8_t *v = d->data;
    uint8_t lo = v[0], hi = v[0];
    for (int64_t i = 1; i < total; ++i) {
      lo = v[i] < lo ? v[i] : lo;
      hi = v[i] > hi ? v[i] : hi;
    }
    printf(", values %d..%d (scaled to [0, 1] for training)", lo, hi);
  } else if (total > 0 && d->type == CNNC_DATASET_F32) {
    const float *v = d->data;
    double lo = INFINITY, hi = -INFINITY;
    int64_t non_finite = 0;
    for (int64_t i = 0; i < total; ++i) {
      if (!isfinite(v[i])) {
        ++non_finite;
        continue;
      }
      lo = v[i] < lo ? v[i] : lo;
      hi = v[i] > hi ? v[i] : hi;
    }
    if (non_finite < total)
      printf(", values %g..%g", lo, hi);
    if (non_finite)
      printf(", %lld NaN or infinite values", (long long)non_finite);
  }
  printf("\n");
}

int inspect_data(const char *const *paths, int count) {
  for (int i = 0; i < count; ++i) {
    cnnc_dataset d;
    char msg[1024];
    if (cnnc_dataset_read(paths[i], &d, msg, sizeof(msg)) != CNNC_OK) {
      error("%s", msg);
      return 1;
    }
    bool labels = d.rank == 1 && d.type != CNNC_DATASET_F32;
    if (labels)
      print_labels(paths[i], &d);
    else
      print_samples(paths[i], &d);
    cnnc_dataset_free(&d);
  }
  fflush(stdout);
  return 0;
}
