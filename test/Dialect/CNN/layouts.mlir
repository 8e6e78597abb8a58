// The weight layout ops: their types, their verification, and the layout
// itself, computed by their Halide definition (cnn-fold-constants evaluates
// it on a constant). Their errors are in invalid.mlir.
// RUN: cnnc-opt %s -split-input-file | FileCheck %s
// RUN: cnnc-opt %s -split-input-file -canonicalize 2>/dev/null | FileCheck %s --check-prefix=CANON
// RUN: cnnc-opt %s -split-input-file -cnn-fold-constants 2>/dev/null | FileCheck %s --check-prefix=FOLD

// A convolution reads packed weights: the output has the plain weight's 16
// channels. An unpack of a pack is the plain weight again.
// CHECK-LABEL: func @packed_conv
// CHECK: cnn.pack_weights %{{.*}} {lanes = 8 : i64} : (tensor<16x6x5x5xf32>) -> tensor<2x6x5x5x8xf32>
// CHECK: cnn.conv2d {{.*}} : (tensor<?x6x9x9xf32>, tensor<2x6x5x5x8xf32>, tensor<16xf32>) -> tensor<?x16x5x5xf32>
// CHECK: cnn.unpack_weights %{{.*}} : (tensor<2x6x5x5x8xf32>) -> tensor<16x6x5x5xf32>
// CANON-LABEL: func @packed_conv
// CANON: %[[W:.*]] = cnn.param "w"
// CANON-NOT: cnn.unpack_weights
// CANON: return %{{.*}}, %[[W]]
func @packed_conv(%x: tensor<?x6x9x9xf32>) -> (tensor<?x16x5x5xf32>, tensor<16x6x5x5xf32>) {
  %w = cnn.param "w" {init = "zeros"} : tensor<16x6x5x5xf32>
  %b = cnn.param "b" {init = "zeros"} : tensor<16xf32>
  %p = cnn.pack_weights %w {lanes = 8 : i64} : (tensor<16x6x5x5xf32>) -> tensor<2x6x5x5x8xf32>
  %y = cnn.conv2d %x, %p, %b : (tensor<?x6x9x9xf32>, tensor<2x6x5x5x8xf32>, tensor<16xf32>) -> tensor<?x16x5x5xf32>
  %u = cnn.unpack_weights %p : (tensor<2x6x5x5x8xf32>) -> tensor<16x6x5x5xf32>
  return %y, %u : tensor<?x16x5x5xf32>, tensor<16x6x5x5xf32>
}

// -----

// The layout: out[co / 2][ci][kh][kw][co % 2] = in[co][ci][kh][kw], here
// with in[co][0][0][kw] = 2 * co + kw. Its inverse gives the input back.
// FOLD-LABEL: func @layout_values
// FOLD: cnn.constant {value = dense<{{\[\[\[\[\[}}0.000000e+00, 2.000000e+00], [1.000000e+00, 3.000000e+00]]]], {{\[\[\[\[}}4.000000e+00, 6.000000e+00], [5.000000e+00, 7.000000e+00]]]]]> : tensor<2x1x1x2x2xf32>}
// FOLD: cnn.constant {value = dense<{{\[\[\[\[}}0.000000e+00, 1.000000e+00]]], {{\[\[\[}}2.000000e+00, 3.000000e+00]]], {{\[\[\[}}4.000000e+00, 5.000000e+00]]], {{\[\[\[}}6.000000e+00, 7.000000e+00]]]]> : tensor<4x1x1x2xf32>}
func @layout_values() -> (tensor<2x1x1x2x2xf32>, tensor<4x1x1x2xf32>) {
  %w = cnn.constant {value = dense<[[[[0.0, 1.0]]], [[[2.0, 3.0]]], [[[4.0, 5.0]]], [[[6.0, 7.0]]]]> : tensor<4x1x1x2xf32>} : tensor<4x1x1x2xf32>
  %p = cnn.pack_weights %w {lanes = 2 : i64} : (tensor<4x1x1x2xf32>) -> tensor<2x1x1x2x2xf32>
  %c = cnn.constant {value = dense<[[[[[0.0, 2.0], [1.0, 3.0]]]], [[[[4.0, 6.0], [5.0, 7.0]]]]]> : tensor<2x1x1x2x2xf32>} : tensor<2x1x1x2x2xf32>
  %u = cnn.unpack_weights %c : (tensor<2x1x1x2x2xf32>) -> tensor<4x1x1x2xf32>
  return %p, %u : tensor<2x1x1x2x2xf32>, tensor<4x1x1x2xf32>
}

