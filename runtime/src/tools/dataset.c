/*===- dataset.c - read training data: IDX and .npy files -----------------===*
 *
 * IDX reference: http://yann.lecun.com/exdb/mnist/ ("THE IDX FILE FORMAT").
 * Both plain and gzip-compressed files go through zlib's gz* interface,
 * which reads a file without a gzip header as is ("transparent" mode), so
 * one code path handles both; only the size checks differ.
 *
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L

#include "cnnc/dataset.h"
#include "cnnc/npy.h"
#include "cnnc/tool_support.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef CNNC_HAVE_ZLIB
#include <zlib.h>
#else
#include "plain_gz.h"
#endif

#define IDX_MAGIC_LEN 4
/* Deflate cannot expand data by more than 1032:1 (zlib's FAQ); anything a
 * header claims beyond that (plus room for gzip headers) is a lie, which is
 * caught before allocating. */
#define DEFLATE_MAX_RATIO 1032u
#define GZIP_SLACK (1u << 16)
/* gzread takes an unsigned int; read at most this much per call. */
#define READ_CHUNK (1u << 20)
/* A gzip stream's buffer starts this small and doubles as data arrives. */
#define GZIP_INITIAL_BUFFER (1u << 20)

void cnnc_dataset_free(cnnc_dataset *dataset) {
  if (!dataset)
    return;
  free(dataset->data);
  memset(dataset, 0, sizeof(*dataset));
}

void cnnc_dataset_format_shape(const cnnc_dataset *dataset, char *buf,
                               size_t len) {
  cnnc_format_shape(buf, len, dataset->rank, dataset->dims);
}

/* Fills in count and sample_elements from rank and dims; false when the
 * elements of one sample overflow (a file of 0 samples needs no data, so its
 * other dims were never checked against the file's size). */
static bool set_counts(cnnc_dataset *out) {
  out->count = out->dims[0];
  out->sample_elements = 1;
  for (int32_t d = 1; d < out->rank; ++d) {
    if (out->dims[d] < 0 ||
        (out->dims[d] && out->sample_elements > INT32_MAX / out->dims[d]))
      return false;
    out->sample_elements *= out->dims[d];
  }
  return true;
}

/*===-- IDX ---------------------------------------------------------------===*/

typedef struct idx_type {
  uint8_t code;
  const char *name;
  size_t size;
  cnnc_dataset_type type;
} idx_type;

static const idx_type idx_types[] = {
    {0x08, "ubyte", 1, CNNC_DATASET_U8},  {0x09, "sbyte", 1, CNNC_DATASET_I64},
    {0x0B, "short", 2, CNNC_DATASET_I64}, {0x0C, "int", 4, CNNC_DATASET_I64},
    {0x0D, "float", 4, CNNC_DATASET_F32}, {0x0E, "double", 8, CNNC_DATASET_F32},
};

static const idx_type *find_idx_type(uint8_t code) {
  for (size_t i = 0; i < sizeof(idx_types) / sizeof(idx_types[0]); ++i)
    if (idx_types[i].code == code)
      return &idx_types[i];
  return NULL;
}

static uint64_t read_be(const unsigned char *p, size_t n) {
  uint64_t value = 0;
  for (size_t i = 0; i < n; ++i)
    value = value << 8 | p[i];
  return value;
}

/* Reads up to n bytes; returns the count, or -1 on a gzip error. */
static int64_t gz_read_up_to(gzFile gz, unsigned char *buf, size_t n) {
  size_t have = 0;
  while (have < n) {
    size_t want = n - have < READ_CHUNK ? n - have : READ_CHUNK;
    int got = gzread(gz, buf + have, (unsigned)want);
    if (got < 0)
      return -1;
    if (got == 0)
      break;
    have += (size_t)got;
  }
  return (int64_t)have;
}

/* The reason of the last gzread failure or early end, for messages. */
static const char *gz_reason(gzFile gz, bool *stream_error) {
  int code = Z_OK;
  const char *message = gzerror(gz, &code);
  *stream_error = code != Z_OK;
  if (code == Z_ERRNO)
    return strerror(errno);
  if (!message || !*message)
    return "unknown error";
  /* zlib prefixes the name it knows the file by, "<fd:3>: ". */
  const char *rest = strstr(message, ">: ");
  return strncmp(message, "<fd:", 4) == 0 && rest ? rest + 3 : message;
}

