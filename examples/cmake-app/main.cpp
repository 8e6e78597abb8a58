// Runs LeNet-5 and an MLP, both compiled by cnnc_add_model(), on the same
// batch, then trains LeNet-5 for a few steps on it: the C ABI from C++.
#include "liblenet.h"
#include "libmlp.h"

#include <cstdio>
#include <vector>

#define CHECK(call, model)                                                     \
  do {                                                                         \
    if ((call) != CNNC_OK) {                                                   \
      std::fprintf(stderr, "%s failed: %s\n", #call,                           \
                   model##_last_error(nullptr));                               \
      return 1;                                                                \
    }                                                                          \
  } while (0)

int main() {
  const int64_t batch = 4;
  // The headers state the fixed dimensions as constants.
  static_assert(LENET_INPUT0_SAMPLE_ELEMENTS == MLP_INPUT0_SAMPLE_ELEMENTS,
                "both models read 28x28 images");
  std::vector<float> images(batch * LENET_INPUT0_SAMPLE_ELEMENTS);
  for (size_t i = 0; i < images.size(); ++i)
    images[i] = float(i % 29) / 29.0f;
  std::vector<float> logits(batch * LENET_OUTPUT0_DIM1);
  const void *in[] = {images.data()};
  size_t inBytes[] = {images.size() * sizeof(float)};
  void *out[] = {logits.data()};
  size_t outBytes[] = {logits.size() * sizeof(float)};

  cnnc_model *lenet = nullptr, *mlp = nullptr;
  CHECK(lenet_create(&lenet), lenet);
  CHECK(mlp_create(&mlp), mlp);
  CHECK(lenet_run(lenet, batch, in, inBytes, out, outBytes), lenet);
  std::printf("lenet logits[0]: %.4f\n", logits[0]);
  CHECK(mlp_run(mlp, batch, in, inBytes, out, outBytes), mlp);
  std::printf("mlp logits[0]: %.4f\n", logits[0]);

  // Training: the loss on one fixed batch falls.
  std::vector<int64_t> labels = {0, 1, 2, 3};
  cnnc_train_config config = {};
  config.optimizer = CNNC_OPTIMIZER_ADAM;
  config.lr = 1e-3f;
  config.beta1 = 0.9f;
  config.beta2 = 0.999f;
  config.eps = 1e-8f;
  CHECK(lenet_train_configure(lenet, &config), lenet);
  float first = 0, loss = 0;
  for (int step = 0; step < 20; ++step) {
    CHECK(lenet_train_step(lenet, batch, in, inBytes, labels.data(),
                           labels.size() * sizeof(int64_t), &loss),
          lenet);
    if (step == 0)
      first = loss;
  }
  std::printf("lenet loss: %.4f -> %.4f (%s)\n", first, loss,
              loss < first ? "falls" : "DOES NOT FALL");
  lenet_release(lenet);
  mlp_release(mlp);
  return loss < first ? 0 : 1;
}
