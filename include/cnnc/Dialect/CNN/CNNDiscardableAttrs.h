//===- CNNDiscardableAttrs.h - the cnn dialect's discardable attrs -*- C++
//-*-===//
//
// Every `cnn.*` attribute the compiler puts on ops it does not own (func,
// module) or on cnn ops outside their ODS arguments, declared once with its
// type. CNNDialect::verifyOperationAttribute and the region argument/result
// verifiers check each (type, and where it may appear); an unknown `cnn.*`
// attribute is an error, so a misspelt name cannot pass silently.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_DIALECT_CNN_CNNDISCARDABLEATTRS_H
#define CNNC_DIALECT_CNN_CNNDISCARDABLEATTRS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/StringRef.h"

namespace cnnc {
namespace cnn {

/// A discardable attribute of type AttrT named `name`.
template <typename AttrT> struct DiscardableAttr {
  llvm::StringLiteral name;

  AttrT get(mlir::Operation *op) const {
    return op->getAttrOfType<AttrT>(name);
  }
  bool isSetOn(mlir::Operation *op) const { return bool(get(op)); }
  void set(mlir::Operation *op, AttrT value) const { op->setAttr(name, value); }
  operator llvm::StringRef() const { return name; }
};

// On functions.
/// Marks a training step that cnn-derive-training made.
constexpr DiscardableAttr<mlir::UnitAttr> kTrainStepAttr{"cnn.train_step"};
/// The first epoch (1-based) of a phase's training step.
constexpr DiscardableAttr<mlir::IntegerAttr> kFirstEpochAttr{"cnn.first_epoch"};
/// A step's frozen prefix and the rest, for the feature cache.
constexpr DiscardableAttr<mlir::FlatSymbolRefAttr> kFeaturesAttr{
    "cnn.features"};
constexpr DiscardableAttr<mlir::FlatSymbolRefAttr> kHeadAttr{"cnn.head"};
/// Why a step's frozen prefix cannot be cached.
constexpr DiscardableAttr<mlir::StringAttr> kNoCacheAttr{"cnn.no_cache"};

// On the module.
/// The ONNX file the library embeds (trained weights are exported into it).
constexpr DiscardableAttr<mlir::StringAttr> kSourceOnnxAttr{"cnn.source_onnx"};

// On cnn.param.
/// The parameter's value was folded into another (BatchNorm into weights).
constexpr DiscardableAttr<mlir::UnitAttr> kFoldedAttr{"cnn.folded"};
/// The state of a training step's random generator (dropout).
constexpr DiscardableAttr<mlir::UnitAttr> kRngAttr{"cnn.rng"};

// On other ops.
/// An op of a training step whose inputs no trainable parameter reaches.
constexpr DiscardableAttr<mlir::UnitAttr> kFrozenBoundaryAttr{
    "cnn.frozen_boundary"};
/// The padding fusion cnn-pack-conv-weights chose: on a convolution with
/// packed weights (cnn.pack_weights), that it reads its input from a buffer
/// with its padding as a zero border; on the op that writes that input, the
/// border [top, left, bottom, right].
constexpr DiscardableAttr<mlir::UnitAttr> kPrepaddedAttr{"cnn.prepadded"};
constexpr DiscardableAttr<mlir::ArrayAttr> kZeroBorderAttr{"cnn.zero_border"};

// On function arguments and results (FuncOp::getArgAttrOfType, ...).
/// The name of an input or output in the library's ABI.
constexpr llvm::StringLiteral kNameAttr = "cnn.name";
/// A training step's result: the gradient of, or the new value of, the
/// parameter named.
constexpr llvm::StringLiteral kGradOfAttr = "cnn.grad_of";
constexpr llvm::StringLiteral kUpdateOfAttr = "cnn.update_of";

} // namespace cnn
} // namespace cnnc

#endif // CNNC_DIALECT_CNN_CNNDISCARDABLEATTRS_H
