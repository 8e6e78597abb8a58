// RUN: cnnc-opt %s -cnn-freeze-params=prefixes=conv1.,layer1 | FileCheck %s
// RUN: not cnnc-opt %s -cnn-freeze-params=prefixes=layer9 2>&1 | FileCheck %s --check-prefix=TYPO

// CHECK: cnn.group @conv1 frozen
// CHECK: cnn.group @fc
// CHECK-NOT: frozen
// CHECK-LABEL: func @main
// CHECK: cnn.param "conv1.weight" frozen
// CHECK: cnn.param "layer1.0.conv1.weight" frozen
// CHECK: cnn.param "fc.weight" {
// TYPO: error: --freeze prefix 'layer9' matches no parameter of the model
cnn.group @conv1
cnn.group @fc
func @main(%x: tensor<?x3xf32>) -> tensor<?x3xf32> {
  %a = cnn.param "conv1.weight" {group = @conv1, init = "zeros"} : tensor<3xf32>
  %b = cnn.param "layer1.0.conv1.weight" {init = "zeros"} : tensor<3xf32>
  %c = cnn.param "fc.weight" {group = @fc, init = "zeros"} : tensor<3xf32>
  %0 = cnn.add %x, %a : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  %1 = cnn.add %0, %b : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  %2 = cnn.add %1, %c : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  return %2 : tensor<?x3xf32>
}
