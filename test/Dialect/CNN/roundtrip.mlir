// RUN: cnnc-opt %s | FileCheck %s
// RUN: cnnc-opt %s | cnnc-opt | FileCheck %s
// RUN: cnnc-opt -mlir-print-op-generic %s | cnnc-opt | FileCheck %s

// CHECK: cnn.group @features {lr = 1.000000e-03 : f64}
// CHECK: cnn.group @head frozen {lr = 1.000000e-02 : f64, unfreeze_epoch = 6 : i64}
// CHECK: cnn.train_plan {batch = 64 : i64, epochs = 3 : i64, loss = "cross_entropy", lr = 1.000000e-03 : f64, optimizer = "adam"}
cnn.group @features {lr = 1.0e-3 : f64}
cnn.group @head frozen {lr = 1.0e-2 : f64, unfreeze_epoch = 6 : i64}
cnn.train_plan {loss = "cross_entropy", optimizer = "adam", lr = 1.0e-3 : f64, epochs = 3 : i64, batch = 64 : i64}

// CHECK-LABEL: func @lenet_block
func @lenet_block(%x: tensor<?x1x28x28xf32>) -> tensor<?x6x14x14xf32> {
  // CHECK: %[[W:.*]] = cnn.param "c1.weight" {group = @features, init = "kaiming_uniform"} : tensor<6x1x5x5xf32>
  // CHECK: %[[B:.*]] = cnn.param "c1.bias" frozen {group = @features, value = dense<0.000000e+00> : tensor<6xf32>} : tensor<6xf32>
  // CHECK: %[[C:.*]] = cnn.conv2d %{{.*}}, %[[W]], %[[B]] {pads = [2, 2, 2, 2]} : (tensor<?x1x28x28xf32>, tensor<6x1x5x5xf32>, tensor<6xf32>) -> tensor<?x6x28x28xf32>
  // CHECK: %[[R:.*]] = cnn.relu %[[C]] : tensor<?x6x28x28xf32>
  // CHECK: cnn.max_pool2d %[[R]] {kernel_shape = [2, 2], strides = [2, 2]} : (tensor<?x6x28x28xf32>) -> tensor<?x6x14x14xf32>
  %w = cnn.param "c1.weight" {group = @features, init = "kaiming_uniform"} : tensor<6x1x5x5xf32>
  %b = cnn.param "c1.bias" frozen {group = @features, value = dense<0.0> : tensor<6xf32>} : tensor<6xf32>
  %y = cnn.conv2d %x, %w, %b {pads = [2, 2, 2, 2]} : (tensor<?x1x28x28xf32>, tensor<6x1x5x5xf32>, tensor<6xf32>) -> tensor<?x6x28x28xf32>
  %r = cnn.relu %y : tensor<?x6x28x28xf32>
  %p = cnn.max_pool2d %r {kernel_shape = [2, 2], strides = [2, 2]} : (tensor<?x6x28x28xf32>) -> tensor<?x6x14x14xf32>
  return %p : tensor<?x6x14x14xf32>
}

// CHECK-LABEL: func @depthwise_dilated_relu6
func @depthwise_dilated_relu6(%x: tensor<2x8x16x16xf32>) -> tensor<2x8x7x7xf32> {
  // CHECK: cnn.conv2d {{.*}} {dilations = [2, 2], group = 8 : i64, pads = [1, 1, 0, 0], strides = [2, 2]} : (tensor<2x8x16x16xf32>, tensor<8x1x3x3xf32>) -> tensor<2x8x7x7xf32>
  // CHECK: cnn.clip {{.*}} {max = 6.000000e+00 : f32, min = 0.000000e+00 : f32} : tensor<2x8x7x7xf32>
  %w = cnn.param "dw.weight" {init = "kaiming_uniform"} : tensor<8x1x3x3xf32>
  %y = cnn.conv2d %x, %w {strides = [2, 2], pads = [1, 1, 0, 0], dilations = [2, 2], group = 8} : (tensor<2x8x16x16xf32>, tensor<8x1x3x3xf32>) -> tensor<2x8x7x7xf32>
  %z = cnn.clip %y {min = 0.0 : f32, max = 6.0 : f32} : tensor<2x8x7x7xf32>
  return %z : tensor<2x8x7x7xf32>
}

