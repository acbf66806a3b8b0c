// How the accelerator lays a convolution out as the array's GEMMs (docs/architecture.md,
// "Lowering"): the activation buffer's address generator reads x0 as the lowered matrix
// col [P][K] (row p = (n, oh, ow), column k = (c, r, s), s fastest; zero outside the
// image), errors are stored pixel-major [P][K_out], and the output stage scatters GEMM
// rows back to NCHW tensors or, for the error GEMM, adds them into e4 (col2im).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "golden/core/conv_geometry.h"

namespace octet::model {

// col[p][k] of x0 [N][C][H][W].
std::vector<uint8_t> LowerActivations(const ConvGeometry& g, const uint8_t* x0);

// [N][K_out][OH][OW] -> [P][K_out].
template <typename T>
std::vector<T> PixelMajor(const ConvGeometry& g, const T* nchw) {
  const int64_t pixels = g.out_height() * g.out_width();
  std::vector<T> out(static_cast<size_t>(g.gemm_n() * g.out_channels));
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t ko = 0; ko < g.out_channels; ++ko)
      for (int64_t q = 0; q < pixels; ++q)
        out[(n * pixels + q) * g.out_channels + ko] = nchw[(n * g.out_channels + ko) * pixels + q];
  return out;
}

// x1 [N][K_out][OH][OW] from the forward GEMM's [P][K_out] rows. Fails if a value leaves
// int32 (impossible for K <= 8192, docs/numerics.md "Accumulators").
void ScatterForward(const ConvGeometry& g, const std::vector<int64_t>& rows, int32_t* x1);

// e4 [N][C][H][W] = col2im of the error GEMM's rows dcol [P][K]: every dcol[p][k] is added
// to the input element it was lowered from (exact int64 sums).
void Col2Im(const ConvGeometry& g, const std::vector<int64_t>& dcol, int64_t* e4);

}  // namespace octet::model
