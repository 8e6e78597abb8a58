// RUN: cnnc-opt %s -split-input-file -canonicalize | FileCheck %s

// A constant subgraph is evaluated at compile time (with broadcasting), and
// what is left dead goes away.
// CHECK-LABEL: func @constant_chain
// CHECK-SAME: (%[[X:.*]]: tensor<?x2x2xf32>)
// CHECK: %[[C:.*]] = cnn.constant {value = dense<{{\[}}[1.000000e+00, 0.000000e+00], [3.000000e+00, 0.000000e+00]]> : tensor<2x2xf32>}
// CHECK-NOT: cnn.relu
// CHECK-NOT: cnn.sub
// CHECK: %[[Y:.*]] = cnn.add %[[X]], %[[C]]
// CHECK: return %[[Y]]
func @constant_chain(%x: tensor<?x2x2xf32>) -> tensor<?x2x2xf32> {
  %a = cnn.constant {value = dense<[[2.0, 1.0], [4.0, -5.0]]> : tensor<2x2xf32>} : tensor<2x2xf32>
  %one = cnn.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %b = cnn.sub %a, %one : (tensor<2x2xf32>, tensor<f32>) -> tensor<2x2xf32>
  %r = cnn.relu %b : tensor<2x2xf32>
  %f = cnn.reshape %r {shape = [2, 2]} : (tensor<2x2xf32>) -> tensor<2x2xf32>
  %y = cnn.add %x, %f : (tensor<?x2x2xf32>, tensor<2x2xf32>) -> tensor<?x2x2xf32>
  return %y : tensor<?x2x2xf32>
}

// -----

// Parameters are not constants (they train), and neither are inputs.
// CHECK-LABEL: func @params_stay
// CHECK: cnn.param
// CHECK: cnn.relu
func @params_stay() -> tensor<2xf32> {
  %p = cnn.param "w" {value = dense<[1.0, -1.0]> : tensor<2xf32>} : tensor<2xf32>
  %r = cnn.relu %p : tensor<2xf32>
  return %r : tensor<2xf32>
}
