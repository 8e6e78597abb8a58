/*===- loader.h - open a cnnc model library at run time -------------------===*
 *
 * dlopens a `model.so` built by cnnc (RTLD_NOW | RTLD_LOCAL, so several
 * models live side by side), finds its unprefixed `cnnc_model_entry`, checks
 * that the function table speaks this runtime's ABI version and is complete
 * and sane (every function present, every input/output described with a
 * known dtype and a valid shape), and hands out the table.
 *
 * Errors (returned as a cnnc_status, with a one-line message in `err`
 * starting with the library path; `err` may be NULL):
 *   CNNC_ERROR_IO                the file is missing, is a directory, or
 *                                dlopen refuses it (not a shared library,
 *                                wrong architecture, unresolved symbols)
 *   CNNC_ERROR_UNSUPPORTED       a loadable library that is not a cnnc
 *                                model (no `cnnc_model_entry`), or a model
 *                                built for another ABI version
 *   CNNC_ERROR_INVALID_ARGUMENT  a model whose function table is incomplete
 *                                or describes an impossible tensor
 *   CNNC_ERROR_OUT_OF_MEMORY
 *
 *===----------------------------------------------------------------------===*/
#ifndef CNNC_LOADER_H
#define CNNC_LOADER_H

#include "cnnc/model_abi.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cnnc_loaded_model cnnc_loaded_model; /* opaque */

/* Loads the model library at `path` (a path without '/' means the current
 * directory, not the dynamic linker's search path). On success *out owns
 * the library until cnnc_loader_close; on failure *out is NULL. */
int cnnc_loader_open(const char *path, cnnc_loaded_model **out, char *err,
                     size_t err_len);

/* The model's function table; valid until cnnc_loader_close. */
const cnnc_model_api *cnnc_loader_api(const cnnc_loaded_model *model);

/* The path the model was opened from. */
const char *cnnc_loader_path(const cnnc_loaded_model *model);

/* Unloads the library. Every instance created through its API must have
 * been released first. NULL is fine. */
void cnnc_loader_close(cnnc_loaded_model *model);

#ifdef __cplusplus
}
#endif

#endif /* CNNC_LOADER_H */
