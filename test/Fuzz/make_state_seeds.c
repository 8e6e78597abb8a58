/*===- make_state_seeds.c - seed corpora of the state and checkpoints -----===*
 *
 *   make_state_seeds STATE_DIR CHECKPOINT_DIR
 *
 * Writes the training states of the fuzz model (fake_rt_model.c) after each
 * optimizer's train_configure to STATE_DIR, and the checkpoints cnnc-train
 * would save with them (checkpoint_save) to CHECKPOINT_DIR, prefixed with
 * checkpoint_fuzzer.c's mode byte. Made by the code that writes them, so the
 * seeds follow the formats when they change.
 *
 *===----------------------------------------------------------------------===*/
#include "fake_rt_model.h"
#include "train.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("make_state_seeds: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

void note(const char *fmt, ...) { (void)fmt; }

static int write_file(const char *path, const void *prefix, size_t prefix_size,
                      const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(prefix, 1, prefix_size, f) != prefix_size ||
      fwrite(data, 1, size, f) != size || fclose(f) != 0) {
    error("cannot write %s", path);
    return 0;
  }
  return 1;
}

static unsigned char *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  unsigned char *buf = malloc(1 << 20);
  *size = buf ? fread(buf, 1, 1 << 20, f) : 0;
  fclose(f);
  return buf;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: make_state_seeds STATE_DIR CHECKPOINT_DIR\n");
    return 2;
  }
  const cnnc_model_api *api = fake_rt_model_api();
  char path[4096];
  for (int kind = 0; kind < 5; ++kind) {
    size_t size;
    unsigned char *state = fake_rt_model_state(kind, &size);
    if (!state) {
      error("cannot make state %d", kind);
      return 1;
    }
    snprintf(path, sizeof path, "%s/state-%d", argv[1], kind);
    if (!write_file(path, "", 0, state, size))
      return 1;

    session s;
    memset(&s, 0, sizeof s);
    s.api = api;
    if (api->create(&s.model) != CNNC_OK ||
        api->load_state(s.model, state, size) != CNNC_OK) {
      error("state %d does not load", kind);
      return 1;
    }
    checkpoint_info info = {kind, 100 * kind, 1234, 64, 60000, kind & 1};
    snprintf(path, sizeof path, "%s/raw-checkpoint-%d", argv[2], kind);
    if (!checkpoint_save(&s, path, &info))
      return 1;
    api->release(s.model);
    free(state);
    /* The fuzzer's mode byte: 0 as is, 1 with the CRC recomputed. */
    size_t file_size;
    unsigned char *file = read_file(path, &file_size);
    remove(path);
    for (unsigned char mode = 0; mode < 2 && file; ++mode) {
      snprintf(path, sizeof path, "%s/checkpoint-%d-%d", argv[2], kind, mode);
      if (!write_file(path, &mode, 1, file, file_size))
        return 1;
    }
    free(file);
  }
  return 0;
}
