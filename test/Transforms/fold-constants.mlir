// RUN: cnnc-opt %s -split-input-file -cnn-fold-constants | FileCheck %s

// A convolution of constants is evaluated (its Halide definition, JIT):
// input 0..8 as 3x3, 2x2 kernel of ones, bias 1:
// [[0+1+3+4, 1+2+4+5], [3+4+6+7, 4+5+7+8]] + 1.
// CHECK-LABEL: func @conv
// CHECK: %[[C:.*]] = cnn.constant {value = dense<{{\[\[\[\[}}9.000000e+00, 1.300000e+01], [2.100000e+01, 2.500000e+01]]]]> : tensor<1x1x2x2xf32>}
// CHECK-NOT: cnn.conv2d
// CHECK: cnn.add %{{.*}}, %[[C]]
func @conv(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %i = cnn.constant {value = dense<[[[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]]]]> : tensor<1x1x3x3xf32>} : tensor<1x1x3x3xf32>
  %w = cnn.constant {value = dense<1.0> : tensor<1x1x2x2xf32>} : tensor<1x1x2x2xf32>
  %b = cnn.constant {value = dense<1.0> : tensor<1xf32>} : tensor<1xf32>
  %c = cnn.conv2d %i, %w, %b : (tensor<1x1x3x3xf32>, tensor<1x1x2x2xf32>, tensor<1xf32>) -> tensor<1x1x2x2xf32>
  %y = cnn.add %x, %c : (tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// A chain: max pooling of a constant, then a gemm with constant weights
// ([1, 2] x [[1, 0], [1, 1]]^T = [1, 3]), then softmax; all of it folds to
// one constant and the dead inputs go.
// CHECK-LABEL: func @chain
// CHECK-NEXT: %[[C:.*]] = cnn.constant {value = dense<{{\[\[}}0.119202{{[0-9]*}}, 8.807970e-01]]> : tensor<1x2xf32>}
// CHECK-NEXT: return %[[C]]
func @chain() -> tensor<1x2xf32> {
  %i = cnn.constant {value = dense<[[[[1.0, -1.0], [0.0, 0.5]], [[2.0, 1.0], [-3.0, 0.0]]]]> : tensor<1x2x2x2xf32>} : tensor<1x2x2x2xf32>
  %p = cnn.max_pool2d %i {kernel_shape = [2, 2], strides = [2, 2]} : (tensor<1x2x2x2xf32>) -> tensor<1x2x1x1xf32>
  %f = cnn.flatten %p : (tensor<1x2x1x1xf32>) -> tensor<1x2xf32>
  %w = cnn.constant {value = dense<[[1.0, 0.0], [1.0, 1.0]]> : tensor<2x2xf32>} : tensor<2x2xf32>
  %g = cnn.gemm %f, %w {transB = true} : (tensor<1x2xf32>, tensor<2x2xf32>) -> tensor<1x2xf32>
  %s = cnn.softmax %g : tensor<1x2xf32>
  return %s : tensor<1x2xf32>
}

// -----

// Ops without a folder of their own: pad, concat, leaky ReLU.
// CHECK-LABEL: func @pad_concat
// CHECK-NEXT: %[[C:.*]] = cnn.constant {value = dense<{{\[\[}}0.000000e+00, -1.000000e-01, 2.000000e+00, 0.000000e+00, 5.000000e+00]]> : tensor<1x5xf32>}
// CHECK-NEXT: return %[[C]]
func @pad_concat() -> tensor<1x5xf32> {
  %a = cnn.constant {value = dense<[[-1.0, 2.0]]> : tensor<1x2xf32>} : tensor<1x2xf32>
  %l = cnn.leaky_relu %a {alpha = 0.1 : f32} : tensor<1x2xf32>
  %p = cnn.pad %l {pads = [0, 1, 0, 1]} : (tensor<1x2xf32>) -> tensor<1x4xf32>
  %b = cnn.constant {value = dense<[[5.0]]> : tensor<1x1xf32>} : tensor<1x1xf32>
  %c = cnn.concat %p, %b {axis = 1 : i64} : (tensor<1x4xf32>, tensor<1x1xf32>) -> tensor<1x5xf32>
  return %c : tensor<1x5xf32>
}

// -----

// Negative: a parameter is not a constant (it trains), nor is an input; a
// batch-dynamic result is not evaluated either.
// CHECK-LABEL: func @not_constant
// CHECK: cnn.conv2d
// CHECK: cnn.leaky_relu
func @not_constant(%x: tensor<?x1x3x3xf32>) -> (tensor<1x1x2x2xf32>, tensor<?x1x3x3xf32>) {
  %i = cnn.constant {value = dense<1.0> : tensor<1x1x3x3xf32>} : tensor<1x1x3x3xf32>
  %w = cnn.param "w" {value = dense<1.0> : tensor<1x1x2x2xf32>} : tensor<1x1x2x2xf32>
  %c = cnn.conv2d %i, %w : (tensor<1x1x3x3xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  %l = cnn.leaky_relu %x {alpha = 0.1 : f32} : tensor<?x1x3x3xf32>
  return %c, %l : tensor<1x1x2x2xf32>, tensor<?x1x3x3xf32>
}

// -----

// Negative: too much work to evaluate at compile time (result elements x
// operand elements above 2^31); it stays a run-time op.
// CHECK-LABEL: func @too_big
// CHECK: cnn.conv2d
func @too_big() -> tensor<1x1x2048x2048xf32> {
  %i = cnn.constant {value = dense<1.0> : tensor<1x1x2048x2048xf32>} : tensor<1x1x2048x2048xf32>
  %w = cnn.constant {value = dense<2.0> : tensor<1x1x1x1xf32>} : tensor<1x1x1x1xf32>
  %c = cnn.conv2d %i, %w : (tensor<1x1x2048x2048xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x2048x2048xf32>
  return %c : tensor<1x1x2048x2048xf32>
}