/* Converts `count` big-endian IDX elements of `t` to the dataset type. */
static void convert_idx(const idx_type *t, const unsigned char *in,
                        int64_t count, void *out) {
  for (int64_t i = 0; i < count; ++i) {
    const unsigned char *p = in + (size_t)i * t->size;
    uint64_t bits = read_be(p, t->size);
    switch (t->code) {
    case 0x09:
      ((int64_t *)out)[i] = (int8_t)bits;
      break;
    case 0x0B:
      ((int64_t *)out)[i] = (int16_t)bits;
      break;
    case 0x0C:
      ((int64_t *)out)[i] = (int32_t)bits;
      break;
    case 0x0D: {
      uint32_t narrow = (uint32_t)bits;
      float f;
      memcpy(&f, &narrow, sizeof(f));
      ((float *)out)[i] = f;
      break;
    }
    case 0x0E: {
      double d;
      memcpy(&d, &bits, sizeof(d));
      /* Out of float range: an infinity (checked by check_images), not the
       * undefined behaviour of a plain conversion. */
      if (isfinite(d) && fabs(d) > FLT_MAX)
        ((float *)out)[i] = d > 0 ? INFINITY : -INFINITY;
      else
        ((float *)out)[i] = (float)d;
      break;
    }
    }
  }
}

typedef struct idx_reader {
  const char *path;
  gzFile gz;
  bool gzip;
  off_t file_size;
  char *err;
  size_t err_len;
} idx_reader;

