/*===- checkpoint_fuzzer.c - fuzz cnnc-train's checkpoint reader ----------===*
 *
 * checkpoint_load (tools/cnnc-train/checkpoint.c), as `cnnc-train --resume
 * F` calls it, with the training state handed to the executor's load_state
 * of a small model (fake_rt_model.c). The first input byte picks the mode:
 * even, the rest of the input is the file; odd, its last four bytes are
 * replaced by the CRC-32 of the others first, so the fuzzer gets past the
 * checksum to the fields and the state behind it. Any file: false and a
 * message, never a crash.
 *
 *===----------------------------------------------------------------------===*/
#include "cnnc/tool_support.h"
#include "fake_rt_model.h"
#include "fuzz_support.h"
#include "train.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* cnnc-train.c's diagnostics, not linked here: formatted (so a bad format
 * argument is still found) and dropped. */
void error(const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
}

void note(const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > (1u << 20))
    return 0;
  unsigned char *file = malloc(size);
  if (!file)
    abort();
  memcpy(file, data + 1, size - 1);
  size_t file_size = size - 1;
  if ((data[0] & 1) && file_size >= 4) {
    uint32_t crc = cnnc_crc32(file, file_size - 4);
    memcpy(file + file_size - 4, &crc, 4);
  }
  const char *path = cnnc_fuzz_write_file("checkpoint", file, file_size);
  free(file);

  session s;
  memset(&s, 0, sizeof s);
  s.api = fake_rt_model_api();
  if (s.api->create(&s.model) != CNNC_OK)
    abort();
  checkpoint_info info;
  memset(&info, 0, sizeof info);
  if (checkpoint_load(&s, path, &info) && (info.epoch < 0 || info.step < 0))
    abort(); /* a checkpoint that loads has a position */
  s.api->release(s.model);
  return 0;
}
