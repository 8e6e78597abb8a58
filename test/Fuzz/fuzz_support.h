/*===- fuzz_support.h - helpers shared by cnnc's fuzz targets ------------===*
 *
 * Some readers only take a path (the ONNX importer, the data sets,
 * checkpoints), as the tools call them: the input is written to a file in a
 * private directory first (under /dev/shm when it exists, so no disk I/O).
 *
 *===----------------------------------------------------------------------===*/
#ifndef CNNC_FUZZ_SUPPORT_H
#define CNNC_FUZZ_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes `size` bytes to the file `name` of the fuzzer's private directory
 * (created on the first call, removed at exit) and returns its path, which
 * stays valid until the next call. Aborts when it cannot
 * (a broken fuzzing setup, not a finding). */
const char *cnnc_fuzz_write_file(const char *name, const void *data,
                                 size_t size);

#ifdef __cplusplus
}
#endif

#endif /* CNNC_FUZZ_SUPPORT_H */
