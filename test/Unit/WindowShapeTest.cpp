//===- WindowShapeTest.cpp - convolution/pooling output sizes -------------===//
//
// Expected values are PyTorch's documented formula for Conv2d/MaxPool2d:
// floor((N + 2P - D(K-1) - 1) / S + 1), ceil with ceil_mode, and the rule that
// the last window must start inside the input or left padding.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Dialect/CNN/CNNOps.h"

#include <gtest/gtest.h>

using cnnc::cnn::windowOutputSize;

namespace {
int64_t size(int64_t in, int64_t k, int64_t s, int64_t pb, int64_t pe,
             int64_t d, bool ceil) {
  std::string error;
  auto r = windowOutputSize(in, k, s, pb, pe, d, ceil, error);
  EXPECT_TRUE(mlir::succeeded(r)) << error;
  return mlir::succeeded(r) ? *r : -2;
}
} // namespace

TEST(WindowShape, LeNet) {
  EXPECT_EQ(size(28, 5, 1, 2, 2, 1, false), 28); // C1
  EXPECT_EQ(size(28, 2, 2, 0, 0, 1, false), 14); // S2
  EXPECT_EQ(size(14, 5, 1, 0, 0, 1, false), 10); // C3
  EXPECT_EQ(size(10, 2, 2, 0, 0, 1, false), 5);  // S4
}

TEST(WindowShape, ResNetStem) {
  EXPECT_EQ(size(224, 7, 2, 3, 3, 1, false), 112);
  EXPECT_EQ(size(112, 3, 2, 1, 1, 1, false), 56);
}

TEST(WindowShape, DilationAndAsymmetricPads) {
  EXPECT_EQ(size(16, 3, 2, 1, 0, 2, false), 7);
  EXPECT_EQ(size(7, 3, 1, 0, 2, 3, false), 3);
}

TEST(WindowShape, CeilMode) {
  EXPECT_EQ(size(5, 2, 2, 0, 0, 1, false), 2);
  EXPECT_EQ(size(5, 2, 2, 0, 0, 1, true), 3);
  EXPECT_EQ(size(6, 3, 2, 1, 1, 1, true), 4);
  // ceil would start a window entirely in the right padding: dropped
  // (PyTorch gives 3 for MaxPool2d(2, 2, padding=1, ceil_mode=True) on 5).
  EXPECT_EQ(size(5, 2, 2, 1, 1, 1, true), 3);
  EXPECT_EQ(size(4, 3, 2, 0, 0, 1, true), 2);
}

TEST(WindowShape, DynamicStaysDynamic) {
  // A copy: binding the static member by reference would ODR-use it.
  const int64_t dynamic = static_cast<int64_t>(mlir::ShapedType::kDynamicSize);
  EXPECT_EQ(size(dynamic, 3, 1, 0, 0, 1, false), dynamic);
}

TEST(WindowShape, Errors) {
  std::string error;
  EXPECT_TRUE(mlir::failed(windowOutputSize(2, 5, 1, 0, 0, 1, false, error)));
  EXPECT_NE(error.find("does not fit"), std::string::npos);
  EXPECT_TRUE(mlir::failed(windowOutputSize(8, 3, 0, 0, 0, 1, false, error)));
  EXPECT_TRUE(mlir::failed(windowOutputSize(8, 3, 1, -1, 0, 1, false, error)));
}
