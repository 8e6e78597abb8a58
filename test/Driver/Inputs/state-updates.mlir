// A hand-written train_step whose result attributes the compiler's plan
// rejects: a state update of an unknown parameter (@unknown), and a
// gradient after a state update (@order).
module @NAME {
  func @main(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
    %w = cnn.param "w" {init = "ones"} : tensor<2xf32>
    %y = cnn.add %x, %w : (tensor<?x2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
    return %y : tensor<?x2xf32>
  }
  func @train_step(%x: tensor<?x2xf32>, %l: tensor<?xi64> {cnn.name = "labels"}) -> (tensor<f32> {cnn.name = "loss"}, tensor<2xf32> {cnn.update_of = "UPDATED"}, tensor<2xf32> {cnn.grad_of = "w"}) attributes {cnn.train_step} {
    %w = cnn.param "w" {init = "ones"} : tensor<2xf32>
    %y = cnn.add %x, %w : (tensor<?x2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
    %loss = cnn.softmax_cross_entropy %y, %l : (tensor<?x2xf32>, tensor<?xi64>) -> tensor<f32>
    %d = cnn.softmax_cross_entropy_grad %y, %l : (tensor<?x2xf32>, tensor<?xi64>) -> tensor<?x2xf32>
    %g = cnn.reduce_sum %d {axes = [0]} : (tensor<?x2xf32>) -> tensor<2xf32>
    return %loss, %g, %g : tensor<f32>, tensor<2xf32>, tensor<2xf32>
  }
}
