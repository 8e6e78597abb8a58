//===- Conv.cpp - convolution -> Halide -----------------------------------===//
#include "KernelBuilder.h"

#include "cnnc/Dialect/CNN/CNNOps.h"

using namespace Halide;
using namespace cnnc;
using namespace cnnc::codegen;

static std::vector<int64_t> ints(mlir::ArrayAttr attr) {
  std::vector<int64_t> v;
  for (mlir::Attribute a : attr)
    v.push_back(a.cast<mlir::IntegerAttr>().getInt());
  return v;
}

mlir::FailureOr<KernelParts>
cnnc::codegen::lowerConv(mlir::Operation *operation,
                         llvm::ArrayRef<TensorFunc> operands) {
  auto op = llvm::cast<cnn::Conv2dOp>(operation);
  const TensorFunc &in = operands[0], &w = operands[1];
  std::vector<int64_t> strides = ints(op.getStrides());
  std::vector<int64_t> pads = ints(op.getPads()); // top, left, bottom, right
  std::vector<int64_t> dil = ints(op.getDilations());
  int64_t group = op.getGroup();
  int64_t cout = w.shape[0], cinPerGroup = w.shape[1];
  int64_t coutPerGroup = cout / group;
  int64_t inH = in.shape[2], inW = in.shape[3];

  std::vector<Var> v = makeVars(4);
  Var x = v[0], y = v[1], c = v[2], n = v[3];

  KernelParts parts;
  parts.family = KernelParts::Family::Conv;
  parts.shape = resultShape(operation);
  parts.channels = cout;

  Func input = in.func;
  bool padded = pads[0] || pads[1] || pads[2] || pads[3];
  if (padded) {
    // Zero padding as a separate stage: a select in the inner loop of the
    // reduction would cost more than one extra pass over the input.
    Region bounds = {Range(0, (int)inW), Range(0, (int)inH), Range(), Range()};
    Func clamped = BoundaryConditions::constant_exterior(in.func, 0.0f, bounds);
    Func pad("conv_padded");
    pad(x, y, c, n) = clamped(x, y, c, n);
    input = pad;
    parts.padded = pad;
    parts.hasPadded = true;
  }

  RDom r(0, (int)w.shape[3], 0, (int)w.shape[2], 0, (int)cinPerGroup,
         "conv_r");
  Expr ci = r.z;
  if (group > 1)
    ci = (c / (int)coutPerGroup) * (int)cinPerGroup + r.z;
  Func conv("conv");
  if (operands.size() > 2)
    conv(x, y, c, n) = operands[2].func(c);
  else
    conv(x, y, c, n) = 0.0f;
  conv(x, y, c, n) +=
      w.func(r.x, r.y, r.z, c) *
      input(x * (int)strides[1] - (int)pads[1] + r.x * (int)dil[1],
            y * (int)strides[0] - (int)pads[0] + r.y * (int)dil[0], ci, n);
  Func out("conv_out");
  out(x, y, c, n) = conv(x, y, c, n);
  parts.output = out;
  parts.reduction = conv;
  parts.hasReduction = true;
  parts.rdom = r;
  return parts;
}
