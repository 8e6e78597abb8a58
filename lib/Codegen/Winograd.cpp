//===- Winograd.cpp - 3x3 convolutions by Winograd's minimal filtering ----===//
//
// F(TxT, 3x3) (Lavin and Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016): an output tile of TxT pixels of a 3x3 convolution with
// stride 1 is A^T [(G g G^T) .* (B^T d B)] A, d the (T+2)x(T+2) input tile
// and g the 3x3 filter. Summed over the input channels, the elementwise
// products become (T+2)^2 independent matrix products [tiles x C] x [C x M],
// against 9 T^2 multiply-adds per output channel and input channel for the
// direct convolution (F(4x4, 3x3): 36 against 144).
//
// cnnc has T = 4. The matrices are the Cook-Toom construction for the
// interpolation points 0, 1, -1, 2, -1/2, which give about half the
// rounding error of the usual 0, +-1, +-2 (a float32 simulation of 256
// channels: 1.2e-5 against 2.8e-5 on outputs of magnitude 2; a direct
// convolution 4e-7). The transformed filter (cnn.pack_weights {winograd})
// is computed once, when the weights are written; the convolution
// transforms its input tiles, runs the products and transforms the output
// tiles back.
//
//===----------------------------------------------------------------------===//
#include "KernelBuilder.h"

#include "cnnc/Dialect/CNN/CNNOps.h"

using namespace Halide;
using namespace cnnc;
using namespace cnnc::codegen;

namespace {
/// Dense row-major matrices of F(4x4, 3x3), points 0, 1, -1, 2, -1/2.
struct Matrices {
  std::vector<double> bt; ///< 6 x 6
  std::vector<double> g;  ///< 6 x 3
  std::vector<double> at; ///< 4 x 6
};

const Matrices &matrices() {
  static const Matrices f4{{1, 1.5,  -2,   -1.5, 1,    0, //
                            0, -1,   -2.5, -0.5, 1,    0, //
                            0, 1,    0.5,  -2.5, 1,    0, //
                            0, -0.5, -1,   0.5,  1,    0, //
                            0, 2,    -1,   -2,   1,    0, //
                            0, 1,    1.5,  -2,   -1.5, 1},
                           {1, 0, 0,                         //
                            -1.0 / 3, -1.0 / 3, -1.0 / 3,    //
                            1.0 / 3, -1.0 / 3, 1.0 / 3,      //
                            1.0 / 15, 2.0 / 15, 4.0 / 15,    //
                            -16.0 / 15, 8.0 / 15, -4.0 / 15, //
                            0, 0, 1},
                           {1, 1, 1,  1, 1,      0, //
                            0, 1, -1, 2, -0.5,   0, //
                            0, 1, 1,  4, 0.25,   0, //
                            0, 1, -1, 8, -0.125, 1}};
  return f4;
}

/// sum_k m[row][k] * term(k) over the nonzero coefficients, as an Expr.
Expr combine(const std::vector<double> &m, int cols, int row,
             const std::function<Expr(int)> &term) {
  Expr sum;
  for (int k = 0; k < cols; ++k) {
    double c = m[row * cols + k];
    if (c == 0)
      continue;
    Expr t = term(k);
    if (c == -1)
      t = -t;
    else if (c != 1)
      t = t * (float)c;
    sum = sum.defined() ? sum + t : t;
  }
  return sum.defined() ? sum : Expr(0.0f);
}

/// mux(index, {row 0, ..., row rows-1}): one Expr per value of a pure
/// variable that the schedules unroll (the simplifier then keeps the one
/// row).
Expr rows(Expr index, int count, const std::function<Expr(int)> &row) {
  std::vector<Expr> values;
  for (int r = 0; r < count; ++r)
    values.push_back(row(r));
  return mux(index, values);
}

} // namespace

Func cnnc::codegen::winogradFilter(const Func &weight, int tile) {
  const Matrices &mx = matrices();
  int a = tile + 2;
  // weight(kx, ky, ci, co) -> U(co, ci, e), e = row * a + column.
  Var co("co"), ci("ci"), e("e"), r("r"), s("s");
  Func columns("winograd_filter_columns");
  // (g G^T)[ky][b] = sum_s g[ky][s] G[b][s]
  columns(co, ci, r, s) = rows(s, a, [&](int b) {
    return combine(mx.g, 3, b, [&](int k) { return weight(k, r, ci, co); });
  });
  Func out("winograd_filter");
  out(co, ci, e) = rows(e / a, a, [&](int row) {
    return combine(mx.g, 3, row,
                   [&](int k) { return columns(co, ci, k, e % a); });
  });
  return out;
}

