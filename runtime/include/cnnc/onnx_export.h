/*===- onnx_export.h - write trained parameters back into ONNX ------------===*
 *
 * A model library compiled from an ONNX file embeds that file (the
 * api->source_onnx entry). Exporting replaces the data of every initializer
 * whose name is a parameter's name (api->param_info) with the parameter's
 * current value (api->get_param) and keeps everything else of the file as
 * it was: the graph, the opset, the other initializers, their dims, the
 * metadata. Replaced initializers store their values as little-endian
 * float32 raw_data (float_data cleared).
 *
 * Every parameter that training changes (trainable or is_buffer) must have
 * a float32 initializer of its name and element count; frozen parameters
 * are written when an initializer of their name exists and skipped
 * otherwise.
 *
 * Functions return a cnnc_status and write a one-line message to `err`
 * (which may be NULL); nothing is printed and no exception escapes:
 *   CNNC_ERROR_UNSUPPORTED       the model embeds no ONNX source (a DSL
 *                                model), or a parameter has no matching
 *                                float32 initializer
 *   CNNC_ERROR_SHAPE             an initializer's element count differs
 *                                from its parameter's
 *   CNNC_ERROR_IO                the embedded source is not a valid ONNX
 *                                model, or the output cannot be written
 *   CNNC_ERROR_INVALID_ARGUMENT  a null argument or an incomplete table
 *   CNNC_ERROR_OUT_OF_MEMORY
 *   (or the status of a failing api->get_param)
 *
 *===----------------------------------------------------------------------===*/
#ifndef CNNC_ONNX_EXPORT_H
#define CNNC_ONNX_EXPORT_H

#include "cnnc/model_abi.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Checks everything an export needs that does not depend on the parameter
 * values (an ONNX source, an initializer for every parameter), so a tool
 * can refuse --export before training rather than after. */
int cnnc_onnx_export_check(const cnnc_model_api *api, char *err,
                           size_t err_len);

/* Writes the ONNX source of `api` with the current parameters of `model`
 * to `path`: to a temporary file next to it, renamed over `path` only once
 * complete. *num_written (may be NULL) gets the number of initializers
 * replaced. */
int cnnc_export_onnx(const cnnc_model_api *api, cnnc_model *model,
                     const char *path, int32_t *num_written, char *err,
                     size_t err_len);

#ifdef __cplusplus
}
#endif

#endif /* CNNC_ONNX_EXPORT_H */
