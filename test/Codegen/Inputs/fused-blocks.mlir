// A squeeze-and-excitation block and a LayerNorm over channels-last
// values, as fused ops (cnn-fuse-ops forms them from the decomposed ones).
module @blocks {
  func @main(%x: tensor<?x16x7x7xf32>) -> tensor<?x7x7x16xf32> {
    %w1 = cnn.param "se.fc1.weight" {init = "kaiming_uniform"} : tensor<4x16x1x1xf32>
    %b1 = cnn.param "se.fc1.bias" {init = "zeros"} : tensor<4xf32>
    %w2 = cnn.param "se.fc2.weight" {init = "kaiming_uniform"} : tensor<16x4x1x1xf32>
    %b2 = cnn.param "se.fc2.bias" {init = "zeros"} : tensor<16xf32>
    %s = cnn.squeeze_excite %x, %w1, %b1, %w2, %b2 {activation = #cnn.activation<silu>, gate = #cnn.activation<sigmoid>} : (tensor<?x16x7x7xf32>, tensor<4x16x1x1xf32>, tensor<4xf32>, tensor<16x4x1x1xf32>, tensor<16xf32>) -> tensor<?x16x7x7xf32>
    %t = cnn.transpose %s {perm = [0, 2, 3, 1]} : (tensor<?x16x7x7xf32>) -> tensor<?x7x7x16xf32>
    %g = cnn.param "ln.weight" {init = "ones"} : tensor<16xf32>
    %b = cnn.param "ln.bias" {init = "zeros"} : tensor<16xf32>
    %y = cnn.normalize %t, %g, %b {axis = 3 : i64, epsilon = 1.0e-06 : f32} : (tensor<?x7x7x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x7x7x16xf32>
    return %y : tensor<?x7x7x16xf32>
  }
}
