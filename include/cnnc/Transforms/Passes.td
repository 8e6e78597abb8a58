//===- Passes.td - cnn dialect passes ----------------------*- tablegen -*-===//
#ifndef CNNC_TRANSFORMS_PASSES_TD
#define CNNC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def FreezeParams : Pass<"cnn-freeze-params", "mlir::ModuleOp"> {
  let summary = "Freeze parameters, and plan their unfreezing, by name prefix";
  let description = [{
    Marks every `cnn.param` in group `P`, or whose name starts with `P`, for
    each of `prefixes` as `frozen`, together with the `cnn.group`s all of
    whose parameters are now frozen. `cnnc --freeze P` runs it.

    Each `unfreeze-at` entry `E:P` (`cnnc --unfreeze-at E:P`) writes the
    DSL's representation of gradual unfreezing, so there is one: the groups
    whose parameters `P` covers entirely become `frozen` with
    `unfreeze_epoch = E`; parameters `P` selects from a group only in part
    move to a new group named `P`, which takes their group's learning rate.
    Their own `frozen` mark goes (they train from epoch `E`): a parameter
    that both `prefixes` and `unfreeze-at` select is frozen until `E`.

    A prefix that matches no parameter is an error, so a typo does not
    silently train a layer meant to be frozen.
  }];
  let constructor = "cnnc::cnn::createFreezeParamsPass()";
  let options = [
    ListOption<"prefixes", "prefixes", "std::string",
               "Parameter-name prefixes or groups to freeze",
               "llvm::cl::ZeroOrMore, llvm::cl::MiscFlags::CommaSeparated">,
    ListOption<"unfreezeAt", "unfreeze-at", "std::string",
               "EPOCH:PREFIX entries: frozen until that epoch (1-based)",
               "llvm::cl::ZeroOrMore, llvm::cl::MiscFlags::CommaSeparated">
  ];
}

def FoldBatchNorm : Pass<"cnn-fold-batchnorm", "mlir::ModuleOp"> {
  let summary = "Fold BatchNorm into the preceding convolution or Gemm";
  let description = [{
    Rewrites `batch_norm(conv2d(x, W, b))` (and the same after `gemm`) into a
    convolution with `W' = W * s` and `b' = (b - mean) * s + beta`, where
    `s = gamma / sqrt(var + eps)`, when every parameter involved holds a
    value and none of them trains: always for inference, and only for
    frozen parameters with `training`. A BatchNorm that cannot fold (after a
    ReLU, on trainable weights, or with several users of the convolution)
    stays and is computed as a per-channel scale and shift: it never fails a
    compile.

    The same condition folds the `cnn.transpose` of a weight (ONNX MatMul
    weights, which PyTorch exports as a Transpose of the parameter) into a
    constant; a weight that trains keeps its transpose, through which its
    gradient flows.
  }];
  let constructor = "cnnc::cnn::createFoldBatchNormPass()";
  let options = [
    Option<"training", "training", "bool", /*default=*/"false",
           "Only fold parameters that are frozen (compiling for training)">
  ];
}

def FuseOps : Pass<"cnn-fuse-ops", "mlir::FuncOp"> {
  let summary = "Fuse conv/gemm with bias, residual add, activation, pooling";
  let description = [{
    Grows `cnn.fused_conv2d` from a `cnn.conv2d` through its single-use
    consumers, in this order: a residual `cnn.add`, an activation (relu,
    leaky_relu, clip, sigmoid, tanh), a BatchNorm with constant parameters
    after the activation (as a per-channel scale and shift), a max or
    average pooling (also with overlapping windows, as ResNet's 3x3/2 stem
    pool: the kernel keeps the convolution rows in a sliding window, so none
    is computed twice); and
    `cnn.fused_gemm` from a `cnn.gemm` and an activation. With
    `input-affine`, a 1x1 convolution (stride 1, no padding, one group)
    whose input is the ReLU of a BatchNorm with constant parameters, each
    used only there, also takes them in, as a per-input-channel scale and
    shift and `input_relu` (DenseNet's norm + relu before each 1x1
    convolution; the CPU schedule applies them as it packs the input, other
    schedules where they read it). Each fused op
    becomes one Halide kernel. With `-pass-remarks` (cnnc `--remarks`), every
    candidate that stops growing says why as a remark at its location.
  }];
  let constructor = "cnnc::cnn::createFuseOpsPass()";
  let options = [
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "Emit a remark for every fusion that did not happen">,
    Option<"training", "training", "bool", /*default=*/"false",
           "Parameters train: only frozen ones are constants">,
    Option<"inputAffine", "input-affine", "bool", /*default=*/"false",
           "Fuse a BatchNorm + ReLU into the 1x1 convolution that reads it">
  ];
}

def DeriveTraining : Pass<"cnn-derive-training", "mlir::ModuleOp"> {
  let summary = "Derive the training step (forward, loss, backward) of `main`";
  let description = [{
    Adds `func @train_step(inputs..., labels) -> (loss, gradients...)`: a
    copy of `main`'s forward computation, the loss on its (single) output,
    and reverse-mode gradients for the trainable parameters only (not for
    frozen parameters, running statistics or the inputs). Each gradient
    result carries `cnn.grad_of = "<parameter name>"`. Values that no
    gradient depends on are not kept for the backward pass, so a frozen
    prefix costs its forward pass only. An op on the gradient path without
    a derivative is an error at its location.
  }];
  let constructor = "cnnc::cnn::createDeriveTrainingPass()";
  let options = [
    Option<"loss", "loss", "std::string", /*default=*/"\"\"",
           "cross_entropy (int64 class labels) or mse (f32 targets); "
           "default: the module's cnn.train_plan's, else cross_entropy">
  ];
}

