/*===- tool_support.h - shared helpers of the runtime's tool code --------===*
 *
 * Error strings, status names and shape formatting used by the NPY reader,
 * the loader, the data sets, the ONNX export and the tools (cnnc-run,
 * cnnc-train), so each states them once.
 *
 *===----------------------------------------------------------------------===*/
#ifndef CNNC_TOOL_SUPPORT_H
#define CNNC_TOOL_SUPPORT_H

#include "cnnc/model_abi.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Formats the message into err (when err is non-null and err_len > 0) and
 * returns status, so error paths read `return cnnc_fail(err, len, S, ...)`. */
int cnnc_fail(char *err, size_t err_len, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Whether `a` and `b` name the same existing file (device and inode), so a
 * tool can refuse an output that would overwrite one of its inputs. */
int cnnc_same_file(const char *a, const char *b);

/* zlib's CRC-32 of n bytes (also in builds without zlib), and the CRC of
 * `crc`'s bytes followed by n more. */
uint32_t cnnc_crc32(const void *data, size_t n);
uint32_t cnnc_crc32_update(uint32_t crc, const void *data, size_t n);

/* "shape mismatch" for CNNC_ERROR_SHAPE, ... */
const char *cnnc_status_name(int status);

/* "(N, 3, 224, 224)": dims[i] == -1 prints as N (the batch); a rank-1 shape
 * keeps Python's trailing comma, "(10,)". */
void cnnc_format_shape(char *buf, size_t len, int32_t rank,
                       const int64_t *dims);

/* Writes all `size` bytes to `fd`, retrying after EINTR: 0, or -1 with
 * errno set. */
int cnnc_write_all(int fd, const void *data, size_t size);

/* The directory part of `path` ("." when it has none) into buf. */
void cnnc_parent_dir(const char *path, char *buf, size_t len);

/* Replaces `path` with `size` bytes atomically: a temporary file next to it
 * is written and synced, renamed over `path`, and the directory is synced,
 * so a process killed at any point leaves either the old file or the new
 * one. An existing file keeps its permissions (a new one gets 0666 less the
 * umask); a symlink is written through (its target replaced, the link
 * kept); a special file (/dev/null, a FIFO) is written in place, never
 * replaced. Errors: CNNC_ERROR_IO, naming `path`. */
int cnnc_write_file_atomically(const char *path, const void *data, size_t size,
                               char *err, size_t err_len);

/* The same for the concatenation of `num_parts` buffers (a header and the
 * data, without copying them together). */
int cnnc_write_parts_atomically(const char *path, const void *const *parts,
                                const size_t *sizes, int num_parts, char *err,
                                size_t err_len);

#ifdef __cplusplus
}
#endif

#endif /* CNNC_TOOL_SUPPORT_H */
