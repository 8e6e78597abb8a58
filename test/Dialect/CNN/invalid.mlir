// RUN: cnnc-opt %s -split-input-file -verify-diagnostics

func @conv_channels(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x6x6xf32> {
  %w = cnn.param "w" {init = "kaiming_uniform"} : tensor<4x2x3x3xf32>
  // expected-error @+1 {{conv2d: input has 3 channels but the weight 4x2x3x3 with group 1 expects 2}}
  %y = cnn.conv2d %x, %w : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %y : tensor<1x4x6x6xf32>
}

// -----

func @conv_result_shape(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %w = cnn.param "w" {init = "kaiming_uniform"} : tensor<4x3x3x3xf32>
  // expected-error @+1 {{inferred type(s) 'tensor<1x4x6x6xf32>' are incompatible with return type(s) of operation 'tensor<1x4x8x8xf32>'}}
  %y = cnn.conv2d %x, %w : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  return %y : tensor<1x4x8x8xf32>
}

// -----

func @kernel_too_large(%x: tensor<1x3x2x2xf32>) -> tensor<1x4x1x1xf32> {
  %w = cnn.param "w" {init = "kaiming_uniform"} : tensor<4x3x5x5xf32>
  // expected-error @+1 {{conv2d on input 1x3x2x2, spatial axis 0: window of size 5 does not fit the padded input of size 2}}
  %y = cnn.conv2d %x, %w : (tensor<1x3x2x2xf32>, tensor<4x3x5x5xf32>) -> tensor<1x4x1x1xf32>
  return %y : tensor<1x4x1x1xf32>
}

// -----

func @conv_group(%x: tensor<1x4x8x8xf32>) -> tensor<1x6x6x6xf32> {
  %w = cnn.param "w" {init = "kaiming_uniform"} : tensor<6x1x3x3xf32>
  // expected-error @+1 {{conv2d: 6 output channels are not divisible by group 4}}
  %y = cnn.conv2d %x, %w {group = 4} : (tensor<1x4x8x8xf32>, tensor<6x1x3x3xf32>) -> tensor<1x6x6x6xf32>
  return %y : tensor<1x6x6x6xf32>
}

// -----

func @conv_bias(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x6x6xf32> {
  %w = cnn.param "w" {init = "kaiming_uniform"} : tensor<4x3x3x3xf32>
  %b = cnn.param "b" {init = "zeros"} : tensor<5xf32>
  // expected-error @+1 {{conv2d: bias of shape 5 does not match 4 output channels}}
  %y = cnn.conv2d %x, %w, %b : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<5xf32>) -> tensor<1x4x6x6xf32>
  return %y : tensor<1x4x6x6xf32>
}

// -----

func @conv_zero_stride(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x6x6xf32> {
  %w = cnn.param "w" {init = "kaiming_uniform"} : tensor<4x3x3x3xf32>
  // expected-error @+1 {{kernel, stride and dilation must be positive (kernel 3, stride 0, dilation 1)}}
  %y = cnn.conv2d %x, %w {strides = [0, 1]} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %y : tensor<1x4x6x6xf32>
}

// -----

func @conv_pads_count(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x6x6xf32> {
  %w = cnn.param "w" {init = "kaiming_uniform"} : tensor<4x3x3x3xf32>
  // expected-error @+1 {{'pads' must have 4 entries, got 2}}
  %y = cnn.conv2d %x, %w {pads = [1, 1]} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %y : tensor<1x4x6x6xf32>
}

// -----

func @pool_pad(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x5x5xf32> {
  // expected-error @+1 {{max_pool2d: pad 2 must be smaller than the kernel size 2}}
  %y = cnn.max_pool2d %x {kernel_shape = [2, 2], strides = [2, 2], pads = [2, 2, 2, 2]} : (tensor<1x3x8x8xf32>) -> tensor<1x3x5x5xf32>
  return %y : tensor<1x3x5x5xf32>
}

// -----

func @gemm_inner(%x: tensor<?x400xf32>) -> tensor<?x120xf32> {
  %w = cnn.param "w" {init = "kaiming_uniform"} : tensor<120x500xf32>
  // expected-error @+1 {{gemm inner dimensions differ: A ?x400 has 400, B 120x500 (transposed) has 500}}
  %y = cnn.gemm %x, %w {transB = true} : (tensor<?x400xf32>, tensor<120x500xf32>) -> tensor<?x120xf32>
  return %y : tensor<?x120xf32>
}

// -----

func @broadcast(%x: tensor<2x3xf32>, %y: tensor<4x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{add: shapes 2x3 and 4x3 do not broadcast}}
  %z = cnn.add %x, %y : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  return %z : tensor<2x3xf32>
}

// -----

func @batch_norm_channels(%x: tensor<1x3x4x4xf32>, %s: tensor<4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{batch_norm scale of shape 4 does not match 3 channels}}
  %y = cnn.batch_norm %x, %s, %s, %s, %s : (tensor<1x3x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x3x4x4xf32>
  return %y : tensor<1x3x4x4xf32>
}

// -----

func @reshape_count(%x: tensor<2x3x4xf32>) -> tensor<5x5xf32> {
  // expected-error @+1 {{reshape: 2x3x4 has 24 elements outside copied dims, target 5x5 has 25}}
  %y = cnn.reshape %x {shape = [5, 5]} : (tensor<2x3x4xf32>) -> tensor<5x5xf32>
  return %y : tensor<5x5xf32>
}

// -----

func @softmax_axis(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{softmax axis 2 is out of range for a rank-2 tensor}}
  %y = cnn.softmax %x {axis = 2} : tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

func @concat_mismatch(%x: tensor<1x2x4x4xf32>, %y: tensor<1x2x5x4xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{concat: dimension 2 differs (4 vs 5)}}
  %z = cnn.concat %x, %y {axis = 1} : (tensor<1x2x4x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x4x4x4xf32>
  return %z : tensor<1x4x4x4xf32>
}

// -----

func @clip_bounds(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'cnn.clip' op min 6.000000e+00 is greater than max 0.000000e+00}}
  %y = cnn.clip %x {min = 6.0 : f32, max = 0.0 : f32} : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

func @dropout_ratio(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'cnn.dropout' op ratio must be in [0, 1), got 1.5}}
  %y = cnn.dropout %x {ratio = 1.5 : f32} : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

func @param_value_type() -> tensor<4xf32> {
  // expected-error @+1 {{'cnn.param' op value of type 'tensor<3xf32>' does not match the result type 'tensor<4xf32>'}}
  %w = cnn.param "w" {value = dense<0.0> : tensor<3xf32>} : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

func @param_no_data() -> tensor<4xf32> {
  // expected-error @+1 {{'cnn.param' op parameter 'w' needs either a value or an init}}
  %w = cnn.param "w" : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

func @param_dynamic() -> tensor<?xf32> {
  // expected-error @+1 {{'cnn.param' op parameter 'w' must have a static shape, got 'tensor<?xf32>'}}
  %w = cnn.param "w" {init = "zeros"} : tensor<?xf32>
  return %w : tensor<?xf32>
}

// -----

func @param_group() -> tensor<4xf32> {
  // expected-error @+1 {{'cnn.param' op parameter 'w' refers to an undefined group @nowhere}}
  %w = cnn.param "w" {group = @nowhere, init = "zeros"} : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

// expected-error @+1 {{'cnn.group' op group 'head' has an unfreeze epoch but is not frozen}}
cnn.group @head {unfreeze_epoch = 3 : i64}

// -----

// expected-error @+1 {{'cnn.train_plan' op unknown optimizer 'rmsprop' (expected sgd, adam or adamw)}}
cnn.train_plan {loss = "cross_entropy", optimizer = "rmsprop", lr = 1.0e-3 : f64}

// -----

func @reshape_overflow(%x: tensor<2x3xf32>) -> tensor<?x?xf32> {
  // expected-error @+1 {{reshape: target shape 4611686018427387904x4 overflows}}
  %y = cnn.reshape %x {shape = [4611686018427387904, 4]} : (tensor<2x3xf32>) -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

// -----

func @pool_overflow(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x1x1xf32> {
  // expected-error @+1 {{window sizes overflow 64-bit integers}}
  %y = cnn.max_pool2d %x {kernel_shape = [3, 3], dilations = [4611686018427387904, 1]} : (tensor<1x3x8x8xf32>) -> tensor<1x3x1x1xf32>
  return %y : tensor<1x3x1x1xf32>
}

// -----

func @replica_reduce_sums(%d: tensor<2x8xf32>, %x: tensor<?x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{replica_reduce sums of shape 2x8 does not match 8}}
  %t = cnn.replica_reduce %d, %x {kind = #cnn.replica<sum>} : (tensor<2x8xf32>, tensor<?x8xf32>) -> tensor<2x8xf32>
  return %t : tensor<2x8xf32>
}

// -----

func @replica_reduce_stats(%s: tensor<2x4xf32>, %x: tensor<?x8xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{replica_reduce statistics of shape 2x4 does not match 2x8}}
  %g = cnn.replica_reduce %s, %x {kind = #cnn.replica<batch_stats>} : (tensor<2x4xf32>, tensor<?x8xf32>) -> tensor<2x4xf32>
  return %g : tensor<2x4xf32>
}

// -----

func @batch_norm_stats_rank(%x: tensor<8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{batch_norm_stats input must have rank >= 2, got 8}}
  %s = cnn.batch_norm_stats %x : (tensor<8xf32>) -> tensor<2x8xf32>
  return %s : tensor<2x8xf32>
}

// -----

func @batch_norm_train_stats(%x: tensor<?x8xf32>, %s: tensor<2x4xf32>, %g: tensor<8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{batch_norm_train stats of shape 2x4 does not match 2x8}}
  %y = cnn.batch_norm_train %x, %s, %g, %g : (tensor<?x8xf32>, tensor<2x4xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

func @batch_norm_running_statistic(%x: tensor<?x8xf32>, %s: tensor<2x8xf32>, %r: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+2 {{expected ::cnnc::cnn::Statistic to be one of: mean, variance}}
  // expected-error @+1 {{failed to parse CNN_StatisticAttr parameter 'value'}}
  %y = cnn.batch_norm_running_update %r, %s, %x {statistic = #cnn.statistic<median>} : (tensor<8xf32>, tensor<2x8xf32>, tensor<?x8xf32>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// Enumerations are typed attributes: a string is not one.
func @batch_norm_running_statistic_string(%x: tensor<?x8xf32>, %s: tensor<2x8xf32>, %r: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'cnn.batch_norm_running_update' op attribute 'statistic' failed to satisfy constraint: a BatchNorm running statistic}}
  %y = cnn.batch_norm_running_update %r, %s, %x {statistic = "mean"} : (tensor<8xf32>, tensor<2x8xf32>, tensor<?x8xf32>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

func @fused_conv_activation(%x: tensor<1x1x8x8xf32>, %w: tensor<2x1x3x3xf32>) -> tensor<1x2x6x6xf32> {
  // expected-error @+2 {{expected ::cnnc::cnn::Activation to be one of: none, relu, leaky_relu, clip, sigmoid, tanh, silu, hard_swish, gelu}}
  // expected-error @+1 {{failed to parse CNN_ActivationAttr parameter 'value'}}
  %y = cnn.fused_conv2d %x, %w {activation = #cnn.activation<mish>, operand_segment_sizes = dense<[1, 1, 0, 0, 0, 0]> : vector<6xi32>} : (tensor<1x1x8x8xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x6x6xf32>
  return %y : tensor<1x2x6x6xf32>
}

// -----

func @pool_backward_kind(%dy: tensor<?x2x4x4xf32>, %y: tensor<?x2x8x8xf32>) -> tensor<?x2x8x8xf32> {
  // expected-error @+1 {{'cnn.pool2d_backward' op kind must be max or avg}}
  %g = cnn.pool2d_backward %dy, %y {kind = #cnn.pool<none>, kernel_shape = [2, 2], strides = [2, 2]} : (tensor<?x2x4x4xf32>, tensor<?x2x8x8xf32>) -> tensor<?x2x8x8xf32>
  return %g : tensor<?x2x8x8xf32>
}

// -----

func @batch_norm_grad_shapes(%x: tensor<?x8xf32>, %dy: tensor<?x4xf32>, %s: tensor<2x8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{batch_norm_train_grad_scale output gradient of shape ?x4 does not match ?x8}}
  %g = cnn.batch_norm_train_grad_scale %dy, %x, %s : (tensor<?x4xf32>, tensor<?x8xf32>, tensor<2x8xf32>) -> tensor<8xf32>
  return %g : tensor<8xf32>
}

// -----

// Attributes of the wrong kind are errors before any shape rule reads them
// (inferReturnTypes used to cast them blindly: SIGSEGV).
func @conv_float_stride(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x6x6xf32> {
  %w = cnn.param "w" {init = "kaiming_uniform"} : tensor<4x3x3x3xf32>
  // expected-error @+1 {{attribute 'strides' failed to satisfy constraint: 64-bit integer array attribute}}
  %y = cnn.conv2d %x, %w {strides = [2.0, 2]} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %y : tensor<1x4x6x6xf32>
}

// -----

func @pool_float_kernel(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{attribute 'kernel_shape' failed to satisfy constraint: 64-bit integer array attribute}}
  %y = cnn.max_pool2d %x {kernel_shape = [2, 2.5], strides = [2, 2]} : (tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32>
  return %y : tensor<1x3x4x4xf32>
}

// -----

func @pool_string_pads(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{attribute 'pads' failed to satisfy constraint: 64-bit integer array attribute}}
  %y = cnn.max_pool2d %x {kernel_shape = [2, 2], strides = [2, 2], pads = "none"} : (tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32>
  return %y : tensor<1x3x4x4xf32>
}

// -----

func @conv_float_group(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x6x6xf32> {
  %w = cnn.param "w" {init = "kaiming_uniform"} : tensor<4x2x3x3xf32>
  // expected-error @+1 {{attribute 'group' failed to satisfy constraint: 64-bit signless integer attribute}}
  %y = cnn.conv2d %x, %w {group = 2.0 : f32} : (tensor<1x4x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %y : tensor<1x4x6x6xf32>
}

// -----

// A scalar operand of an op whose shape rule indexes NCHW dims.
func @pool_scalar(%x: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{max_pool2d: input must have rank 4, got }}
  %y = cnn.max_pool2d %x {kernel_shape = [2, 2]} : (tensor<f32>) -> tensor<f32>
  return %y : tensor<f32>
}

// -----

func @global_pool_rank2(%x: tensor<3x4xf32>) -> tensor<3x4x1x1xf32> {
  // expected-error @+1 {{global pooling: input must have rank 4, got 3x4}}
  %y = cnn.global_avg_pool %x : (tensor<3x4xf32>) -> tensor<3x4x1x1xf32>
  return %y : tensor<3x4x1x1xf32>
}

// -----

func @lanes_do_not_divide(%w: tensor<6x1x5x5xf32>) -> tensor<1x1x5x5x8xf32> {
  // expected-error @+1 {{pack_weights: the weight 6x1x5x5 has no whole vectors of 8 output channels}}
  %p = cnn.pack_weights %w {lanes = 8 : i64} : (tensor<6x1x5x5xf32>) -> tensor<1x1x5x5x8xf32>
  return %p : tensor<1x1x5x5x8xf32>
}

// -----

func @no_lanes(%w: tensor<8x1x5x5xf32>) -> tensor<8x1x5x5x1xf32> {
  // expected-error @+1 {{attribute 'lanes' failed to satisfy constraint: 64-bit signless integer attribute whose minimum value is 1}}
  %p = cnn.pack_weights %w {lanes = 0 : i64} : (tensor<8x1x5x5xf32>) -> tensor<8x1x5x5x1xf32>
  return %p : tensor<8x1x5x5x1xf32>
}

// -----

func @wrong_result(%w: tensor<16x1x5x5xf32>) -> tensor<4x1x5x5x4xf32> {
  // expected-error @+1 {{'cnn.pack_weights' op inferred type(s) 'tensor<2x1x5x5x8xf32>' are incompatible with return type(s) of operation 'tensor<4x1x5x5x4xf32>'}}
  %p = cnn.pack_weights %w {lanes = 8 : i64} : (tensor<16x1x5x5xf32>) -> tensor<4x1x5x5x4xf32>
  return %p : tensor<4x1x5x5x4xf32>
}

// -----

func @grouped_packed(%x: tensor<1x8x6x6xf32>, %p: tensor<1x4x3x3x8xf32>) -> tensor<1x8x4x4xf32> {
  // expected-error @+1 {{conv2d: a packed weight (1x4x3x3x8) needs group 1, got 2}}
  %y = cnn.conv2d %x, %p {group = 2 : i64} : (tensor<1x8x6x6xf32>, tensor<1x4x3x3x8xf32>) -> tensor<1x8x4x4xf32>
  return %y : tensor<1x8x4x4xf32>
}

// -----

func @packed_channels(%x: tensor<1x3x6x6xf32>, %p: tensor<2x4x3x3x8xf32>) -> tensor<1x16x4x4xf32> {
  // expected-error @+1 {{conv2d: input has 3 channels but the weight 16x4x3x3 with group 1 expects 4}}
  %y = cnn.conv2d %x, %p : (tensor<1x3x6x6xf32>, tensor<2x4x3x3x8xf32>) -> tensor<1x16x4x4xf32>
  return %y : tensor<1x16x4x4xf32>
}

// -----

func @not_a_permutation(%x: tensor<?x2x3xf32>) -> tensor<?x2x2xf32> {
  // expected-error @+1 {{transpose: perm is not a permutation of the input's axes}}
  %y = cnn.transpose %x {perm = [0, 1, 1]} : (tensor<?x2x3xf32>) -> tensor<?x2x2xf32>
  return %y : tensor<?x2x2xf32>
}

// -----

func @slice_outside(%x: tensor<?x6x4xf32>) -> tensor<?x3x4xf32> {
  // expected-error @+1 {{slice: axis 1 reads outside its 6 elements (start 4, step 1, size 3)}}
  %y = cnn.slice %x {starts = [0, 4, 0], steps = [1, 1, 1], sizes = [-1, 3, 4]} : (tensor<?x6x4xf32>) -> tensor<?x3x4xf32>
  return %y : tensor<?x3x4xf32>
}

// -----

func @slice_batch(%x: tensor<?x6xf32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{slice: axis 0 is dynamic (the batch): it can only be taken whole}}
  %y = cnn.slice %x {starts = [0, 0], steps = [1, 1], sizes = [2, 6]} : (tensor<?x6xf32>) -> tensor<2x6xf32>
  return %y : tensor<2x6xf32>
}

// -----

func @unknown_fn(%x: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+2 {{expected ::cnnc::cnn::UnaryFn to be one of: neg, abs, exp, log, reciprocal, softplus, softsign, elu, selu, celu, thresholded_relu, shrink}}
  // expected-error @+1 {{failed to parse CNN_UnaryFnAttr parameter 'value' which is to be a `::cnnc::cnn::UnaryFn`}}
  %y = cnn.unary %x {fn = #cnn.unary<cube>} : tensor<3xf32>
  return %y : tensor<3xf32>
}

// -----

func @reduce_axis_range(%x: tensor<?x3x4xf32>) -> tensor<?x3xf32> {
  // expected-error @+1 {{reduce axis 3 is out of range for a rank-3 tensor}}
  %y = cnn.reduce %x {kind = #cnn.reduction<sum>, axes = [3], keepdims = false} : (tensor<?x3x4xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

func @reduce_axis_repeated(%x: tensor<?x3x4xf32>) -> tensor<?x3xf32> {
  // expected-error @+1 {{reduce: axis -1 repeated}}
  %y = cnn.reduce %x {kind = #cnn.reduction<max>, axes = [2, -1], keepdims = false} : (tensor<?x3x4xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

func @reduce_kind(%x: tensor<?x3x4xf32>) -> tensor<?x3xf32> {
  // expected-error @+2 {{expected ::cnnc::cnn::Reduction to be one of: sum, mean, max, min, prod, l1, l2, sum_square, log_sum, log_sum_exp}}
  // expected-error @+1 {{failed to parse CNN_ReductionAttr parameter 'value'}}
  %y = cnn.reduce %x {kind = #cnn.reduction<median>, axes = [2], keepdims = false} : (tensor<?x3x4xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

func @pad_reflect_wide(%x: tensor<?x3x4xf32>) -> tensor<?x3x8xf32> {
  // expected-error @+1 {{pad: reflect padding of axis 2 by 4 needs more than 4 elements}}
  %y = cnn.pad %x {pads = [0, 0, 0, 0, 0, 4], mode = #cnn.pad_mode<reflect>} : (tensor<?x3x4xf32>) -> tensor<?x3x8xf32>
  return %y : tensor<?x3x8xf32>
}

// -----

func @pad_edge_batch(%x: tensor<?x3x4xf32>) -> tensor<?x3x4xf32> {
  // expected-error @+1 {{pad: edge padding of axis 0, whose extent is known only at run time}}
  %y = cnn.pad %x {pads = [1, 0, 0, 0, 0, 0], mode = #cnn.pad_mode<edge>} : (tensor<?x3x4xf32>) -> tensor<?x3x4xf32>
  return %y : tensor<?x3x4xf32>
}

// -----

func @activation_grad_silu(%dy: tensor<?x8xf32>, %y: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'cnn.activation_grad' op the derivative of silu is not a function of its output}}
  %dx = cnn.activation_grad %dy, %y {activation = #cnn.activation<silu>} : tensor<?x8xf32>
  return %dx : tensor<?x8xf32>
}

// -----

func @reduce_no_axes(%x: tensor<?x3x4xf32>) -> tensor<?x3x4xf32> {
  // expected-error @+1 {{reduce: 'axes' is empty (a reduction over no axis is its input)}}
  %y = cnn.reduce %x {kind = #cnn.reduction<max>, axes = [], keepdims = true} : (tensor<?x3x4xf32>) -> tensor<?x3x4xf32>
  return %y : tensor<?x3x4xf32>
}

// -----

func @normalize_batch_axis(%x: tensor<?x8xf32>, %s: tensor<8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{normalize: axis 0 must leave a row axis before it and an axis to normalize after it (rank 2)}}
  %y = cnn.normalize %x, %s, %s {axis = 0 : i64, epsilon = 1.0e-05 : f32} : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

func @normalize_dynamic(%x: tensor<4x?xf32>, %s: tensor<1xf32>) -> tensor<4x?xf32> {
  // expected-error @+1 {{normalize: axis 1 is normalized, but its extent is known only at run time}}
  %y = cnn.normalize %x, %s, %s {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<4x?xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x?xf32>
  return %y : tensor<4x?xf32>
}

// -----

func @normalize_scale(%x: tensor<?x3x8xf32>, %s: tensor<8xf32>, %b: tensor<3x1x8xf32>) -> tensor<?x3x8xf32> {
  // expected-error @+1 {{normalize: the scale and the bias must broadcast to the input's shape ?x3x8, got 3x1x8}}
  %y = cnn.normalize %x, %s, %b {axis = 2 : i64, epsilon = 1.0e-05 : f32} : (tensor<?x3x8xf32>, tensor<8xf32>, tensor<3x1x8xf32>) -> tensor<?x3x8xf32>
  return %y : tensor<?x3x8xf32>
}

// -----

func @se_weights(%x: tensor<?x16x7x7xf32>, %w1: tensor<4x16x1x1xf32>, %b1: tensor<4xf32>, %w2: tensor<16x8x1x1xf32>, %b2: tensor<16xf32>) -> tensor<?x16x7x7xf32> {
  // expected-error @+1 {{squeeze_excite: the weights must be [S, 16, 1, 1] and [16, S, 1, 1], got 4x16x1x1 and 16x8x1x1}}
  %y = cnn.squeeze_excite %x, %w1, %b1, %w2, %b2 {gate = #cnn.activation<sigmoid>} : (tensor<?x16x7x7xf32>, tensor<4x16x1x1xf32>, tensor<4xf32>, tensor<16x8x1x1xf32>, tensor<16xf32>) -> tensor<?x16x7x7xf32>
  return %y : tensor<?x16x7x7xf32>
}

// -----

func @se_gate(%x: tensor<?x16x7x7xf32>, %w1: tensor<4x16x1x1xf32>, %b1: tensor<4xf32>, %w2: tensor<16x4x1x1xf32>, %b2: tensor<16xf32>) -> tensor<?x16x7x7xf32> {
  // expected-error @+1 {{squeeze_excite: the gate must be sigmoid or clip, got relu}}
  %y = cnn.squeeze_excite %x, %w1, %b1, %w2, %b2 {gate = #cnn.activation<relu>} : (tensor<?x16x7x7xf32>, tensor<4x16x1x1xf32>, tensor<4xf32>, tensor<16x4x1x1xf32>, tensor<16xf32>) -> tensor<?x16x7x7xf32>
  return %y : tensor<?x16x7x7xf32>
}

// -----

func @fused_conv_input_scale_alone(%x: tensor<1x2x4x4xf32>, %w: tensor<3x2x1x1xf32>, %s: tensor<2xf32>) {
  // expected-error @+1 {{input_scale and input_shift go together}}
  %y = cnn.fused_conv2d %x, %w input_scale %s : (tensor<1x2x4x4xf32>, tensor<3x2x1x1xf32>, tensor<2xf32>) -> tensor<1x3x4x4xf32>
  return
}

// -----

func @fused_conv_input_scale_channels(%x: tensor<1x2x4x4xf32>, %w: tensor<3x2x1x1xf32>, %s: tensor<3xf32>) {
  // expected-error @+1 {{input scale/shift of shape 3 does not match 2 input channels}}
  %y = cnn.fused_conv2d %x, %w input_scale %s input_shift %s : (tensor<1x2x4x4xf32>, tensor<3x2x1x1xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x3x4x4xf32>
  return
}

// -----

func @fused_conv_input_scale_padded(%x: tensor<1x2x4x4xf32>, %w: tensor<3x2x3x3xf32>, %s: tensor<2xf32>) {
  // expected-error @+1 {{an input scale and shift need a convolution without padding}}
  %y = cnn.fused_conv2d %x, %w input_scale %s input_shift %s {pads = [1, 1, 1, 1]} : (tensor<1x2x4x4xf32>, tensor<3x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x3x4x4xf32>
  return
}

// -----

func @fused_conv_input_relu_alone(%x: tensor<1x2x4x4xf32>, %w: tensor<3x2x1x1xf32>) {
  // expected-error @+1 {{input_relu needs input_scale and input_shift}}
  %y = cnn.fused_conv2d %x, %w {input_relu} : (tensor<1x2x4x4xf32>, tensor<3x2x1x1xf32>) -> tensor<1x3x4x4xf32>
  return
}
