// RUN: cnnc-opt %s -split-input-file -cnn-fold-batchnorm | FileCheck %s
// RUN: cnnc-opt %s -split-input-file -cnn-fold-batchnorm=training | FileCheck %s --check-prefix=TRAIN

// s = gamma / sqrt(var + eps) = [2, 0.5]; W' = W * s; b' = (b - mean) * s + beta.
// CHECK-LABEL: func @conv_bn
// CHECK-DAG: %[[W:.*]] = cnn.param "conv.weight" {{.*}}value = dense<{{\[}}[{{\[}}[2.000000e+00]]], {{\[}}[{{\[}}5.000000e-01]]]]> : tensor<2x1x1x1xf32>}
// CHECK-DAG: %[[B:.*]] = cnn.param "conv.bias" {{.*}}value = dense<[1.000000e+00, 1.500000e+00]> : tensor<2xf32>}
// CHECK: %[[Y:.*]] = cnn.conv2d %{{.*}}, %[[W]], %[[B]]
// CHECK-NOT: cnn.batch_norm
// CHECK: return %[[Y]]
// Trainable weights: the BatchNorm stays.
// TRAIN-LABEL: func @conv_bn
// TRAIN: cnn.batch_norm
func @conv_bn(%x: tensor<?x1x4x4xf32>) -> tensor<?x2x4x4xf32> {
  %w = cnn.param "conv.weight" {value = dense<1.0> : tensor<2x1x1x1xf32>} : tensor<2x1x1x1xf32>
  %b = cnn.param "conv.bias" {value = dense<[1.0, 2.0]> : tensor<2xf32>} : tensor<2xf32>
  %c = cnn.conv2d %x, %w, %b : (tensor<?x1x4x4xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<?x2x4x4xf32>
  %g = cnn.param "bn.weight" {value = dense<[2.0, 1.0]> : tensor<2xf32>} : tensor<2xf32>
  %be = cnn.param "bn.bias" {value = dense<[1.0, 2.0]> : tensor<2xf32>} : tensor<2xf32>
  %m = cnn.param "bn.running_mean" {buffer, value = dense<[1.0, 3.0]> : tensor<2xf32>} : tensor<2xf32>
  %v = cnn.param "bn.running_var" {buffer, value = dense<[1.0, 4.0]> : tensor<2xf32>} : tensor<2xf32>
  %y = cnn.batch_norm %c, %g, %be, %m, %v {epsilon = 1.0e-12 : f32} : (tensor<?x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2x4x4xf32>
  return %y : tensor<?x2x4x4xf32>
}

// -----

// Frozen parameters fold even when compiling for training. With the
// default epsilon 1e-5: s = [2 / sqrt(1 + 1e-5), 1 / sqrt(4 + 1e-5)];
// W' = s; b' = beta - mean * s (the convolution has no bias).
// TRAIN-LABEL: func @frozen_conv_bn
// TRAIN-DAG: %[[W:.*]] = cnn.param "conv.weight" frozen {{.*}}value = dense<{{\[}}[{{\[}}[1.999990e+00]]], {{\[}}[{{\[}}0.499999374]]]]> : tensor<2x1x1x1xf32>}
// TRAIN-DAG: %[[B:.*]] = cnn.param "bn.bias" frozen {{.*}}value = dense<[-0.999989986, 0.500001848]> : tensor<2xf32>}
// TRAIN: %[[Y:.*]] = cnn.conv2d %{{.*}}, %[[W]], %[[B]]
// TRAIN-NOT: cnn.batch_norm
// TRAIN: return %[[Y]]
func @frozen_conv_bn(%x: tensor<?x1x4x4xf32>) -> tensor<?x2x4x4xf32> {
  %w = cnn.param "conv.weight" frozen {value = dense<1.0> : tensor<2x1x1x1xf32>} : tensor<2x1x1x1xf32>
  %c = cnn.conv2d %x, %w : (tensor<?x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<?x2x4x4xf32>
  %g = cnn.param "bn.weight" frozen {value = dense<[2.0, 1.0]> : tensor<2xf32>} : tensor<2xf32>
  %be = cnn.param "bn.bias" frozen {value = dense<[1.0, 2.0]> : tensor<2xf32>} : tensor<2xf32>
  %m = cnn.param "bn.running_mean" frozen {buffer, value = dense<[1.0, 3.0]> : tensor<2xf32>} : tensor<2xf32>
  %v = cnn.param "bn.running_var" frozen {buffer, value = dense<[1.0, 4.0]> : tensor<2xf32>} : tensor<2xf32>
  %y = cnn.batch_norm %c, %g, %be, %m, %v : (tensor<?x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2x4x4xf32>
  return %y : tensor<?x2x4x4xf32>
}

// -----

// After a ReLU the BatchNorm cannot fold into the convolution.
// CHECK-LABEL: func @relu_bn
// CHECK: cnn.relu
// CHECK: cnn.batch_norm
func @relu_bn(%x: tensor<?x2x4x4xf32>) -> tensor<?x2x4x4xf32> {
  %r = cnn.relu %x : tensor<?x2x4x4xf32>
  %g = cnn.param "bn.weight" {value = dense<[2.0, 1.0]> : tensor<2xf32>} : tensor<2xf32>
  %be = cnn.param "bn.bias" {value = dense<[1.0, 2.0]> : tensor<2xf32>} : tensor<2xf32>
  %m = cnn.param "bn.running_mean" {buffer, value = dense<[1.0, 3.0]> : tensor<2xf32>} : tensor<2xf32>
  %v = cnn.param "bn.running_var" {buffer, value = dense<[1.0, 4.0]> : tensor<2xf32>} : tensor<2xf32>
  %y = cnn.batch_norm %r, %g, %be, %m, %v : (tensor<?x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2x4x4xf32>
  return %y : tensor<?x2x4x4xf32>
}

// -----

// Linear + BatchNorm1d.
// CHECK-LABEL: func @gemm_bn
// CHECK: cnn.param "fc.weight" {{.*}}value = dense<{{\[}}[2.000000e+00, 2.000000e+00], [5.000000e-01, 5.000000e-01]]>
// CHECK: cnn.gemm
// CHECK-NOT: cnn.batch_norm
func @gemm_bn(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %w = cnn.param "fc.weight" {value = dense<1.0> : tensor<2x2xf32>} : tensor<2x2xf32>
  %c = cnn.gemm %x, %w {transB = true} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  %g = cnn.param "bn.weight" {value = dense<[2.0, 1.0]> : tensor<2xf32>} : tensor<2xf32>
  %be = cnn.param "bn.bias" {value = dense<[1.0, 2.0]> : tensor<2xf32>} : tensor<2xf32>
  %m = cnn.param "bn.running_mean" {buffer, value = dense<[1.0, 3.0]> : tensor<2xf32>} : tensor<2xf32>
  %v = cnn.param "bn.running_var" {buffer, value = dense<[1.0, 4.0]> : tensor<2xf32>} : tensor<2xf32>
  %y = cnn.batch_norm %c, %g, %be, %m, %v {epsilon = 1.0e-12 : f32} : (tensor<?x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// A BatchNorm whose affine trains normalizes with batch statistics in
// training: it never folds, even into a frozen convolution.
// CHECK-LABEL: func @frozen_conv_trainable_bn
// CHECK-NOT: cnn.batch_norm
// TRAIN-LABEL: func @frozen_conv_trainable_bn
// TRAIN: cnn.conv2d
// TRAIN: cnn.batch_norm
func @frozen_conv_trainable_bn(%x: tensor<?x1x4x4xf32>) -> tensor<?x2x4x4xf32> {
  %w = cnn.param "conv.weight" frozen {value = dense<1.0> : tensor<2x1x1x1xf32>} : tensor<2x1x1x1xf32>
  %c = cnn.conv2d %x, %w : (tensor<?x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<?x2x4x4xf32>
  %g = cnn.param "bn.weight" {value = dense<[2.0, 1.0]> : tensor<2xf32>} : tensor<2xf32>
  %be = cnn.param "bn.bias" frozen {value = dense<[1.0, 2.0]> : tensor<2xf32>} : tensor<2xf32>
  %m = cnn.param "bn.running_mean" frozen {buffer, value = dense<[1.0, 3.0]> : tensor<2xf32>} : tensor<2xf32>
  %v = cnn.param "bn.running_var" frozen {buffer, value = dense<[1.0, 4.0]> : tensor<2xf32>} : tensor<2xf32>
  %y = cnn.batch_norm %c, %g, %be, %m, %v : (tensor<?x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2x4x4xf32>
  return %y : tensor<?x2x4x4xf32>
}
