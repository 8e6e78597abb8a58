//===- CNNBase.td - cnn dialect definition -----------------*- tablegen -*-===//
//
// The `cnn` dialect: a convolutional network as a graph of tensor ops, in
// NCHW layout, with a possibly dynamic batch dimension.
//
//===----------------------------------------------------------------------===//

#ifndef CNNC_DIALECT_CNN_CNNBASE_TD
#define CNNC_DIALECT_CNN_CNNBASE_TD

include "mlir/IR/OpBase.td"

def CNN_Dialect : Dialect {
  let name = "cnn";
  let cppNamespace = "::cnnc::cnn";
  let summary = "Convolutional networks for inference and training";
  let description = [{
    The `cnn` dialect describes a convolutional network as a function from
    input tensors to output tensors. Activations are `f32` tensors in NCHW
    layout whose batch dimension may be dynamic (`?`). Learnable weights and
    running statistics are `cnn.param` ops that carry their name (the ONNX
    initializer's or the DSL's), their parameter group and whether they are
    frozen. Module-level `cnn.group` and `cnn.train_plan` ops hold the
    fine-tuning plan.
  }];
  let emitAccessorPrefix = kEmitAccessorPrefix_Prefixed;
  let hasConstantMaterializer = 1;
  let useDefaultAttributePrinterParser = 1;
  // The discardable attributes of CNNDiscardableAttrs.h are checked here.
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
}

class CNN_Op<string mnemonic, list<Trait> traits = []>
    : Op<CNN_Dialect, mnemonic, traits>;

def CNN_F32Tensor : RankedTensorOf<[F32]>;
def CNN_F32Tensor4D : 4DTensorOf<[F32]>;
// A convolution's weight: MxCxKHxKW, or in a layout of cnn.pack_weights
// (packed vectors, rank 5; Winograd-transformed, rank 3: (T+2)^2 x M/L x
// C*L).
def CNN_F32ConvWeight : TensorRankOf<[F32], [3, 4, 5]>;
def CNN_AnyTensor : RankedTensorOf<[F32, I64, I32]>;

#endif // CNNC_DIALECT_CNN_CNNBASE_TD
