/*===- checkpoint.c - versioned, checksummed, atomic checkpoints ----------===*
 *
 * File layout (little-endian):
 *   "CNNCCKPT"            magic
 *   u32 version           CHECKPOINT_VERSION
 *   u32 info_bytes        sizeof the fields below up to the state
 *   i64 epoch, step, batch, samples; u64 seed; i32 shuffle
 *   u64 state_bytes, then the model's training state (save_state)
 *   u32 crc32             zlib's CRC-32 of every byte before it
 *
 * Saving goes through cnnc_write_file_atomically (a temporary file synced
 * and renamed over F, then the directory synced): a process killed at any
 * point leaves either the old checkpoint or the new one, never a partial
 * file.
 *
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L

#include "cnnc/tool_support.h"
#include "train.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECKPOINT_MAGIC "CNNCCKPT"
#define CHECKPOINT_VERSION 1u
#define INFO_BYTES (5 * 8 + 4)

static void put(unsigned char **p, const void *data, size_t n) {
  memcpy(*p, data, n);
  *p += n;
}

bool checkpoint_save(session *s, const char *path, const checkpoint_info *ci) {
  const cnnc_model_api *api = s->api;
  size_t state_bytes = 0;
  int status = api->save_state(s->model, NULL, &state_bytes);
  if (status != CNNC_OK) {
    error("%s: cannot save the training state: %s", path,
          api->last_error(s->model));
    return false;
  }
  size_t total = 8 + 4 + 4 + INFO_BYTES + 8 + state_bytes + 4;
  unsigned char *buf = malloc(total);
  if (!buf) {
    error("%s: out of memory for a %zu-byte checkpoint", path, total);
    return false;
  }
  unsigned char *p = buf;
  uint32_t version = CHECKPOINT_VERSION, info = INFO_BYTES;
  uint64_t seed = ci->seed, sb = state_bytes;
  put(&p, CHECKPOINT_MAGIC, 8);
  put(&p, &version, 4);
  put(&p, &info, 4);
  put(&p, &ci->epoch, 8);
  put(&p, &ci->step, 8);
  put(&p, &ci->batch, 8);
  put(&p, &ci->samples, 8);
  put(&p, &seed, 8);
  put(&p, &ci->shuffle, 4);
  put(&p, &sb, 8);
  size_t written = state_bytes;
  status = api->save_state(s->model, p, &written);
  if (status != CNNC_OK || written != state_bytes) {
    error("%s: cannot save the training state: %s", path,
          api->last_error(s->model));
    free(buf);
    return false;
  }
  p += state_bytes;
  uint32_t crc = cnnc_crc32(buf, (size_t)(p - buf));
  put(&p, &crc, 4);

  /* Test hook: die half-way through writing checkpoint number N, as a
   * process killed at the worst moment would (the real write below goes
   * through a temporary file too). Only this environment variable reaches
   * it. */
  const char *kill_at = getenv("CNNC_TRAIN_TEST_KILL_IN_CHECKPOINT");
  if (kill_at && atoll(kill_at) == ci->epoch) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      cnnc_write_all(fd, buf, total / 2);
      fsync(fd);
    }
    raise(SIGKILL);
  }
  char msg[1024];
  bool ok =
      cnnc_write_file_atomically(path, buf, total, msg, sizeof msg) == CNNC_OK;
  free(buf);
  if (!ok)
    error("%s", msg);
  return ok;
}

static void take(const unsigned char **p, void *out, size_t n) {
  memcpy(out, *p, n);
  *p += n;
}

bool checkpoint_load(session *s, const char *path, checkpoint_info *ci) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    error("%s: cannot read the checkpoint: %s", path, strerror(errno));
    return false;
  }
  /* As the data flags: only a regular file, whose size bounds the read
   * (/dev/zero or a FIFO would be read until memory runs out). */
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    bool dir = S_ISDIR(st.st_mode);
    fclose(f);
    error("%s: cannot read the checkpoint: %s", path,
          dir ? "is a directory" : "not a regular file");
    return false;
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
        error("%s: out of memory", path);
        return false;
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
  bool ok = false;
  const unsigned char *p = buf;
  uint32_t version = 0, info = 0, crc = 0;
  uint64_t seed = 0, state_bytes = 0;
  if (read_error) {
    error("%s: cannot read the checkpoint", path);
  } else if (size < 16 + INFO_BYTES + 12 ||
             memcmp(buf, CHECKPOINT_MAGIC, 8) != 0) {
    error("%s: not a cnnc-train checkpoint", path);
  } else {
    p += 8;
    take(&p, &version, 4);
    take(&p, &info, 4);
    memcpy(&crc, buf + size - 4, 4);
    if (version != CHECKPOINT_VERSION || info != INFO_BYTES) {
      error("%s: checkpoint version %u; this cnnc-train reads version %u", path,
            version, CHECKPOINT_VERSION);
    } else if (cnnc_crc32(buf, size - 4) != crc) {
      error("%s: the checkpoint is corrupt (checksum mismatch)", path);
    } else {
      take(&p, &ci->epoch, 8);
      take(&p, &ci->step, 8);
      take(&p, &ci->batch, 8);
      take(&p, &ci->samples, 8);
      take(&p, &seed, 8);
      take(&p, &ci->shuffle, 4);
      take(&p, &state_bytes, 8);
      ci->seed = seed;
      if (state_bytes != size - (size_t)(p - buf) - 4 || ci->epoch < 0 ||
          ci->step < 0) {
        error("%s: the checkpoint is corrupt (sizes do not add up)", path);
      } else {
        int status = s->api->load_state(s->model, p, (size_t)state_bytes);
        if (status != CNNC_OK)
          error("%s: the model refuses the checkpoint: %s", path,
                s->api->last_error(s->model));
        else
          ok = true;
      }
    }
  }
  free(buf);
  return ok;
}
