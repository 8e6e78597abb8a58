/*===- npy_fuzzer.c - fuzz the .npy reader (runtime/src/tools/npy.c) -----------===*
 *
 * Any bytes: cnnc_npy_read_memory returns a status and a message, never
 * crashes; on success the array is exactly as large as its dims say (every
 * byte is read, so ASan sees an array shorter than claimed), and on failure
 * it is left empty.
 *
 *===----------------------------------------------------------------------===*/
#include "cnnc/npy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cnnc_npy_array array;
  memset(&array, 0, sizeof array);
  char err[512];
  int status =
      cnnc_npy_read_memory(data, size, "fuzz.npy", &array, err, sizeof err);
  if (status != CNNC_OK) {
    if (array.data || !err[0])
      abort(); /* a failure leaves the array empty and says why */
    return 0;
  }
  int64_t elements = 1;
  for (int32_t i = 0; i < array.rank; ++i)
    elements *= array.dims[i];
  size_t element_bytes = array.dtype == CNNC_DTYPE_F32 ? 4 : 8;
  if (!array.data || array.rank < 0 || array.rank > CNNC_MAX_RANK ||
      elements != array.num_elements ||
      array.num_bytes != (size_t)elements * element_bytes)
    abort();
  unsigned sum = 0;
  for (size_t i = 0; i < array.num_bytes; ++i)
    sum += ((const unsigned char *)array.data)[i];
  volatile unsigned sink = sum;
  (void)sink;
  cnnc_npy_free(&array);
  return 0;
}
