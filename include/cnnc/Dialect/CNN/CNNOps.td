//===- CNNOps.td - cnn dialect operations ------------------*- tablegen -*-===//
//
// Shape rules live in C++ (CNNOps.cpp, `inferReturnTypes`), so the importers,
// the DSL and the verifier share one implementation: a result type that
// disagrees with the inferred one is reported at the op's location.
//
//===----------------------------------------------------------------------===//

#ifndef CNNC_DIALECT_CNN_CNNOPS_TD
#define CNNC_DIALECT_CNN_CNNOPS_TD

include "cnnc/Dialect/CNN/CNNAttrs.td"
include "cnnc/Dialect/CNN/CNNBase.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// Ops whose result type is computed from operands and attributes.
class CNN_ShapedOp<string mnemonic, list<Trait> traits = []>
    : CNN_Op<mnemonic, !listconcat(traits, [NoSideEffect,
        DeclareOpInterfaceMethods<InferTypeOpInterface>])>;

//===----------------------------------------------------------------------===//
// Weights, constants and the training plan
//===----------------------------------------------------------------------===//

def CNN_ParamOp : CNN_Op<"param", [NoSideEffect,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "a named weight tensor: learnable parameter or running statistic";
  let description = [{
    Holds one weight tensor of the model. `name` is the ONNX initializer's
    name or the DSL's `<layer>.<weight|bias|...>`. The data is either in
    `value` (imported models) or described by `init` (a PyTorch-style
    initializer for DSL models, materialized at compile time). `group` names
    the `cnn.group` the parameter belongs to; `frozen` marks it constant for
    training; `buffer` marks running statistics (BatchNorm mean and variance),
    which are not counted as parameters.

    ```mlir
    %w = cnn.param "conv1.weight" frozen {group = @conv1, value = dense<...> : tensor<64x3x7x7xf32>} : tensor<64x3x7x7xf32>
    %b = cnn.param "c1.bias" {group = @features, init = "uniform_fan_in"} : tensor<6xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, OptionalAttr<ElementsAttr>:$value,
                   OptionalAttr<StrAttr>:$init,
                   OptionalAttr<FlatSymbolRefAttr>:$group, UnitAttr:$frozen,
                   UnitAttr:$buffer);
  let results = (outs CNN_AnyTensor:$result);
  let assemblyFormat = "$name (`frozen` $frozen^)? attr-dict `:` type($result)";
  let verifier = [{ return ::verify(*this); }];
  let extraClassDeclaration = [{
    /// Number of scalar elements held by this parameter.
    int64_t getNumElements();
    /// Is this parameter in group `name`, or does its name start with
    /// `name`? (How --freeze, --unfreeze-at and the plan name parameters.)
    bool isInGroupOrPrefix(::llvm::StringRef name);
    /// Writes the getNumElements() initial values that `init` describes
    /// (PyTorch's defaults, seeded by `seed` and the parameter's name) to
    /// `out`. Codegen and the ONNX writer share it, so a DSL model exported
    /// before compilation starts from the weights its library starts from.
    void materializeInit(uint64_t seed, float *out);
  }];
}

def CNN_ConstantOp : CNN_Op<"constant", [ConstantLike, NoSideEffect]> {
  let summary = "a constant tensor that is not a parameter";
  let description = [{
    Holds a value that is part of the computation but not of the model's
    weights, such as a scalar operand of an elementwise op.

    ```mlir
    %c = cnn.constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs CNN_AnyTensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
  let verifier = [{ return ::verify(*this); }];
  let hasFolder = 1;
}

def CNN_GroupOp : CNN_Op<"group", [Symbol, HasParent<"::mlir::ModuleOp">]> {
  let summary = "a parameter group of the fine-tuning plan";
  let description = [{
    Declares a parameter group: the parameters whose `group` refers to it
    share a learning rate (`lr`), are frozen together (`frozen`), and can be
    unfrozen at an epoch of the plan (`unfreeze_epoch`, 1-based).

    ```mlir
    cnn.group @layer4 frozen {lr = 5.0e-04 : f64, unfreeze_epoch = 6 : i64}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, UnitAttr:$frozen,
                   OptionalAttr<F64Attr>:$lr,
                   OptionalAttr<I64Attr>:$unfreeze_epoch);
  let assemblyFormat = "$sym_name (`frozen` $frozen^)? attr-dict";
  let verifier = [{ return ::verify(*this); }];
}

def CNN_TrainPlanOp : CNN_Op<"train_plan", [HasParent<"::mlir::ModuleOp">]> {
  let summary = "how the model is trained: loss, optimizer and schedule";
  let description = [{
    The fine-tuning plan of a DSL model. Per-group settings live on the
    `cnn.group` ops.

    ```mlir
    cnn.train_plan {batch = 64 : i64, epochs = 3 : i64, loss = "cross_entropy",
                    lr = 1.0e-03 : f64, optimizer = "adam"}
    ```
  }];
  let arguments = (ins StrAttr:$loss, StrAttr:$optimizer, F64Attr:$lr,
                   OptionalAttr<F64Attr>:$momentum,
                   UnitAttr:$nesterov,
                   OptionalAttr<F64Attr>:$weight_decay,
                   OptionalAttr<F64Attr>:$beta1,
                   OptionalAttr<F64Attr>:$beta2,
                   OptionalAttr<F64Attr>:$eps,
                   OptionalAttr<I64Attr>:$epochs,
                   OptionalAttr<I64Attr>:$batch);
  let assemblyFormat = "attr-dict";
  let verifier = [{ return ::verify(*this); }];
}

//===----------------------------------------------------------------------===//
// Convolution, pooling, normalization
//===----------------------------------------------------------------------===//

def CNN_Conv2dOp : CNN_ShapedOp<"conv2d"> {
  let summary = "2-D convolution (ONNX Conv), grouped and dilated";
  let description = [{
    `input` is NxCxHxW, `weight` is Mx(C/group)xKHxKW, `bias` (optional) M.
    An ungrouped convolution may read its weight in a layout of
    `cnn.pack_weights`: (M/L)xCxKHxKWxL, or, for a 3x3 convolution with
    stride 1 and dilation 1, Winograd-transformed, (T+2)^2 x M/L x C*L
    (Winograd's minimal filtering F(TxT, 3x3)).
    `pads` is [top, left, bottom, right] (ONNX order). The output is
    Nx M x floor((H + top + bottom - dilation*(KH-1) - 1) / stride) + 1 x ...

    ```mlir
    %y = cnn.conv2d %x, %w, %b {pads = [2, 2, 2, 2]} : (tensor<?x1x28x28xf32>, tensor<6x1x5x5xf32>, tensor<6xf32>) -> tensor<?x6x28x28xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor4D:$input, CNN_F32ConvWeight:$weight,
                   Optional<CNN_F32Tensor>:$bias,
                   DefaultValuedAttr<I64ArrayAttr, "{1, 1}">:$strides,
                   DefaultValuedAttr<I64ArrayAttr, "{0, 0, 0, 0}">:$pads,
                   DefaultValuedAttr<I64ArrayAttr, "{1, 1}">:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$group);
  let results = (outs CNN_F32Tensor4D:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

class CNN_Pool2dOp<string mnemonic, string what> : CNN_ShapedOp<mnemonic> {
  let summary = what # " pooling over H and W";
  let arguments = (ins CNN_F32Tensor4D:$input, I64ArrayAttr:$kernel_shape,
                   DefaultValuedAttr<I64ArrayAttr, "{1, 1}">:$strides,
                   DefaultValuedAttr<I64ArrayAttr, "{0, 0, 0, 0}">:$pads,
                   DefaultValuedAttr<I64ArrayAttr, "{1, 1}">:$dilations,
                   DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                   DefaultValuedAttr<BoolAttr, "false">:$count_include_pad);
  let results = (outs CNN_F32Tensor4D:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def CNN_MaxPool2dOp : CNN_Pool2dOp<"max_pool2d", "max"> {
  let description = [{
    ONNX MaxPool on NCHW. `pads` is [top, left, bottom, right]; with
    `ceil_mode` the output size rounds up, but a window never starts in the
    bottom/right padding. `count_include_pad` is unused.

    ```mlir
    %y = cnn.max_pool2d %x {kernel_shape = [2, 2], strides = [2, 2]} : (tensor<?x6x28x28xf32>) -> tensor<?x6x14x14xf32>
    ```
  }];
}

def CNN_AvgPool2dOp : CNN_Pool2dOp<"avg_pool2d", "average"> {
  let description = [{
    ONNX AveragePool on NCHW; `count_include_pad` divides by the full window
    size, otherwise by the number of elements inside the unpadded input.

    ```mlir
    %y = cnn.avg_pool2d %x {kernel_shape = [3, 3], pads = [1, 1, 1, 1]} : (tensor<?x8x8x8xf32>) -> tensor<?x8x8x8xf32>
    ```
  }];
}

class CNN_GlobalPoolOp<string mnemonic, string what> : CNN_ShapedOp<mnemonic> {
  let summary = "global " # what # " pooling: NxCxHxW -> NxCx1x1";
  let description = [{
    ```mlir
    %y = cnn.}] # mnemonic # [{ %x : (tensor<?x512x7x7xf32>) -> tensor<?x512x1x1xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor4D:$input);
  let results = (outs CNN_F32Tensor4D:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def CNN_GlobalAvgPoolOp : CNN_GlobalPoolOp<"global_avg_pool", "average">;
def CNN_GlobalMaxPoolOp : CNN_GlobalPoolOp<"global_max_pool", "max">;

def CNN_SqueezeExciteOp : CNN_ShapedOp<"squeeze_excite"> {
  let summary = "a squeeze-and-excitation block in one kernel";
  let description = [{
    Per sample: the channels' means over H x W (squeeze), a 1x1 convolution
    to S channels with `reduce_bias` and the activation (`activation`,
    `leaky_alpha`, `min`, `max`, as on cnn.fused_conv2d), a 1x1 convolution
    back to C channels with `expand_bias`, then the gate:
    `g = gate(z * gate_scale + gate_shift)`, `gate` sigmoid or clip to
    [`gate_min`, `gate_max`] (a HardSigmoid: scale 1/6, shift 1/2, clip to
    [0, 1]); the result is `input * g` per channel. `cnn-fuse-ops` forms it
    from the global pool, the two convolutions, the gate and the product
    (EfficientNet's, MobileNet v3's and RegNet Y's blocks).

    ```mlir
    %y = cnn.squeeze_excite %x, %w1, %b1, %w2, %b2 {activation = #cnn.activation<silu>, gate = #cnn.activation<sigmoid>} : (tensor<?x96x56x56xf32>, tensor<4x96x1x1xf32>, tensor<4xf32>, tensor<96x4x1x1xf32>, tensor<96xf32>) -> tensor<?x96x56x56xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor4D:$input, CNN_F32Tensor4D:$reduce_weight,
                   CNN_F32Tensor:$reduce_bias,
                   CNN_F32Tensor4D:$expand_weight,
                   CNN_F32Tensor:$expand_bias,
                   DefaultValuedAttr<CNN_ActivationAttr,
                       "::cnnc::cnn::Activation::None">:$activation,
                   DefaultValuedAttr<F32Attr, "0.01f">:$leaky_alpha,
                   DefaultValuedAttr<F32Attr, "0.0f">:$min,
                   DefaultValuedAttr<F32Attr, "6.0f">:$max,
                   CNN_ActivationAttr:$gate,
                   DefaultValuedAttr<F32Attr, "1.0f">:$gate_scale,
                   DefaultValuedAttr<F32Attr, "0.0f">:$gate_shift,
                   DefaultValuedAttr<F32Attr, "0.0f">:$gate_min,
                   DefaultValuedAttr<F32Attr, "1.0f">:$gate_max);
  let results = (outs CNN_F32Tensor4D:$output);
  let assemblyFormat = "$input `,` $reduce_weight `,` $reduce_bias `,` $expand_weight `,` $expand_bias attr-dict `:` functional-type(operands, results)";
}

def CNN_BatchNormOp : CNN_ShapedOp<"batch_norm"> {
  let summary = "batch normalization over the channel axis (inference form)";
  let description = [{
    y = scale * (x - mean) / sqrt(var + epsilon) + bias, per channel (axis 1).
    `momentum` follows ONNX: running = running * momentum + batch * (1 - momentum).

    ```mlir
    %y = cnn.batch_norm %x, %scale, %bias, %mean, %var {epsilon = 1.0e-05 : f32} : (tensor<?x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<?x64x56x56xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$input, CNN_F32Tensor:$scale,
                   CNN_F32Tensor:$bias, CNN_F32Tensor:$mean,
                   CNN_F32Tensor:$variance,
                   DefaultValuedAttr<F32Attr, "1e-5f">:$epsilon,
                   DefaultValuedAttr<F32Attr, "0.9f">:$momentum);
  let results = (outs CNN_F32Tensor:$output);
  let assemblyFormat = [{
    $input `,` $scale `,` $bias `,` $mean `,` $variance attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Dense layers
//===----------------------------------------------------------------------===//

def CNN_GemmOp : CNN_ShapedOp<"gemm"> {
  let summary = "general matrix multiply: alpha * op(A) * op(B) + beta * C";
  let description = [{
    ONNX Gemm. A PyTorch `Linear(in, out)` is `cnn.gemm %x, %w, %b
    {transB = true}` with `%w` of shape out x in. `c` broadcasts to M x N.

    ```mlir
    %y = cnn.gemm %x, %w, %b {transB = true} : (tensor<?x400xf32>, tensor<120x400xf32>, tensor<120xf32>) -> tensor<?x120xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$a, CNN_F32Tensor:$b,
                   Optional<CNN_F32Tensor>:$c,
                   DefaultValuedAttr<F32Attr, "1.0f">:$alpha,
                   DefaultValuedAttr<F32Attr, "1.0f">:$beta,
                   DefaultValuedAttr<BoolAttr, "false">:$transA,
                   DefaultValuedAttr<BoolAttr, "false">:$transB);
  let results = (outs CNN_F32Tensor:$output);
  let assemblyFormat = [{
    $a `,` $b (`,` $c^)? attr-dict `:` functional-type(operands, results)
  }];
}

def CNN_MatMulOp : CNN_ShapedOp<"matmul"> {
  let summary = "NumPy matmul (ONNX MatMul), batched over leading dims";
  let description = [{
    ```mlir
    %y = cnn.matmul %x, %w : (tensor<?x512xf32>, tensor<512x10xf32>) -> tensor<?x10xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$a, CNN_F32Tensor:$b);
  let results = (outs CNN_F32Tensor:$output);
  let assemblyFormat = "$a `,` $b attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

class CNN_UnaryOp<string mnemonic, string what, list<Trait> traits = []>
    : CNN_ShapedOp<mnemonic, !listconcat(traits, [SameOperandsAndResultType])> {
  let summary = what;
  let description = [{
    ```mlir
    %y = cnn.}] # mnemonic # [{ %x : tensor<?x6x28x28xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$input);
  let results = (outs CNN_F32Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
}

def CNN_ReluOp : CNN_UnaryOp<"relu", "max(x, 0)"> { let hasFolder = 1; }
def CNN_SigmoidOp : CNN_UnaryOp<"sigmoid", "1 / (1 + exp(-x))"> {
  let hasFolder = 1;
}
def CNN_TanhOp : CNN_UnaryOp<"tanh", "hyperbolic tangent"> { let hasFolder = 1; }
def CNN_SqrtOp : CNN_UnaryOp<"sqrt", "square root">;
def CNN_ElementwiseUnaryOp : CNN_UnaryOp<"unary", "a pointwise function"> {
  let description = [{
    `fn` with its parameters, as ONNX defines them: `neg`, `abs`, `exp`,
    `log`, `reciprocal`, `softplus` (log(1 + exp(x))), `softsign`
    (x / (1 + |x|)), `elu` (`alpha`), `selu` (`alpha`, `beta` as ONNX's
    gamma), `celu` (`alpha`), `thresholded_relu` (x if x > `alpha`, else 0),
    `shrink` (`alpha` as ONNX's lambd, `beta` as its bias).

    ```mlir
    %y = cnn.unary %x {fn = #cnn.unary<elu>, alpha = 1.0 : f32} : tensor<?x6x28x28xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$input, CNN_UnaryFnAttr:$fn,
                   DefaultValuedAttr<F32Attr, "1.0f">:$alpha,
                   DefaultValuedAttr<F32Attr, "0.0f">:$beta);
}
def CNN_ErfOp : CNN_UnaryOp<"erf", "the error function (GELU's)">;
def CNN_LeakyReluOp : CNN_UnaryOp<"leaky_relu", "x if x >= 0 else alpha * x"> {
  let arguments = (ins CNN_F32Tensor:$input,
                   DefaultValuedAttr<F32Attr, "0.01f">:$alpha);
}
def CNN_ClipOp : CNN_UnaryOp<"clip", "min(max(x, min), max); ReLU6 is clip 0, 6"> {
  let arguments = (ins CNN_F32Tensor:$input, F32Attr:$min, F32Attr:$max);
  let verifier = [{ return ::verify(*this); }];
  let hasFolder = 1;
}
def CNN_DropoutOp : CNN_UnaryOp<"dropout",
    "zeroes elements with probability `ratio` in training; identity in inference"> {
  let arguments = (ins CNN_F32Tensor:$input,
                   DefaultValuedAttr<F32Attr, "0.5f">:$ratio);
  let verifier = [{ return ::verify(*this); }];
}

class CNN_BinaryOp<string mnemonic, string what> : CNN_ShapedOp<mnemonic> {
  let summary = what # " with NumPy broadcasting";
  let description = [{
    ```mlir
    %z = cnn.}] # mnemonic # [{ %x, %y : (tensor<?x64x56x56xf32>, tensor<?x64x56x56xf32>) -> tensor<?x64x56x56xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$lhs, CNN_F32Tensor:$rhs);
  let results = (outs CNN_F32Tensor:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def CNN_AddOp : CNN_BinaryOp<"add", "elementwise sum">;
def CNN_SubOp : CNN_BinaryOp<"sub", "elementwise difference">;
def CNN_MulOp : CNN_BinaryOp<"mul", "elementwise product">;
def CNN_DivOp : CNN_BinaryOp<"div", "elementwise quotient">;
def CNN_PowOp : CNN_BinaryOp<"pow", "elementwise power (C's powf)">;
def CNN_MaxOp : CNN_BinaryOp<"max", "elementwise maximum (ONNX Max)">;
def CNN_MinOp : CNN_BinaryOp<"min", "elementwise minimum (ONNX Min)">;
def CNN_EqualOp : CNN_BinaryOp<"equal",
    "1 where lhs == rhs, else 0 (the mask of a maximum's or minimum's "
    "derivative)">;
def CNN_PReluOp : CNN_BinaryOp<"prelu",
    "x where x >= 0, else slope * x (ONNX PRelu; the slope broadcasts)">;

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

def CNN_FlattenOp : CNN_ShapedOp<"flatten"> {
  let summary = "reshape to 2-D: dims before `axis` x dims from `axis`";
  let description = [{
    ```mlir
    %y = cnn.flatten %x {axis = 1 : i64} : (tensor<?x16x5x5xf32>) -> tensor<?x400xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$input, DefaultValuedAttr<I64Attr, "1">:$axis);
  let results = (outs CNN_F32Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def CNN_ReshapeOp : CNN_ShapedOp<"reshape"> {
  let summary = "reshape with ONNX's target-shape rules (0 copies, -1 infers)";
  let description = [{
    `shape` follows ONNX Reshape (allowzero = 0): an entry 0 copies the input's
    dimension at that index, one entry -1 is inferred from the element count.

    ```mlir
    %y = cnn.reshape %x {shape = [0, -1]} : (tensor<?x16x5x5xf32>) -> tensor<?x400xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$input, I64ArrayAttr:$shape);
  let results = (outs CNN_F32Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Weight layouts (made by -cnn-pack-conv-weights for the target)
//===----------------------------------------------------------------------===//

def CNN_PackWeightsOp : CNN_ShapedOp<"pack_weights"> {
  let summary = "convolution weights in whole vectors of output channels, "
                "or Winograd-transformed";
  let description = [{
    `output[co / lanes][ci][kh][kw][co % lanes] = input[co][ci][kh][kw]`:
    the layout in which a convolution computes `lanes` output channels with
    one vector instruction per step, loading one vector of weights. The
    output channels must fill whole vectors.

    With `winograd = T` (4: F(4x4, 3x3) is the one cnnc has) the input is a 3x3 weight and the output
    is `U[a * (T + 2) + b][co / lanes][ci * lanes + co % lanes] =
    (G g G^T)[a][b]`, g = input[co][ci], the transformed filter of
    Winograd's F(TxT, 3x3) (G is (T+2) x 3), in blocks of `lanes` output
    channels (a block's values for every input channel are contiguous): a
    3x3 convolution with stride and dilation 1 reading it computes each
    TxT output tile from a (T+2)x(T+2) input tile with (T+2)^2 products
    per input channel instead of 9 T^2 (F(4x4, 3x3): 4x fewer; its
    interpolation points are 0, 1, -1, 2 and -1/2).

    Codegen does not compute it per run when `input` is a weight (a
    parameter or constant): the library stores the packed weight, written
    when an instance is created and again after the plain values change
    (set_param, training, load_state), by this op's Halide kernel.

    ```mlir
    %p = cnn.pack_weights %w {lanes = 8 : i64} : (tensor<16x6x5x5xf32>) -> tensor<2x6x5x5x8xf32>
    %u = cnn.pack_weights %v {lanes = 8 : i64, winograd = 4 : i64} : (tensor<64x32x3x3xf32>) -> tensor<36x8x256xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor4D:$input,
                   Confined<I64Attr, [IntMinValue<1>]>:$lanes,
                   DefaultValuedAttr<I64Attr, "0">:$winograd);
  let results = (outs TensorRankOf<[F32], [3, 5]>:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
  let extraClassDeclaration = [{
    /// The Winograd output tile of a rank-3 layout ((T+2)^2 x M/L x C*L), or 0.
    static int64_t winogradTile(int64_t transformedTaps);
  }];
}

def CNN_UnpackWeightsOp : CNN_ShapedOp<"unpack_weights"> {
  let summary = "the inverse of cnn.pack_weights";
  let description = [{
    `output[co][ci][kh][kw] = input[co / L][ci][kh][kw][co % L]` with `L` the
    input's last dimension. Codegen compiles it for libraries that store a
    parameter only packed: `get_param` returns the plain values. (A
    Winograd filter is always stored next to its plain weight.)

    ```mlir
    %w = cnn.unpack_weights %p : (tensor<2x6x5x5x8xf32>) -> tensor<16x6x5x5xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[F32], [5]>:$input);
  let results = (outs CNN_F32Tensor4D:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def CNN_TransposeOp : CNN_ShapedOp<"transpose"> {
  let summary = "a permutation of the axes (ONNX Transpose)";
  let description = [{
    `output` dimension `i` is `input` dimension `perm[i]`: ShuffleNet's
    channel shuffle is a reshape, this, and a reshape back.

    ```mlir
    %y = cnn.transpose %x {perm = [0, 2, 1, 3, 4]} : (tensor<?x2x58x8x8xf32>) -> tensor<?x58x2x8x8xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$input, I64ArrayAttr:$perm);
  let results = (outs CNN_F32Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def CNN_SliceOp : CNN_ShapedOp<"slice"> {
  let summary = "a strided window of a tensor (ONNX Slice, resolved)";
  let description = [{
    Per axis `d`: `output[.., i, ..] = input[.., starts[d] + i * steps[d], ..]`
    for `i` in `[0, sizes[d])`; every index lies inside the input. ONNX's
    clamping and negative bounds are resolved by the importer. A dynamic
    axis (the batch) is taken whole: start 0, step 1, size -1.

    ```mlir
    %y = cnn.slice %x {starts = [0, 58, 0, 0], steps = [1, 1, 1, 1], sizes = [-1, 58, 8, 8]} : (tensor<?x116x8x8xf32>) -> tensor<?x58x8x8xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$input, I64ArrayAttr:$starts,
                   I64ArrayAttr:$steps, I64ArrayAttr:$sizes);
  let results = (outs CNN_F32Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def CNN_ConcatOp : CNN_ShapedOp<"concat"> {
  let summary = "concatenation along `axis`";
  let description = [{
    ```mlir
    %y = cnn.concat %a, %b {axis = 1 : i64} : (tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32>) -> tensor<?x16x4x4xf32>
    ```
  }];
  let arguments = (ins Variadic<CNN_F32Tensor>:$inputs, I64Attr:$axis);
  let results = (outs CNN_F32Tensor:$output);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
}

def CNN_PadOp : CNN_ShapedOp<"pad"> {
  let summary = "padding (ONNX Pad, modes constant, reflect and edge)";
  let description = [{
    `pads` holds the begin pads of every axis, then the end pads (ONNX order).
    Negative pads crop. The border holds `value` (mode constant), the input
    mirrored about its first and last elements (reflect: each pad less than
    the axis' extent) or the nearest edge element (edge). Reflect and edge
    pad only axes of static extent.

    ```mlir
    %y = cnn.pad %x {pads = [0, 0, 1, 1, 0, 0, 1, 1], value = 0.0 : f32} : (tensor<?x3x8x8xf32>) -> tensor<?x3x10x10xf32>
    %z = cnn.pad %x {pads = [0, 0, 2, 2, 0, 0, 2, 2], mode = #cnn.pad_mode<reflect>} : (tensor<?x3x8x8xf32>) -> tensor<?x3x12x12xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$input, I64ArrayAttr:$pads,
                   DefaultValuedAttr<F32Attr, "0.0f">:$value,
                   DefaultValuedAttr<CNN_PadModeAttr,
                       "::cnnc::cnn::PadMode::Constant">:$mode);
  let results = (outs CNN_F32Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

class CNN_SoftmaxLikeOp<string mnemonic, string what>
    : CNN_ShapedOp<mnemonic, [SameOperandsAndResultType]> {
  let summary = what # " along `axis`";
  let description = [{
    ```mlir
    %y = cnn.}] # mnemonic # [{ %x {axis = 1 : i64} : tensor<?x10xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$input, DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs CNN_F32Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
}

def CNN_SoftmaxOp : CNN_SoftmaxLikeOp<"softmax", "softmax">;
def CNN_LogSoftmaxOp : CNN_SoftmaxLikeOp<"log_softmax", "log of softmax">;

def CNN_NormalizeOp : CNN_ShapedOp<"normalize"> {
  let summary = "normalization over the trailing axes, then an affine map";
  let description = [{
    Per index of the axes before `axis` (a row): the row's mean and biased
    variance over the axes from `axis` on, then
    `(x - mean) / sqrt(variance + epsilon) * scale + bias`, `scale` and
    `bias` broadcasting to the input (NumPy rules). One kernel for what
    LayerNormalization (scale and bias over the normalized axes) and
    InstanceNormalization (per channel, over the spatial axes) import as,
    and for PyTorch's decomposed LayerNorm; `cnn-fuse-ops` forms it from
    the reductions and elementwise ops, which stay where training needs
    their values.

    ```mlir
    %y = cnn.normalize %x, %gamma, %beta {axis = 3 : i64, epsilon = 1.0e-06 : f32} : (tensor<?x56x56x96xf32>, tensor<96xf32>, tensor<96xf32>) -> tensor<?x56x56x96xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$input, CNN_F32Tensor:$scale,
                   CNN_F32Tensor:$bias, I64Attr:$axis, F32Attr:$epsilon);
  let results = (outs CNN_F32Tensor:$output);
  let assemblyFormat = "$input `,` $scale `,` $bias attr-dict `:` functional-type(operands, results)";
}

def CNN_ReduceOp : CNN_ShapedOp<"reduce"> {
  let summary = "a reduction over `axes` (ONNX ReduceSum, ReduceMean, ...)";
  let description = [{
    Combines the values along `axes` by `kind`: sum, mean, max, min, prod,
    l1 (sum of |x|), l2 (square root of the sum of squares), sum_square,
    log_sum (log of the sum) or log_sum_exp (computed as
    max + log(sum(exp(x - max)))). With `keepdims` the reduced axes stay,
    of extent 1.

    ```mlir
    %y = cnn.reduce %x {kind = #cnn.reduction<mean>, axes = [2, 3], keepdims = false} : (tensor<?x512x7x7xf32>) -> tensor<?x512xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$input, CNN_ReductionAttr:$kind,
                   I64ArrayAttr:$axes,
                   DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs CNN_F32Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Fused ops (made by -cnn-fuse-ops; each lowers to one Halide pipeline)
//===----------------------------------------------------------------------===//

def CNN_FusedConv2dOp : CNN_ShapedOp<"fused_conv2d", [AttrSizedOperandSegments]> {
  let summary = "conv2d + bias + channel affine + residual + activation + pooling";
  let description = [{
    One kernel computing, in this order:
    `conv = conv2d(input, weight) + bias` (`weight` plain or packed, as
    `cnn.conv2d` reads it),
    `t = conv * scale + shift` (per channel: a BatchNorm that could not be
    folded into the weights),
    `t = t + residual`,
    `t = activation(t)` (`none`, `relu`, `leaky_relu` with `leaky_alpha`, `clip`
    with `min`/`max`, `sigmoid`, `tanh`, `silu` (`t * sigmoid(t)`),
    `hard_swish` (`t * clip(t / 6 + 1/2, 0, 1)`)),
    then, when `pool` is `max` or `avg`, a 2-D pooling window over `t` with
    the `pool_*` attributes. Every part but the convolution is optional.
    With `affine_after_activation`, the channel affine comes after the
    activation instead (a BatchNorm after a ReLU, which cannot fold into
    the weights, fused into the convolution's kernel).
    With `input_scale` and `input_shift` (per input channel, both or
    neither, no padding), the convolution reads
    `input * input_scale + input_shift`, and with `input_relu` that value's
    ReLU: a BatchNorm + ReLU before the convolution (DenseNet's), applied
    as the kernel reads the input.

    ```mlir
    %y = cnn.fused_conv2d %x, %w bias %b {activation = #cnn.activation<relu>, pads = [2, 2, 2, 2], pool = #cnn.pool<max>, pool_kernel = [2, 2], pool_strides = [2, 2]} : (tensor<?x1x28x28xf32>, tensor<6x1x5x5xf32>, tensor<6xf32>) -> tensor<?x6x14x14xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor4D:$input, CNN_F32ConvWeight:$weight,
                   Optional<CNN_F32Tensor>:$bias,
                   Optional<CNN_F32Tensor>:$scale,
                   Optional<CNN_F32Tensor>:$shift,
                   Optional<CNN_F32Tensor4D>:$residual,
                   Optional<CNN_F32Tensor>:$input_scale,
                   Optional<CNN_F32Tensor>:$input_shift,
                   DefaultValuedAttr<I64ArrayAttr, "{1, 1}">:$strides,
                   DefaultValuedAttr<I64ArrayAttr, "{0, 0, 0, 0}">:$pads,
                   DefaultValuedAttr<I64ArrayAttr, "{1, 1}">:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$group,
                   DefaultValuedAttr<CNN_ActivationAttr,
                       "::cnnc::cnn::Activation::None">:$activation,
                   DefaultValuedAttr<F32Attr, "0.01f">:$leaky_alpha,
                   DefaultValuedAttr<F32Attr, "0.0f">:$min,
                   DefaultValuedAttr<F32Attr, "6.0f">:$max,
                   DefaultValuedAttr<CNN_PoolKindAttr,
                       "::cnnc::cnn::PoolKind::None">:$pool,
                   DefaultValuedAttr<I64ArrayAttr, "{1, 1}">:$pool_kernel,
                   DefaultValuedAttr<I64ArrayAttr, "{1, 1}">:$pool_strides,
                   DefaultValuedAttr<I64ArrayAttr, "{0, 0, 0, 0}">:$pool_pads,
                   DefaultValuedAttr<BoolAttr, "false">:$pool_ceil_mode,
                   DefaultValuedAttr<BoolAttr, "false">:$pool_count_include_pad,
                   UnitAttr:$affine_after_activation,
                   UnitAttr:$input_relu);
  let results = (outs CNN_F32Tensor4D:$output);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? (`scale` $scale^)?
    (`shift` $shift^)? (`residual` $residual^)?
    (`input_scale` $input_scale^)? (`input_shift` $input_shift^)? attr-dict
    `:` functional-type(operands, results)
  }];
}

def CNN_FusedGemmOp : CNN_ShapedOp<"fused_gemm"> {
  let summary = "gemm + bias + activation";
  let description = [{
    `activation(alpha * op(A) * op(B) + beta * C)` in one kernel; the
    activation attributes are those of `cnn.fused_conv2d`. Unlike ONNX Gemm,
    A may have leading dims, [..., M, K] (not transposed) with a 2-D B: each
    is a batch of rows, the result is [..., M, N] and C a vector of N (a
    Linear layer on the last axis, which `cnn-fuse-ops` makes of a MatMul).

    ```mlir
    %y = cnn.fused_gemm %x, %w, %b {activation = #cnn.activation<relu>, transB = true} : (tensor<?x400xf32>, tensor<120x400xf32>, tensor<120xf32>) -> tensor<?x120xf32>
    %z = cnn.fused_gemm %t, %w2, %b2 {activation = #cnn.activation<gelu>} : (tensor<?x7x7x96xf32>, tensor<96x384xf32>, tensor<384xf32>) -> tensor<?x7x7x384xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$a, CNN_F32Tensor:$b,
                   Optional<CNN_F32Tensor>:$c,
                   DefaultValuedAttr<F32Attr, "1.0f">:$alpha,
                   DefaultValuedAttr<F32Attr, "1.0f">:$beta,
                   DefaultValuedAttr<BoolAttr, "false">:$transA,
                   DefaultValuedAttr<BoolAttr, "false">:$transB,
                   DefaultValuedAttr<CNN_ActivationAttr,
                       "::cnnc::cnn::Activation::None">:$activation,
                   DefaultValuedAttr<F32Attr, "0.01f">:$leaky_alpha,
                   DefaultValuedAttr<F32Attr, "0.0f">:$min,
                   DefaultValuedAttr<F32Attr, "6.0f">:$max);
  let results = (outs CNN_F32Tensor:$output);
  let assemblyFormat = [{
    $a `,` $b (`,` $c^)? attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Training: losses and gradients (made by -cnn-derive-training)
//===----------------------------------------------------------------------===//

def CNN_SoftmaxCrossEntropyOp : CNN_Op<"softmax_cross_entropy", [NoSideEffect]> {
  let summary = "mean softmax cross-entropy of logits against class labels";
  let description = [{
    `mean_n(logsumexp(logits[n]) - logits[n][labels[n]])`, as PyTorch's
    `nn.CrossEntropyLoss()` with the default mean reduction.

    ```mlir
    %loss = cnn.softmax_cross_entropy %logits, %labels : (tensor<?x10xf32>, tensor<?xi64>) -> tensor<f32>
    ```
  }];
  let arguments = (ins 2DTensorOf<[F32]>:$logits, 1DTensorOf<[I64]>:$labels);
  let results = (outs 0DTensorOf<[F32]>:$loss);
  let assemblyFormat = "$logits `,` $labels attr-dict `:` functional-type(operands, results)";
}

def CNN_SoftmaxCrossEntropyGradOp : CNN_Op<"softmax_cross_entropy_grad",
    [NoSideEffect, AllTypesMatch<["logits", "grad"]>]> {
  let summary = "gradient of the mean softmax cross-entropy w.r.t. the logits";
  let description = [{
    `(softmax(logits) - onehot(labels)) / N`.

    ```mlir
    %d = cnn.softmax_cross_entropy_grad %logits, %labels : (tensor<?x10xf32>, tensor<?xi64>) -> tensor<?x10xf32>
    ```
  }];
  let arguments = (ins 2DTensorOf<[F32]>:$logits, 1DTensorOf<[I64]>:$labels);
  let results = (outs 2DTensorOf<[F32]>:$grad);
  let assemblyFormat = "$logits `,` $labels attr-dict `:` functional-type(operands, results)";
}

def CNN_MseLossOp : CNN_Op<"mse_loss", [NoSideEffect]> {
  let summary = "mean squared error (mean over every element)";
  let description = [{
    ```mlir
    %loss = cnn.mse_loss %pred, %target : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$prediction, CNN_F32Tensor:$target);
  let results = (outs 0DTensorOf<[F32]>:$loss);
  let assemblyFormat = "$prediction `,` $target attr-dict `:` functional-type(operands, results)";
}

def CNN_MseLossGradOp : CNN_Op<"mse_loss_grad",
    [NoSideEffect, AllTypesMatch<["prediction", "grad"]>]> {
  let summary = "gradient of the mean squared error: 2 (pred - target) / numel";
  let description = [{
    ```mlir
    %d = cnn.mse_loss_grad %pred, %target : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?x10xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$prediction, CNN_F32Tensor:$target);
  let results = (outs CNN_F32Tensor:$grad);
  let assemblyFormat = "$prediction `,` $target attr-dict `:` functional-type(operands, results)";
}

class CNN_ConvBackwardOp<string mnemonic, string what> : CNN_Op<mnemonic, [NoSideEffect]> {
  let summary = what # " of a 2-D convolution";
  let arguments = (ins CNN_F32Tensor4D:$grad_output, CNN_F32Tensor4D:$other,
                   DefaultValuedAttr<I64ArrayAttr, "{1, 1}">:$strides,
                   DefaultValuedAttr<I64ArrayAttr, "{0, 0, 0, 0}">:$pads,
                   DefaultValuedAttr<I64ArrayAttr, "{1, 1}">:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$group);
  let results = (outs CNN_F32Tensor4D:$grad);
  let assemblyFormat = [{
    $grad_output `,` $other attr-dict `:` functional-type(operands, results)
  }];
}

def CNN_Conv2dBackwardInputOp : CNN_ConvBackwardOp<"conv2d_backward_input",
    "gradient w.r.t. the input"> {
  let description = [{
    `other` is the weight; the result has the forward input's shape.

    ```mlir
    %dx = cnn.conv2d_backward_input %dy, %w : (tensor<?x16x10x10xf32>, tensor<16x6x5x5xf32>) -> tensor<?x6x14x14xf32>
    ```
  }];
}

def CNN_Conv2dBackwardWeightOp : CNN_ConvBackwardOp<"conv2d_backward_weight",
    "gradient w.r.t. the weight"> {
  let description = [{
    `other` is the forward input; the result has the weight's shape (the sum
    over the batch).

    ```mlir
    %dw = cnn.conv2d_backward_weight %dy, %x : (tensor<?x16x10x10xf32>, tensor<?x6x14x14xf32>) -> tensor<16x6x5x5xf32>
    ```
  }];
}

def CNN_ActivationGradOp : CNN_Op<"activation_grad",
    [NoSideEffect, AllTypesMatch<["grad_output", "output", "grad"]>]> {
  let summary = "gradient of an activation, from its output";
  let description = [{
    relu: `dy * (y > 0)`; leaky_relu: `y > 0 ? dy : leaky_alpha * dy`; clip:
    `min < y < max ? dy : 0`; sigmoid: `dy * y * (1 - y)`; tanh:
    `dy * (1 - y * y)`.

    ```mlir
    %dx = cnn.activation_grad %dy, %y {activation = #cnn.activation<relu>} : tensor<?x6x28x28xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$grad_output, CNN_F32Tensor:$output,
                   CNN_ActivationAttr:$activation,
                   DefaultValuedAttr<F32Attr, "0.01f">:$leaky_alpha,
                   DefaultValuedAttr<F32Attr, "0.0f">:$min,
                   DefaultValuedAttr<F32Attr, "6.0f">:$max);
  let results = (outs CNN_F32Tensor:$grad);
  let assemblyFormat = "$grad_output `,` $output attr-dict `:` type($grad)";
  let verifier = [{ return ::verify(*this); }];
}

def CNN_Pool2dBackwardOp : CNN_Op<"pool2d_backward", [NoSideEffect]> {
  let summary = "gradient of max or average pooling w.r.t. its input";
  let description = [{
    Max pooling routes each output gradient to the first maximum of its
    window (PyTorch's choice); average pooling spreads it over the window.
    `input` is the forward input. When that input is an activation's output
    (conv -> relu -> pool), `activation` folds the activation's gradient
    mask into the same kernel (`cnn-fuse-ops` with training): the result is
    `activation_grad(pool2d_backward(dy, y), y)`, as one pass.

    ```mlir
    %dx = cnn.pool2d_backward %dy, %x {kind = #cnn.pool<max>, kernel_shape = [2, 2], strides = [2, 2]} : (tensor<?x6x14x14xf32>, tensor<?x6x28x28xf32>) -> tensor<?x6x28x28xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor4D:$grad_output, CNN_F32Tensor4D:$input,
                   CNN_PoolKindAttr:$kind, I64ArrayAttr:$kernel_shape,
                   DefaultValuedAttr<I64ArrayAttr, "{1, 1}">:$strides,
                   DefaultValuedAttr<I64ArrayAttr, "{0, 0, 0, 0}">:$pads,
                   DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                   DefaultValuedAttr<BoolAttr, "false">:$count_include_pad,
                   DefaultValuedAttr<CNN_ActivationAttr,
                       "::cnnc::cnn::Activation::None">:$activation,
                   DefaultValuedAttr<F32Attr, "0.01f">:$leaky_alpha,
                   DefaultValuedAttr<F32Attr, "0.0f">:$min,
                   DefaultValuedAttr<F32Attr, "6.0f">:$max);
  let results = (outs CNN_F32Tensor4D:$grad);
  let assemblyFormat = [{
    $grad_output `,` $input attr-dict `:` functional-type(operands, results)
  }];
  let verifier = [{ return ::verify(*this); }];
}

class CNN_DropoutTrainBase<string mnemonic, string what>
    : CNN_Op<mnemonic, [NoSideEffect, AllTypesMatch<["input", "output"]>]> {
  let summary = what;
  let arguments = (ins CNN_F32Tensor:$input, 1DTensorOf<[I64]>:$rng,
                   F32Attr:$ratio, I64Attr:$salt);
  let results = (outs CNN_F32Tensor:$output);
  let assemblyFormat = [{
    $input `,` $rng attr-dict `:` functional-type(operands, results)
  }];
}

def CNN_DropoutTrainOp : CNN_DropoutTrainBase<"dropout_train",
    "training-mode dropout with a counter-based random mask"> {
  let description = [{
    Keeps an element with probability `1 - ratio` and scales it by
    `1 / (1 - ratio)` (PyTorch's inverted dropout). The mask is a hash of
    the element's row-major index, the layer's `salt`, and the `rng` state
    [seed, step] that the runtime advances every training step, so the
    backward op recomputes the same mask instead of storing it.

    ```mlir
    %y = cnn.dropout_train %x, %rng {ratio = 5.000000e-01 : f32, salt = 0 : i64} : (tensor<?x512xf32>, tensor<2xi64>) -> tensor<?x512xf32>
    ```
  }];
}

def CNN_DropoutTrainGradOp : CNN_DropoutTrainBase<"dropout_train_grad",
    "gradient of training-mode dropout (the same mask)"> {
  let description = [{
    ```mlir
    %dx = cnn.dropout_train_grad %dy, %rng {ratio = 5.000000e-01 : f32, salt = 0 : i64} : (tensor<?x512xf32>, tensor<2xi64>) -> tensor<?x512xf32>
    ```
  }];
}

//===----------------------------------------------------------------------===//
// Train-mode BatchNorm (made by -cnn-derive-training for a BatchNorm whose
// scale or bias trains). Every op is a single-result kernel; the channel is
// axis 1 of a rank >= 2 input, and the statistics are taken over all other
// axes (n = N * H * W elements per channel).
//===----------------------------------------------------------------------===//

def CNN_BatchNormStatsOp : CNN_ShapedOp<"batch_norm_stats"> {
  let summary = "per-channel batch mean and biased variance";
  let description = [{
    Row 0 of the result is the mean of each channel over the batch and the
    spatial axes, row 1 the biased variance `mean((x - mean)^2)` (what
    PyTorch's train-mode BatchNorm normalizes with).

    ```mlir
    %s = cnn.batch_norm_stats %x : (tensor<?x16x8x8xf32>) -> tensor<2x16xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$input);
  let results = (outs CNN_F32Tensor:$stats);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def CNN_BatchNormTrainOp : CNN_ShapedOp<"batch_norm_train"> {
  let summary = "BatchNorm with batch statistics (PyTorch's train mode)";
  let description = [{
    `y = scale * (x - mean) / sqrt(var + epsilon) + bias` per channel, with
    `mean` and `var` the rows of `stats` (from `cnn.batch_norm_stats` of the
    same input).

    ```mlir
    %y = cnn.batch_norm_train %x, %s, %gamma, %beta {epsilon = 1.0e-05 : f32} : (tensor<?x16x8x8xf32>, tensor<2x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x16x8x8xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$input, CNN_F32Tensor:$stats,
                   CNN_F32Tensor:$scale, CNN_F32Tensor:$bias,
                   DefaultValuedAttr<F32Attr, "1e-5f">:$epsilon);
  let results = (outs CNN_F32Tensor:$output);
  let assemblyFormat = [{
    $input `,` $stats `,` $scale `,` $bias attr-dict `:` functional-type(operands, results)
  }];
}

def CNN_BatchNormRunningUpdateOp : CNN_ShapedOp<"batch_norm_running_update"> {
  let summary = "the new value of a running statistic after a training step";
  let description = [{
    `running * momentum + batch * (1 - momentum)`, with `momentum` in ONNX's
    convention (that of `cnn.batch_norm`; PyTorch's momentum is
    `1 - momentum`). For `statistic = #cnn.statistic<mean>`, `batch` is row 0 of `stats`;
    for `variance`, the unbiased variance `n / (n - 1) * stats[1]`, as
    PyTorch updates its running variance. `input` is the normalized tensor:
    only its shape is read, for `n` (which changes with the batch). With
    `n = 1` the variance is left biased (PyTorch refuses such a batch).

    ```mlir
    %v = cnn.batch_norm_running_update %running_var, %s, %x {momentum = 0.9 : f32, statistic = #cnn.statistic<variance>} : (tensor<16xf32>, tensor<2x16xf32>, tensor<?x16x8x8xf32>) -> tensor<16xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$running, CNN_F32Tensor:$stats,
                   CNN_F32Tensor:$input,
                   DefaultValuedAttr<F32Attr, "0.9f">:$momentum,
                   CNN_StatisticAttr:$statistic);
  let results = (outs CNN_F32Tensor:$output);
  let assemblyFormat = [{
    $running `,` $stats `,` $input attr-dict `:` functional-type(operands, results)
  }];
}

def CNN_BatchNormTrainGradScaleOp : CNN_ShapedOp<"batch_norm_train_grad_scale"> {
  let summary = "gradient of train-mode BatchNorm w.r.t. its scale";
  let description = [{
    `sum(dy * xhat)` per channel, `xhat = (x - mean) / sqrt(var + epsilon)`.
    (The gradient w.r.t. the bias is `cnn.reduce_sum` of `dy`.)

    ```mlir
    %dg = cnn.batch_norm_train_grad_scale %dy, %x, %s {epsilon = 1.0e-05 : f32} : (tensor<?x16x8x8xf32>, tensor<?x16x8x8xf32>, tensor<2x16xf32>) -> tensor<16xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$grad_output, CNN_F32Tensor:$input,
                   CNN_F32Tensor:$stats,
                   DefaultValuedAttr<F32Attr, "1e-5f">:$epsilon);
  let results = (outs CNN_F32Tensor:$grad);
  let assemblyFormat = [{
    $grad_output `,` $input `,` $stats attr-dict `:` functional-type(operands, results)
  }];
}

def CNN_BatchNormTrainGradInputOp : CNN_ShapedOp<"batch_norm_train_grad_input"> {
  let summary = "gradient of train-mode BatchNorm w.r.t. its input";
  let description = [{
    Through the batch statistics as well:
    `dx = scale * invstd / n * (n * dy - grad_bias - xhat * grad_scale)`
    per channel, with `grad_scale = sum(dy * xhat)` and `grad_bias = sum(dy)`
    (the outputs of `cnn.batch_norm_train_grad_scale` and `cnn.reduce_sum`).

    ```mlir
    %dx = cnn.batch_norm_train_grad_input %dy, %x, %s, %gamma, %dg, %db {epsilon = 1.0e-05 : f32} : (tensor<?x16x8x8xf32>, tensor<?x16x8x8xf32>, tensor<2x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x16x8x8xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$grad_output, CNN_F32Tensor:$input,
                   CNN_F32Tensor:$stats, CNN_F32Tensor:$scale,
                   CNN_F32Tensor:$grad_scale, CNN_F32Tensor:$grad_bias,
                   DefaultValuedAttr<F32Attr, "1e-5f">:$epsilon);
  let results = (outs CNN_F32Tensor:$grad);
  let assemblyFormat = [{
    $grad_output `,` $input `,` $stats `,` $scale `,` $grad_scale `,` $grad_bias attr-dict `:` functional-type(operands, results)
  }];
}

def CNN_ReplicaReduceOp : CNN_ShapedOp<"replica_reduce"> {
  let summary = "BatchNorm statistics and sums over data-parallel replicas";
  let description = [{
    Combines a per-channel tensor of a BatchNorm that trains across the
    processes of data-parallel training (SyncBatchNorm), each weighted by
    its share of the global batch: `input` is the BatchNorm's input, of
    which only the shape is read (for the replica's element count n per
    channel).
    - `batch_stats`: `value` is `cnn.batch_norm_stats` of `input`; the
      result is the mean and biased variance of the global batch.
    - `running_stats`: the same, with row 1 scaled so that
      `cnn.batch_norm_running_update`'s `n / (n - 1)` gives the global
      batch's unbiased variance.
    - `sum`: a per-channel sum over the replica's elements (`sum(dy)`,
      `sum(dy * xhat)`) becomes the sum over the global batch, in the
      replica's gradient scale (that of a loss averaged over its shard).
    With one process (no reduction installed by the runtime) every kind is
    the identity. The runtime executes it on the host between kernels (it
    calls the application's all-reduce); no Halide kernel computes it.

    ```mlir
    %g = cnn.replica_reduce %s, %x {kind = #cnn.replica<batch_stats>} : (tensor<2x16xf32>, tensor<?x16x8x8xf32>) -> tensor<2x16xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$value, CNN_F32Tensor:$input,
                   CNN_ReplicaReductionAttr:$kind);
  let results = (outs CNN_F32Tensor:$output);
  let assemblyFormat = [{
    $value `,` $input attr-dict `:` functional-type(operands, results)
  }];
}

def CNN_ReduceSumOp : CNN_Op<"reduce_sum", [NoSideEffect]> {
  let summary = "sum over `axes` (bias gradients)";
  let description = [{
    ```mlir
    %db = cnn.reduce_sum %dy {axes = [0, 2, 3]} : (tensor<?x6x28x28xf32>) -> tensor<6xf32>
    ```
  }];
  let arguments = (ins CNN_F32Tensor:$input, I64ArrayAttr:$axes);
  let results = (outs CNN_F32Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

#endif // CNNC_DIALECT_CNN_CNNOPS_TD
