// RUN: cnnc-opt %s -cnn-pack-conv-weights="lanes=8 flatten-pointwise" | FileCheck %s
// Without the option (-O0) or a vector width (a GPU) the images stay as they
// are.
// RUN: cnnc-opt %s -cnn-pack-conv-weights=lanes=8 | FileCheck %s --check-prefix=NONE
// RUN: cnnc-opt %s -cnn-pack-conv-weights="lanes=0 flatten-pointwise" | FileCheck %s --check-prefix=NONE

// The inference graph's 1x1 convolutions (no padding, one group, no pooling)
// run as matrix products on their images flattened to one row: cnn.reshape
// views around them, the residual too, plain weights. A strided one reads a
// subsampled copy (a 1x1 max pooling). A padded 1x1 convolution, a grouped
// one and one with a pooling are left alone (packed where that pays), and
// so is the training step.
// %in feeds a reshape, so it gets no zero border for the 3x3 convolution.
// CHECK-LABEL: func @main
// CHECK: %[[F:.*]] = cnn.reshape %arg0 {shape = [0, 16, 1, 49]} : (tensor<?x16x7x7xf32>) -> tensor<?x16x1x49xf32>
// CHECK-NEXT: %[[C:.*]] = cnn.conv2d %[[F]], %{{.*}} : (tensor<?x16x1x49xf32>, tensor<32x16x1x1xf32>) -> tensor<?x32x1x49xf32>
// CHECK-NEXT: %[[B:.*]] = cnn.reshape %[[C]] {shape = [0, 32, 7, 7]} : (tensor<?x32x1x49xf32>) -> tensor<?x32x7x7xf32>
// CHECK: %[[FB:.*]] = cnn.reshape %[[B]] {shape = [0, 32, 1, 49]}
// CHECK-NEXT: %[[R:.*]] = cnn.fused_conv2d %[[FB]], %{{.*}} bias %{{.*}} residual %[[FB]] {activation = #cnn.activation<relu>} : (tensor<?x32x1x49xf32>, tensor<32x32x1x1xf32>, tensor<32xf32>, tensor<?x32x1x49xf32>) -> tensor<?x32x1x49xf32>
// CHECK-NEXT: cnn.reshape %[[R]] {shape = [0, 32, 7, 7]}
// CHECK: %[[S:.*]] = cnn.max_pool2d %[[B]] {kernel_shape = [1, 1], strides = [2, 2]} : (tensor<?x32x7x7xf32>) -> tensor<?x32x4x4xf32>
// CHECK-NEXT: %[[FS:.*]] = cnn.reshape %[[S]] {shape = [0, 32, 1, 16]}
// CHECK-NEXT: cnn.conv2d %[[FS]], %{{.*}} {strides = [1, 1]} : (tensor<?x32x1x16xf32>, tensor<8x32x1x1xf32>) -> tensor<?x8x1x16xf32>
// CHECK: cnn.conv2d %[[B]], %{{.*}} {pads = [1, 1, 1, 1]} : (tensor<?x32x7x7xf32>, tensor<1x32x1x1x8xf32>) -> tensor<?x8x9x9xf32>
// CHECK: cnn.conv2d %[[B]], %{{.*}} {group = 2 : i64} : (tensor<?x32x7x7xf32>, tensor<8x16x1x1xf32>)
// CHECK: cnn.fused_conv2d %[[B]], {{.*}} : (tensor<?x32x7x7xf32>, tensor<1x32x1x1x8xf32>, tensor<8xf32>) -> tensor<?x8x3x3xf32>
// CHECK-NOT: cnn.zero_border
// CHECK-LABEL: func @train_step
// CHECK-NOT: cnn.reshape
// CHECK-NOT: cnn.max_pool2d

// NONE-NOT: cnn.reshape
// NONE-NOT: cnn.max_pool2d

func @main(%in: tensor<?x16x7x7xf32>) -> (tensor<?x32x7x7xf32>, tensor<?x8x4x4xf32>, tensor<?x8x9x9xf32>, tensor<?x8x7x7xf32>, tensor<?x8x3x3xf32>) {
  %w1 = cnn.param "w1" {init = "zeros"} : tensor<32x16x1x1xf32>
  %w2 = cnn.param "w2" {init = "zeros"} : tensor<32x32x1x1xf32>
  %w3 = cnn.param "w3" {init = "zeros"} : tensor<8x32x1x1xf32>
  %wg = cnn.param "wg" {init = "zeros"} : tensor<8x16x1x1xf32>
  %b2 = cnn.param "b2" {init = "zeros"} : tensor<32xf32>
  %b3 = cnn.param "b3" {init = "zeros"} : tensor<8xf32>
  %a = cnn.conv2d %in, %w1 : (tensor<?x16x7x7xf32>, tensor<32x16x1x1xf32>) -> tensor<?x32x7x7xf32>
  %b = cnn.fused_conv2d %a, %w2 bias %b2 residual %a {activation = #cnn.activation<relu>} : (tensor<?x32x7x7xf32>, tensor<32x32x1x1xf32>, tensor<32xf32>, tensor<?x32x7x7xf32>) -> tensor<?x32x7x7xf32>
  %c = cnn.conv2d %a, %w3 {strides = [2, 2]} : (tensor<?x32x7x7xf32>, tensor<8x32x1x1xf32>) -> tensor<?x8x4x4xf32>
  %d = cnn.conv2d %a, %w3 {pads = [1, 1, 1, 1]} : (tensor<?x32x7x7xf32>, tensor<8x32x1x1xf32>) -> tensor<?x8x9x9xf32>
  %e = cnn.conv2d %a, %wg {group = 2 : i64} : (tensor<?x32x7x7xf32>, tensor<8x16x1x1xf32>) -> tensor<?x8x7x7xf32>
  %f = cnn.fused_conv2d %a, %w3 bias %b3 {pool = #cnn.pool<max>, pool_kernel = [2, 2], pool_strides = [2, 2]} : (tensor<?x32x7x7xf32>, tensor<8x32x1x1xf32>, tensor<8xf32>) -> tensor<?x8x3x3xf32>
  return %b, %c, %d, %e, %f : tensor<?x32x7x7xf32>, tensor<?x8x4x4xf32>, tensor<?x8x9x9xf32>, tensor<?x8x7x7xf32>, tensor<?x8x3x3xf32>
}

func @train_step(%in: tensor<?x16x7x7xf32>) -> tensor<?x32x7x7xf32> {
  %w1 = cnn.param "w1" {init = "zeros"} : tensor<32x16x1x1xf32>
  %a = cnn.conv2d %in, %w1 : (tensor<?x16x7x7xf32>, tensor<32x16x1x1xf32>) -> tensor<?x32x7x7xf32>
  return %a : tensor<?x32x7x7xf32>
}
