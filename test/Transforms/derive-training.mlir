// RUN: cnnc-opt %s -split-input-file -cnn-derive-training -verify-diagnostics | FileCheck %s
// RUN: cnnc-opt %s -split-input-file -cnn-derive-training=loss=mse -verify-diagnostics | FileCheck %s --check-prefix=MSE

// A frozen convolution feeding a trainable head: gradients for the head
// only, none for the frozen weights or the input, and the frozen prefix
// is not differentiated at all.
// CHECK-LABEL: func @train_step
// CHECK-SAME: (%[[X:.*]]: tensor<?x1x8x8xf32> {cnn.name = "image"}, %[[L:.*]]: tensor<?xi64> {cnn.name = "labels"})
// CHECK-SAME: -> (tensor<f32> {cnn.name = "loss"}, tensor<3x32xf32> {cnn.grad_of = "fc.weight"}, tensor<3xf32> {cnn.grad_of = "fc.bias"})
// CHECK: %[[CW:.*]] = cnn.param "conv.weight" frozen
// CHECK: %[[C:.*]] = cnn.conv2d %[[X]], %[[CW]]
// CHECK: %[[R:.*]] = cnn.relu %[[C]]
// CHECK: %[[F:.*]] = cnn.flatten %[[R]] {axis = 1 : i64, cnn.frozen_boundary}
// CHECK: %[[W:.*]] = cnn.param "fc.weight"
// CHECK: %[[B:.*]] = cnn.param "fc.bias"
// CHECK: %[[Y:.*]] = cnn.gemm %[[F]], %[[W]], %[[B]]
// CHECK: %[[LOSS:.*]] = cnn.softmax_cross_entropy %[[Y]], %[[L]]
// CHECK: %[[DY:.*]] = cnn.softmax_cross_entropy_grad %[[Y]], %[[L]]
// dW = dY^T F for a Linear layer (transB).
// CHECK: %[[DW:.*]] = cnn.gemm %[[DY]], %[[F]] {{{.*}}transA = true, transB = false}
// CHECK: %[[DB:.*]] = cnn.reduce_sum %[[DY]] {axes = [0]}
// CHECK-NOT: cnn.conv2d_backward
// CHECK-NOT: cnn.activation_grad
// CHECK: return %[[LOSS]], %[[DW]], %[[DB]]
// MSE-LABEL: func @train_step
// MSE-SAME: %{{.*}}: tensor<?x3xf32> {cnn.name = "labels"}
// MSE: cnn.mse_loss
// MSE: cnn.mse_loss_grad
func @main(%x: tensor<?x1x8x8xf32> {cnn.name = "image"}) -> tensor<?x3xf32> {
  %cw = cnn.param "conv.weight" frozen {init = "kaiming_uniform"} : tensor<2x1x3x3xf32>
  %c = cnn.conv2d %x, %cw {strides = [2, 2], pads = [1, 1, 1, 1]} : (tensor<?x1x8x8xf32>, tensor<2x1x3x3xf32>) -> tensor<?x2x4x4xf32>
  %r = cnn.relu %c : tensor<?x2x4x4xf32>
  %f = cnn.flatten %r {axis = 1} : (tensor<?x2x4x4xf32>) -> tensor<?x32xf32>
  %w = cnn.param "fc.weight" {init = "kaiming_uniform"} : tensor<3x32xf32>
  %b = cnn.param "fc.bias" {init = "uniform_fan_in"} : tensor<3xf32>
  %y = cnn.gemm %f, %w, %b {transB = true} : (tensor<?x32xf32>, tensor<3x32xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

// A classifier exported with its final softmax: the cross-entropy takes the
// logits before it (the loss applies its own softmax); the softmax gets no
// derivative. (MSE keeps the probabilities.)
// CHECK-LABEL: func @train_step
// CHECK: %[[Y:.*]] = cnn.gemm
// CHECK: cnn.softmax %[[Y]]
// CHECK: %[[LOSS:.*]] = cnn.softmax_cross_entropy %[[Y]], %{{.*}}
// CHECK: cnn.softmax_cross_entropy_grad %[[Y]], %{{.*}}
// CHECK-NOT: cnn.reduce
// CHECK: return %[[LOSS]]
// MSE-LABEL: func @train_step
// MSE: %[[P:.*]] = cnn.softmax
// MSE: cnn.mse_loss %[[P]]
func @main(%x: tensor<?x32xf32> {cnn.name = "features"}) -> tensor<?x3xf32> {
  %w = cnn.param "fc.weight" {init = "kaiming_uniform"} : tensor<3x32xf32>
  %y = cnn.gemm %x, %w {transB = true} : (tensor<?x32xf32>, tensor<3x32xf32>) -> tensor<?x3xf32>
  %p = cnn.softmax %y {axis = 1} : tensor<?x3xf32>
  return %p : tensor<?x3xf32>
}

// -----

// Everything trains: the chain goes back through pooling, the activation
// and the convolution, but never computes a gradient for the input.
// CHECK-LABEL: func @train_step
// CHECK: %[[DP:.*]] = cnn.pool2d_backward %{{.*}}, %[[RELU:.*]] {kernel_shape = [2, 2], kind = #cnn.pool<max>, strides = [2, 2]}
// CHECK: %[[DA:.*]] = cnn.activation_grad %[[DP]], %[[RELU]] {activation = #cnn.activation<relu>
// CHECK: cnn.conv2d_backward_weight %[[DA]], %{{.*}} {pads = [1, 1, 1, 1]}
// CHECK: cnn.reduce_sum %[[DA]] {axes = [0, 2, 3]}
// CHECK-NOT: cnn.conv2d_backward_input
func @main(%x: tensor<?x1x8x8xf32>) -> tensor<?x2xf32> {
  %cw = cnn.param "conv.weight" {init = "kaiming_uniform"} : tensor<2x1x3x3xf32>
  %cb = cnn.param "conv.bias" {init = "uniform_fan_in"} : tensor<2xf32>
  %c = cnn.conv2d %x, %cw, %cb {pads = [1, 1, 1, 1]} : (tensor<?x1x8x8xf32>, tensor<2x1x3x3xf32>, tensor<2xf32>) -> tensor<?x2x8x8xf32>
  %r = cnn.relu %c : tensor<?x2x8x8xf32>
  %p = cnn.max_pool2d %r {kernel_shape = [2, 2], strides = [2, 2]} : (tensor<?x2x8x8xf32>) -> tensor<?x2x4x4xf32>
  %g = cnn.global_avg_pool %p : (tensor<?x2x4x4xf32>) -> tensor<?x2x1x1xf32>
  %f = cnn.flatten %g {axis = 1} : (tensor<?x2x1x1xf32>) -> tensor<?x2xf32>
  return %f : tensor<?x2xf32>
}

// -----

// expected-error @+1 {{training needs at least one trainable parameter; every parameter is frozen}}
func @main(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %w = cnn.param "w" frozen {init = "zeros"} : tensor<4xf32>
  %y = cnn.add %x, %w : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// Dropout trains with a random mask: a hidden generator-state parameter,
// and the backward pass applies the same mask (same salt).
// CHECK-LABEL: func @train_step
// CHECK: %[[RNG:.*]] = cnn.param "cnn.rng" frozen {buffer, cnn.rng, value = dense<0> : tensor<2xi64>} : tensor<2xi64>
// CHECK: %[[D:.*]] = cnn.dropout_train %{{.*}}, %[[RNG]] {ratio = 2.500000e-01 : f32, salt = 0 : i64}
// CHECK: cnn.dropout_train_grad %{{.*}}, %[[RNG]] {ratio = 2.500000e-01 : f32, salt = 0 : i64}
func @main(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = cnn.param "fc.weight" {init = "kaiming_uniform"} : tensor<2x4xf32>
  %w0 = cnn.param "fc0.weight" {init = "kaiming_uniform"} : tensor<4x4xf32>
  %h = cnn.gemm %x, %w0 {transB = true} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
  %d = cnn.dropout %h {ratio = 0.25 : f32} : tensor<?x4xf32>
  %y = cnn.gemm %d, %w {transB = true} : (tensor<?x4xf32>, tensor<2x4xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// A BatchNorm whose affine trains normalizes with the batch's statistics
// (PyTorch's train mode); its new running statistics are extra results.
// Behind a frozen convolution no input gradient is computed, and the
// boundary of the frozen prefix is the convolution, not the statistics.
// CHECK-LABEL: func @train_step
// CHECK-SAME: tensor<4xf32> {cnn.grad_of = "bn.weight"}, tensor<4xf32> {cnn.grad_of = "bn.bias"}, tensor<3x64xf32> {cnn.grad_of = "fc.weight"}
// CHECK-SAME: tensor<4xf32> {cnn.update_of = "bn.running_mean"}, tensor<4xf32> {cnn.update_of = "bn.running_var"})
// CHECK: %[[C:.*]] = cnn.conv2d {{.*}}cnn.frozen_boundary
// CHECK: %[[G:.*]] = cnn.param "bn.weight"
// CHECK: %[[B:.*]] = cnn.param "bn.bias"
// CHECK: %[[M:.*]] = cnn.param "bn.running_mean"
// CHECK: %[[V:.*]] = cnn.param "bn.running_var"
// The statistics of the global batch with data-parallel processes
// (cnn.replica_reduce; the identity with one process), those of the running
// update scaled for the global count.
// CHECK: %[[L:.*]] = cnn.batch_norm_stats %[[C]] :
// CHECK: %[[S:.*]] = cnn.replica_reduce %[[L]], %[[C]] {kind = #cnn.replica<batch_stats>}
// CHECK: %[[Y:.*]] = cnn.batch_norm_train %[[C]], %[[S]], %[[G]], %[[B]] {epsilon = 1.000000e-03 : f32}
// CHECK: %[[R:.*]] = cnn.replica_reduce %[[L]], %[[C]] {kind = #cnn.replica<running_stats>}
// ONNX's momentum (PyTorch's 0.1):
// CHECK: %[[NM:.*]] = cnn.batch_norm_running_update %[[M]], %[[R]], %[[C]] {momentum = 0.899999976 : f32, statistic = #cnn.statistic<mean>}
// CHECK: %[[NV:.*]] = cnn.batch_norm_running_update %[[V]], %[[R]], %[[C]] {momentum = 0.899999976 : f32, statistic = #cnn.statistic<variance>}
// CHECK-NOT: cnn.batch_norm %
// CHECK: %[[DA:.*]] = cnn.activation_grad
// CHECK: %[[DB:.*]] = cnn.reduce_sum %[[DA]] {axes = [0, 2, 3]}
// CHECK: %[[DG:.*]] = cnn.batch_norm_train_grad_scale %[[DA]], %[[C]], %[[S]] {epsilon = 1.000000e-03 : f32}
// CHECK-NOT: cnn.batch_norm_train_grad_input
// CHECK-NOT: cnn.replica_reduce
// CHECK: return %{{.*}}, %[[DG]], %[[DB]], %{{.*}}, %[[NM]], %[[NV]] :
func @main(%x: tensor<?x1x6x6xf32>) -> tensor<?x3xf32> {
  %cw = cnn.param "conv.weight" frozen {init = "kaiming_uniform"} : tensor<4x1x3x3xf32>
  %c = cnn.conv2d %x, %cw : (tensor<?x1x6x6xf32>, tensor<4x1x3x3xf32>) -> tensor<?x4x4x4xf32>
  %g = cnn.param "bn.weight" {init = "ones"} : tensor<4xf32>
  %be = cnn.param "bn.bias" {init = "zeros"} : tensor<4xf32>
  %m = cnn.param "bn.running_mean" {buffer, init = "zeros"} : tensor<4xf32>
  %v = cnn.param "bn.running_var" {buffer, init = "ones"} : tensor<4xf32>
  %y = cnn.batch_norm %c, %g, %be, %m, %v {epsilon = 1.0e-03 : f32, momentum = 0.9 : f32} : (tensor<?x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x4x4x4xf32>
  %r = cnn.relu %y : tensor<?x4x4x4xf32>
  %f = cnn.flatten %r {axis = 1} : (tensor<?x4x4x4xf32>) -> tensor<?x64xf32>
  %w = cnn.param "fc.weight" {init = "kaiming_uniform"} : tensor<3x64xf32>
  %o = cnn.gemm %f, %w {transB = true} : (tensor<?x64xf32>, tensor<3x64xf32>) -> tensor<?x3xf32>
  return %o : tensor<?x3xf32>
}

// -----

// BatchNorm1d after a Linear layer that trains: the input gradient goes
// through the batch statistics (both parameter gradients feed it).
// CHECK-LABEL: func @train_step
// CHECK: %[[H:.*]] = cnn.gemm
// The input's gradient takes the sums over the global batch (the
// parameters' gradients stay this process's).
// CHECK: %[[L:.*]] = cnn.batch_norm_stats %[[H]] : (tensor<?x4xf32>) -> tensor<2x4xf32>
// CHECK: %[[S:.*]] = cnn.replica_reduce %[[L]], %[[H]] {kind = #cnn.replica<batch_stats>}
// CHECK: %[[DB:.*]] = cnn.reduce_sum %[[DY:.*]] {axes = [0]}
// CHECK: %[[DG:.*]] = cnn.batch_norm_train_grad_scale %[[DY]], %[[H]], %[[S]]
// CHECK: %[[GG:.*]] = cnn.replica_reduce %[[DG]], %[[H]] {kind = #cnn.replica<sum>}
// CHECK: %[[GB:.*]] = cnn.replica_reduce %[[DB]], %[[H]] {kind = #cnn.replica<sum>}
// CHECK: %[[DX:.*]] = cnn.batch_norm_train_grad_input %[[DY]], %[[H]], %[[S]], %{{.*}}, %[[GG]], %[[GB]]
// CHECK: cnn.gemm %[[DX]], %{{.*}} {{{.*}}transA = true
func @main(%x: tensor<?x6xf32>) -> tensor<?x4xf32> {
  %w = cnn.param "fc.weight" {init = "kaiming_uniform"} : tensor<4x6xf32>
  %h = cnn.gemm %x, %w {transB = true} : (tensor<?x6xf32>, tensor<4x6xf32>) -> tensor<?x4xf32>
  %g = cnn.param "bn.weight" frozen {init = "ones"} : tensor<4xf32>
  %be = cnn.param "bn.bias" {init = "zeros"} : tensor<4xf32>
  %m = cnn.param "bn.running_mean" {buffer, init = "zeros"} : tensor<4xf32>
  %v = cnn.param "bn.running_var" {buffer, init = "ones"} : tensor<4xf32>
  %y = cnn.batch_norm %h, %g, %be, %m, %v : (tensor<?x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// A BatchNorm whose affine is frozen keeps the inference form: constant
// statistics, a per-channel scale on the gradient, no running updates.
// CHECK-LABEL: func @train_step
// CHECK-NOT: cnn.update_of
// CHECK: cnn.batch_norm %
// CHECK-NOT: cnn.batch_norm_stats
// CHECK: cnn.mul %{{.*}}, %{{.*}} : (tensor<?x2xf32>, tensor<2xf32>)
func @main(%x: tensor<?x3xf32>) -> tensor<?x2xf32> {
  %w = cnn.param "fc.weight" {init = "kaiming_uniform"} : tensor<2x3xf32>
  %h = cnn.gemm %x, %w {transB = true} : (tensor<?x3xf32>, tensor<2x3xf32>) -> tensor<?x2xf32>
  %g = cnn.param "bn.weight" frozen {value = dense<[2.0, 1.0]> : tensor<2xf32>} : tensor<2xf32>
  %be = cnn.param "bn.bias" frozen {value = dense<[1.0, 2.0]> : tensor<2xf32>} : tensor<2xf32>
  %m = cnn.param "bn.running_mean" {buffer, value = dense<[1.0, 3.0]> : tensor<2xf32>} : tensor<2xf32>
  %v = cnn.param "bn.running_var" {buffer, value = dense<[1.0, 4.0]> : tensor<2xf32>} : tensor<2xf32>
  %y = cnn.batch_norm %h, %g, %be, %m, %v : (tensor<?x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// expected-error @+8 {{a BatchNorm that trains needs its running mean as a parameter}}
func @main(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %g = cnn.param "bn.weight" {init = "ones"} : tensor<2xf32>
  %be = cnn.param "bn.bias" {init = "zeros"} : tensor<2xf32>
  %m = cnn.constant {value = dense<0.0> : tensor<2xf32>} : tensor<2xf32>
  %v = cnn.param "bn.running_var" {buffer, init = "ones"} : tensor<2xf32>
  %w = cnn.param "fc.weight" {init = "kaiming_uniform"} : tensor<2x2xf32>
  %h = cnn.gemm %x, %w {transB = true} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  %y = cnn.batch_norm %h, %g, %be, %m, %v : (tensor<?x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// Gradual unfreezing: a group unfrozen at epoch 3 is frozen in the training
// step of epochs 1-2 (fewer gradients), and trains in the step from epoch 3
// on (`train_step`, the last phase, which trains everything).
// CHECK: cnn.group @backbone frozen {unfreeze_epoch = 3 : i64}
// CHECK-LABEL: func @train_step_from_epoch1
// CHECK-SAME: -> (tensor<f32> {cnn.name = "loss"}, tensor<3x32xf32> {cnn.grad_of = "fc.weight"})
// CHECK-SAME: attributes {cnn.first_epoch = 1 : i64, cnn.train_step}
// CHECK: cnn.param "conv.weight" frozen
// CHECK-NOT: cnn.conv2d_backward_weight
// CHECK: return
// CHECK-LABEL: func @train_step(
// CHECK-SAME: -> (tensor<f32> {cnn.name = "loss"}, tensor<2x1x3x3xf32> {cnn.grad_of = "conv.weight"}, tensor<3x32xf32> {cnn.grad_of = "fc.weight"})
// CHECK-SAME: attributes {cnn.first_epoch = 3 : i64, cnn.train_step}
// CHECK: cnn.conv2d_backward_weight
cnn.group @backbone frozen {unfreeze_epoch = 3 : i64}
func @main(%x: tensor<?x1x8x8xf32>) -> tensor<?x3xf32> {
  %cw = cnn.param "conv.weight" {group = @backbone, init = "kaiming_uniform"} : tensor<2x1x3x3xf32>
  %c = cnn.conv2d %x, %cw {strides = [2, 2], pads = [1, 1, 1, 1]} : (tensor<?x1x8x8xf32>, tensor<2x1x3x3xf32>) -> tensor<?x2x4x4xf32>
  %r = cnn.relu %c : tensor<?x2x4x4xf32>
  %f = cnn.flatten %r {axis = 1} : (tensor<?x2x4x4xf32>) -> tensor<?x32xf32>
  %w = cnn.param "fc.weight" {init = "kaiming_uniform"} : tensor<3x32xf32>
  %y = cnn.gemm %f, %w {transB = true} : (tensor<?x32xf32>, tensor<3x32xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

// Gradual unfreezing with a BatchNorm in the group that unfreezes: in the
// step of epochs 1-2 it is frozen (inference form, no running updates);
// from epoch 3 it trains with batch statistics.
// CHECK-LABEL: func @train_step_from_epoch1
// CHECK-NOT: cnn.update_of
// CHECK-NOT: cnn.batch_norm_stats
// CHECK: cnn.batch_norm %
// CHECK: return
// CHECK-LABEL: func @train_step(
// CHECK-SAME: {cnn.update_of = "bn.running_mean"}, tensor<2xf32> {cnn.update_of = "bn.running_var"})
// CHECK: cnn.batch_norm_stats
// CHECK: cnn.batch_norm_train
cnn.group @backbone frozen {unfreeze_epoch = 3 : i64}
func @main(%x: tensor<?x1x4x4xf32>) -> tensor<?x3xf32> {
  %cw = cnn.param "conv.weight" {group = @backbone, init = "kaiming_uniform"} : tensor<2x1x3x3xf32>
  %c = cnn.conv2d %x, %cw {pads = [1, 1, 1, 1]} : (tensor<?x1x4x4xf32>, tensor<2x1x3x3xf32>) -> tensor<?x2x4x4xf32>
  %g = cnn.param "bn.weight" {group = @backbone, value = dense<[1.0, 2.0]> : tensor<2xf32>} : tensor<2xf32>
  %be = cnn.param "bn.bias" {group = @backbone, value = dense<[0.0, 1.0]> : tensor<2xf32>} : tensor<2xf32>
  %m = cnn.param "bn.running_mean" {buffer, group = @backbone, value = dense<[0.0, 0.5]> : tensor<2xf32>} : tensor<2xf32>
  %v = cnn.param "bn.running_var" {buffer, group = @backbone, value = dense<[1.0, 2.0]> : tensor<2xf32>} : tensor<2xf32>
  %y = cnn.batch_norm %c, %g, %be, %m, %v : (tensor<?x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2x4x4xf32>
  %f = cnn.flatten %y {axis = 1} : (tensor<?x2x4x4xf32>) -> tensor<?x32xf32>
  %w = cnn.param "fc.weight" {init = "kaiming_uniform"} : tensor<3x32xf32>
  %o = cnn.gemm %f, %w {transB = true} : (tensor<?x32xf32>, tensor<3x32xf32>) -> tensor<?x3xf32>
  return %o : tensor<?x3xf32>
}

// -----

// Packed weights (cnn-pack-conv-weights) come after the training steps.
func @main(%x: tensor<?x1x4x4xf32>) -> tensor<?x8xf32> {
  %w = cnn.param "conv.weight" {init = "kaiming_uniform"} : tensor<8x1x4x4xf32>
  // expected-error @+1 {{training is derived from plain weights: run cnn-derive-training before cnn-pack-conv-weights}}
  %p = cnn.pack_weights %w {lanes = 8 : i64} : (tensor<8x1x4x4xf32>) -> tensor<1x1x4x4x8xf32>
  %c = cnn.conv2d %x, %p : (tensor<?x1x4x4xf32>, tensor<1x1x4x4x8xf32>) -> tensor<?x8x1x1xf32>
  %f = cnn.flatten %c {axis = 1} : (tensor<?x8x1x1xf32>) -> tensor<?x8xf32>
  return %f : tensor<?x8xf32>
}
