cnn.group @features {lr = 1.0e-3 : f64}
func @main(%x: tensor<?x1x28x28xf32>) -> tensor<?x6x14x14xf32> {
  %w = cnn.param "c1.weight" {group = @features, init = "kaiming_uniform"} : tensor<6x1x5x5xf32>
  %b = cnn.param "c1.bias" frozen {group = @features, value = dense<0.0> : tensor<6xf32>} : tensor<6xf32>
  %y = cnn.conv2d %x, %w, %b {pads = [2, 2, 2, 2]} : (tensor<?x1x28x28xf32>, tensor<6x1x5x5xf32>, tensor<6xf32>) -> tensor<?x6x28x28xf32>
  %r = cnn.relu %y : tensor<?x6x28x28xf32>
  %p = cnn.max_pool2d %r {kernel_shape = [2, 2], strides = [2, 2]} : (tensor<?x6x28x28xf32>) -> tensor<?x6x14x14xf32>
  return %p : tensor<?x6x14x14xf32>
}
