// RUN: cnnc-opt %s -cnn-pack-conv-weights=lanes=8 | FileCheck %s
// RUN: cnnc-opt %s -cnn-pack-conv-weights="lanes=8 fuse-padding=false" | FileCheck %s --check-prefix=NOPAD
// RUN: cnnc-opt %s -cnn-pack-conv-weights=lanes=16 | FileCheck %s --check-prefix=WIDE
// Chosen anew each time: 8 lanes, then none.
// RUN: cnnc-opt %s -cnn-pack-conv-weights=lanes=8 | cnnc-opt -cnn-pack-conv-weights=lanes=0 | FileCheck %s --check-prefix=NONE

// 8 output channels fill a vector of 8: both convolutions reading %w read
// it through one cnn.pack_weights. %a's only readers are kernels, one of
// them a packed convolution with pads 1: %a is written with that zero border
// and %b reads it prepadded. The grouped convolution and the 6-channel one
// keep their plain weights.
// CHECK-LABEL: func @main
// CHECK: %[[W:.*]] = cnn.param "w"
// CHECK-NEXT: %[[P:.*]] = cnn.pack_weights %[[W]] {lanes = 8 : i64} : (tensor<8x8x3x3xf32>) -> tensor<1x8x3x3x8xf32>
// CHECK-NOT: cnn.pack_weights
// CHECK: %[[A:.*]] = cnn.conv2d %{{.*}}, %[[P]] {cnn.zero_border = [1, 1, 1, 1], pads = [1, 1, 1, 1]} : (tensor<?x8x6x6xf32>, tensor<1x8x3x3x8xf32>)
// CHECK: %[[R:.*]] = cnn.relu %[[A]]
// CHECK: cnn.conv2d %[[A]], %[[P]] {cnn.prepadded, pads = [1, 1, 1, 1]}
// CHECK: cnn.conv2d %[[R]], {{.*}} {group = 2 : i64, pads = [1, 1, 1, 1]} : (tensor<?x8x6x6xf32>, tensor<8x4x3x3xf32>)
// CHECK: cnn.conv2d {{.*}} : (tensor<?x8x6x6xf32>, tensor<6x8x3x3xf32>) -> tensor<?x6x4x4xf32>
// The training step packs the weights it reads in its forward pass itself
// (they change every step) and writes no zero border.
// CHECK-LABEL: func @train_step
// CHECK: %[[TW:.*]] = cnn.param "w"
// CHECK-NEXT: %[[TP:.*]] = cnn.pack_weights %[[TW]] {lanes = 8 : i64}
// CHECK-NEXT: cnn.conv2d %{{.*}}, %[[TP]] {pads = [1, 1, 1, 1]} : (tensor<?x8x6x6xf32>, tensor<1x8x3x3x8xf32>)

// NOPAD: cnn.pack_weights
// NOPAD-NOT: cnn.zero_border
// NOPAD-NOT: cnn.prepadded

// 16 lanes: no convolution here has 16 output channels.
// WIDE-NOT: cnn.pack_weights

// A second run undoes the first: the plain weights again, no pack left.
// NONE-NOT: cnn.pack_weights
// NONE-NOT: cnn.zero_border
// NONE-NOT: cnn.prepadded
// NONE: cnn.conv2d %{{.*}}, %{{.*}} {pads = [1, 1, 1, 1]} : (tensor<?x8x6x6xf32>, tensor<8x8x3x3xf32>)

func @main(%x: tensor<?x8x6x6xf32>) -> (tensor<?x8x6x6xf32>, tensor<?x8x6x6xf32>, tensor<?x6x4x4xf32>) {
  %w = cnn.param "w" {init = "zeros"} : tensor<8x8x3x3xf32>
  %g = cnn.param "g" {init = "zeros"} : tensor<8x4x3x3xf32>
  %v = cnn.param "v" {init = "zeros"} : tensor<6x8x3x3xf32>
  %a = cnn.conv2d %x, %w {pads = [1, 1, 1, 1]} : (tensor<?x8x6x6xf32>, tensor<8x8x3x3xf32>) -> tensor<?x8x6x6xf32>
  %r = cnn.relu %a : tensor<?x8x6x6xf32>
  %b = cnn.conv2d %a, %w {pads = [1, 1, 1, 1]} : (tensor<?x8x6x6xf32>, tensor<8x8x3x3xf32>) -> tensor<?x8x6x6xf32>
  %c = cnn.conv2d %r, %g {group = 2 : i64, pads = [1, 1, 1, 1]} : (tensor<?x8x6x6xf32>, tensor<8x4x3x3xf32>) -> tensor<?x8x6x6xf32>
  %d = cnn.conv2d %c, %v : (tensor<?x8x6x6xf32>, tensor<6x8x3x3xf32>) -> tensor<?x6x4x4xf32>
  return %b, %c, %d : tensor<?x8x6x6xf32>, tensor<?x8x6x6xf32>, tensor<?x6x4x4xf32>
}
func @train_step(%x: tensor<?x8x6x6xf32>) -> tensor<?x8x6x6xf32> attributes {cnn.train_step} {
  %w = cnn.param "w" {init = "zeros"} : tensor<8x8x3x3xf32>
  %a = cnn.conv2d %x, %w {pads = [1, 1, 1, 1]} : (tensor<?x8x6x6xf32>, tensor<8x8x3x3xf32>) -> tensor<?x8x6x6xf32>
  return %a : tensor<?x8x6x6xf32>
}
