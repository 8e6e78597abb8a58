/* Links two cnnc libraries into one program through their generated
 * headers: both must work side by side, with no symbol clash. */
#include "lenet5.h"
#include "tiny.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CHECK(call)                                                            \
  do {                                                                         \
    int status_ = (call);                                                      \
    if (status_ != CNNC_OK) {                                                  \
      fprintf(stderr, "%s failed: %d\n", #call, status_);                      \
      return 1;                                                                \
    }                                                                          \
  } while (0)

int main(void) {
  cnnc_model *a = NULL, *b = NULL;
  CHECK(lenet5_create(&a));
  CHECK(tiny_create(&b));
  static float image[2 * 28 * 28], logits[2 * 10];
  for (int i = 0; i < 2 * 28 * 28; ++i)
    image[i] = (float)((i * 7) % 13) / 13.0f;
  const void *in[] = {image};
  size_t in_bytes[] = {sizeof image};
  void *out[] = {logits};
  size_t out_bytes[] = {sizeof logits};
  CHECK(lenet5_run(a, 2, in, in_bytes, out, out_bytes));
  /* tiny: relu(x) * 2 on [N, 4] (see tiny.mlir) */
  float x[4] = {-1, 0.5f, 2, -3}, y[4];
  const void *tin[] = {x};
  size_t tin_bytes[] = {sizeof x};
  void *tout[] = {y};
  size_t tout_bytes[] = {sizeof y};
  CHECK(tiny_run(b, 1, tin, tin_bytes, tout, tout_bytes));
  if (y[0] != 0 || y[1] != 1 || y[2] != 4 || y[3] != 0) {
    fprintf(stderr, "tiny computed %g %g %g %g\n", y[0], y[1], y[2], y[3]);
    return 1;
  }
  /* Errors come back as codes and messages, never an abort. */
  size_t wrong[] = {sizeof image - 4};
  int status = lenet5_run(a, 2, in, wrong, out, out_bytes);
  printf("wrong size: status %d: %s\n", status, lenet5_last_error(a));
  status = lenet5_run(a, 0, in, in_bytes, out, out_bytes);
  printf("batch 0: status %d: %s\n", status, lenet5_last_error(a));
  status = lenet5_run(a, 2, NULL, in_bytes, out, out_bytes);
  printf("null inputs: status %d: %s\n", status, lenet5_last_error(a));
  cnnc_tensor_info info;
  CHECK(lenet5_input_info(0, &info));
  printf("lenet5 input %s rank %d dims %lld %lld %lld %lld\n", info.name,
         info.rank, (long long)info.dims[0], (long long)info.dims[1],
         (long long)info.dims[2], (long long)info.dims[3]);
  printf("lenet5 params %d, tiny params %d\n", lenet5_num_params(),
         tiny_num_params());
  int finite = 1;
  for (int i = 0; i < 20; ++i)
    finite = finite && isfinite(logits[i]);
  printf("lenet5 logits finite: %d\n", finite);
  lenet5_release(a);
  tiny_release(b);
  return 0;
}