def SplitFrozenPrefix : Pass<"cnn-split-frozen-prefix", "mlir::ModuleOp"> {
  let summary = "Outline a training step's frozen prefix for the feature cache";
  let description = [{
    For every training step (`cnn.train_step`) whose trainable layers all
    read one tensor computed from the inputs by frozen layers only (no
    trainable parameter, no dropout), adds `@<step>_features(inputs) ->
    features` (the frozen prefix) and `@<step>_head(features, labels)` (the
    rest, with the step's results), and links them from the step with
    `cnn.features` and `cnn.head`. The runtime then computes the features
    once per sample and trains the head on them. When the prefix cannot be
    cached, the step gets `cnn.no_cache = "<why>"`.
  }];
  let constructor = "cnnc::cnn::createSplitFrozenPrefixPass()";
}

def PackConvWeights : Pass<"cnn-pack-conv-weights", "mlir::ModuleOp"> {
  let summary = "Choose the packed weight layout of the convolutions and "
                "the zero-bordered inputs of the inference ones";
  let description = [{
    Convolutions whose output channels fill whole vectors of `lanes`
    vectorize over them (not along the image rows, which wastes lanes on
    ResNet's 56-, 28-, 14- and 7-wide rows), reading their weights packed as
    [cout / lanes][cin][kh][kw][lanes]. In every function, every ungrouped
    `cnn.conv2d` or `cnn.fused_conv2d` whose weights are a `cnn.param` or
    `cnn.constant`, whose output channels divide by `lanes` and whose output
    rows are at least 2 wide reads them through one `cnn.pack_weights
    {lanes}` per weight. In `main` (inference) codegen stores the packed
    weight and rewrites it, with the op's Halide kernel, when the parameter
    changes; in a training step the weights change every step, and the
    step runs the pack kernel before its forward pass (its backward
    kernels read the plain weights). With `fuse-padding`, in `main`, an
    op whose result only kernels read, one of them such a convolution with
    zero padding, gets `cnn.zero_border = [top, left, bottom, right]`: it
    writes the interior of a buffer with that border, and each packed
    convolution reading it with those pads gets `cnn.prepadded` and skips
    its padding. With `winograd`, in `main`, an ungrouped 3x3 convolution
    with stride and dilation 1 whose channels fill vectors and whose image
    holds enough tiles (cnn::winogradConvTile) reads its weight through
    `cnn.pack_weights {lanes, winograd = T}` instead: the transformed
    filter of Winograd's F(TxT, 3x3), (T+2)^2 x M/L x C*L. A
    `cnn.fused_conv2d` with a pooling whose convolution alone qualifies is
    split into that convolution and a `cnn.max_pool2d` or `cnn.avg_pool2d`
    (the pooled schedule is direct). With `flatten-pointwise`, in `main`,
    an ungrouped 1x1 convolution without padding or pooling on a static
    image of more than one row keeps its plain weights and reads and writes
    its images flattened to one row, through `cnn.reshape` views
    ([N, C, 1, H * W]): codegen runs it as a matrix product per image along
    every pixel (a 7x7 image is 49 pixels, not 7 rows of 7); a strided one
    first subsamples its input with a 1x1 `cnn.max_pool2d`. Each run first
    undoes what an earlier one chose (not the flattening); `lanes = 0`
    chooses nothing.
    `cnn-graph-pipeline` runs it last, with the target's vector width
    (cnnc `--target`; `-O0` packs but does not fuse padding).
  }];
  let constructor = "cnnc::cnn::createPackConvWeightsPass()";
  let options = [
    Option<"lanes", "lanes", "int64_t", /*default=*/"0",
           "The target's f32 vector width (0: keep the plain layout)">,
    Option<"fusePadding", "fuse-padding", "bool", /*default=*/"true",
           "Let producers write zero-bordered buffers for the convolutions "
           "that read them">,
    Option<"winograd", "winograd", "bool", /*default=*/"false",
           "Let the inference graph's 3x3, stride-1 convolutions read "
           "Winograd-transformed weights where that pays "
           "(cnn::winogradConvTile)">,
    Option<"flattenPointwise", "flatten-pointwise", "bool",
           /*default=*/"false",
           "Run the inference graph's 1x1 convolutions on their images "
           "flattened to one row (matrix products per image)">
  ];
}

def InitParams : Pass<"cnn-init-params", "mlir::ModuleOp"> {
  let summary = "Materialize the initial values of parameters described by `init`";
  let description = [{
    Replaces the `init` of every `cnn.param` (a DSL parameter: PyTorch's
    default initializers, `zeros`, `ones`) with its `value`, computed by
    `ParamOp::materializeInit` from `seed` and the parameter's name, so the
    weights codegen stores are in the IR. Codegen runs it first (cnnc
    `--seed`); `cnnc --emit=onnx` writes the same values.
  }];
  let constructor = "cnnc::cnn::createInitParamsPass()";
  let options = [
    Option<"seed", "seed", "uint64_t", /*default=*/"0",
           "Seed of the initial values (cnnc --seed)">
  ];
}

#endif // CNNC_TRANSFORMS_PASSES_TD
