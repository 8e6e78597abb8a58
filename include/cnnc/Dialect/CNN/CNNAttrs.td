//===- CNNAttrs.td - cnn dialect attributes ----------------*- tablegen -*-===//
//
// The enumerations ops are parameterized by, as dialect attributes: the IR
// spells them (`#cnn.activation<relu>`), the verifier accepts only their
// cases, and C++ reads them as enums.
//
//===----------------------------------------------------------------------===//

#ifndef CNNC_DIALECT_CNN_CNNATTRS_TD
#define CNNC_DIALECT_CNN_CNNATTRS_TD

include "cnnc/Dialect/CNN/CNNBase.td"
include "mlir/IR/EnumAttr.td"

def CNN_Activation : I32EnumAttr<"Activation",
    "the activation a fused op or a gradient applies", [
      I32EnumAttrCase<"None", 0, "none">,
      I32EnumAttrCase<"Relu", 1, "relu">,
      I32EnumAttrCase<"LeakyRelu", 2, "leaky_relu">,
      I32EnumAttrCase<"Clip", 3, "clip">,
      I32EnumAttrCase<"Sigmoid", 4, "sigmoid">,
      I32EnumAttrCase<"Tanh", 5, "tanh">,
      I32EnumAttrCase<"SiLU", 6, "silu">,
      I32EnumAttrCase<"HardSwish", 7, "hard_swish">,
      I32EnumAttrCase<"Gelu", 8, "gelu">]> {
  let cppNamespace = "::cnnc::cnn";
  let genSpecializedAttr = 0;
}
def CNN_ActivationAttr : EnumAttr<CNN_Dialect, CNN_Activation, "activation"> {
  let assemblyFormat = "`<` $value `>`";
}

def CNN_PoolKind : I32EnumAttr<"PoolKind", "a pooling's reduction", [
      I32EnumAttrCase<"None", 0, "none">,
      I32EnumAttrCase<"Max", 1, "max">,
      I32EnumAttrCase<"Avg", 2, "avg">]> {
  let cppNamespace = "::cnnc::cnn";
  let genSpecializedAttr = 0;
}
def CNN_PoolKindAttr : EnumAttr<CNN_Dialect, CNN_PoolKind, "pool"> {
  let assemblyFormat = "`<` $value `>`";
}

def CNN_Statistic : I32EnumAttr<"Statistic",
    "a BatchNorm running statistic", [
      I32EnumAttrCase<"Mean", 0, "mean">,
      I32EnumAttrCase<"Variance", 1, "variance">]> {
  let cppNamespace = "::cnnc::cnn";
  let genSpecializedAttr = 0;
}
def CNN_StatisticAttr : EnumAttr<CNN_Dialect, CNN_Statistic, "statistic"> {
  let assemblyFormat = "`<` $value `>`";
}

def CNN_ReplicaReduction : I32EnumAttr<"ReplicaReduction",
    "what cnn.replica_reduce combines across data-parallel replicas", [
      I32EnumAttrCase<"BatchStats", 0, "batch_stats">,
      I32EnumAttrCase<"RunningStats", 1, "running_stats">,
      I32EnumAttrCase<"Sum", 2, "sum">]> {
  let cppNamespace = "::cnnc::cnn";
  let genSpecializedAttr = 0;
}
def CNN_ReplicaReductionAttr : EnumAttr<CNN_Dialect, CNN_ReplicaReduction,
                                        "replica"> {
  let assemblyFormat = "`<` $value `>`";
}

def CNN_UnaryFn : I32EnumAttr<"UnaryFn",
    "a pointwise function of cnn.unary", [
      I32EnumAttrCase<"Neg", 0, "neg">,
      I32EnumAttrCase<"Abs", 1, "abs">,
      I32EnumAttrCase<"Exp", 2, "exp">,
      I32EnumAttrCase<"Log", 3, "log">,
      I32EnumAttrCase<"Reciprocal", 4, "reciprocal">,
      I32EnumAttrCase<"Softplus", 5, "softplus">,
      I32EnumAttrCase<"Softsign", 6, "softsign">,
      I32EnumAttrCase<"Elu", 7, "elu">,
      I32EnumAttrCase<"Selu", 8, "selu">,
      I32EnumAttrCase<"Celu", 9, "celu">,
      I32EnumAttrCase<"ThresholdedRelu", 10, "thresholded_relu">,
      I32EnumAttrCase<"Shrink", 11, "shrink">]> {
  let cppNamespace = "::cnnc::cnn";
  let genSpecializedAttr = 0;
}
def CNN_UnaryFnAttr : EnumAttr<CNN_Dialect, CNN_UnaryFn, "unary"> {
  let assemblyFormat = "`<` $value `>`";
}

def CNN_Reduction : I32EnumAttr<"Reduction",
    "how cnn.reduce combines the values along its axes", [
      I32EnumAttrCase<"Sum", 0, "sum">,
      I32EnumAttrCase<"Mean", 1, "mean">,
      I32EnumAttrCase<"Max", 2, "max">,
      I32EnumAttrCase<"Min", 3, "min">,
      I32EnumAttrCase<"Prod", 4, "prod">,
      I32EnumAttrCase<"L1", 5, "l1">,
      I32EnumAttrCase<"L2", 6, "l2">,
      I32EnumAttrCase<"SumSquare", 7, "sum_square">,
      I32EnumAttrCase<"LogSum", 8, "log_sum">,
      I32EnumAttrCase<"LogSumExp", 9, "log_sum_exp">]> {
  let cppNamespace = "::cnnc::cnn";
  let genSpecializedAttr = 0;
}
def CNN_ReductionAttr : EnumAttr<CNN_Dialect, CNN_Reduction, "reduction"> {
  let assemblyFormat = "`<` $value `>`";
}

def CNN_PadMode : I32EnumAttr<"PadMode", "what cnn.pad puts in the border", [
      I32EnumAttrCase<"Constant", 0, "constant">,
      I32EnumAttrCase<"Reflect", 1, "reflect">,
      I32EnumAttrCase<"Edge", 2, "edge">]> {
  let cppNamespace = "::cnnc::cnn";
  let genSpecializedAttr = 0;
}
def CNN_PadModeAttr : EnumAttr<CNN_Dialect, CNN_PadMode, "pad_mode"> {
  let assemblyFormat = "`<` $value `>`";
}

#endif // CNNC_DIALECT_CNN_CNNATTRS_TD
