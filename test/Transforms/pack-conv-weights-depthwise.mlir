// RUN: cnnc-opt %s -cnn-pack-conv-weights=lanes=8 | FileCheck %s

// A depthwise convolution keeps its plain weights; with rows of whole
// vectors it reads its input from a buffer with its padding as a zero
// border, as packed convolutions do. Rows of 12 keep their padding pass.
// CHECK-LABEL: func @main
// CHECK: %[[R:.*]] = cnn.relu %{{.*}} {cnn.zero_border = [1, 1, 1, 1]} : tensor<?x8x4x16xf32>
// CHECK: cnn.conv2d %[[R]], %{{.*}} {cnn.prepadded, group = 8 : i64, pads = [1, 1, 1, 1]} : (tensor<?x8x4x16xf32>, tensor<8x1x3x3xf32>)
// CHECK: %[[Q:.*]] = cnn.relu %{{.*}} : tensor<?x8x4x12xf32>
// CHECK: cnn.conv2d %[[Q]], %{{.*}} {group = 8 : i64, pads = [1, 1, 1, 1]} : (tensor<?x8x4x12xf32>, tensor<8x1x3x3xf32>)
func @main(%a: tensor<?x8x4x16xf32>, %b: tensor<?x8x4x12xf32>) -> (tensor<?x8x4x16xf32>, tensor<?x8x4x12xf32>) {
  %w = cnn.param "dw" {init = "zeros"} : tensor<8x1x3x3xf32>
  %r = cnn.relu %a : tensor<?x8x4x16xf32>
  %0 = cnn.conv2d %r, %w {group = 8 : i64, pads = [1, 1, 1, 1]} : (tensor<?x8x4x16xf32>, tensor<8x1x3x3xf32>) -> tensor<?x8x4x16xf32>
  %q = cnn.relu %b : tensor<?x8x4x12xf32>
  %1 = cnn.conv2d %q, %w {group = 8 : i64, pads = [1, 1, 1, 1]} : (tensor<?x8x4x12xf32>, tensor<8x1x3x3xf32>) -> tensor<?x8x4x12xf32>
  return %0, %1 : tensor<?x8x4x16xf32>, tensor<?x8x4x12xf32>
}
