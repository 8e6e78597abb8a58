/*===- checkpoint_file.c - read cnnc-train's checkpoint files -------------===*/
#define _POSIX_C_SOURCE 200809L

#include "cnnc/checkpoint.h"
#include "cnnc/tool_support.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void take(const unsigned char **p, void *out, size_t n) {
  memcpy(out, *p, n);
  *p += n;
}

void cnnc_checkpoint_free(cnnc_checkpoint *checkpoint) {
  if (!checkpoint)
    return;
  free(checkpoint->file);
  memset(checkpoint, 0, sizeof(*checkpoint));
}

int cnnc_checkpoint_read(const char *path, cnnc_checkpoint *out, char *err,
                         size_t err_len) {
  memset(out, 0, sizeof(*out));
  FILE *f = fopen(path, "rb");
  if (!f)
    return cnnc_fail(err, err_len, CNNC_ERROR_IO,
                     "%s: cannot read the checkpoint: %s", path,
                     strerror(errno));
  /* Only a regular file, whose size bounds the read (/dev/zero or a FIFO
   * would be read until memory runs out). */
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    bool dir = S_ISDIR(st.st_mode);
    fclose(f);
    return cnnc_fail(err, err_len, CNNC_ERROR_IO,
                     "%s: cannot read the checkpoint: %s", path,
                     dir ? "is a directory" : "not a regular file");
  }
  unsigned char *buf = NULL;
  size_t size = 0, cap = 0;
  for (;;) {
    if (size == cap) {
      cap = cap ? cap * 2 : 1 << 16;
      unsigned char *grown = realloc(buf, cap);
      if (!grown) {
        free(buf);
        fclose(f);
        return cnnc_fail(err, err_len, CNNC_ERROR_OUT_OF_MEMORY,
                         "%s: out of memory", path);
      }
      buf = grown;
    }
    size_t n = fread(buf + size, 1, cap - size, f);
    size += n;
    if (n == 0)
      break;
  }
  bool read_error = ferror(f);
  fclose(f);
  const unsigned char *p = buf;
  uint32_t version = 0, info = 0, crc = 0;
  uint64_t state_bytes = 0;
  int status = CNNC_ERROR_INVALID_ARGUMENT;
  if (read_error) {
    status = cnnc_fail(err, err_len, CNNC_ERROR_IO,
                       "%s: cannot read the checkpoint", path);
  } else if (size < 16 + CNNC_CHECKPOINT_INFO_BYTES + 12 ||
             memcmp(buf, CNNC_CHECKPOINT_MAGIC, 8) != 0) {
    cnnc_fail(err, err_len, status, "%s: not a cnnc-train checkpoint", path);
  } else {
    p += 8;
    take(&p, &version, 4);
    take(&p, &info, 4);
    memcpy(&crc, buf + size - 4, 4);
    if (version != CNNC_CHECKPOINT_VERSION ||
        info != CNNC_CHECKPOINT_INFO_BYTES) {
      cnnc_fail(err, err_len, status,
                "%s: checkpoint version %u; this cnnc reads version %u", path,
                version, CNNC_CHECKPOINT_VERSION);
    } else if (cnnc_crc32(buf, size - 4) != crc) {
      cnnc_fail(err, err_len, status,
                "%s: the checkpoint is corrupt (checksum mismatch)", path);
    } else {
      take(&p, &out->epoch, 8);
      take(&p, &out->step, 8);
      take(&p, &out->batch, 8);
      take(&p, &out->samples, 8);
      take(&p, &out->seed, 8);
      take(&p, &out->shuffle, 4);
      take(&p, &state_bytes, 8);
      if (state_bytes != size - (size_t)(p - buf) - 4 || out->epoch < 0 ||
          out->step < 0) {
        cnnc_fail(err, err_len, status,
                  "%s: the checkpoint is corrupt (sizes do not add up)", path);
      } else {
        out->file = buf;
        out->state = p;
        out->state_bytes = (size_t)state_bytes;
        return CNNC_OK;
      }
    }
  }
  free(buf);
  memset(out, 0, sizeof(*out));
  return status;
}
