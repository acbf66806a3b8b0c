// Exact integer GEMM and the convolution lowerings of the quantized layers.
//
// The error and weight-gradient GEMMs of a training step run through one kernel with int16
// operands and int64 results (the forward, with 8-bit operands, is described at
// ConvForwardInt). B is first packed in pairs along the reduction index ("k-pairs": the
// operand layout of vpdpwssd), then each output lane accumulates two products per step in
// int32 for at most kPairBlock pairs before being widened into int64. With every
// |a * b| < 2^23 a lane stays below 2 * kPairBlock * 2^23 = 2^31, so no intermediate can
// saturate or wrap (unlike pmaddubsw-style int8 paths, which saturate 16-bit pair sums).
// The result is the exact integer sum, whatever the order, path or thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "golden/core/conv_geometry.h"

namespace octet {

inline constexpr int64_t kPairBlock = 128;  // k-pairs per int32 block
inline constexpr int64_t kMaxProductMagnitude = (int64_t{1} << 23) - 1;  // caller's precondition

enum class BLayout {
  kNK,  // B stored [n][k]: C = A * B^T
  kKN,  // B stored [k][n]: C = A * B
};

// C[i][j] = sum_k A[i][k] * B(k, j) for A [m][k], C [m][n]; B as `layout` says.
void GemmInt16(int64_t m, int64_t n, int64_t k, const int16_t* a, const int16_t* b, BLayout layout, int64_t* c);

// C[i][j] = sum_k A[i][k] * B[j][k] for A [m][k], B [n][k], C [m][n].
inline void GemmInt16ABt(int64_t m, int64_t n, int64_t k, const int16_t* a, const int16_t* b, int64_t* c) {
  GemmInt16(m, n, k, a, b, BLayout::kNK, c);
}

// The input of a conv in channels-last order (the activation bytes, padded), kept from
// the forward pass for the weight gradient. The integer kernels lower it channels-last, with
// the lowered column index k' = (r S + s) C + c instead of the weight order of
// conv_geometry.h: a reordering of exact sums (docs/numerics.md, section 10).
struct ChannelsLastInput {
  // [N][hp][wp][C]: image pixel (h, w) at (h + top, w + left), zeros around it wide enough
  // for every window of the conv.
  std::vector<uint8_t> hwc;
  int64_t hp = 0, wp = 0, top = 0, left = 0;
  void Assign(const ConvGeometry& g, const uint8_t* x0);  // x0 [N][C][H][W]
};

// Forward: x1 = W_q * x0 (lowered, see conv_geometry.h). x0 [N][C][H][W] unsigned
// activations, wq [K_out][K], x1 [N][K_out][OH][OW]. Keeps the channels-last x0 if asked. Runs
// on 8-bit operands (unsigned activation times signed weight, four products per int32
// lane, exact: see int_gemm.cpp), the other two GEMMs on int16.
void ConvForwardInt(const ConvGeometry& g, const uint8_t* x0, const int8_t* wq, int32_t* x1,
                    ChannelsLastInput* keep = nullptr);
// Error: e4 = W_q^T e3, e3 [N][K_out][OH][OW] (decoded E2 values), e4 [N][C][H][W].
void ConvErrorInt(const ConvGeometry& g, const int8_t* wq, const int16_t* e3, int64_t* e4);
// Weight gradient: g_W = e3 x0^T, g_W [K_out][K]. Uses `input` (from the forward) if given.
void ConvWeightGradInt(const ConvGeometry& g, const int16_t* e3, const uint8_t* x0, int64_t* g_w,
                       const ChannelsLastInput* input = nullptr);

}  // namespace octet