/* Reads the dims and elements after the 4 magic bytes into `out`. */
static int read_idx(idx_reader *r, const unsigned char magic[4],
                    cnnc_dataset *out) {
  const char *path = r->path;
  const char *how = r->gzip ? " (after gzip decompression)" : "";
  const idx_type *t = find_idx_type(magic[2]);
  int32_t rank = magic[3];
  if (rank > CNNC_MAX_RANK)
    return cnnc_fail(r->err, r->err_len, CNNC_ERROR_UNSUPPORTED,
                     "%s: IDX rank %d is above the supported maximum of %d",
                     path, (int)rank, CNNC_MAX_RANK);

  unsigned char header[4 * CNNC_MAX_RANK];
  size_t header_len = 4 * (size_t)rank;
  int64_t got = gz_read_up_to(r->gz, header, header_len);
  if (got < (int64_t)header_len)
    return cnnc_fail(
        r->err, r->err_len, CNNC_ERROR_IO,
        "%s: truncated IDX header: rank %d needs %zu bytes of dims, "
        "the file has %lld%s",
        path, (int)rank, header_len, (long long)(got < 0 ? 0 : got), how);

  out->rank = rank;
  uint64_t elements = 1;
  bool absurd = false;
  for (int32_t d = 0; d < rank; ++d) {
    uint64_t dim = read_be(header + 4 * d, 4);
    out->dims[d] = (int64_t)dim;
    /* IDX dims are 32-bit; 2^31 and above are never real sizes. */
    if (dim > INT32_MAX)
      absurd = true;
    else if (dim != 0 && elements > (UINT64_MAX >> 4) / dim)
      absurd = true;
    else
      elements *= dim;
  }
  char shape[256];
  cnnc_format_shape(shape, sizeof(shape), rank, out->dims);
  if (absurd || elements > (uint64_t)INT64_MAX / 8 ||
      elements * t->size > (uint64_t)SIZE_MAX)
    return cnnc_fail(r->err, r->err_len, CNNC_ERROR_IO,
                     "%s: absurd IDX header: shape %s of %s is far larger than "
                     "any file",
                     path, shape, t->name);
  uint64_t data_bytes = elements * t->size;
  uint64_t header_bytes = IDX_MAGIC_LEN + header_len;

  /* Sizes are checked against the file before anything is allocated. */
  uint64_t file_size = (uint64_t)r->file_size;
  if (!r->gzip) {
    uint64_t available = file_size - header_bytes;
    if (data_bytes > available)
      return cnnc_fail(
          r->err, r->err_len, CNNC_ERROR_IO,
          "%s: truncated data: shape %s of %s needs %llu bytes, the "
          "file has %llu after the header",
          path, shape, t->name, (unsigned long long)data_bytes,
          (unsigned long long)available);
    if (data_bytes < available)
      return cnnc_fail(
          r->err, r->err_len, CNNC_ERROR_IO,
          "%s: %llu bytes of trailing data after the %llu bytes of "
          "shape %s of %s",
          path, (unsigned long long)(available - data_bytes),
          (unsigned long long)data_bytes, shape, t->name);
  } else if (data_bytes > file_size * DEFLATE_MAX_RATIO + GZIP_SLACK) {
    return cnnc_fail(
        r->err, r->err_len, CNNC_ERROR_IO,
        "%s: truncated or corrupt: shape %s of %s needs %llu bytes, "
        "more than a gzip file of %llu bytes can hold",
        path, shape, t->name, (unsigned long long)data_bytes,
        (unsigned long long)file_size);
  }

  /* A gzip stream's buffer grows only as data arrives, so a header that
   * lies within the deflate bound still costs no more than the data. */
  size_t capacity = (size_t)data_bytes;
  if (r->gzip && capacity > GZIP_INITIAL_BUFFER)
    capacity = GZIP_INITIAL_BUFFER;
  unsigned char *raw = malloc(capacity ? capacity : 1);
  if (!raw)
    return cnnc_fail(r->err, r->err_len, CNNC_ERROR_OUT_OF_MEMORY,
                     "%s: out of memory for %zu bytes", path, capacity);
  size_t have = 0;
  bool read_error = false;
  while (have < data_bytes) {
    if (have == capacity) {
      size_t grown =
          capacity * 2 < data_bytes ? capacity * 2 : (size_t)data_bytes;
      unsigned char *bigger = realloc(raw, grown);
      if (!bigger) {
        free(raw);
        return cnnc_fail(r->err, r->err_len, CNNC_ERROR_OUT_OF_MEMORY,
                         "%s: out of memory for %zu bytes", path, grown);
      }
      raw = bigger;
      capacity = grown;
    }
    int64_t n = gz_read_up_to(r->gz, raw + have, capacity - have);
    if (n < 0) {
      read_error = true;
      break;
    }
    if (n == 0)
      break;
    have += (size_t)n;
  }
  if (have < data_bytes || read_error) {
    bool stream_error;
    const char *reason = gz_reason(r->gz, &stream_error);
    free(raw);
    if (read_error || (r->gzip && stream_error))
      return cnnc_fail(
          r->err, r->err_len, CNNC_ERROR_IO,
          "%s: %s after %zu of the %llu data bytes of shape %s of "
          "%s: %s",
          path, r->gzip ? "corrupt or truncated gzip stream" : "error", have,
          (unsigned long long)data_bytes, shape, t->name, reason);
    return cnnc_fail(r->err, r->err_len, CNNC_ERROR_IO,
                     "%s: truncated data: shape %s of %s needs %llu bytes, the "
                     "file has %zu after the header%s",
                     path, shape, t->name, (unsigned long long)data_bytes, have,
                     how);
  }
  /* Reading on to the end also makes zlib verify the gzip checksum. */
  unsigned char extra;
  int64_t more = gz_read_up_to(r->gz, &extra, 1);
  if (more != 0) {
    bool stream_error;
    const char *reason = gz_reason(r->gz, &stream_error);
    free(raw);
    if (more < 0)
      return cnnc_fail(r->err, r->err_len, CNNC_ERROR_IO,
                       "%s: corrupt gzip stream after the data: %s", path,
                       reason);
    return cnnc_fail(
        r->err, r->err_len, CNNC_ERROR_IO,
        "%s: trailing data after the %llu bytes of shape %s of %s%s", path,
        (unsigned long long)data_bytes, shape, t->name, how);
  }

  out->type = t->type;
  if (!set_counts(out)) {
    free(raw);
    return cnnc_fail(r->err, r->err_len, CNNC_ERROR_IO,
                     "%s: absurd IDX header: samples of shape %s are far "
                     "larger than any file",
                     path, shape);
  }
  snprintf(out->format, sizeof(out->format), "IDX %s%s", t->name,
           r->gzip ? ", gzip" : "");
  if (t->type == CNNC_DATASET_U8) {
    out->data = raw;
    return CNNC_OK;
  }
  size_t value_size = t->type == CNNC_DATASET_F32 ? sizeof(float) : 8;
  out->data = malloc(elements ? (size_t)elements * value_size : 1);
  if (!out->data) {
    free(raw);
    return cnnc_fail(r->err, r->err_len, CNNC_ERROR_OUT_OF_MEMORY,
                     "%s: out of memory for %llu values", path,
                     (unsigned long long)elements);
  }
  convert_idx(t, raw, (int64_t)elements, out->data);
  free(raw);
  return CNNC_OK;
}

/*===-- .npy --------------------------------------------------------------===*/

