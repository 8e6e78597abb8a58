/*===- checkpoint.c - versioned, checksummed, atomic checkpoints ----------===*
 *
 * File layout (little-endian):
 *   "CNNCCKPT"            magic
 *   u32 version           CNNC_CHECKPOINT_VERSION
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

#include "cnnc/checkpoint.h"
#include "cnnc/tool_support.h"
#include "dist.h"
#include "train.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
  size_t total = 8 + 4 + 4 + CNNC_CHECKPOINT_INFO_BYTES + 8 + state_bytes + 4;
  unsigned char *buf = malloc(total);
  if (!buf) {
    error("%s: out of memory for a %zu-byte checkpoint", path, total);
    return false;
  }
  unsigned char *p = buf;
  uint32_t version = CNNC_CHECKPOINT_VERSION, info = CNNC_CHECKPOINT_INFO_BYTES;
  uint64_t seed = ci->seed, sb = state_bytes;
  put(&p, CNNC_CHECKPOINT_MAGIC, 8);
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

/* Several ranks: rank 0 reads the file and sends it to the others, so
 * only rank 0's machine needs it. */
static bool read_shared(const char *path, cnnc_checkpoint *c) {
  char msg[1024];
  int64_t ok = 1;
  memset(c, 0, sizeof *c);
  if (dist_rank() == 0 &&
      cnnc_checkpoint_read(path, c, msg, sizeof msg) != CNNC_OK) {
    error("%s", msg);
    ok = 0;
  }
  if (dist_size() == 1)
    return ok != 0;
  if (!dist_broadcast(&ok, sizeof ok))
    return false;
  if (!ok) {
    dist_exit_agreed = true;
    return false;
  }
  int64_t fields[7] = {c->epoch,
                       c->step,
                       c->batch,
                       c->samples,
                       (int64_t)c->seed,
                       c->shuffle,
                       (int64_t)c->state_bytes};
  if (!dist_broadcast(fields, sizeof fields))
    return false;
  uint64_t bytes = (uint64_t)fields[6];
  if (dist_rank() != 0) {
    c->epoch = fields[0];
    c->step = fields[1];
    c->batch = fields[2];
    c->samples = fields[3];
    c->seed = (uint64_t)fields[4];
    c->shuffle = (int32_t)fields[5];
    c->file = malloc(bytes ? bytes : 1);
    c->state = c->file;
    c->state_bytes = bytes;
    if (!c->file) {
      error("%s: out of memory for the checkpoint", path);
      return false;
    }
  }
  return dist_broadcast((void *)c->state, bytes);
}

bool checkpoint_load(session *s, const char *path, checkpoint_info *ci) {
  cnnc_checkpoint c;
  if (!read_shared(path, &c)) {
    if (dist_rank() != 0)
      cnnc_checkpoint_free(&c);
    return false;
  }
  ci->epoch = c.epoch;
  ci->step = c.step;
  ci->batch = c.batch;
  ci->samples = c.samples;
  ci->seed = c.seed;
  ci->shuffle = c.shuffle;
  int status = s->api->load_state(s->model, c.state, c.state_bytes);
  if (status != CNNC_OK)
    error("%s: the model refuses the checkpoint: %s", path,
          s->api->last_error(s->model));
  cnnc_checkpoint_free(&c);
  return status == CNNC_OK;
}
