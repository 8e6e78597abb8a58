/*===- npy.h - read and write NumPy .npy files ----------------------------===*
 *
 * The tensor file format of cnnc's tools (cnnc-run, the test harnesses).
 * Reads format versions 1.0, 2.0 and 3.0, C order only. In memory an array
 * is always float32 or int64, the two dtypes of the model ABI; files of
 * other numeric dtypes are converted on read:
 *
 *   '<f4'                                 -> float32 (as is)
 *   '<f8', '<f2'                          -> float32 (rounded to nearest;
 *                                            a finite value outside the
 *                                            float32 range is an error)
 *   '<i8'                                 -> int64 (as is)
 *   '|i1' '<i2' '<i4' '|u1' '<u2' '<u4' '|b1'  -> int64 (exact)
 *   '<u8'                                 -> int64 (exact; values above
 *                                            INT64_MAX are an error)
 *
 * Big-endian ('>') and native ('=') byte orders are accepted too. The
 * dtype found in the file is kept in cnnc_npy_array.file_descr, so a caller
 * can refuse conversions it does not want.
 *
 * Every function returns a cnnc_status and, on failure, writes a one-line
 * message that starts with the file name to `err` (which may be NULL); the
 * library never prints, exits or aborts, whatever the file contains:
 *   CNNC_ERROR_IO                a file cannot be opened, read or written,
 *                                or is not a well-formed .npy file
 *   CNNC_ERROR_UNSUPPORTED       a well-formed file this reader does not
 *                                handle (Fortran order, structured or
 *                                non-numeric dtype, rank > CNNC_MAX_RANK)
 *   CNNC_ERROR_OUT_OF_MEMORY     the data does not fit in memory
 *   CNNC_ERROR_INVALID_ARGUMENT  a null pointer or bad dims given to write
 *
 *===----------------------------------------------------------------------===*/
#ifndef CNNC_NPY_H
#define CNNC_NPY_H

#include "cnnc/model_abi.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An array read from a .npy file. Zero-initialize before the first read;
 * release with cnnc_npy_free. */
typedef struct cnnc_npy_array {
  cnnc_dtype dtype;            /* of `data`: F32 or I64 */
  int32_t rank;                /* 0 for a scalar */
  int64_t dims[CNNC_MAX_RANK]; /* dims[rank..] are 0 */
  int64_t num_elements;        /* product of dims (1 for a scalar) */
  size_t num_bytes;            /* num_elements * element size of dtype */
  void *data;                  /* owned; never NULL after a successful read */
  char file_descr[8];          /* dtype as written in the file, e.g. "<f8" */
  int converted;               /* nonzero when file_descr was converted */
} cnnc_npy_array;

/* Reads the .npy file at `path` into `out`. On failure `out` is left empty
 * (data == NULL). */
int cnnc_npy_read(const char *path, cnnc_npy_array *out, char *err,
                  size_t err_len);

/* Same for a .npy file already in memory; `name` is used in messages. */
int cnnc_npy_read_memory(const void *bytes, size_t size, const char *name,
                         cnnc_npy_array *out, char *err, size_t err_len);

/* Frees the data of `array` and resets it to empty; NULL is fine. */
void cnnc_npy_free(cnnc_npy_array *array);

/* Writes a C-order array of `dtype` (F32 -> '<f4', I64 -> '<i8') in format
 * 1.0. The file is written next to `path` under a temporary name and renamed
 * over `path` only once complete, so a failure never leaves a truncated file
 * where an old one was. `data` may be NULL only if the array is empty. */
int cnnc_npy_write(const char *path, cnnc_dtype dtype, int32_t rank,
                   const int64_t *dims, const void *data, char *err,
                   size_t err_len);

/* Writes `count` arrays into a .npz archive (what numpy.savez writes: a ZIP
 * of <name>.npy files, stored), by the same atomic output rules. */
int cnnc_npz_write(const char *path, int32_t count, const char *const *names,
                   const cnnc_dtype *dtypes, const int32_t *ranks,
                   const int64_t *const *dims, const void *const *data,
                   char *err, size_t err_len);

/* "float32", "int64" or "unknown". */
const char *cnnc_dtype_name(cnnc_dtype dtype);

/* Size in bytes of one element of `dtype`, 0 if unknown. */
size_t cnnc_dtype_size(cnnc_dtype dtype);

#ifdef __cplusplus
}
#endif

#endif /* CNNC_NPY_H */
