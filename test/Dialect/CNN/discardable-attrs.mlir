// RUN: cnnc-opt %s -split-input-file -verify-diagnostics
// The dialect's discardable attributes (CNNDiscardableAttrs.h) are checked
// for their type and their place; an unknown cnn.* attribute is an error.

// A well-formed training step with its feature-cache functions.
func @step_features(%x: tensor<?x3xf32> {cnn.name = "x"}) -> (tensor<?x3xf32> {cnn.name = "features"}) {
  return %x : tensor<?x3xf32>
}
func @step_head(%f: tensor<?x3xf32> {cnn.name = "features"}) -> (tensor<f32> {cnn.name = "loss"}, tensor<3xf32> {cnn.grad_of = "w"}) {
  %c = cnn.constant {value = dense<0.0> : tensor<f32>} : tensor<f32>
  %g = cnn.constant {value = dense<0.0> : tensor<3xf32>} : tensor<3xf32>
  return %c, %g : tensor<f32>, tensor<3xf32>
}
func @step(%x: tensor<?x3xf32> {cnn.name = "x"}) -> (tensor<f32> {cnn.name = "loss"}, tensor<3xf32> {cnn.grad_of = "w"}) attributes {cnn.train_step, cnn.first_epoch = 2 : i64, cnn.features = @step_features, cnn.head = @step_head} {
  %a = cnn.param "w" {init = "zeros", cnn.folded} : tensor<3xf32>
  %c = cnn.constant {value = dense<0.0> : tensor<f32>} : tensor<f32>
  return %c, %a : tensor<f32>, tensor<3xf32>
}

// -----

// expected-error @+1 {{attribute 'cnn.features' must be the name of a function of the module, not nope}}
func @f() attributes {cnn.train_step, cnn.features = @nope} {
  return
}

// -----

// expected-error @+1 {{attribute 'cnn.first_epoch' must be an epoch >= 1 of a training step (cnn.train_step)}}
func @f() attributes {cnn.first_epoch = 2 : i64} {
  return
}

// -----

// expected-error @+1 {{attribute 'cnn.train_step' must be a unit attribute of a function}}
func @f() attributes {cnn.train_step = "yes"} {
  return
}

// -----

func @f(%x: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{attribute 'cnn.rng' must be a unit attribute of a cnn.param}}
  %0 = cnn.relu %x {cnn.rng} : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// expected-error @+1 {{argument 0: attribute 'cnn.name' must be a string}}
func @f(%x: tensor<3xf32> {cnn.name = 3 : i64}) -> tensor<3xf32> {
  return %x : tensor<3xf32>
}

// -----

// expected-error @+1 {{result 0: unknown cnn dialect result attribute 'cnn.nmae'}}
func @f(%x: tensor<3xf32>) -> (tensor<3xf32> {cnn.nmae = "y"}) {
  return %x : tensor<3xf32>
}

// -----

// expected-error @+1 {{unknown cnn dialect attribute 'cnn.fodled'}}
func @f() attributes {cnn.fodled} {
  return
}

// -----

// expected-error @+1 {{attribute 'cnn.source_onnx' must be a string (a path) of the module}}
module attributes {cnn.source_onnx = 1 : i64} {
}

// -----

// cnn.prepadded belongs on a convolution with padding.
func @f(%x: tensor<1x8x6x6xf32>, %w: tensor<8x8x1x1xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{attribute 'cnn.prepadded' must be a unit attribute of a convolution with padding}}
  %0 = cnn.conv2d %x, %w {cnn.prepadded} : (tensor<1x8x6x6xf32>, tensor<8x8x1x1xf32>) -> tensor<1x8x6x6xf32>
  return %0 : tensor<1x8x6x6xf32>
}

// -----

func @g(%x: tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{attribute 'cnn.prepadded' must be a unit attribute of a convolution with padding}}
  %0 = cnn.relu %x {cnn.prepadded} : tensor<1x8x6x6xf32>
  return %0 : tensor<1x8x6x6xf32>
}