static int read_npy(const char *path, cnnc_dataset *out, char *err,
                    size_t err_len) {
  cnnc_npy_array array;
  memset(&array, 0, sizeof(array));
  int status = cnnc_npy_read(path, &array, err, err_len);
  if (status != CNNC_OK)
    return status;
  if (array.rank == 0) {
    cnnc_npy_free(&array);
    return cnnc_fail(
        err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
        "%s: a scalar holds no samples; expected an array of shape "
        "(N, ...)",
        path);
  }
  out->rank = array.rank;
  memcpy(out->dims, array.dims, sizeof(out->dims));
  if (!set_counts(out)) {
    cnnc_npy_free(&array);
    return cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                     "%s: samples of more than 2^31 elements are not "
                     "supported",
                     path);
  }
  snprintf(out->format, sizeof(out->format), "NPY '%s'", array.file_descr);
  if (array.dtype == CNNC_DTYPE_F32) {
    out->type = CNNC_DATASET_F32;
  } else if (strcmp(array.file_descr, "|u1") == 0) {
    /* Images stored as uint8 are scaled like IDX ubyte ones. */
    uint8_t *bytes =
        malloc(array.num_elements ? (size_t)array.num_elements : 1);
    if (!bytes) {
      cnnc_npy_free(&array);
      return cnnc_fail(err, err_len, CNNC_ERROR_OUT_OF_MEMORY,
                       "%s: out of memory", path);
    }
    const int64_t *wide = array.data;
    for (int64_t i = 0; i < array.num_elements; ++i)
      bytes[i] = (uint8_t)wide[i];
    cnnc_npy_free(&array);
    out->type = CNNC_DATASET_U8;
    out->data = bytes;
    return CNNC_OK;
  } else {
    out->type = CNNC_DATASET_I64;
  }
  out->data = array.data; /* ownership moves to `out` */
  return CNNC_OK;
}

/*===-- Entry points ------------------------------------------------------===*/

int cnnc_dataset_read(const char *path, cnnc_dataset *out, char *err,
                      size_t err_len) {
  if (!path || !out)
    return cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                     "cnnc_dataset_read: null argument");
  memset(out, 0, sizeof(*out));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cnnc_fail(err, err_len, CNNC_ERROR_IO, "%s: cannot open: %s", path,
                     strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    bool dir = S_ISDIR(st.st_mode);
    close(fd);
    return cnnc_fail(err, err_len, CNNC_ERROR_IO, "%s: %s", path,
                     dir ? "is a directory" : "not a regular file");
  }
  gzFile gz = gzdopen(fd, "rb");
  if (!gz) {
    close(fd);
    return cnnc_fail(err, err_len, CNNC_ERROR_OUT_OF_MEMORY,
                     "%s: out of memory", path);
  }
  idx_reader r = {path, gz, false, st.st_size, err, err_len};
  unsigned char magic[IDX_MAGIC_LEN];
  int64_t got = gz_read_up_to(gz, magic, sizeof(magic));
  r.gzip = !gzdirect(gz);
  int status;
  if (got < 0) {
    bool stream_error;
    status = cnnc_fail(err, err_len, CNNC_ERROR_IO, "%s: %s%s", path,
                       r.gzip ? "corrupt gzip stream: " : "",
                       gz_reason(gz, &stream_error));
  } else if (got >= 4 && memcmp(magic, "\x93NUM", 4) == 0) {
    if (r.gzip)
      status = cnnc_fail(err, err_len, CNNC_ERROR_UNSUPPORTED,
                         "%s: a gzip-compressed .npy file; decompress it first "
                         "(only IDX files are read compressed)",
                         path);
    else
      status = CNNC_OK; /* read below, once the gz handle is closed */
  } else if (got < IDX_MAGIC_LEN) {
    status = cnnc_fail(err, err_len, CNNC_ERROR_IO,
                       "%s: too short to be an IDX or .npy file (%lld bytes%s)",
                       path, (long long)got,
                       r.gzip ? " after gzip decompression" : "");
  } else if (magic[0] != 0 || magic[1] != 0 || !find_idx_type(magic[2]) ||
             magic[3] == 0) {
    status =
        cnnc_fail(err, err_len, CNNC_ERROR_IO,
                  "%s: not an IDX or .npy file: it starts with %02x %02x %02x "
                  "%02x%s; IDX files start with 00 00 TYPE RANK (TYPE 08 "
                  "ubyte, 09 sbyte, 0b short, 0c int, 0d float, 0e double; "
                  "RANK > 0), .npy files with \\x93NUMPY",
                  path, magic[0], magic[1], magic[2], magic[3],
                  r.gzip ? " after gzip decompression" : "");
  } else {
    status = read_idx(&r, magic, out);
    gzclose(gz);
    if (status != CNNC_OK)
      cnnc_dataset_free(out);
    return status;
  }
  gzclose(gz);
  if (status != CNNC_OK)
    return status;
  status = read_npy(path, out, err, err_len);
  if (status != CNNC_OK)
    cnnc_dataset_free(out);
  return status;
}

