module @tiny {
  func @main(%x: tensor<?x4xf32> {cnn.name = "x"}) -> (tensor<?x4xf32> {cnn.name = "y"}) {
    %two = cnn.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
    %r = cnn.relu %x : tensor<?x4xf32>
    %y = cnn.mul %r, %two : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
    return %y : tensor<?x4xf32>
  }
}
