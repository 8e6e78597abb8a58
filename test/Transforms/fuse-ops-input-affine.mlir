// RUN: cnnc-opt %s -split-input-file -cnn-fuse-ops=input-affine | FileCheck %s
// RUN: cnnc-opt %s -split-input-file -cnn-fuse-ops | FileCheck %s --check-prefix=OFF
// RUN: cnnc-opt %s -split-input-file -cnn-fuse-ops="input-affine training" | FileCheck %s --check-prefix=TRAIN

// DenseNet's layer: BatchNorm + ReLU + 1x1 convolution (+ bias + ReLU) is
// one kernel that applies the BatchNorm as a per-input-channel scale and
// shift and the ReLU as it reads its input.
// s = gamma / sqrt(var + eps) = [4 / 2, 3 / 3] = [2, 1];
// t = beta - mean * s = [1 - 0.5 * 2, 0 - 2 * 1] = [0, -2].
// CHECK-LABEL: func @bn_relu_conv
// CHECK-SAME: (%[[X:.*]]: tensor<?x2x5x5xf32>)
// CHECK-DAG: %[[S:.*]] = cnn.constant {value = dense<[2.000000e+00, 1.000000e+00]> : tensor<2xf32>}
// CHECK-DAG: %[[T:.*]] = cnn.constant {value = dense<[0.000000e+00, -2.000000e+00]> : tensor<2xf32>}
// CHECK-NOT: cnn.batch_norm
// CHECK-NOT: cnn.relu
// CHECK: %[[Y:.*]] = cnn.fused_conv2d %[[X]], %{{.*}} bias %{{.*}} input_scale %[[S]] input_shift %[[T]] {activation = #cnn.activation<relu>, input_relu} : (tensor<?x2x5x5xf32>, tensor<3x2x1x1xf32>, tensor<3xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x3x5x5xf32>
// CHECK-NOT: cnn.batch_norm
// CHECK-NOT: cnn.relu
// CHECK: return %[[Y]]
// OFF-LABEL: func @bn_relu_conv
// OFF: cnn.batch_norm
// OFF: cnn.relu
// OFF-NOT: input_scale
// Parameters that train are not constants: nothing is taken in.
// TRAIN-LABEL: func @bn_relu_conv
// TRAIN: cnn.batch_norm
// TRAIN-NOT: input_scale
func @bn_relu_conv(%x: tensor<?x2x5x5xf32>) -> tensor<?x3x5x5xf32> {
  %g = cnn.param "bn.weight" {value = dense<[4.0, 3.0]> : tensor<2xf32>} : tensor<2xf32>
  %b = cnn.param "bn.bias" {value = dense<[1.0, 0.0]> : tensor<2xf32>} : tensor<2xf32>
  %m = cnn.param "bn.running_mean" {buffer, value = dense<[0.5, 2.0]> : tensor<2xf32>} : tensor<2xf32>
  %v = cnn.param "bn.running_var" {buffer, value = dense<[4.0, 9.0]> : tensor<2xf32>} : tensor<2xf32>
  %n = cnn.batch_norm %x, %g, %b, %m, %v {epsilon = 1.0e-30 : f32} : (tensor<?x2x5x5xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2x5x5xf32>
  %r = cnn.relu %n : tensor<?x2x5x5xf32>
  %w = cnn.param "conv.weight" {init = "kaiming_uniform"} : tensor<3x2x1x1xf32>
  %cb = cnn.param "conv.bias" {init = "uniform_fan_in"} : tensor<3xf32>
  %c = cnn.conv2d %r, %w, %cb : (tensor<?x2x5x5xf32>, tensor<3x2x1x1xf32>, tensor<3xf32>) -> tensor<?x3x5x5xf32>
  %y = cnn.relu %c : tensor<?x3x5x5xf32>
  return %y : tensor<?x3x5x5xf32>
}

// -----

// Not taken in: a 3x3 convolution with padding (the padding must stay
// zero), a ReLU read twice, and a BatchNorm without a ReLU.
// CHECK-LABEL: func @not_taken
// CHECK-COUNT-3: cnn.batch_norm
// CHECK-NOT: input_scale
func @not_taken(%x: tensor<?x2x5x5xf32>) -> (tensor<?x3x5x5xf32>, tensor<?x3x5x5xf32>, tensor<?x2x5x5xf32>, tensor<?x3x5x5xf32>) {
  %g = cnn.param "bn.weight" {value = dense<[4.0, 3.0]> : tensor<2xf32>} : tensor<2xf32>
  %b = cnn.param "bn.bias" {value = dense<[1.0, 0.0]> : tensor<2xf32>} : tensor<2xf32>
  %m = cnn.param "bn.running_mean" {buffer, value = dense<[0.5, 2.0]> : tensor<2xf32>} : tensor<2xf32>
  %v = cnn.param "bn.running_var" {buffer, value = dense<[4.0, 9.0]> : tensor<2xf32>} : tensor<2xf32>
  %w3 = cnn.param "w3" {init = "kaiming_uniform"} : tensor<3x2x3x3xf32>
  %w1 = cnn.param "w1" {init = "kaiming_uniform"} : tensor<3x2x1x1xf32>
  %n1 = cnn.batch_norm %x, %g, %b, %m, %v : (tensor<?x2x5x5xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2x5x5xf32>
  %r1 = cnn.relu %n1 : tensor<?x2x5x5xf32>
  %c1 = cnn.conv2d %r1, %w3 {pads = [1, 1, 1, 1]} : (tensor<?x2x5x5xf32>, tensor<3x2x3x3xf32>) -> tensor<?x3x5x5xf32>
  %n2 = cnn.batch_norm %x, %g, %b, %m, %v : (tensor<?x2x5x5xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2x5x5xf32>
  %r2 = cnn.relu %n2 : tensor<?x2x5x5xf32>
  %c2 = cnn.conv2d %r2, %w1 : (tensor<?x2x5x5xf32>, tensor<3x2x1x1xf32>) -> tensor<?x3x5x5xf32>
  %n3 = cnn.batch_norm %x, %g, %b, %m, %v : (tensor<?x2x5x5xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2x5x5xf32>
  %c3 = cnn.conv2d %n3, %w1 : (tensor<?x2x5x5xf32>, tensor<3x2x1x1xf32>) -> tensor<?x3x5x5xf32>
  return %c1, %c2, %r2, %c3 : tensor<?x3x5x5xf32>, tensor<?x3x5x5xf32>, tensor<?x2x5x5xf32>, tensor<?x3x5x5xf32>
}
