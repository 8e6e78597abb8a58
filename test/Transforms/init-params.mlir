// RUN: cnnc-opt %s -cnn-init-params=seed=3 > %t.3
// RUN: FileCheck %s < %t.3
// Deterministic, and idempotent: a second run changes nothing.
// RUN: cnnc-opt %s -cnn-init-params=seed=3 | diff - %t.3
// RUN: cnnc-opt %t.3 -cnn-init-params=seed=3 | diff - %t.3
// Another seed, other values.
// RUN: cnnc-opt %s -cnn-init-params=seed=4 > %t.4
// RUN: not diff %t.3 %t.4

// Every `init` becomes a `value` (zeros and ones exactly), a parameter with
// a value keeps it.
// CHECK-LABEL: func @main
// CHECK: cnn.param "w" {value = dense<{{\[\[\[\[}}[[W0:[-0-9.e]+]]{{\]\]}}, {{.*}}> : tensor<3x2x1x1xf32>}
// CHECK: cnn.param "b" {value = dense<{{\[}}{{.*}}]> : tensor<3xf32>}
// CHECK: cnn.param "gamma" {value = dense<1.000000e+00> : tensor<4xf32>}
// CHECK: cnn.param "beta" {value = dense<0.000000e+00> : tensor<4xf32>}
// CHECK: cnn.param "given" {value = dense<5.000000e-01> : tensor<4xf32>}
// CHECK-NOT: init =
func @main(%x: tensor<?x2x4x4xf32>) -> tensor<?x3x4x4xf32> {
  %w = cnn.param "w" {init = "kaiming_uniform"} : tensor<3x2x1x1xf32>
  %b = cnn.param "b" {init = "uniform_fan_in"} : tensor<3xf32>
  %g = cnn.param "gamma" {init = "ones"} : tensor<4xf32>
  %z = cnn.param "beta" {init = "zeros"} : tensor<4xf32>
  %v = cnn.param "given" {value = dense<0.5> : tensor<4xf32>} : tensor<4xf32>
  %0 = cnn.conv2d %x, %w, %b : (tensor<?x2x4x4xf32>, tensor<3x2x1x1xf32>, tensor<3xf32>) -> tensor<?x3x4x4xf32>
  %1 = cnn.add %0, %v : (tensor<?x3x4x4xf32>, tensor<4xf32>) -> tensor<?x3x4x4xf32>
  %2 = cnn.add %1, %g : (tensor<?x3x4x4xf32>, tensor<4xf32>) -> tensor<?x3x4x4xf32>
  %3 = cnn.add %2, %z : (tensor<?x3x4x4xf32>, tensor<4xf32>) -> tensor<?x3x4x4xf32>
  return %3 : tensor<?x3x4x4xf32>
}
