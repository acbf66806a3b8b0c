// Geometry of a 2-D convolution and its lowering to GEMM (im2col). The float kernels and
// the SystemC model lower in the order below; the golden integer kernels lower
// channels-last instead, a reordering of exact integer sums (int_gemm.cpp).
//
// Lowering order (documented in docs/numerics.md): the column index k of the lowered
// input runs over (c, r, s) with s fastest: k = (c * R + r) * S + s, which matches the
// flat index of a weight [K_out][C][R][S]. The row index p runs over (n, oh, ow) with ow
// fastest. So conv output y[n][ko][oh][ow] = sum_k W[ko][k] * col[p][k].
#pragma once

#include <cstdint>

namespace octet {

struct ConvGeometry {
  int64_t batch = 1;        // N
  int64_t in_channels = 1;  // C
  int64_t in_height = 1;    // H
  int64_t in_width = 1;     // W
  int64_t out_channels = 1; // K_out
  int64_t kernel = 1;       // R = S (square kernels)
  int64_t stride = 1;
  int64_t pad = 0;

  int64_t out_height() const { return (in_height + 2 * pad - kernel) / stride + 1; }
  int64_t out_width() const { return (in_width + 2 * pad - kernel) / stride + 1; }
  // GEMM view: M = K_out, N = batch * OH * OW (rows p), K = C * R * S (reduction).
  int64_t gemm_m() const { return out_channels; }
  int64_t gemm_n() const { return batch * out_height() * out_width(); }
  int64_t gemm_k() const { return in_channels * kernel * kernel; }
  int64_t weight_count() const { return out_channels * gemm_k(); }
  int64_t input_count() const { return batch * in_channels * in_height * in_width; }
  int64_t output_count() const { return batch * out_channels * out_height() * out_width(); }
};

}  // namespace octet
