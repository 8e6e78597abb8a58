// cnn-freeze-params{unfreeze-at=E:P} writes "frozen until epoch E" on groups,
// as the DSL's plan does (the one representation): a group P covers entirely
// becomes frozen with unfreeze_epoch; parameters P takes from a group in part
// move to a new group named P at their group's learning rate; --freeze of the
// same parameters (even by a broader prefix) leaves them trainable, since the
// group now says until when they are frozen.

// RUN: cnnc-opt %s -cnn-freeze-params="prefixes=layer1 unfreeze-at=3:layer1,2:head" | FileCheck %s --check-prefix=WHOLE
// WHOLE-DAG: cnn.group @layer1 frozen {lr = 1.000000e-04 : f64, unfreeze_epoch = 3 : i64}
// WHOLE-DAG: cnn.group @head frozen {unfreeze_epoch = 2 : i64}
// WHOLE: cnn.param "layer1.0.weight" {group = @layer1
// WHOLE: cnn.param "layer1.1.weight" {group = @layer1
// WHOLE: cnn.param "head.weight" {group = @head

// RUN: cnnc-opt %s -cnn-freeze-params="prefixes=layer1 unfreeze-at=4:layer1.1" | FileCheck %s --check-prefix=PART
// PART-DAG: cnn.group @layer1.1 frozen {lr = 1.000000e-04 : f64, unfreeze_epoch = 4 : i64}
// PART-DAG: cnn.group @layer1 frozen {lr = 1.000000e-04 : f64}
// PART: cnn.param "layer1.0.weight" frozen {group = @layer1,
// PART: cnn.param "layer1.1.weight" {group = @layer1.1,
// PART: cnn.param "head.weight" {group = @head,

// RUN: not cnnc-opt %s -cnn-freeze-params="unfreeze-at=0:head" 2>&1 | FileCheck %s --check-prefix=EPOCH
// EPOCH: error: --unfreeze-at expects EPOCH:PREFIX with EPOCH >= 1, got '0:head'
// RUN: not cnnc-opt %s -cnn-freeze-params="unfreeze-at=2:layer9" 2>&1 | FileCheck %s --check-prefix=NONE
// NONE: error: --unfreeze-at prefix 'layer9' matches no parameter or group of the model
// RUN: not cnnc-opt %s -cnn-freeze-params="unfreeze-at=2:l" 2>&1 | FileCheck %s --check-prefix=RATES
// RATES: error: --unfreeze-at prefix 'l' takes parameters from groups with different learning rates; name each group instead

cnn.group @layer1 {lr = 1.0e-4 : f64}
cnn.group @head
cnn.group @last {lr = 1.0e-2 : f64}
func @main(%x: tensor<?x3xf32>) -> tensor<?x3xf32> {
  %a = cnn.param "layer1.0.weight" {group = @layer1, init = "zeros"} : tensor<3xf32>
  %b = cnn.param "layer1.1.weight" {group = @layer1, init = "zeros"} : tensor<3xf32>
  %c = cnn.param "head.weight" {group = @head, init = "zeros"} : tensor<3xf32>
  %d = cnn.param "last.weight" {group = @last, init = "zeros"} : tensor<3xf32>
  %e = cnn.param "zz1.weight" {group = @layer1, init = "zeros"} : tensor<3xf32>
  %f = cnn.param "zz2.weight" {group = @last, init = "zeros"} : tensor<3xf32>
  %0 = cnn.add %x, %a : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  %1 = cnn.add %0, %b : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  %2 = cnn.add %1, %c : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  %3 = cnn.add %2, %d : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  %4 = cnn.add %3, %e : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  %5 = cnn.add %4, %f : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  return %5 : tensor<?x3xf32>
}