// CHECK-LABEL: func @pooling
func @pooling(%x: tensor<1x3x5x5xf32>) -> (tensor<1x3x3x3xf32>, tensor<1x3x5x5xf32>, tensor<1x3x1x1xf32>, tensor<1x3x1x1xf32>) {
  // ceil((5 - 3) / 2) + 1 = 2 without ceil_mode would be floor: 2; with pads 1 and ceil: 3.
  // CHECK: cnn.max_pool2d {{.*}} -> tensor<1x3x3x3xf32>
  // CHECK: cnn.avg_pool2d {{.*}} -> tensor<1x3x5x5xf32>
  // CHECK: cnn.global_avg_pool {{.*}} -> tensor<1x3x1x1xf32>
  // CHECK: cnn.global_max_pool {{.*}} -> tensor<1x3x1x1xf32>
  %a = cnn.max_pool2d %x {kernel_shape = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1], ceil_mode = true} : (tensor<1x3x5x5xf32>) -> tensor<1x3x3x3xf32>
  %b = cnn.avg_pool2d %x {kernel_shape = [3, 3], pads = [1, 1, 1, 1], count_include_pad = true} : (tensor<1x3x5x5xf32>) -> tensor<1x3x5x5xf32>
  %c = cnn.global_avg_pool %x : (tensor<1x3x5x5xf32>) -> tensor<1x3x1x1xf32>
  %d = cnn.global_max_pool %x : (tensor<1x3x5x5xf32>) -> tensor<1x3x1x1xf32>
  return %a, %b, %c, %d : tensor<1x3x3x3xf32>, tensor<1x3x5x5xf32>, tensor<1x3x1x1xf32>, tensor<1x3x1x1xf32>
}

