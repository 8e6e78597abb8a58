/*===- state_fuzzer.c - fuzz load_state of the model ABI ------------------===*
 *
 * P_load_state of every model library is cnnc_rt_load_state
 * (runtime/src/model/state.c); here it runs on the tables of a small training
 * model (fake_rt_model.c). Any bytes: a status and a message, never a
 * crash. A state that loads must save and load again, and the second save
 * must give the same bytes as the first (what loads is kept exactly).
 * States end with a CRC-32 of what precedes it, so each input is also tried
 * with its last 4 bytes replaced by that CRC: the mutations then reach the
 * parser behind the checksum.
 *
 *===----------------------------------------------------------------------===*/
#include "fake_rt_model.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *save(const cnnc_model_api *api, cnnc_model *m,
                           size_t *size) {
  unsigned char *blob = NULL;
  if (api->save_state(m, NULL, size) != CNNC_OK || !(blob = malloc(*size)) ||
      api->save_state(m, blob, size) != CNNC_OK) {
    fprintf(stderr, "save_state fails after a successful load: %s\n",
            api->last_error(m));
    abort();
  }
  return blob;
}

/* zlib's CRC-32, as the executor computes it. */
static uint32_t crc32_of(const unsigned char *p, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k)
      crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return crc ^ 0xFFFFFFFFu;
}

static int one_input(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  one_input(data, size);
  if (size >= 16) {
    unsigned char *fixed = malloc(size);
    if (!fixed)
      abort();
    memcpy(fixed, data, size);
    uint32_t crc = crc32_of(fixed, size - 4);
    memcpy(fixed + size - 4, &crc, 4);
    one_input(fixed, size);
    free(fixed);
  }
  return 0;
}

static int one_input(const uint8_t *data, size_t size) {
  const cnnc_model_api *api = fake_rt_model_api();
  cnnc_model *m = NULL;
  if (api->create(&m) != CNNC_OK)
    abort();
  int status = api->load_state(m, data, size);
  if (status != CNNC_OK) {
    if (!api->last_error(m)[0] && status != CNNC_ERROR_UNSUPPORTED)
      abort(); /* a refusal says why */
    api->release(m);
    return 0;
  }
  size_t first_size, second_size;
  unsigned char *first = save(api, m, &first_size);
  api->release(m);

  if (api->create(&m) != CNNC_OK)
    abort();
  if (api->load_state(m, first, first_size) != CNNC_OK) {
    fprintf(stderr, "a saved state does not load: %s\n", api->last_error(m));
    abort();
  }
  unsigned char *second = save(api, m, &second_size);
  if (first_size != second_size || memcmp(first, second, first_size) != 0) {
    fprintf(stderr, "save(load(save(load(input)))) differs from "
                    "save(load(input))\n");
    abort();
  }
  api->release(m);
  free(first);
  free(second);
  return 0;
}
