#include "model/control/lowering.h"

#include <algorithm>
#include <limits>

#include "golden/core/error.h"

namespace octet::model {

namespace {

// Calls f(p, k, input_index) for every lowered position that lies inside the image
// (positions in the zero padding have no input element).
template <typename F>
void ForEachLoweredInput(const ConvGeometry& g, F&& f) {
  const int64_t oh_count = g.out_height(), ow_count = g.out_width(), r_count = g.kernel;
  const int64_t k_count = g.gemm_k();
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t oh = 0; oh < oh_count; ++oh)
      for (int64_t ow = 0; ow < ow_count; ++ow) {
        const int64_t p = (n * oh_count + oh) * ow_count + ow;
        for (int64_t c = 0; c < g.in_channels; ++c)
          for (int64_t r = 0; r < r_count; ++r) {
            const int64_t h = oh * g.stride - g.pad + r;
            if (h < 0 || h >= g.in_height) continue;
            for (int64_t s = 0; s < r_count; ++s) {
              const int64_t w = ow * g.stride - g.pad + s;
              if (w < 0 || w >= g.in_width) continue;
              const int64_t k = (c * r_count + r) * r_count + s;
              f(p * k_count + k, ((n * g.in_channels + c) * g.in_height + h) * g.in_width + w);
            }
          }
      }
}

}  // namespace

std::vector<uint8_t> LowerActivations(const ConvGeometry& g, const uint8_t* x0) {
  std::vector<uint8_t> col(static_cast<size_t>(g.gemm_n() * g.gemm_k()), 0);
  ForEachLoweredInput(g, [&](int64_t pk, int64_t in) { col[pk] = x0[in]; });
  return col;
}

void ScatterForward(const ConvGeometry& g, const std::vector<int64_t>& rows, int32_t* x1) {
  const int64_t pixels = g.out_height() * g.out_width();
  for (int64_t p = 0; p < g.gemm_n(); ++p) {
    const int64_t n = p / pixels, q = p % pixels;
    for (int64_t ko = 0; ko < g.out_channels; ++ko) {
      const int64_t v = rows[p * g.out_channels + ko];
      if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
        Fail("model: forward result {} does not fit the int32 x1", v);
      x1[(n * g.out_channels + ko) * pixels + q] = static_cast<int32_t>(v);
    }
  }
}

void Col2Im(const ConvGeometry& g, const std::vector<int64_t>& dcol, int64_t* e4) {
  std::fill_n(e4, g.input_count(), int64_t{0});
  ForEachLoweredInput(g, [&](int64_t pk, int64_t in) { e4[in] += dcol[pk]; });
}

}  // namespace octet::model
