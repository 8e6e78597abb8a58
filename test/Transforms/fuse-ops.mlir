// RUN: cnnc-opt %s -split-input-file -cnn-fuse-ops | FileCheck %s
// RUN: cnnc-opt %s -split-input-file -cnn-fuse-ops=remarks -verify-diagnostics -o /dev/null
// RUN: cnnc-opt %s -split-input-file -cnn-fuse-ops=training | FileCheck %s --check-prefix=TRAIN

// LeNet's C1 + ReLU + S2 become one kernel.
// CHECK-LABEL: func @conv_relu_pool
// CHECK-SAME: (%[[X:.*]]: tensor<?x1x28x28xf32>)
// CHECK: %[[W:.*]] = cnn.param "c1.weight"
// CHECK: %[[B:.*]] = cnn.param "c1.bias"
// CHECK: %[[Y:.*]] = cnn.fused_conv2d %[[X]], %[[W]] bias %[[B]] {activation = #cnn.activation<relu>, {{.*}}pads = [2, 2, 2, 2], pool = #cnn.pool<max>, pool_kernel = [2, 2]{{.*}}pool_strides = [2, 2]{{.*}}} : (tensor<?x1x28x28xf32>, tensor<6x1x5x5xf32>, tensor<6xf32>) -> tensor<?x6x14x14xf32>
// CHECK-NOT: cnn.relu
// CHECK-NOT: cnn.max_pool2d
// CHECK: return %[[Y]]
func @conv_relu_pool(%x: tensor<?x1x28x28xf32>) -> tensor<?x6x14x14xf32> {
  %w = cnn.param "c1.weight" {init = "kaiming_uniform"} : tensor<6x1x5x5xf32>
  %b = cnn.param "c1.bias" {init = "uniform_fan_in"} : tensor<6xf32>
  %c = cnn.conv2d %x, %w, %b {pads = [2, 2, 2, 2]} : (tensor<?x1x28x28xf32>, tensor<6x1x5x5xf32>, tensor<6xf32>) -> tensor<?x6x28x28xf32>
  %r = cnn.relu %c : tensor<?x6x28x28xf32>
  %p = cnn.max_pool2d %r {kernel_shape = [2, 2], strides = [2, 2]} : (tensor<?x6x28x28xf32>) -> tensor<?x6x14x14xf32>
  return %p : tensor<?x6x14x14xf32>
}

// -----

// ResNet's basic block tail: conv + residual add + ReLU.
// CHECK-LABEL: func @residual
// CHECK-SAME: (%[[X:.*]]: tensor<?x8x4x4xf32>, %[[SKIP:.*]]: tensor<?x8x4x4xf32>)
// CHECK: cnn.fused_conv2d %[[X]], %{{.*}} residual %[[SKIP]] {activation = #cnn.activation<relu>
func @residual(%x: tensor<?x8x4x4xf32>, %skip: tensor<?x8x4x4xf32>) -> tensor<?x8x4x4xf32> {
  %w = cnn.param "w" {init = "kaiming_uniform"} : tensor<8x8x3x3xf32>
  %c = cnn.conv2d %x, %w {pads = [1, 1, 1, 1]} : (tensor<?x8x4x4xf32>, tensor<8x8x3x3xf32>) -> tensor<?x8x4x4xf32>
  %a = cnn.add %skip, %c : (tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32>) -> tensor<?x8x4x4xf32>
  %r = cnn.relu %a : tensor<?x8x4x4xf32>
  return %r : tensor<?x8x4x4xf32>
}

// -----

// The conv result is also returned: it must stay in memory, so nothing fuses
// into it (the conv alone still becomes a fused op of one).
// CHECK-LABEL: func @several_users
// CHECK: %[[C:.*]] = cnn.fused_conv2d {{.*}} {activation = #cnn.activation<none>
// CHECK: %[[R:.*]] = cnn.relu %[[C]]
// CHECK: return %[[C]], %[[R]]
func @several_users(%x: tensor<1x3x8x8xf32>) -> (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) {
  %w = cnn.param "w" {init = "kaiming_uniform"} : tensor<4x3x3x3xf32>
  // expected-remark @+1 {{not fused further: the value is used by 2 ops and must stay in memory}}
  %c = cnn.conv2d %x, %w : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  %r = cnn.relu %c : tensor<1x4x6x6xf32>
  return %c, %r : tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>
}

// -----

// A broadcasting add is not a residual connection.
// CHECK-LABEL: func @broadcast_add
// CHECK: cnn.fused_conv2d
// CHECK-NOT: residual
// CHECK: cnn.add
func @broadcast_add(%x: tensor<1x3x8x8xf32>, %y: tensor<1x1x1x1xf32>) -> tensor<1x4x6x6xf32> {
  %w = cnn.param "w" {init = "kaiming_uniform"} : tensor<4x3x3x3xf32>
  // expected-remark @+1 {{residual add not fused: it broadcasts or changes the shape}}
  %c = cnn.conv2d %x, %w : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  %a = cnn.add %c, %y : (tensor<1x4x6x6xf32>, tensor<1x1x1x1xf32>) -> tensor<1x4x6x6xf32>
  return %a : tensor<1x4x6x6xf32>
}

