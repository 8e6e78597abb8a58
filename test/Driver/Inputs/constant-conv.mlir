// A convolution of constants feeding an add: cnnc evaluates it at compile time.
module @fc {
func @main(%x: tensor<?x1x2x2xf32>) -> tensor<?x1x2x2xf32> {
  %i = cnn.constant {value = dense<[[[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]]]]> : tensor<1x1x3x3xf32>} : tensor<1x1x3x3xf32>
  %w = cnn.constant {value = dense<1.0> : tensor<1x1x2x2xf32>} : tensor<1x1x2x2xf32>
  %c = cnn.conv2d %i, %w : (tensor<1x1x3x3xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  %y = cnn.add %x, %c : (tensor<?x1x2x2xf32>, tensor<1x1x2x2xf32>) -> tensor<?x1x2x2xf32>
  return %y : tensor<?x1x2x2xf32>
}
}