int cnnc_dataset_check_images(const cnnc_dataset *images, const char *path,
                              char *err, size_t err_len) {
  if (images->count < 1)
    return cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                     "%s: holds no samples", path);
  if (images->type == CNNC_DATASET_I64)
    return cnnc_fail(
        err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
        "%s: holds integers (%s), not images: images must be uint8 "
        "or floating-point (are images and labels swapped?)",
        path, images->format);
  if (images->type == CNNC_DATASET_F32) {
    const float *values = images->data;
    int64_t total = images->count * images->sample_elements;
    for (int64_t i = 0; i < total; ++i)
      if (!isfinite(values[i]))
        return cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                         "%s: sample %lld holds a NaN or infinite value", path,
                         (long long)(i / images->sample_elements));
  }
  return CNNC_OK;
}

static int64_t label_at(const cnnc_dataset *labels, int64_t i) {
  if (labels->type == CNNC_DATASET_U8)
    return ((const uint8_t *)labels->data)[i];
  return ((const int64_t *)labels->data)[i];
}

int cnnc_dataset_check_labels(const cnnc_dataset *labels, const char *path,
                              int64_t num_classes, char *err, size_t err_len) {
  if (labels->count < 1)
    return cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                     "%s: holds no samples", path);
  if (labels->type == CNNC_DATASET_F32)
    return cnnc_fail(
        err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
        "%s: holds floating-point values (%s); labels must be integer "
        "class indices (are images and labels swapped?)",
        path, labels->format);
  if (labels->rank != 1) {
    char shape[256];
    cnnc_format_shape(shape, sizeof(shape), labels->rank, labels->dims);
    return cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                     "%s: labels must have shape (N,), the file has shape %s "
                     "(are images and labels swapped?)",
                     path, shape);
  }
  if (num_classes > 0)
    for (int64_t i = 0; i < labels->count; ++i) {
      int64_t label = label_at(labels, i);
      if (label < 0 || label >= num_classes)
        return cnnc_fail(
            err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
            "%s: sample %lld has label %lld, outside the model's %lld "
            "classes 0..%lld",
            path, (long long)i, (long long)label, (long long)num_classes,
            (long long)(num_classes - 1));
    }
  return CNNC_OK;
}

void cnnc_dataset_label_range(const cnnc_dataset *labels, int64_t *min,
                              int64_t *max) {
  *min = 0;
  *max = -1;
  for (int64_t i = 0; i < labels->count; ++i) {
    int64_t label = label_at(labels, i);
    if (i == 0 || label < *min)
      *min = label;
    if (i == 0 || label > *max)
      *max = label;
  }
}

void cnnc_dataset_gather_images(const cnnc_dataset *images,
                                const int64_t *indices, int64_t n, float mean,
                                float std, float *out) {
  size_t sample = (size_t)images->sample_elements;
  if (images->type == CNNC_DATASET_U8) {
    /* The same float32 arithmetic as numpy's (x / 255 - mean) / std. */
    float table[256];
    for (int v = 0; v < 256; ++v)
      table[v] = ((float)v / 255.0f - mean) / std;
    const uint8_t *bytes = images->data;
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t *in = bytes + (size_t)indices[i] * sample;
      float *dst = out + (size_t)i * sample;
      for (size_t j = 0; j < sample; ++j)
        dst[j] = table[in[j]];
    }
    return;
  }
  const float *values = images->data;
  bool identity = mean == 0.0f && std == 1.0f;
  for (int64_t i = 0; i < n; ++i) {
    const float *in = values + (size_t)indices[i] * sample;
    float *dst = out + (size_t)i * sample;
    if (identity) {
      memcpy(dst, in, sample * sizeof(float));
      continue;
    }
    for (size_t j = 0; j < sample; ++j)
      dst[j] = (in[j] - mean) / std;
  }
}

void cnnc_dataset_gather_labels(const cnnc_dataset *labels,
                                const int64_t *indices, int64_t n,
                                int64_t *out) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = label_at(labels, indices[i]);
}
