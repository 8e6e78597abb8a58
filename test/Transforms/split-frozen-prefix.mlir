// RUN: cnnc-opt %s -split-input-file -cnn-derive-training -cnn-split-frozen-prefix | FileCheck %s

// A frozen convolution before a trainable head: the prefix (conv, relu,
// flatten) is outlined into @train_step_features, the head and its backward
// pass into @train_step_head, which starts from the features.
// CHECK-LABEL: func @train_step(
// CHECK-SAME: cnn.features = @train_step_features, cnn.head = @train_step_head
// CHECK-LABEL: func @train_step_features
// CHECK-SAME: (%[[X:.*]]: tensor<?x1x8x8xf32> {cnn.name = "image"}) -> (tensor<?x32xf32> {cnn.name = "features"})
// CHECK: cnn.param "conv.weight" frozen
// CHECK: cnn.conv2d %[[X]]
// CHECK: cnn.relu
// CHECK: %[[F:.*]] = cnn.flatten
// CHECK-NOT: cnn.gemm
// CHECK: return %[[F]]
// CHECK-LABEL: func @train_step_head
// CHECK-SAME: (%[[FA:.*]]: tensor<?x32xf32> {cnn.name = "features"}, %[[L:.*]]: tensor<?xi64> {cnn.name = "labels"})
// CHECK-SAME: -> (tensor<f32> {cnn.name = "loss"}, tensor<3x32xf32> {cnn.grad_of = "fc.weight"})
// CHECK-NOT: cnn.conv2d
// CHECK: cnn.gemm %[[FA]]
// CHECK: cnn.softmax_cross_entropy
func @main(%x: tensor<?x1x8x8xf32> {cnn.name = "image"}) -> tensor<?x3xf32> {
  %cw = cnn.param "conv.weight" frozen {init = "kaiming_uniform"} : tensor<2x1x3x3xf32>
  %c = cnn.conv2d %x, %cw {strides = [2, 2], pads = [1, 1, 1, 1]} : (tensor<?x1x8x8xf32>, tensor<2x1x3x3xf32>) -> tensor<?x2x4x4xf32>
  %r = cnn.relu %c : tensor<?x2x4x4xf32>
  %f = cnn.flatten %r {axis = 1} : (tensor<?x2x4x4xf32>) -> tensor<?x32xf32>
  %w = cnn.param "fc.weight" {init = "kaiming_uniform"} : tensor<3x32xf32>
  %y = cnn.gemm %f, %w {transB = true} : (tensor<?x32xf32>, tensor<3x32xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

// Dropout changes every step: the features are its input, and the head
// applies the dropout (with the generator) to the cached features.
// CHECK-LABEL: func @train_step_features
// CHECK-NOT: cnn.dropout_train
// CHECK: return
// CHECK-LABEL: func @train_step_head
// CHECK: cnn.param "cnn.rng"
// CHECK: cnn.dropout_train
func @main(%x: tensor<?x1x8x8xf32>) -> tensor<?x3xf32> {
  %cw = cnn.param "conv.weight" frozen {init = "kaiming_uniform"} : tensor<2x1x3x3xf32>
  %c = cnn.conv2d %x, %cw {strides = [2, 2], pads = [1, 1, 1, 1]} : (tensor<?x1x8x8xf32>, tensor<2x1x3x3xf32>) -> tensor<?x2x4x4xf32>
  %f = cnn.flatten %c {axis = 1} : (tensor<?x2x4x4xf32>) -> tensor<?x32xf32>
  %d = cnn.dropout %f {ratio = 0.5 : f32} : tensor<?x32xf32>
  %w = cnn.param "fc.weight" {init = "kaiming_uniform"} : tensor<3x32xf32>
  %y = cnn.gemm %d, %w {transB = true} : (tensor<?x32xf32>, tensor<3x32xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

// Negative: the trainable layer reads the input itself (nothing to cache).
// CHECK-LABEL: func @train_step(
// CHECK-SAME: cnn.no_cache = "the first trainable layer reads the model's input"
// CHECK-NOT: func @train_step_features
func @main(%x: tensor<?x32xf32>) -> tensor<?x3xf32> {
  %w = cnn.param "fc.weight" {init = "kaiming_uniform"} : tensor<3x32xf32>
  %y = cnn.gemm %x, %w {transB = true} : (tensor<?x32xf32>, tensor<3x32xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

// Negative: two frozen tensors reach the trained part (a frozen branch
// joined after a trainable layer): no single feature tensor to cache.
// CHECK-LABEL: func @train_step(
// CHECK-SAME: cnn.no_cache = "2 tensors cross from the frozen prefix to the trained part"
// CHECK-NOT: func @train_step_features
func @main(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %a = cnn.param "a" frozen {init = "ones"} : tensor<8x8xf32>
  %h = cnn.gemm %x, %a {transB = true} : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %r = cnn.relu %h : tensor<?x8xf32>
  %w = cnn.param "w" {init = "kaiming_uniform"} : tensor<8x8xf32>
  %y = cnn.gemm %r, %w {transB = true} : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %s = cnn.add %y, %h : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return %s : tensor<?x8xf32>
}

// -----

// A BatchNorm that trains right after the frozen prefix: its batch
// statistics mix the samples of a batch, so the features are the
// convolution's output and the head computes the statistics (and the
// running updates) from the cached features.
// CHECK-LABEL: func @train_step(
// CHECK-SAME: cnn.features = @train_step_features, cnn.head = @train_step_head
// CHECK-LABEL: func @train_step_features
// CHECK: %[[C:.*]] = cnn.conv2d
// CHECK-NOT: cnn.batch_norm
// CHECK: return %[[C]]
// CHECK-LABEL: func @train_step_head
// CHECK-SAME: {cnn.update_of = "bn.running_mean"}, tensor<4xf32> {cnn.update_of = "bn.running_var"})
// CHECK: cnn.batch_norm_stats %arg0
// CHECK: cnn.batch_norm_train %arg0
// CHECK: cnn.batch_norm_running_update
func @main(%x: tensor<?x1x6x6xf32>) -> tensor<?x3xf32> {
  %cw = cnn.param "conv.weight" frozen {init = "kaiming_uniform"} : tensor<4x1x3x3xf32>
  %c = cnn.conv2d %x, %cw : (tensor<?x1x6x6xf32>, tensor<4x1x3x3xf32>) -> tensor<?x4x4x4xf32>
  %g = cnn.param "bn.weight" {init = "ones"} : tensor<4xf32>
  %be = cnn.param "bn.bias" {init = "zeros"} : tensor<4xf32>
  %m = cnn.param "bn.running_mean" {buffer, init = "zeros"} : tensor<4xf32>
  %v = cnn.param "bn.running_var" {buffer, init = "ones"} : tensor<4xf32>
  %y = cnn.batch_norm %c, %g, %be, %m, %v : (tensor<?x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x4x4x4xf32>
  %r = cnn.relu %y : tensor<?x4x4x4xf32>
  %f = cnn.flatten %r {axis = 1} : (tensor<?x4x4x4xf32>) -> tensor<?x64xf32>
  %w = cnn.param "fc.weight" {init = "kaiming_uniform"} : tensor<3x64xf32>
  %o = cnn.gemm %f, %w {transB = true} : (tensor<?x64xf32>, tensor<3x64xf32>) -> tensor<?x3xf32>
  return %o : tensor<?x3xf32>
}
