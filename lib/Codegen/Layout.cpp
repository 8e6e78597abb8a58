//===- Layout.cpp - weight layouts -> Halide ------------------------------===//
//
// The one definition of the packed weight layout of cnn.pack_weights, and
// its inverse. Codegen runs them when a library's weights are written
// (instance creation, set_param, after training steps), cnn-fold-constants
// on constant weights, and get_param through the inverse; the convolutions
// read the layout (Conv.cpp).
//
//===----------------------------------------------------------------------===//
#include "KernelBuilder.h"

#include "cnnc/Dialect/CNN/CNNOps.h"

using namespace Halide;
using namespace cnnc;
using namespace cnnc::codegen;

/// Row-major extent `d` of `t` divided or multiplied by `lanes` (-1 stays:
/// the kernels take weights of any shape).
static int64_t scaled(int64_t d, int64_t lanes, bool multiply) {
  if (d < 0)
    return -1;
  return multiply ? d * lanes : d / lanes;
}

mlir::FailureOr<KernelParts>
cnnc::codegen::lowerLayout(mlir::Operation *op,
                           llvm::ArrayRef<TensorFunc> operands) {
  const TensorFunc &in = operands[0];
  KernelParts parts;
  parts.family = KernelParts::Family::Elementwise;
  if (auto pack = mlir::dyn_cast<cnn::PackWeightsOp>(op)) {
    int lanes = (int)pack.getLanes();
    if (int tile = (int)pack.getWinograd()) {
      Func u = winogradFilter(in.func, tile); // u(co, ci, e)
      // [e][co / L][ci * L + co % L]; innermost first.
      Var j("j"), cb("cb"), e("e");
      Func out("winograd_filter_blocks");
      out(j, cb, e) = u(cb * lanes + j % lanes, j / lanes, e);
      parts.output = out;
      parts.shape = {(tile + 2) * (tile + 2), scaled(in.shape[0], lanes, false),
                     scaled(in.shape[1], lanes, true)};
      return parts;
    }
    // [co / L][ci][kh][kw][co % L] = [co][ci][kh][kw]; innermost first.
    Var l("l"), x("x"), y("y"), ci("ci"), cb("cb");
    Func out("pack_weights");
    out(l, x, y, ci, cb) = in.func(x, y, ci, cb * lanes + l);
    parts.output = out;
    parts.shape = {scaled(in.shape[0], lanes, false), in.shape[1], in.shape[2],
                   in.shape[3], lanes};
    return parts;
  }
  auto unpack = mlir::cast<cnn::UnpackWeightsOp>(op);
  int lanes = (int)in.shape[4];
  if (lanes < 1) {
    unpack.emitOpError("needs a static vector width");
    return mlir::failure();
  }
  std::vector<Var> v = makeVars(4);
  Var x = v[0], y = v[1], ci = v[2], co = v[3];
  Func out("unpack_weights");
  out(x, y, ci, co) = in.func(co % lanes, x, y, ci, co / lanes);
  parts.output = out;
  parts.shape = {scaled(in.shape[0], lanes, true), in.shape[1], in.shape[2],
                 in.shape[3]};
  return parts;
}