KernelParts cnnc::codegen::defineWinogradConv(
    const TensorFunc &in, const TensorFunc &w, const TensorFunc *bias,
    llvm::ArrayRef<int64_t> pads, llvm::ArrayRef<int64_t> outShape) {
  int tile = (int)cnn::PackWeightsOp::winogradTile(w.shape[0]);
  const Matrices &mx = matrices();
  int a = tile + 2;
  // w(ci * L + co % L, co / L, e): blocks of L output channels.
  int64_t cin = in.shape[1], lanes = w.shape[2] / cin;
  int64_t cout = w.shape[1] * lanes;
  int64_t inH = in.shape[2], inW = in.shape[3];
  int64_t outH = outShape[2], outW = outShape[3];
  int tilesX = (int)((outW + tile - 1) / tile);
  int tilesY = (int)((outH + tile - 1) / tile);

  std::vector<Var> v = makeVars(4);
  Var x = v[0], y = v[1], c = v[2], n = v[3];
  Var t("t"), u("u"), ra("ra"), rb("rb"), i("i"), j("j");

  KernelParts parts;
  parts.family = KernelParts::Family::Conv;
  parts.channels = cout;
  parts.reductionSize = 9 * cin;
  parts.winogradTile = tile;
  parts.winogradTilesX = tilesX;
  parts.winogradTilesY = tilesY;

  // The zero-padded input, also past the last tile's edge (the transforms
  // combine every pixel of a tile; rounding would leak non-zeros there).
  Region bounds = {Range(0, (int)inW), Range(0, (int)inH), Range(), Range()};
  Func clamped = BoundaryConditions::constant_exterior(in.func, 0.0f, bounds);
  Func padded("winograd_padded");
  padded(x, y, c, n) = clamped(x - (int)pads[1], y - (int)pads[0], c, n);
  parts.padded = padded;
  parts.hasPadded = true;

  // Input tiles: V = B^T d B, d(column, row) the tile's pixels, one tile
  // `t` (row-major over the tile grid) at a time.
  Expr tx = t % tilesX, ty = t / tilesX;
  auto pixel = [&](Expr col, Expr row) {
    return padded(tx * tile + col, ty * tile + row, c, n);
  };
  Func dataRows("winograd_data_rows"); // (B^T d)[ra][u]
  dataRows(c, t, u, ra, n) = rows(ra, a, [&](int r) {
    return combine(mx.bt, a, r, [&](int k) { return pixel(u, Expr(k)); });
  });
  Func data("winograd_data"); // V[ra][rb]
  data(c, t, ra, rb, n) = rows(rb, a, [&](int b) {
    return combine(mx.bt, a, b,
                   [&](int k) { return dataRows(c, t, k, ra, n); });
  });

  // The (T+2)^2 products over the input channels.
  Var co("co");
  RDom r(0, (int)cin, "winograd_r");
  Func tileProd("winograd_tile_product");
  tileProd(co, t, ra, rb, n) = 0.0f;
  tileProd(co, t, ra, rb, n) +=
      w.func(r * (int)lanes + co % (int)lanes, co / (int)lanes, ra * a + rb) *
      data(r, t, ra, rb, n);
  Func prod("winograd_product");
  prod(co, t, ra, rb, n) = tileProd(co, t, ra, rb, n);

  // Output tiles: Y = A^T M A, Y[j][i] at pixel (tile * tx + i, ...).
  Func outRows("winograd_out_rows"); // (A^T M)[j][rb]
  outRows(co, t, j, rb, n) = rows(j, tile, [&](int row) {
    return combine(mx.at, a, row,
                   [&](int k) { return prod(co, t, Expr(k), rb, n); });
  });
  Func outTile("winograd_out_tile"); // Y[j][i]
  outTile(co, t, i, j, n) = rows(i, tile, [&](int col) {
    return combine(mx.at, a, col,
                   [&](int k) { return outRows(co, t, j, Expr(k), n); });
  });

  Func conv("conv");
  Expr value =
      outTile(c, (y / tile) * tilesX + x / tile, x % tile, y % tile, n);
  if (bias)
    value = value + bias->func(c);
  conv(x, y, c, n) = value;
  parts.reduction = conv;
  parts.hasReduction = true;
  parts.rdom = r;
  parts.winogradData = data;
  parts.winogradDataRows = dataRows;
  parts.winogradTileProduct = tileProd;
  parts.winogradProduct = prod;
  parts.winogradOutRows = outRows;
  parts.winogradOutTile = outTile;
  return parts;
}
