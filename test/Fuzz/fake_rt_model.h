/*===- fake_rt_model.h - a model library's tables, without a compiler -----===*
 *
 * The fuzz targets of the training state (state_fuzzer.c) and of
 * cnnc-train's checkpoints (checkpoint_fuzzer.c) drive the executor that is
 * linked into every model library (runtime/src/model/executor.c and the files
 * executor_internal.h lists) through the tables the compiler would emit for
 * a small training model. The executor
 * is compiled into the fuzzer, so it is instrumented like the rest.
 *
 * The model: "conv.weight" (2, 1, 3, 3) and "conv.bias" (2,) in group
 * "features", "fc.weight" (3, 8) frozen at compile time, a BatchNorm
 * running mean "bn.running_mean" (2,) (a buffer, not trained) and a dropout
 * generator state. No kernels: nothing here runs the model.
 *
 *===----------------------------------------------------------------------===*/
#ifndef CNNC_FUZZ_FAKE_RT_MODEL_H
#define CNNC_FUZZ_FAKE_RT_MODEL_H

#include "cnnc/model_abi.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The function table a model library's cnnc_model_entry returns (training
 * state functions included; run and train_step are not). */
const cnnc_model_api *fake_rt_model_api(void);

/* Training states of the fake model for the seed corpora: the state after
 * train_configure with optimizer `kind` (0 SGD, 1 SGD with momentum,
 * 2 Adam, 3 AdamW, 4 Adam with non-default values and a frozen group).
 * Returns a malloc'ed blob and its size, or NULL. */
unsigned char *fake_rt_model_state(int kind, size_t *size);

#ifdef __cplusplus
}
#endif

#endif /* CNNC_FUZZ_FAKE_RT_MODEL_H */
