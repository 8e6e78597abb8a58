// RUN: cnnc-opt %s -cnn-pack-conv-weights=lanes=8 | FileCheck %s

// A short reduction (at most 4 vectors of steps) over rows of whole vectors
// keeps its plain weights: its rows are stored as vectors. A row that is
// not whole vectors, or a longer reduction, reads packed weights.
// CHECK-LABEL: func @main
// CHECK-DAG: %[[S:.*]] = cnn.param "short"
// CHECK-DAG: %[[L:.*]] = cnn.param "long"
// CHECK-DAG: %[[W:.*]] = cnn.param "wide"
// CHECK-DAG: %[[PS:.*]] = cnn.pack_weights %[[S]] {lanes = 8 : i64} : (tensor<8x16x1x1xf32>)
// CHECK-DAG: %[[PL:.*]] = cnn.pack_weights %[[L]] {lanes = 8 : i64} : (tensor<8x40x1x1xf32>)
// 16 steps, rows of 2 vectors: plain.
// CHECK: cnn.conv2d %{{.*}}, %[[S]] : (tensor<?x16x4x16xf32>, tensor<8x16x1x1xf32>)
// 16 steps, rows of 12: packed.
// CHECK: cnn.conv2d %{{.*}}, %[[PS]] : (tensor<?x16x4x12xf32>, tensor<1x16x1x1x8xf32>)
// 40 steps, rows of 2 vectors: packed.
// CHECK: cnn.conv2d %{{.*}}, %[[PL]] : (tensor<?x40x4x16xf32>, tensor<1x40x1x1x8xf32>)
// 32 steps (16 channels by a 1x2 window), rows of 2 vectors: plain.
// CHECK: cnn.conv2d %{{.*}}, %[[W]] : (tensor<?x16x4x17xf32>, tensor<8x16x1x2xf32>)

func @main(%a: tensor<?x16x4x16xf32>, %b: tensor<?x16x4x12xf32>, %c: tensor<?x40x4x16xf32>, %d: tensor<?x16x4x17xf32>) -> (tensor<?x8x4x16xf32>, tensor<?x8x4x12xf32>, tensor<?x8x4x16xf32>, tensor<?x8x4x16xf32>) {
  %s = cnn.param "short" {init = "zeros"} : tensor<8x16x1x1xf32>
  %l = cnn.param "long" {init = "zeros"} : tensor<8x40x1x1xf32>
  %w = cnn.param "wide" {init = "zeros"} : tensor<8x16x1x2xf32>
  %0 = cnn.conv2d %a, %s : (tensor<?x16x4x16xf32>, tensor<8x16x1x1xf32>) -> tensor<?x8x4x16xf32>
  %1 = cnn.conv2d %b, %s : (tensor<?x16x4x12xf32>, tensor<8x16x1x1xf32>) -> tensor<?x8x4x12xf32>
  %2 = cnn.conv2d %c, %l : (tensor<?x40x4x16xf32>, tensor<8x40x1x1xf32>) -> tensor<?x8x4x16xf32>
  %3 = cnn.conv2d %d, %w : (tensor<?x16x4x17xf32>, tensor<8x16x1x2xf32>) -> tensor<?x8x4x16xf32>
  return %0, %1, %2, %3 : tensor<?x8x4x16xf32>, tensor<?x8x4x12xf32>, tensor<?x8x4x16xf32>, tensor<?x8x4x16xf32>
}
