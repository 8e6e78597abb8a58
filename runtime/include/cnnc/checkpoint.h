/*===- checkpoint.h - cnnc-train's checkpoint files ------------------------===*
 *
 * A checkpoint (cnnc-train --checkpoint) is, little-endian:
 *   "CNNCCKPT"            magic
 *   u32 version           CNNC_CHECKPOINT_VERSION
 *   u32 info_bytes        CNNC_CHECKPOINT_INFO_BYTES: the fields up to the
 *state i64 epoch, step, batch, samples; u64 seed; i32 shuffle u64 state_bytes,
 *then the model's training state (P_save_state) u32 crc32             zlib's
 *CRC-32 of every byte before it cnnc-train writes and resumes them; cnnc-run
 *--state runs a model with a checkpoint's weights; both read them with
 *cnnc_checkpoint_read.
 *
 *===----------------------------------------------------------------------===*/
#ifndef CNNC_CHECKPOINT_H
#define CNNC_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CNNC_CHECKPOINT_MAGIC "CNNCCKPT"
#define CNNC_CHECKPOINT_VERSION 1u
#define CNNC_CHECKPOINT_INFO_BYTES (5 * 8 + 4)

typedef struct cnnc_checkpoint {
  int64_t epoch; /* epochs completed */
  int64_t step;  /* steps completed */
  int64_t batch;
  int64_t samples; /* training samples */
  uint64_t seed;
  int32_t shuffle;
  const unsigned char *state; /* the training state, inside `file` */
  size_t state_bytes;
  unsigned char *file; /* owned */
} cnnc_checkpoint;

/* Reads and checks a checkpoint file: a regular file (so its size bounds
 * the read), the magic, the version, the CRC and the sizes. Errors:
 * CNNC_ERROR_IO or CNNC_ERROR_INVALID_ARGUMENT, naming `path`. */
int cnnc_checkpoint_read(const char *path, cnnc_checkpoint *out, char *err,
                         size_t err_len);

void cnnc_checkpoint_free(cnnc_checkpoint *checkpoint);

#ifdef __cplusplus
}
#endif

#endif /* CNNC_CHECKPOINT_H */
