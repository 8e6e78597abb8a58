/*===- dataset.h - read training data: IDX and .npy files -----------------===*
 *
 * The data loader of cnnc-train. A data set is one file holding N samples
 * along its first dimension, in one of two containers, recognized by their
 * magic bytes (never by the file name):
 *
 *   IDX   the format of MNIST and Fashion-MNIST: a big-endian header
 *         00 00 TYPE RANK, RANK u32 dims, then the elements, big-endian.
 *         Plain or gzip-compressed (.gz), decompressed while reading.
 *         TYPE 0x08 ubyte       -> CNNC_DATASET_U8
 *              0x09 0x0B 0x0C   -> CNNC_DATASET_I64 (sbyte, short, int)
 *              0x0D 0x0E        -> CNNC_DATASET_F32 (float, double rounded)
 *   .npy  read with cnnc_npy_read (see npy.h for the dtypes): float files
 *         -> F32, '|u1' -> U8, other integer files -> I64. Not compressed.
 *
 * Images are U8 (scaled to [0, 1] when gathered) or F32; labels are U8 or
 * I64 of rank 1. Everything read is treated as hostile: every size in a
 * header is checked against the file size (for gzip, against the most that
 * deflate can expand the file to) before anything is allocated, and the
 * buffer of a gzip stream only grows as decompressed data arrives.
 *
 * Functions that can fail return a cnnc_status and write a one-line
 * message starting with the file name to `err` (which may be NULL); the
 * library never prints, exits or aborts:
 *   CNNC_ERROR_IO                cannot open or read the file, or it is not
 *                                a well-formed IDX or .npy file (wrong
 *                                magic, truncated, trailing data, corrupt
 *                                gzip stream, absurd dims)
 *   CNNC_ERROR_UNSUPPORTED       a well-formed file this reader does not
 *                                handle (rank above CNNC_MAX_RANK,
 *                                gzip-compressed .npy)
 *   CNNC_ERROR_INVALID_ARGUMENT  data of the wrong kind for its role
 *                                (float labels, NaN pixels, a label out of
 *                                range)
 *   CNNC_ERROR_OUT_OF_MEMORY
 *
 *===----------------------------------------------------------------------===*/
#ifndef CNNC_DATASET_H
#define CNNC_DATASET_H

#include "cnnc/model_abi.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cnnc_dataset_type {
  CNNC_DATASET_U8 = 1,
  CNNC_DATASET_F32 = 2,
  CNNC_DATASET_I64 = 3
} cnnc_dataset_type;

/* Samples read from a file. Zero-initialize before the first read; release
 * with cnnc_dataset_free. */
typedef struct cnnc_dataset {
  cnnc_dataset_type type;      /* of `data` */
  int32_t rank;                /* >= 1 */
  int64_t dims[CNNC_MAX_RANK]; /* dims[0]: the number of samples */
  int64_t count;               /* dims[0] */
  int64_t sample_elements;     /* product of dims[1..rank) (1 for rank 1) */
  void *data;                  /* count * sample_elements values; owned */
  char format[32];             /* e.g. "IDX ubyte, gzip" or "NPY '<f4'" */
} cnnc_dataset;

/* Reads the IDX or .npy file at `path`. On failure `out` is left empty. */
int cnnc_dataset_read(const char *path, cnnc_dataset *out, char *err,
                      size_t err_len);

/* Frees the data of `dataset` and resets it to empty; NULL is fine. */
void cnnc_dataset_free(cnnc_dataset *dataset);

/* Checks that `images` can be fed to a model: U8 or F32 (not integer
 * labels), every F32 value finite. `path` names the file in messages. */
int cnnc_dataset_check_images(const cnnc_dataset *images, const char *path,
                              char *err, size_t err_len);

/* Checks that `labels` are class indices: rank 1, U8 or I64, and, when
 * num_classes > 0, all in [0, num_classes). */
int cnnc_dataset_check_labels(const cnnc_dataset *labels, const char *path,
                              int64_t num_classes, char *err, size_t err_len);

/* Smallest and largest label (0 and -1 for an empty set). */
void cnnc_dataset_label_range(const cnnc_dataset *labels, int64_t *min,
                              int64_t *max);

/* Copies the samples `indices[0..n)` of `images` into `out` (n *
 * sample_elements floats): U8 values are scaled to [0, 1] first, then every
 * value x becomes (x - mean) / std. mean 0, std 1 leaves them as they are.
 * Indices must be in [0, count). */
void cnnc_dataset_gather_images(const cnnc_dataset *images,
                                const int64_t *indices, int64_t n, float mean,
                                float std, float *out);

/* Copies the labels `indices[0..n)` into `out` as int64. */
void cnnc_dataset_gather_labels(const cnnc_dataset *labels,
                                const int64_t *indices, int64_t n,
                                int64_t *out);

/* "(60000, 28, 28)" into `buf`. */
void cnnc_dataset_format_shape(const cnnc_dataset *dataset, char *buf,
                               size_t len);

#ifdef __cplusplus
}
#endif

#endif /* CNNC_DATASET_H */