// -----

// Pooling before the activation: the activation is not absorbed past it.
// CHECK-LABEL: func @pool_then_relu
// CHECK: %[[F:.*]] = cnn.fused_conv2d {{.*}}pool = #cnn.pool<avg>
// CHECK: cnn.relu %[[F]]
func @pool_then_relu(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x3x3xf32> {
  %w = cnn.param "w" {init = "kaiming_uniform"} : tensor<4x3x3x3xf32>
  %c = cnn.conv2d %x, %w : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  %p = cnn.avg_pool2d %c {kernel_shape = [2, 2], strides = [2, 2]} : (tensor<1x4x6x6xf32>) -> tensor<1x4x3x3xf32>
  %r = cnn.relu %p : tensor<1x4x3x3xf32>
  return %r : tensor<1x4x3x3xf32>
}

// -----

// CHECK-LABEL: func @gemm_clip
// CHECK: cnn.fused_gemm {{.*}} {activation = #cnn.activation<clip>, max = 6.000000e+00 : f32, min = 0.000000e+00 : f32, transB = true}
// CHECK-NOT: cnn.clip
func @gemm_clip(%x: tensor<?x16xf32>) -> tensor<?x4xf32> {
  %w = cnn.param "fc.weight" {init = "kaiming_uniform"} : tensor<4x16xf32>
  %g = cnn.gemm %x, %w {transB = true} : (tensor<?x16xf32>, tensor<4x16xf32>) -> tensor<?x4xf32>
  %c = cnn.clip %g {min = 0.0 : f32, max = 6.0 : f32} : tensor<?x4xf32>
  return %c : tensor<?x4xf32>
}

// -----

// ResNet's stem pool (3x3, stride 2, padded) overlaps: it fuses all the same
// (the kernel keeps the convolution rows in a sliding window).
// CHECK-LABEL: func @overlapping_pool
// CHECK: cnn.fused_conv2d {{.*}}activation = #cnn.activation<relu>{{.*}}pool = #cnn.pool<max>, pool_kernel = [3, 3], pool_pads = [1, 1, 1, 1], pool_strides = [2, 2]
// CHECK-NOT: cnn.max_pool2d
func @overlapping_pool(%x: tensor<1x3x16x16xf32>) -> tensor<1x4x8x8xf32> {
  %w = cnn.param "w" {init = "kaiming_uniform"} : tensor<4x3x3x3xf32>
  %c = cnn.conv2d %x, %w {pads = [1, 1, 1, 1]} : (tensor<1x3x16x16xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x16x16xf32>
  %r = cnn.relu %c : tensor<1x4x16x16xf32>
  %p = cnn.max_pool2d %r {kernel_shape = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1]} : (tensor<1x4x16x16xf32>) -> tensor<1x4x8x8xf32>
  return %p : tensor<1x4x8x8xf32>
}

// -----

// conv -> ReLU -> BatchNorm: the BatchNorm cannot fold into the weights, so
// it becomes a scale and shift after the activation, in the same kernel.
// s = 2 / sqrt(4) = 1, t = 1 - 3 * 1 = -2.
// CHECK-LABEL: func @relu_then_bn
// CHECK-DAG: %[[S:.*]] = cnn.constant {value = dense<1.000000e+00> : tensor<1xf32>}
// CHECK-DAG: %[[T:.*]] = cnn.constant {value = dense<-2.000000e+00> : tensor<1xf32>}
// CHECK: cnn.fused_conv2d %{{.*}}, %{{.*}} scale %[[S]] shift %[[T]] {activation = #cnn.activation<relu>, affine_after_activation
// CHECK-NOT: cnn.batch_norm
func @relu_then_bn(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %w = cnn.param "w" {value = dense<1.0> : tensor<1x1x1x1xf32>} : tensor<1x1x1x1xf32>
  %c = cnn.conv2d %x, %w : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32>
  %r = cnn.relu %c : tensor<1x1x4x4xf32>
  %g = cnn.param "bn.weight" {value = dense<2.0> : tensor<1xf32>} : tensor<1xf32>
  %b = cnn.param "bn.bias" {value = dense<1.0> : tensor<1xf32>} : tensor<1xf32>
  %m = cnn.param "bn.running_mean" {buffer, value = dense<3.0> : tensor<1xf32>} : tensor<1xf32>
  %v = cnn.param "bn.running_var" {buffer, value = dense<4.0> : tensor<1xf32>} : tensor<1xf32>
  %y = cnn.batch_norm %r, %g, %b, %m, %v {epsilon = 1.0e-30 : f32} : (tensor<1x1x4x4xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x4x4xf32>
  return %y : tensor<1x1x4x4xf32>
}

// -----

// Backward (training): the ReLU's gradient mask joins the max pooling's
// gradient (argmax routing) in one pool2d_backward.
// TRAIN-LABEL: func @pool_relu_grad
// TRAIN: %[[G:.*]] = cnn.pool2d_backward %arg0, %arg1 {activation = #cnn.activation<relu>
// TRAIN-NOT: cnn.activation_grad
// TRAIN: return %[[G]]
// Without the training option the pass leaves backward ops alone.
// CHECK-LABEL: func @pool_relu_grad
// CHECK: %[[G:.*]] = cnn.pool2d_backward %arg0, %arg1 {kernel_shape
// CHECK: %[[D:.*]] = cnn.activation_grad %[[G]], %arg1 {activation = #cnn.activation<relu>}
// CHECK: return %[[D]]
func @pool_relu_grad(%dy: tensor<?x2x4x4xf32>, %y: tensor<?x2x8x8xf32>) -> tensor<?x2x8x8xf32> {
  %g = cnn.pool2d_backward %dy, %y {kind = #cnn.pool<max>, kernel_shape = [2, 2], strides = [2, 2]} : (tensor<?x2x4x4xf32>, tensor<?x2x8x8xf32>) -> tensor<?x2x8x8xf32>
  %d = cnn.activation_grad %g, %y {activation = #cnn.activation<relu>} : tensor<?x2x8x8xf32>
  return %d : tensor<?x2x8x8xf32>
}

// -----

// Negative: the mask is of another tensor than the pooling's input, so it
// is not the same activation: nothing fuses.
// TRAIN-LABEL: func @other_mask
// TRAIN: cnn.pool2d_backward %arg0, %arg1 {kernel_shape
// TRAIN: cnn.activation_grad
func @other_mask(%dy: tensor<?x2x4x4xf32>, %y: tensor<?x2x8x8xf32>, %z: tensor<?x2x8x8xf32>) -> tensor<?x2x8x8xf32> {
  %g = cnn.pool2d_backward %dy, %y {kind = #cnn.pool<max>, kernel_shape = [2, 2], strides = [2, 2]} : (tensor<?x2x4x4xf32>, tensor<?x2x8x8xf32>) -> tensor<?x2x8x8xf32>
  %d = cnn.activation_grad %g, %z {activation = #cnn.activation<relu>} : tensor<?x2x8x8xf32>
  return %d : tensor<?x2x8x8xf32>
}

// -----

// SiLU as the importer writes it (x * sigmoid(x), EfficientNet, RegNet Y)
// and HardSwish (x * clip(x / 6 + 1/2, 0, 1), MobileNet v3) fuse into their
// convolution although they read its result twice.
// CHECK-LABEL: func @gates
// CHECK: %[[S:.*]] = cnn.fused_conv2d %{{.*}}, %{{.*}} {activation = #cnn.activation<silu>} : (tensor<?x4x8x8xf32>, tensor<8x4x3x3xf32>) -> tensor<?x8x6x6xf32>
// CHECK: %[[H:.*]] = cnn.fused_conv2d %[[S]], %{{.*}} {activation = #cnn.activation<hard_swish>} : (tensor<?x8x6x6xf32>, tensor<8x8x1x1xf32>) -> tensor<?x8x6x6xf32>
// CHECK-NOT: cnn.sigmoid
// CHECK-NOT: cnn.clip
// CHECK-NOT: cnn.mul
// CHECK: return %[[H]]
func @gates(%x: tensor<?x4x8x8xf32>) -> tensor<?x8x6x6xf32> {
  %w1 = cnn.param "w1" {init = "kaiming_uniform"} : tensor<8x4x3x3xf32>
  %c1 = cnn.conv2d %x, %w1 : (tensor<?x4x8x8xf32>, tensor<8x4x3x3xf32>) -> tensor<?x8x6x6xf32>
  %s = cnn.sigmoid %c1 : tensor<?x8x6x6xf32>
  %silu = cnn.mul %c1, %s : (tensor<?x8x6x6xf32>, tensor<?x8x6x6xf32>) -> tensor<?x8x6x6xf32>
  %w2 = cnn.param "w2" {init = "kaiming_uniform"} : tensor<8x8x1x1xf32>
  %c2 = cnn.conv2d %silu, %w2 : (tensor<?x8x6x6xf32>, tensor<8x8x1x1xf32>) -> tensor<?x8x6x6xf32>
  %sixth = cnn.constant {value = dense<0.166666672> : tensor<1x1x1x1xf32>} : tensor<1x1x1x1xf32>
  %half = cnn.constant {value = dense<5.000000e-01> : tensor<1x1x1x1xf32>} : tensor<1x1x1x1xf32>
  %a = cnn.mul %c2, %sixth : (tensor<?x8x6x6xf32>, tensor<1x1x1x1xf32>) -> tensor<?x8x6x6xf32>
  %b = cnn.add %a, %half : (tensor<?x8x6x6xf32>, tensor<1x1x1x1xf32>) -> tensor<?x8x6x6xf32>
  %g = cnn.clip %b {min = 0.0 : f32, max = 1.0 : f32} : tensor<?x8x6x6xf32>
  %hs = cnn.mul %c2, %g : (tensor<?x8x6x6xf32>, tensor<?x8x6x6xf32>) -> tensor<?x8x6x6xf32>
  return %hs : tensor<?x8x6x6xf32>
}

// -----

// A gate whose sigmoid is also used elsewhere stays unfused.
// CHECK-LABEL: func @shared_gate
// CHECK: cnn.fused_conv2d %{{.*}}, %{{.*}} {activation = #cnn.activation<none>}
// CHECK: cnn.sigmoid
// CHECK: cnn.mul
func @shared_gate(%x: tensor<?x4x8x8xf32>) -> (tensor<?x8x6x6xf32>, tensor<?x8x6x6xf32>) {
  %w1 = cnn.param "w1" {init = "kaiming_uniform"} : tensor<8x4x3x3xf32>
  // expected-remark @+1 {{not fused further: the value is used by 2 ops and must stay in memory}}
  %c1 = cnn.conv2d %x, %w1 : (tensor<?x4x8x8xf32>, tensor<8x4x3x3xf32>) -> tensor<?x8x6x6xf32>
  %s = cnn.sigmoid %c1 : tensor<?x8x6x6xf32>
  %silu = cnn.mul %c1, %s : (tensor<?x8x6x6xf32>, tensor<?x8x6x6xf32>) -> tensor<?x8x6x6xf32>
  return %silu, %s : tensor<?x8x6x6xf32>, tensor<?x8x6x6xf32>
}

// -----

// A Linear layer on the last axis (ConvNeXt's blocks: MatMul by a 2-D
// weight, Add of a bias of N) with the exact GELU as PyTorch exports it
// (x / sqrt(2), erf, + 1, times x, times 1/2) becomes one fused_gemm that
// keeps the leading dims; the second MatMul takes its bias alone.
// CHECK-LABEL: func @linear_gelu
// CHECK-SAME: (%[[X:.*]]: tensor<?x7x7x96xf32>)
// CHECK: %[[W1:.*]] = cnn.param "fc1.weight"
// CHECK: %[[B1:.*]] = cnn.param "fc1.bias"
// CHECK: %[[H:.*]] = cnn.fused_gemm %[[X]], %[[W1]], %[[B1]] {activation = #cnn.activation<gelu>} : (tensor<?x7x7x96xf32>, tensor<96x384xf32>, tensor<384xf32>) -> tensor<?x7x7x384xf32>
// CHECK-NOT: cnn.erf
// CHECK: %[[Y:.*]] = cnn.fused_gemm %[[H]], %{{.*}}, %{{.*}} {activation = #cnn.activation<none>} : (tensor<?x7x7x384xf32>, tensor<384x96xf32>, tensor<96xf32>) -> tensor<?x7x7x96xf32>
// CHECK-NOT: cnn.matmul
// CHECK-NOT: cnn.add
// CHECK: return %[[Y]]
// TRAIN-LABEL: func @linear_gelu
// TRAIN: cnn.fused_gemm {{.*}} {activation = #cnn.activation<gelu>}
func @linear_gelu(%x: tensor<?x7x7x96xf32>) -> tensor<?x7x7x96xf32> {
  %w1 = cnn.param "fc1.weight" {init = "kaiming_uniform"} : tensor<96x384xf32>
  %b1 = cnn.param "fc1.bias" {init = "zeros"} : tensor<384xf32>
  %m1 = cnn.matmul %x, %w1 : (tensor<?x7x7x96xf32>, tensor<96x384xf32>) -> tensor<?x7x7x384xf32>
  %v = cnn.add %m1, %b1 : (tensor<?x7x7x384xf32>, tensor<384xf32>) -> tensor<?x7x7x384xf32>
  %sqrt2 = cnn.constant {value = dense<1.41421354> : tensor<1x1x1x1xf32>} : tensor<1x1x1x1xf32>
  %one = cnn.constant {value = dense<1.000000e+00> : tensor<1x1x1x1xf32>} : tensor<1x1x1x1xf32>
  %half = cnn.constant {value = dense<5.000000e-01> : tensor<1x1x1x1xf32>} : tensor<1x1x1x1xf32>
  %d = cnn.div %v, %sqrt2 : (tensor<?x7x7x384xf32>, tensor<1x1x1x1xf32>) -> tensor<?x7x7x384xf32>
  %e = cnn.erf %d : tensor<?x7x7x384xf32>
  %p = cnn.add %e, %one : (tensor<?x7x7x384xf32>, tensor<1x1x1x1xf32>) -> tensor<?x7x7x384xf32>
  %q = cnn.mul %v, %p : (tensor<?x7x7x384xf32>, tensor<?x7x7x384xf32>) -> tensor<?x7x7x384xf32>
  %g = cnn.mul %q, %half : (tensor<?x7x7x384xf32>, tensor<1x1x1x1xf32>) -> tensor<?x7x7x384xf32>
  %w2 = cnn.param "fc2.weight" {init = "kaiming_uniform"} : tensor<384x96xf32>
  %b2 = cnn.param "fc2.bias" {init = "zeros"} : tensor<96xf32>
  %m2 = cnn.matmul %g, %w2 : (tensor<?x7x7x384xf32>, tensor<384x96xf32>) -> tensor<?x7x7x96xf32>
  %y = cnn.add %b2, %m2 : (tensor<96xf32>, tensor<?x7x7x96xf32>) -> tensor<?x7x7x96xf32>
  return %y : tensor<?x7x7x96xf32>
}

// -----

// A GELU whose constant is not sqrt(2) is another function: it stays, and
// so does an add that is not a bias (a residual of the output's shape). A
// gemm takes a SiLU gate; a batched MatMul (3-D B) is left alone.
// CHECK-LABEL: func @not_gelu
// CHECK: cnn.fused_gemm %{{.*}}, %{{.*}} {activation = #cnn.activation<none>} : (tensor<?x4x8xf32>, tensor<8x8xf32>) -> tensor<?x4x8xf32>
// CHECK: cnn.add
// CHECK: cnn.erf
// CHECK: cnn.fused_gemm {{.*}} {activation = #cnn.activation<silu>, transB = true}
// CHECK-NOT: cnn.sigmoid
// CHECK: cnn.matmul %{{.*}}, %{{.*}} : (tensor<?x4x8xf32>, tensor<?x8x8xf32>)
func @not_gelu(%x: tensor<?x4x8xf32>, %r: tensor<?x4x8xf32>, %z: tensor<?x16xf32>, %bw: tensor<?x8x8xf32>) -> (tensor<?x4x8xf32>, tensor<?x8xf32>, tensor<?x4x8xf32>) {
  %w = cnn.param "w" {init = "kaiming_uniform"} : tensor<8x8xf32>
  // expected-remark @+1 {{add not fused into the matmul: not a bias of 8 values}}
  %m = cnn.matmul %x, %w : (tensor<?x4x8xf32>, tensor<8x8xf32>) -> tensor<?x4x8xf32>
  %v = cnn.add %m, %r : (tensor<?x4x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  %c = cnn.constant {value = dense<1.5> : tensor<1x1x1xf32>} : tensor<1x1x1xf32>
  %one = cnn.constant {value = dense<1.000000e+00> : tensor<1x1x1xf32>} : tensor<1x1x1xf32>
  %half = cnn.constant {value = dense<5.000000e-01> : tensor<1x1x1xf32>} : tensor<1x1x1xf32>
  %d = cnn.div %v, %c : (tensor<?x4x8xf32>, tensor<1x1x1xf32>) -> tensor<?x4x8xf32>
  %e = cnn.erf %d : tensor<?x4x8xf32>
  %p = cnn.add %e, %one : (tensor<?x4x8xf32>, tensor<1x1x1xf32>) -> tensor<?x4x8xf32>
  %q = cnn.mul %v, %p : (tensor<?x4x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  %g = cnn.mul %q, %half : (tensor<?x4x8xf32>, tensor<1x1x1xf32>) -> tensor<?x4x8xf32>
  %w2 = cnn.param "w2" {init = "kaiming_uniform"} : tensor<8x16xf32>
  %l = cnn.gemm %z, %w2 {transB = true} : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
  %s = cnn.sigmoid %l : tensor<?x8xf32>
  %silu = cnn.mul %s, %l : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %bm = cnn.matmul %x, %bw : (tensor<?x4x8xf32>, tensor<?x8x8xf32>) -> tensor<?x4x8xf32>
  return %g, %silu, %bm : tensor<?x4x8xf32>, tensor<?x8xf32>, tensor<?x4x8xf32>
}

// -----

// The decomposed LayerNorm as PyTorch exports it before opset 17 (the
// square as a Pow by 2, the epsilon added after the variance), with its
// scale and bias: one cnn.normalize over the last axis.
// CHECK-LABEL: func @layer_norm
// CHECK-SAME: (%[[X:.*]]: tensor<?x7x7x96xf32>)
// CHECK-DAG: %[[G:.*]] = cnn.param "ln.weight"
// CHECK-DAG: %[[B:.*]] = cnn.param "ln.bias"
// CHECK: %[[Y:.*]] = cnn.normalize %[[X]], %[[G]], %[[B]] {axis = 3 : i64, epsilon = 9.99999997E-7 : f32} : (tensor<?x7x7x96xf32>, tensor<96xf32>, tensor<96xf32>) -> tensor<?x7x7x96xf32>
// CHECK-NOT: cnn.reduce
// CHECK-NOT: cnn.sqrt
// CHECK: return %[[Y]]
func @layer_norm(%x: tensor<?x7x7x96xf32>) -> tensor<?x7x7x96xf32> {
  %mu = cnn.reduce %x {axes = [-1], keepdims = true, kind = #cnn.reduction<mean>} : (tensor<?x7x7x96xf32>) -> tensor<?x7x7x1xf32>
  %d = cnn.sub %x, %mu : (tensor<?x7x7x96xf32>, tensor<?x7x7x1xf32>) -> tensor<?x7x7x96xf32>
  %two = cnn.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %sq = cnn.pow %d, %two : (tensor<?x7x7x96xf32>, tensor<f32>) -> tensor<?x7x7x96xf32>
  %var = cnn.reduce %sq {axes = [-1], keepdims = true, kind = #cnn.reduction<mean>} : (tensor<?x7x7x96xf32>) -> tensor<?x7x7x1xf32>
  %eps = cnn.constant {value = dense<9.99999997E-7> : tensor<f32>} : tensor<f32>
  %ve = cnn.add %var, %eps : (tensor<?x7x7x1xf32>, tensor<f32>) -> tensor<?x7x7x1xf32>
  %s = cnn.sqrt %ve : tensor<?x7x7x1xf32>
  %n = cnn.div %d, %s : (tensor<?x7x7x96xf32>, tensor<?x7x7x1xf32>) -> tensor<?x7x7x96xf32>
  %g = cnn.param "ln.weight" {init = "ones"} : tensor<96xf32>
  %m = cnn.mul %n, %g : (tensor<?x7x7x96xf32>, tensor<96xf32>) -> tensor<?x7x7x96xf32>
  %b = cnn.param "ln.bias" {init = "zeros"} : tensor<96xf32>
  %y = cnn.add %m, %b : (tensor<?x7x7x96xf32>, tensor<96xf32>) -> tensor<?x7x7x96xf32>
  return %y : tensor<?x7x7x96xf32>
}

// -----

// InstanceNormalization as the importer writes it (over H and W, the square
// as a product, the epsilon first): a cnn.normalize from axis 2 whose scale
// is per channel; without a bias, a zero one.
// CHECK-LABEL: func @instance_norm
// CHECK: %[[Z:.*]] = cnn.constant {value = dense<0.000000e+00> : tensor<1xf32>}
// CHECK: cnn.normalize %{{.*}}, %{{.*}}, %[[Z]] {axis = 2 : i64, epsilon = 9.99999974E-6 : f32} : (tensor<?x4x6x6xf32>, tensor<4x1x1xf32>, tensor<1xf32>) -> tensor<?x4x6x6xf32>
// CHECK-NOT: cnn.reduce
func @instance_norm(%x: tensor<?x4x6x6xf32>) -> tensor<?x4x6x6xf32> {
  %mu = cnn.reduce %x {axes = [2, 3], keepdims = true, kind = #cnn.reduction<mean>} : (tensor<?x4x6x6xf32>) -> tensor<?x4x1x1xf32>
  %d = cnn.sub %x, %mu : (tensor<?x4x6x6xf32>, tensor<?x4x1x1xf32>) -> tensor<?x4x6x6xf32>
  %sq = cnn.mul %d, %d : (tensor<?x4x6x6xf32>, tensor<?x4x6x6xf32>) -> tensor<?x4x6x6xf32>
  %var = cnn.reduce %sq {axes = [3, 2], keepdims = true, kind = #cnn.reduction<mean>} : (tensor<?x4x6x6xf32>) -> tensor<?x4x1x1xf32>
  %eps = cnn.constant {value = dense<9.99999974E-6> : tensor<1x1x1x1xf32>} : tensor<1x1x1x1xf32>
  %ve = cnn.add %eps, %var : (tensor<1x1x1x1xf32>, tensor<?x4x1x1xf32>) -> tensor<?x4x1x1xf32>
  %s = cnn.sqrt %ve : tensor<?x4x1x1xf32>
  %n = cnn.div %d, %s : (tensor<?x4x6x6xf32>, tensor<?x4x1x1xf32>) -> tensor<?x4x6x6xf32>
  %g = cnn.param "in.weight" {init = "ones"} : tensor<4x1x1xf32>
  %y = cnn.mul %g, %n : (tensor<4x1x1xf32>, tensor<?x4x6x6xf32>) -> tensor<?x4x6x6xf32>
  return %y : tensor<?x4x6x6xf32>
}

// -----

// Not fused: statistics over an axis that is not trailing (the channels of
// NCHW), and a centered value that a derivative also reads (with a remark).
// CHECK-LABEL: func @norm_not_fused
// CHECK-NOT: cnn.normalize
// CHECK: return
func @norm_not_fused(%x: tensor<?x4x6x6xf32>) -> (tensor<?x4x6x6xf32>, tensor<?x4x6x6xf32>, tensor<?x4x6x6xf32>) {
  %mu = cnn.reduce %x {axes = [1], keepdims = true, kind = #cnn.reduction<mean>} : (tensor<?x4x6x6xf32>) -> tensor<?x1x6x6xf32>
  %d = cnn.sub %x, %mu : (tensor<?x4x6x6xf32>, tensor<?x1x6x6xf32>) -> tensor<?x4x6x6xf32>
  %sq = cnn.mul %d, %d : (tensor<?x4x6x6xf32>, tensor<?x4x6x6xf32>) -> tensor<?x4x6x6xf32>
  %var = cnn.reduce %sq {axes = [1], keepdims = true, kind = #cnn.reduction<mean>} : (tensor<?x4x6x6xf32>) -> tensor<?x1x6x6xf32>
  %eps = cnn.constant {value = dense<9.99999974E-6> : tensor<f32>} : tensor<f32>
  %ve = cnn.add %var, %eps : (tensor<?x1x6x6xf32>, tensor<f32>) -> tensor<?x1x6x6xf32>
  %s = cnn.sqrt %ve : tensor<?x1x6x6xf32>
  %n = cnn.div %d, %s : (tensor<?x4x6x6xf32>, tensor<?x1x6x6xf32>) -> tensor<?x4x6x6xf32>
  %mu2 = cnn.reduce %x {axes = [2, 3], keepdims = true, kind = #cnn.reduction<mean>} : (tensor<?x4x6x6xf32>) -> tensor<?x4x1x1xf32>
  %d2 = cnn.sub %x, %mu2 : (tensor<?x4x6x6xf32>, tensor<?x4x1x1xf32>) -> tensor<?x4x6x6xf32>
  %sq2 = cnn.mul %d2, %d2 : (tensor<?x4x6x6xf32>, tensor<?x4x6x6xf32>) -> tensor<?x4x6x6xf32>
  %var2 = cnn.reduce %sq2 {axes = [2, 3], keepdims = true, kind = #cnn.reduction<mean>} : (tensor<?x4x6x6xf32>) -> tensor<?x4x1x1xf32>
  %ve2 = cnn.add %var2, %eps : (tensor<?x4x1x1xf32>, tensor<f32>) -> tensor<?x4x1x1xf32>
  %s2 = cnn.sqrt %ve2 : tensor<?x4x1x1xf32>
  // expected-remark @+1 {{normalization not fused: its cnn.sub is also used by cnn.mul (a derivative keeps it)}}
  %n2 = cnn.div %d2, %s2 : (tensor<?x4x6x6xf32>, tensor<?x4x1x1xf32>) -> tensor<?x4x6x6xf32>
  %keep = cnn.mul %d2, %n2 : (tensor<?x4x6x6xf32>, tensor<?x4x6x6xf32>) -> tensor<?x4x6x6xf32>
  return %n, %n2, %keep : tensor<?x4x6x6xf32>, tensor<?x4x6x6xf32>, tensor<?x4x6x6xf32>
}

// -----

// EfficientNet's squeeze-and-excitation (SiLU inside, sigmoid gate) and
// MobileNet v3's (ReLU inside, HardSigmoid as imported: times 1/6, plus
// 1/2, clip to [0, 1]): each one cnn.squeeze_excite.
// CHECK-LABEL: func @squeeze_excite
// CHECK-SAME: (%[[X:.*]]: tensor<?x16x7x7xf32>)
// CHECK: %[[S:.*]] = cnn.squeeze_excite %[[X]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {activation = #cnn.activation<silu>, gate = #cnn.activation<sigmoid>} : (tensor<?x16x7x7xf32>, tensor<4x16x1x1xf32>, tensor<4xf32>, tensor<16x4x1x1xf32>, tensor<16xf32>) -> tensor<?x16x7x7xf32>
// CHECK: %[[H:.*]] = cnn.squeeze_excite %[[S]], {{.*}} {activation = #cnn.activation<relu>, gate = #cnn.activation<clip>, gate_max = 1.000000e+00 : f32, gate_min = 0.000000e+00 : f32, gate_scale = 0.166666672 : f32, gate_shift = 5.000000e-01 : f32}
// CHECK-NOT: cnn.global_avg_pool
// CHECK-NOT: cnn.clip
// CHECK: return %[[H]]
func @squeeze_excite(%x: tensor<?x16x7x7xf32>) -> tensor<?x16x7x7xf32> {
  %w1 = cnn.param "se1.fc1.weight" {init = "kaiming_uniform"} : tensor<4x16x1x1xf32>
  %b1 = cnn.param "se1.fc1.bias" {init = "zeros"} : tensor<4xf32>
  %w2 = cnn.param "se1.fc2.weight" {init = "kaiming_uniform"} : tensor<16x4x1x1xf32>
  %b2 = cnn.param "se1.fc2.bias" {init = "zeros"} : tensor<16xf32>
  %p = cnn.global_avg_pool %x : (tensor<?x16x7x7xf32>) -> tensor<?x16x1x1xf32>
  %r = cnn.fused_conv2d %p, %w1 bias %b1 {activation = #cnn.activation<silu>} : (tensor<?x16x1x1xf32>, tensor<4x16x1x1xf32>, tensor<4xf32>) -> tensor<?x4x1x1xf32>
  %g = cnn.fused_conv2d %r, %w2 bias %b2 {activation = #cnn.activation<sigmoid>} : (tensor<?x4x1x1xf32>, tensor<16x4x1x1xf32>, tensor<16xf32>) -> tensor<?x16x1x1xf32>
  %s = cnn.mul %g, %x : (tensor<?x16x1x1xf32>, tensor<?x16x7x7xf32>) -> tensor<?x16x7x7xf32>
  %v1 = cnn.param "se2.fc1.weight" {init = "kaiming_uniform"} : tensor<8x16x1x1xf32>
  %c1 = cnn.param "se2.fc1.bias" {init = "zeros"} : tensor<8xf32>
  %v2 = cnn.param "se2.fc2.weight" {init = "kaiming_uniform"} : tensor<16x8x1x1xf32>
  %c2 = cnn.param "se2.fc2.bias" {init = "zeros"} : tensor<16xf32>
  %sixth = cnn.constant {value = dense<0.166666672> : tensor<1x1x1x1xf32>} : tensor<1x1x1x1xf32>
  %half = cnn.constant {value = dense<5.000000e-01> : tensor<1x1x1x1xf32>} : tensor<1x1x1x1xf32>
  %q = cnn.global_avg_pool %s : (tensor<?x16x7x7xf32>) -> tensor<?x16x1x1xf32>
  %t = cnn.fused_conv2d %q, %v1 bias %c1 {activation = #cnn.activation<relu>} : (tensor<?x16x1x1xf32>, tensor<8x16x1x1xf32>, tensor<8xf32>) -> tensor<?x8x1x1xf32>
  %u = cnn.fused_conv2d %t, %v2 bias %c2 : (tensor<?x8x1x1xf32>, tensor<16x8x1x1xf32>, tensor<16xf32>) -> tensor<?x16x1x1xf32>
  %a = cnn.mul %u, %sixth : (tensor<?x16x1x1xf32>, tensor<1x1x1x1xf32>) -> tensor<?x16x1x1xf32>
  %b = cnn.add %half, %a : (tensor<1x1x1x1xf32>, tensor<?x16x1x1xf32>) -> tensor<?x16x1x1xf32>
  %h = cnn.clip %b {min = 0.0 : f32, max = 1.0 : f32} : tensor<?x16x1x1xf32>
  %y = cnn.mul %s, %h : (tensor<?x16x7x7xf32>, tensor<?x16x1x1xf32>) -> tensor<?x16x7x7xf32>
  return %y : tensor<?x16x7x7xf32>
}

// -----

// Not fused: a gate without a sigmoid (it scales by the convolution
// itself), and a block whose pooled value is also returned (a remark).
// CHECK-LABEL: func @se_not_fused
// CHECK-NOT: cnn.squeeze_excite
// CHECK: return
func @se_not_fused(%x: tensor<?x16x7x7xf32>) -> (tensor<?x16x7x7xf32>, tensor<?x16x7x7xf32>, tensor<?x16x1x1xf32>) {
  %w1 = cnn.param "fc1.weight" {init = "kaiming_uniform"} : tensor<4x16x1x1xf32>
  %b1 = cnn.param "fc1.bias" {init = "zeros"} : tensor<4xf32>
  %w2 = cnn.param "fc2.weight" {init = "kaiming_uniform"} : tensor<16x4x1x1xf32>
  %b2 = cnn.param "fc2.bias" {init = "zeros"} : tensor<16xf32>
  %p = cnn.global_avg_pool %x : (tensor<?x16x7x7xf32>) -> tensor<?x16x1x1xf32>
  %r = cnn.fused_conv2d %p, %w1 bias %b1 {activation = #cnn.activation<relu>} : (tensor<?x16x1x1xf32>, tensor<4x16x1x1xf32>, tensor<4xf32>) -> tensor<?x4x1x1xf32>
  %g = cnn.fused_conv2d %r, %w2 bias %b2 : (tensor<?x4x1x1xf32>, tensor<16x4x1x1xf32>, tensor<16xf32>) -> tensor<?x16x1x1xf32>
  %s = cnn.mul %g, %x : (tensor<?x16x1x1xf32>, tensor<?x16x7x7xf32>) -> tensor<?x16x7x7xf32>
  %q = cnn.global_avg_pool %x : (tensor<?x16x7x7xf32>) -> tensor<?x16x1x1xf32>
  %t = cnn.fused_conv2d %q, %w1 bias %b1 {activation = #cnn.activation<relu>} : (tensor<?x16x1x1xf32>, tensor<4x16x1x1xf32>, tensor<4xf32>) -> tensor<?x4x1x1xf32>
  %u = cnn.fused_conv2d %t, %w2 bias %b2 {activation = #cnn.activation<sigmoid>} : (tensor<?x4x1x1xf32>, tensor<16x4x1x1xf32>, tensor<16xf32>) -> tensor<?x16x1x1xf32>
  // expected-remark @+1 {{squeeze-and-excitation not fused: its cnn.global_avg_pool is also used elsewhere (a derivative keeps it)}}
  %y = cnn.mul %x, %u : (tensor<?x16x7x7xf32>, tensor<?x16x1x1xf32>) -> tensor<?x16x7x7xf32>
  return %s, %y, %q : tensor<?x16x7x7xf32>, tensor<?x16x7x7xf32>, tensor<?x16x1x1xf32>
}
