//===- CNNOps.h - cnn dialect operations ------------------------*- C++ -*-===//
#ifndef CNNC_DIALECT_CNN_CNNOPS_H
#define CNNC_DIALECT_CNN_CNNOPS_H

#include "cnnc/Dialect/CNN/CNNDialect.h"
#include "cnnc/Dialect/CNN/CNNDiscardableAttrs.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <array>

#define GET_OP_CLASSES
#include "cnnc/Dialect/CNN/CNNOps.h.inc"

namespace cnnc {
namespace cnn {

/// Output extent of one spatial axis of a convolution or pooling window, or
/// ShapedType::kDynamicSize when `in` is dynamic. Returns failure (with a
/// message in `error`) when the window does not fit.
mlir::FailureOr<int64_t> windowOutputSize(int64_t in, int64_t kernel,
                                          int64_t stride, int64_t padBegin,
                                          int64_t padEnd, int64_t dilation,
                                          bool ceilMode, std::string &error);

/// The integers of an I64ArrayAttr (strides, pads, axes, perm); empty for a
/// null attribute.
llvm::SmallVector<int64_t> toI64(mlir::ArrayAttr attr);

/// The [top, left, bottom, right] padding of a cnn.conv2d or
/// cnn.fused_conv2d (what its `pads` say, zeros where absent).
std::array<int64_t, 4> convPads(mlir::Operation *op);

/// Whether a cnn.conv2d or cnn.fused_conv2d pads its input (a pad not 0).
bool hasConvPadding(mlir::Operation *op);

/// Whether a group-1 convolution with `channels` output channels, output
/// rows `width` wide and `reduction` multiply-adds per output is worth
/// running with packed weights on vectors of `lanes` floats (the schedule
/// that vectorizes over channels): channels in whole vectors, rows at
/// least 2 wide, and not a short reduction over rows of whole vectors.
/// Packed, such a tile's output leaves as channel vectors stored lane by
/// lane, which costs more than a reduction of a few dozen steps
/// (EfficientNet's 16 -> 96 1x1 convolution at 112x112, MobileNet's first
/// layers); unpacked, the rows are stored as vectors. cnn-pack-conv-weights
/// and the input gradients' lowering share this rule.
bool packedConvPays(int64_t channels, int64_t width, int64_t reduction,
                    int64_t lanes);

/// Whether every entry of `strides` and `dilations` (absent: the defaults)
/// is 1: a convolution Winograd's minimal filtering applies to.
bool unitStridesAndDilations(mlir::ArrayAttr strides,
                             mlir::ArrayAttr dilations);

/// The output tile T of Winograd's F(TxT, 3x3) for a 3x3, stride-1
/// convolution from `cin` to `cout` channels with an `outH` x `outW` output,
/// or 0 where the direct convolution stays: the channels must fill whole
/// vectors of `lanes` (the transforms and products run on channel vectors)
/// and the image hold at least 4 x 4 tiles of 4x4 (13 x 13). Measured on
/// AMD EPYC Zen 3, AVX2, one thread: ResNet-18's 3x3 convolutions at 56x56
/// and 28x28 took 0.55-0.7x the direct convolution's time, 256 channels at
/// 14x14 0.55-0.6x; 512 channels at 7x7 (4 tiles an image: the products
/// read 4x the direct convolution's weights for 4 rows) 1.1x at batch 1,
/// 0.6x at batch 8.
int64_t winogradConvTile(int64_t cin, int64_t cout, int64_t outH, int64_t outW,
                         int64_t lanes);

/// An activation and its parameters, as the fused ops, activation_grad and
/// pool2d_backward carry them (attributes `activation`, `leaky_alpha`, `min`,
/// `max`): the one mapping from the activation ops, which fusion and
/// autodiff share.
struct ActivationSpec {
  Activation kind = Activation::None;
  float leakyAlpha = 0.01f, min = 0.0f, max = 6.0f;

  /// The activation `op` computes (cnn.relu, leaky_relu, clip, sigmoid,
  /// tanh); kind None for any other op.
  static ActivationSpec of(mlir::Operation *op);
  /// The activation an op with the four attributes applies.
  template <typename OpT> static ActivationSpec on(OpT op) {
    return {op.getActivation(), op.getLeakyAlpha().convertToFloat(),
            op.getMin().convertToFloat(), op.getMax().convertToFloat()};
  }
  /// Sets the attributes of such an op; the parameters only where the kind
  /// reads them (the others keep their defaults, and the IR stays short).
  template <typename OpT> void setOn(OpT op) const {
    mlir::Builder b(op.getContext());
    op.setActivationAttr(ActivationAttr::get(op.getContext(), kind));
    if (kind == Activation::LeakyRelu)
      op.setLeakyAlphaAttr(b.getF32FloatAttr(leakyAlpha));
    if (kind == Activation::Clip) {
      op.setMinAttr(b.getF32FloatAttr(min));
      op.setMaxAttr(b.getF32FloatAttr(max));
    }
  }
};

/// The gradual-unfreezing schedule of a module: (group, 1-based epoch) from
/// the `cnn.group` ops' `unfreeze_epoch`, which the DSL's plan and
/// `cnn-freeze-params{unfreeze-at=...}` (`cnnc --unfreeze-at`) both write.
std::vector<std::pair<std::string, int64_t>>
unfreezeSchedule(mlir::ModuleOp module);

} // namespace cnn
} // namespace cnnc

#endif // CNNC_DIALECT_CNN_CNNOPS_H