// CHECK-LABEL: func @resnet_tail
func @resnet_tail(%x: tensor<?x64x8x8xf32>, %skip: tensor<?x64x8x8xf32>) -> tensor<?x10xf32> {
  // CHECK: cnn.batch_norm
  // CHECK: cnn.add {{.*}} -> tensor<?x64x8x8xf32>
  // CHECK: cnn.reduce {{.*}} {axes = [2, 3], keepdims = false, kind = #cnn.reduction<mean>} : (tensor<?x64x8x8xf32>) -> tensor<?x64xf32>
  // CHECK: cnn.dropout {{.*}} {ratio = 2.000000e-01 : f32} : tensor<?x64xf32>
  // CHECK: cnn.gemm {{.*}} {transB = true} : (tensor<?x64xf32>, tensor<10x64xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  // CHECK: cnn.log_softmax {{.*}} {axis = 1 : i64} : tensor<?x10xf32>
  %s = cnn.param "bn.weight" {init = "ones"} : tensor<64xf32>
  %b = cnn.param "bn.bias" {init = "zeros"} : tensor<64xf32>
  %m = cnn.param "bn.running_mean" {buffer, init = "zeros"} : tensor<64xf32>
  %v = cnn.param "bn.running_var" {buffer, init = "ones"} : tensor<64xf32>
  %n = cnn.batch_norm %x, %s, %b, %m, %v : (tensor<?x64x8x8xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<?x64x8x8xf32>
  %a = cnn.add %n, %skip : (tensor<?x64x8x8xf32>, tensor<?x64x8x8xf32>) -> tensor<?x64x8x8xf32>
  %p = cnn.reduce %a {kind = #cnn.reduction<mean>, axes = [2, 3], keepdims = false} : (tensor<?x64x8x8xf32>) -> tensor<?x64xf32>
  %d = cnn.dropout %p {ratio = 0.2 : f32} : tensor<?x64xf32>
  %w = cnn.param "fc.weight" {init = "kaiming_uniform"} : tensor<10x64xf32>
  %fb = cnn.param "fc.bias" {init = "uniform_fan_in"} : tensor<10xf32>
  %g = cnn.gemm %d, %w, %fb {transB = true} : (tensor<?x64xf32>, tensor<10x64xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  %l = cnn.log_softmax %g {axis = 1} : tensor<?x10xf32>
  return %l : tensor<?x10xf32>
}

// CHECK-LABEL: func @shapes
func @shapes(%x: tensor<?x16x5x5xf32>, %y: tensor<?x4x5x5xf32>) -> (tensor<?x400xf32>, tensor<?x400xf32>, tensor<?x20x5x5xf32>, tensor<?x20x7x7xf32>, tensor<?x10xf32>) {
  // CHECK: cnn.flatten {{.*}} -> tensor<?x400xf32>
  // CHECK: cnn.reshape {{.*}} {shape = [0, -1]} : (tensor<?x16x5x5xf32>) -> tensor<?x400xf32>
  // CHECK: cnn.concat {{.*}} {axis = 1 : i64} : (tensor<?x16x5x5xf32>, tensor<?x4x5x5xf32>) -> tensor<?x20x5x5xf32>
  // CHECK: cnn.pad {{.*}} -> tensor<?x20x7x7xf32>
  // CHECK: cnn.pad {{.*}} {mode = #cnn.pad_mode<reflect>, pads = [0, 0, 2, 0, 0, 0, 0, 4]} : (tensor<?x20x5x5xf32>) -> tensor<?x20x7x9xf32>
  // CHECK: cnn.matmul {{.*}} -> tensor<?x10xf32>
  // CHECK: cnn.softmax {{.*}} : tensor<?x10xf32>
  %f = cnn.flatten %x {axis = 1} : (tensor<?x16x5x5xf32>) -> tensor<?x400xf32>
  %r = cnn.reshape %x {shape = [0, -1]} : (tensor<?x16x5x5xf32>) -> tensor<?x400xf32>
  %c = cnn.concat %x, %y {axis = 1} : (tensor<?x16x5x5xf32>, tensor<?x4x5x5xf32>) -> tensor<?x20x5x5xf32>
  %p = cnn.pad %c {pads = [0, 0, 1, 1, 0, 0, 1, 1], value = 0.0 : f32} : (tensor<?x20x5x5xf32>) -> tensor<?x20x7x7xf32>
  %pr = cnn.pad %c {pads = [0, 0, 2, 0, 0, 0, 0, 4], mode = #cnn.pad_mode<reflect>} : (tensor<?x20x5x5xf32>) -> tensor<?x20x7x9xf32>
  %w = cnn.constant {value = dense<1.0> : tensor<400x10xf32>} : tensor<400x10xf32>
  %m = cnn.matmul %f, %w : (tensor<?x400xf32>, tensor<400x10xf32>) -> tensor<?x10xf32>
  %s = cnn.softmax %m {axis = 1} : tensor<?x10xf32>
  return %f, %r, %c, %p, %s : tensor<?x400xf32>, tensor<?x400xf32>, tensor<?x20x5x5xf32>, tensor<?x20x7x7xf32>, tensor<?x10xf32>
}

// CHECK-LABEL: func @elementwise
func @elementwise(%x: tensor<?x8x4x4xf32>) -> tensor<?x8x4x4xf32> {
  // CHECK: cnn.mul {{.*}} : (tensor<?x8x4x4xf32>, tensor<8x1x1xf32>) -> tensor<?x8x4x4xf32>
  // CHECK: cnn.sub {{.*}} : (tensor<?x8x4x4xf32>, tensor<f32>) -> tensor<?x8x4x4xf32>
  // CHECK: cnn.div
  // CHECK: cnn.leaky_relu {{.*}} {alpha = 1.000000e-01 : f32}
  // CHECK: cnn.sigmoid
  // CHECK: cnn.tanh
  %s = cnn.constant {value = dense<2.0> : tensor<8x1x1xf32>} : tensor<8x1x1xf32>
  %h = cnn.constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %a = cnn.mul %x, %s : (tensor<?x8x4x4xf32>, tensor<8x1x1xf32>) -> tensor<?x8x4x4xf32>
  %b = cnn.sub %a, %h : (tensor<?x8x4x4xf32>, tensor<f32>) -> tensor<?x8x4x4xf32>
  %c = cnn.div %b, %s : (tensor<?x8x4x4xf32>, tensor<8x1x1xf32>) -> tensor<?x8x4x4xf32>
  %d = cnn.leaky_relu %c {alpha = 0.1 : f32} : tensor<?x8x4x4xf32>
  %e = cnn.sigmoid %d : tensor<?x8x4x4xf32>
  %f = cnn.tanh %e : tensor<?x8x4x4xf32>
  return %f : tensor<?x8x4x4xf32>
}

// Train-mode BatchNorm: statistics, forward, running statistics, backward.
// CHECK-LABEL: func @batch_norm_train
func @batch_norm_train(%x: tensor<?x8x4x4xf32>, %dy: tensor<?x8x4x4xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %rm: tensor<8xf32>) -> (tensor<?x8x4x4xf32>, tensor<8xf32>, tensor<?x8x4x4xf32>) {
  // CHECK: %[[S:.*]] = cnn.batch_norm_stats %[[X:.*]] : (tensor<?x8x4x4xf32>) -> tensor<2x8xf32>
  // CHECK: cnn.batch_norm_train %[[X]], %[[S]], %{{.*}}, %{{.*}} {epsilon = 1.000000e-03 : f32} : (tensor<?x8x4x4xf32>, tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  // CHECK: cnn.batch_norm_running_update %{{.*}}, %[[S]], %[[X]] {momentum = 8.000000e-01 : f32, statistic = #cnn.statistic<variance>} : (tensor<8xf32>, tensor<2x8xf32>, tensor<?x8x4x4xf32>) -> tensor<8xf32>
  // CHECK: %[[DG:.*]] = cnn.batch_norm_train_grad_scale %{{.*}}, %[[X]], %[[S]] : (tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32>, tensor<2x8xf32>) -> tensor<8xf32>
  // CHECK: cnn.batch_norm_train_grad_input %{{.*}}, %[[X]], %[[S]], %{{.*}}, %[[DG]], %{{.*}} : (tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32>, tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  %s = cnn.batch_norm_stats %x : (tensor<?x8x4x4xf32>) -> tensor<2x8xf32>
  %y = cnn.batch_norm_train %x, %s, %g, %b {epsilon = 1.0e-3 : f32} : (tensor<?x8x4x4xf32>, tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  %v = cnn.batch_norm_running_update %rm, %s, %x {momentum = 0.8 : f32, statistic = #cnn.statistic<variance>} : (tensor<8xf32>, tensor<2x8xf32>, tensor<?x8x4x4xf32>) -> tensor<8xf32>
  %dg = cnn.batch_norm_train_grad_scale %dy, %x, %s : (tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32>, tensor<2x8xf32>) -> tensor<8xf32>
  %db = cnn.reduce_sum %dy {axes = [0, 2, 3]} : (tensor<?x8x4x4xf32>) -> tensor<8xf32>
  %dx = cnn.batch_norm_train_grad_input %dy, %x, %s, %g, %dg, %db : (tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32>, tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  return %y, %v, %dx : tensor<?x8x4x4xf32>, tensor<8xf32>, tensor<?x8x4x4xf32>
}

// SyncBatchNorm across data-parallel processes: statistics and sums.
// CHECK-LABEL: func @replica_reduce
// CHECK: cnn.replica_reduce %{{.*}}, %{{.*}} {kind = #cnn.replica<batch_stats>} : (tensor<2x8xf32>, tensor<?x8x4x4xf32>) -> tensor<2x8xf32>
// CHECK: cnn.replica_reduce %{{.*}}, %{{.*}} {kind = #cnn.replica<running_stats>} : (tensor<2x8xf32>, tensor<?x8x4x4xf32>) -> tensor<2x8xf32>
// CHECK: cnn.replica_reduce %{{.*}}, %{{.*}} {kind = #cnn.replica<sum>} : (tensor<8xf32>, tensor<?x8xf32>) -> tensor<8xf32>
func @replica_reduce(%s: tensor<2x8xf32>, %x: tensor<?x8x4x4xf32>, %d: tensor<8xf32>, %h: tensor<?x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>) {
  %g = cnn.replica_reduce %s, %x {kind = #cnn.replica<batch_stats>} : (tensor<2x8xf32>, tensor<?x8x4x4xf32>) -> tensor<2x8xf32>
  %r = cnn.replica_reduce %s, %x {kind = #cnn.replica<running_stats>} : (tensor<2x8xf32>, tensor<?x8x4x4xf32>) -> tensor<2x8xf32>
  %t = cnn.replica_reduce %d, %h {kind = #cnn.replica<sum>} : (tensor<8xf32>, tensor<?x8xf32>) -> tensor<8xf32>
  return %g, %r, %t : tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>
}

// ShuffleNet's channel shuffle and chunk on run-time tensors.
// CHECK-LABEL: func @shuffle
// CHECK: cnn.transpose %{{.*}} {perm = [0, 2, 1, 3, 4]} : (tensor<?x2x3x4x4xf32>) -> tensor<?x3x2x4x4xf32>
// CHECK: cnn.slice %{{.*}} {sizes = [-1, 3, 2, 4], starts = [0, 3, 3, 0], steps = [1, 1, -1, 1]} : (tensor<?x6x4x4xf32>) -> tensor<?x3x2x4xf32>
// CHECK: cnn.prelu %{{.*}}, %{{.*}} : (tensor<?x6x4x4xf32>, tensor<6x1x1xf32>) -> tensor<?x6x4x4xf32>
func @shuffle(%g: tensor<?x2x3x4x4xf32>, %x: tensor<?x6x4x4xf32>, %slope: tensor<6x1x1xf32>) -> (tensor<?x3x2x4x4xf32>, tensor<?x3x2x4xf32>, tensor<?x6x4x4xf32>) {
  %t = cnn.transpose %g {perm = [0, 2, 1, 3, 4]} : (tensor<?x2x3x4x4xf32>) -> tensor<?x3x2x4x4xf32>
  %s = cnn.slice %x {starts = [0, 3, 3, 0], steps = [1, 1, -1, 1], sizes = [-1, 3, 2, 4]} : (tensor<?x6x4x4xf32>) -> tensor<?x3x2x4xf32>
  %p = cnn.prelu %x, %slope : (tensor<?x6x4x4xf32>, tensor<6x1x1xf32>) -> tensor<?x6x4x4xf32>
  return %t, %s, %p : tensor<?x3x2x4x4xf32>, tensor<?x3x2x4xf32>, tensor<?x6x4x4xf32>
}

// The pointwise functions of cnn.unary, with their parameters.
// CHECK-LABEL: func @unary
// CHECK: cnn.unary %{{.*}} {alpha = 1.500000e+00 : f32, fn = #cnn.unary<elu>} : tensor<?x3xf32>
// CHECK: cnn.unary %{{.*}} {alpha = 5.000000e-01 : f32, beta = 2.000000e-01 : f32, fn = #cnn.unary<shrink>} : tensor<?x3xf32>
func @unary(%x: tensor<?x3xf32>) -> (tensor<?x3xf32>, tensor<?x3xf32>) {
  %e = cnn.unary %x {fn = #cnn.unary<elu>, alpha = 1.5 : f32} : tensor<?x3xf32>
  %s = cnn.unary %x {fn = #cnn.unary<shrink>, alpha = 0.5 : f32, beta = 0.2 : f32} : tensor<?x3xf32>
  return %e, %s : tensor<?x3xf32>, tensor<?x3xf32>
}

// fused_conv2d's optional operands, each after its keyword, in any
// combination (ResNet's bias + residual; a BatchNorm's scale + shift).
// CHECK-LABEL: func @fused_conv_operands
// CHECK: cnn.fused_conv2d %{{.*}}, %{{.*}} bias %{{.*}} residual %{{.*}} {activation = #cnn.activation<relu>} : (tensor<?x4x5x5xf32>, tensor<4x4x1x1xf32>, tensor<4xf32>, tensor<?x4x5x5xf32>) -> tensor<?x4x5x5xf32>
// CHECK: cnn.fused_conv2d %{{.*}}, %{{.*}} scale %{{.*}} shift %{{.*}} residual %{{.*}} : (tensor<?x4x5x5xf32>, tensor<4x4x1x1xf32>, tensor<4xf32>, tensor<4xf32>, tensor<?x4x5x5xf32>) -> tensor<?x4x5x5xf32>
// CHECK: cnn.fused_conv2d %{{.*}}, %{{.*}} bias %{{.*}} shift %{{.*}} : (tensor<?x4x5x5xf32>, tensor<4x4x1x1xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x4x5x5xf32>
// CHECK: cnn.fused_conv2d %{{.*}}, %{{.*}} bias %{{.*}} residual %{{.*}} input_scale %{{.*}} input_shift %{{.*}} {input_relu} : (tensor<?x4x5x5xf32>, tensor<4x4x1x1xf32>, tensor<4xf32>, tensor<?x4x5x5xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x4x5x5xf32>
func @fused_conv_operands(%x: tensor<?x4x5x5xf32>, %w: tensor<4x4x1x1xf32>, %b: tensor<4xf32>, %s: tensor<4xf32>) -> (tensor<?x4x5x5xf32>, tensor<?x4x5x5xf32>, tensor<?x4x5x5xf32>, tensor<?x4x5x5xf32>) {
  %0 = cnn.fused_conv2d %x, %w bias %b residual %x {activation = #cnn.activation<relu>} : (tensor<?x4x5x5xf32>, tensor<4x4x1x1xf32>, tensor<4xf32>, tensor<?x4x5x5xf32>) -> tensor<?x4x5x5xf32>
  %1 = cnn.fused_conv2d %x, %w scale %s shift %b residual %0 : (tensor<?x4x5x5xf32>, tensor<4x4x1x1xf32>, tensor<4xf32>, tensor<4xf32>, tensor<?x4x5x5xf32>) -> tensor<?x4x5x5xf32>
  %2 = cnn.fused_conv2d %x, %w bias %b shift %s : (tensor<?x4x5x5xf32>, tensor<4x4x1x1xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x4x5x5xf32>
  %3 = cnn.fused_conv2d %x, %w bias %b residual %x input_scale %s input_shift %b {input_relu} : (tensor<?x4x5x5xf32>, tensor<4x4x1x1xf32>, tensor<4xf32>, tensor<?x4x5x5xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x4x5x5xf32>
  return %0, %1, %2, %3 : tensor<?x4x5x5xf32>, tensor<?x4x5x5xf32>, tensor<?x4x5x5xf32>, tensor<?x4x5x5xf32>
}
