// A ResNet-like stem: 7x7/2 conv, ReLU, overlapping 3x3/2 max pooling.
module @stem {
  func @main(%x: tensor<?x3x32x32xf32>) -> tensor<?x16x8x8xf32> {
    %w = cnn.param "conv.weight" {init = "kaiming_uniform"} : tensor<16x3x7x7xf32>
    %b = cnn.param "conv.bias" {init = "uniform_fan_in"} : tensor<16xf32>
    %c = cnn.conv2d %x, %w, %b {pads = [3, 3, 3, 3], strides = [2, 2]} : (tensor<?x3x32x32xf32>, tensor<16x3x7x7xf32>, tensor<16xf32>) -> tensor<?x16x16x16xf32>
    %r = cnn.relu %c : tensor<?x16x16x16xf32>
    %p = cnn.max_pool2d %r {kernel_shape = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1]} : (tensor<?x16x16x16xf32>) -> tensor<?x16x8x8xf32>
    return %p : tensor<?x16x8x8xf32>
  }
}
