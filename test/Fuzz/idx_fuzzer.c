/*===- idx_fuzzer.c - fuzz the data set reader (runtime/src/tools/dataset.c) ----===*
 *
 * cnnc_dataset_read on IDX and .npy files, plain or gzip-compressed: the
 * first input byte picks the container (even: the rest of the input as the
 * file; odd: the rest gzip-compressed, so the fuzzer reaches the IDX parser
 * behind zlib too). A data set that reads is checked as images and labels
 * and gathered, as cnnc-train does; nothing may crash, and a read that
 * succeeds has as many values as its dims say.
 *
 *===----------------------------------------------------------------------===*/
#include "cnnc/dataset.h"
#include "fuzz_support.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* gzip of `data` (deflate with a gzip header), malloc'ed. */
static unsigned char *gzip(const uint8_t *data, size_t size, size_t *out) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    abort();
  size_t cap = deflateBound(&z, size) + 32;
  unsigned char *buf = malloc(cap);
  if (!buf)
    abort();
  z.next_in = (unsigned char *)data;
  z.avail_in = (uInt)size;
  z.next_out = buf;
  z.avail_out = (uInt)cap;
  if (deflate(&z, Z_FINISH) != Z_STREAM_END)
    abort();
  *out = z.total_out;
  deflateEnd(&z);
  return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > (1u << 20))
    return 0;
  const char *path;
  if (data[0] & 1) {
    size_t zsize;
    unsigned char *z = gzip(data + 1, size - 1, &zsize);
    path = cnnc_fuzz_write_file("data.gz", z, zsize);
    free(z);
  } else {
    path = cnnc_fuzz_write_file("data", data + 1, size - 1);
  }
  cnnc_dataset set;
  memset(&set, 0, sizeof set);
  char err[512];
  if (cnnc_dataset_read(path, &set, err, sizeof err) != CNNC_OK) {
    if (set.data || !err[0])
      abort();
    return 0;
  }
  if (set.rank < 1 || set.rank > CNNC_MAX_RANK || set.count != set.dims[0] ||
      set.count < 0)
    abort();
  int64_t sample = 1;
  bool overflow = false;
  for (int32_t i = 1; i < set.rank; ++i)
    overflow |= __builtin_mul_overflow(sample, set.dims[i], &sample);
  if (overflow || sample != set.sample_elements)
    abort(); /* the reader accepted dims whose product does not fit */
  char shape[128];
  cnnc_dataset_format_shape(&set, shape, sizeof shape);
  if (cnnc_dataset_check_images(&set, path, err, sizeof err) == CNNC_OK &&
      set.count > 0 && sample <= (1 << 16)) {
    /* The first and the last sample, as a batch of two. */
    int64_t indices[2] = {0, set.count - 1};
    float *batch = malloc(2 * (size_t)sample * sizeof(float) + 1);
    if (!batch)
      abort();
    cnnc_dataset_gather_images(&set, indices, 2, 0.f, 1.f, batch);
    free(batch);
  }
  if (cnnc_dataset_check_labels(&set, path, 10, err, sizeof err) == CNNC_OK &&
      set.count > 0) {
    int64_t min, max, indices[2] = {set.count - 1, 0}, labels[2];
    cnnc_dataset_label_range(&set, &min, &max);
    cnnc_dataset_gather_labels(&set, indices, 2, labels);
  }
  cnnc_dataset_free(&set);
  return 0;
}
