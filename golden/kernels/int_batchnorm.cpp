#include "golden/kernels/int_batchnorm.h"

#include <algorithm>
#include <climits>
#include <cmath>

#include "golden/core/error.h"
#include "golden/core/vector_clones.h"
#include "golden/numerics/fixed_point.h"

namespace octet {

using fx::int128;
using u128 = unsigned __int128;

namespace {

// Row kernels (one image's pixels of one channel), plain loops that GCC vectorises: see
// golden/core/vector_clones.h. The channel loop around them is the parallel one.

// floor(estimate) for |estimate| < 2^62, without a call to floor: truncation, then one
// step down for negative non-integers.
inline int64_t FloorOf(double estimate) {
  const auto q = static_cast<int64_t>(estimate);
  return q - (static_cast<double>(q) > estimate ? 1 : 0);
}

// RHE(num / den) from q, a floor quotient estimate within one unit of floor(num / den), and
// r = num - q den (so r lies in [-den, 2 den)): one correction step each way gives the
// floor quotient and its remainder in [0, den), then the RHE rule of fx::RoundFloorQuotient.
inline int64_t RoundHalfEvenFromEstimate(int64_t q, int64_t r, int64_t den) {
  if (r < 0) {
    q -= 1;
    r += den;
  }
  if (r >= den) {
    q += 1;
    r -= den;
  }
  return fx::RoundFloorQuotient(q, r, den);
}

// S1 += sum x1, S2 += sum x1^2, and the range [lo, hi] of x1.
OCTET_VECTOR_CLONES
void SumRow(const int32_t* xs, int64_t count, int64_t& s1, u128& s2, int32_t& lo, int32_t& hi) {
  // |x1| < 2^28, so 64 squares sum below 2^62: partial sums in uint64, exact.
  for (int64_t i0 = 0; i0 < count; i0 += 64) {
    const int64_t i1 = std::min(count, i0 + 64);
    int64_t part1 = 0;
    uint64_t part2 = 0;
    int32_t part_lo = lo, part_hi = hi;
    for (int64_t i = i0; i < i1; ++i) {
      part1 += xs[i];
      part2 += static_cast<uint64_t>(int64_t{xs[i]} * xs[i]);
      part_lo = std::min(part_lo, xs[i]);
      part_hi = std::max(part_hi, xs[i]);
    }
    s1 += part1;
    s2 += part2;
    lo = part_lo;
    hi = part_hi;
  }
}

// x2 = saturate(RHE(num / den), x2_bits) with num = ((x1 << x1_shift) - mu_aligned) << num_shift,
// for den < 2^52 and |num| < den 2^49 (the caller checks both for the channel). Then num and
// den are exact doubles, the estimate num * (1 / den) is within 2^-3 of num / den (two
// roundings of relative size 2^-53 on a quotient below 2^49), so its floor is within one
// unit of the floor quotient, and one correction step each way gives the exact floor
// quotient q and remainder r in [0, den) (|q den| < 2^63: int64 is exact).
OCTET_VECTOR_CLONES
void NormalizeRow(const int32_t* x1, int64_t count, int x1_shift, int64_t mu_aligned, int num_shift, int64_t den,
                  int x2_bits, int32_t* x2) {
  const double inv = 1.0 / static_cast<double>(den);
  const int64_t hi = (int64_t{1} << (x2_bits - 1)) - 1, lo = -hi - 1;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t num = ((int64_t{x1[i]} << x1_shift) - mu_aligned) << num_shift;
    const double estimate = static_cast<double>(num) * inv;
    const int64_t q = FloorOf(estimate);
    x2[i] = static_cast<int32_t>(std::clamp(RoundHalfEvenFromEstimate(q, num - q * den, den), lo, hi));  // fx::SaturateSigned
  }
}

// Backward sums of one row: e2 = e1 gamma_q, sum(e1), sum(e1 x2) (exact in int64: see
// IntBatchNormBackward), max |e1| and max |x2|.
OCTET_VECTOR_CLONES
void GradientSumsRow(const int8_t* e1, const int32_t* x2, int64_t count, int64_t gamma, int32_t* e2, int64_t& sum_e1,
                     int64_t& sum_e1x2, uint32_t& max_e1, uint32_t& max_x2) {
  int64_t part_e1 = 0, part_e1x2 = 0;
  uint32_t part_max_e1 = max_e1, part_max_x2 = max_x2;
  for (int64_t i = 0; i < count; ++i) {
    e2[i] = static_cast<int32_t>(e1[i] * gamma);  // |e2| < 2^7 * 2^15
    part_e1 += e1[i];
    part_e1x2 += int64_t{e1[i]} * x2[i];
    part_max_e1 = std::max(part_max_e1, static_cast<uint32_t>(e1[i] < 0 ? -e1[i] : e1[i]));
    part_max_x2 = std::max(part_max_x2, static_cast<uint32_t>(x2[i] < 0 ? 0u - static_cast<uint32_t>(x2[i]) : x2[i]));
  }
  sum_e1 += part_e1;
  sum_e1x2 += part_e1x2;
  max_e1 = part_max_e1;
  max_x2 = part_max_x2;
}

// Per-channel constants of GradientRow: num_i = a_i gamma 2^a_shift - x2_i s_ex_scaled with
// a_i = n e1_i - sum(e1), and its estimate a_i c_a - x2_i c_b of num_i / den.
struct GradientConstants {
  int64_t n, sum_e1, den;
  double c_a, c_b;
  uint64_t gamma_shifted_mod, s_ex_mod;  // gamma 2^a_shift and s_ex_scaled, modulo 2^64
  double clear_limit;                     // GradientRowAvx512's RoundWhenClear8 limit
};

// dx1_i = RHE(num_i / den) for one row, when both terms of the estimate are below 2^48 and
// den < 2^61 (the caller checks both for the channel). The estimate is then within 1/4 of
// num / den (five roundings of relative size 2^-53 on at most 2^49), so its floor q is
// within one unit of the floor quotient and |num - q den| < 2 den < 2^62. A remainder that
// small equals its value modulo 2^64, so num and q den are needed only modulo 2^64
// (wrapping uint64 products): no int128 arithmetic. One correction step each way gives
// the floor quotient and its remainder in [0, den); then the RHE rule.
// Returns max |dx1| of the row.
OCTET_VECTOR_CLONES
uint64_t GradientRow(const GradientConstants& k, const int8_t* e1, const int32_t* x2, int64_t count, int64_t* dx1) {
  const int64_t n = k.n, sum_e1 = k.sum_e1, den = k.den;
  const double c_a = k.c_a, c_b = k.c_b;
  const uint64_t g_mod = k.gamma_shifted_mod, s_mod = k.s_ex_mod;
  uint64_t max_abs = 0;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t a = n * e1[i] - sum_e1;
    const double estimate = static_cast<double>(a) * c_a - static_cast<double>(x2[i]) * c_b;
    const int64_t q = FloorOf(estimate);
    const uint64_t num_mod = static_cast<uint64_t>(a) * g_mod - static_cast<uint64_t>(int64_t{x2[i]}) * s_mod;
    const auto r = static_cast<int64_t>(num_mod - static_cast<uint64_t>(q) * static_cast<uint64_t>(den));
    dx1[i] = RoundHalfEvenFromEstimate(q, r, den);
    max_abs = std::max(max_abs, fx::AbsMagnitude(dx1[i]));
  }
  return max_abs;
}

// GCC 12 warns that the cast, conversion and reduction intrinsics read an "uninitialized"
// value inside its own headers (a false positive: every vector is set before use).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

// FloorOf, lane by lane: truncation, then one step down where that is above the estimate.
OCTET_AVX512_ROWS inline __m512i FloorOf8(__m512d estimate) {
  const __m512i q = _mm512_cvttpd_epi64(estimate);
  return _mm512_mask_sub_epi64(q, _mm512_cmp_pd_mask(_mm512_cvtepi64_pd(q), estimate, _CMP_GT_OQ), q,
                               _mm512_set1_epi64(1));
}

// RoundHalfEvenFromEstimate, lane by lane.
OCTET_AVX512_ROWS inline __m512i RoundHalfEvenFromEstimate8(__m512i q, __m512i r, __m512i den) {
  const __m512i one = _mm512_set1_epi64(1);
  const __mmask8 below = _mm512_cmplt_epi64_mask(r, _mm512_setzero_si512());
  q = _mm512_mask_sub_epi64(q, below, q, one);
  r = _mm512_mask_add_epi64(r, below, r, den);
  const __mmask8 above = _mm512_cmpge_epi64_mask(r, den);
  q = _mm512_mask_add_epi64(q, above, q, one);
  r = _mm512_mask_sub_epi64(r, above, r, den);
  const __m512i twice_r = _mm512_add_epi64(r, r);
  const __mmask8 up = _mm512_cmpgt_epi64_mask(twice_r, den) |
                      (_mm512_cmpeq_epi64_mask(twice_r, den) & _mm512_test_epi64_mask(q, one));
  return _mm512_mask_add_epi64(q, up, q, one);
}

// RHE(v) for eight exact quotients v from double estimates t with |t - v| <= eps, in
// doubles: where |t - round(t)| < 1/2 - eps (= limit), no half-integer lies between t and
// v, so v is no tie and round(t) is its nearest integer, RHE(v). Returns false when some
// lane is that close to a half-integer; the caller then settles those eight lanes with the
// integer remainder. The estimates round far from half-integers nearly always (a lane is
// within eps of one with probability about 2 eps), so the integer path is the rare one.
OCTET_AVX512_ROWS inline bool RoundWhenClear8(__m512d t, __m512d limit, __mmask8 lanes, __m512d& rounded) {
  rounded = _mm512_roundscale_pd(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512d distance = _mm512_abs_pd(_mm512_sub_pd(t, rounded));  // exact: |t| < 2^52
  return _mm512_mask_cmp_pd_mask(lanes, distance, limit, _CMP_LT_OQ) == lanes;
}

// The limit of RoundWhenClear8 for estimates within eps of their quotients: at most
// 1/2 - eps (0 when eps reaches 1/2: every lane then takes the integer path). 0.5 - eps
// rounds up by at most half a unit (2^-55), which the next double down undoes.
inline double ClearLimit(double eps) { return eps < 0.5 ? std::nextafter(0.5 - eps, 0.0) : 0.0; }

// SumRow on AVX-512 over `rows` rows of one channel (stride elements apart), reduced once:
// S1 and the range in int64 lanes; the squares (|x1| < 2^28, so each is below 2^56) in
// uint64 lanes that are added into S2 every 32 steps, before a lane could reach 2^64.
OCTET_AVX512_ROWS
void SumRowsAvx512(const int32_t* xs, int64_t rows, int64_t stride, int64_t count, int64_t& s1, u128& s2, int32_t& lo,
                   int32_t& hi) {
  __m512i sum = _mm512_setzero_si512(), squares = _mm512_setzero_si512();
  __m512i low = _mm512_set1_epi64(lo), high = _mm512_set1_epi64(hi);
  int steps = 0;
  alignas(64) uint64_t parts[8];
  for (int64_t row = 0; row < rows; ++row) {
    const int32_t* x_row = xs + row * stride;
    for (int64_t i = 0; i < count; i += 8) {
      const __mmask8 lanes = LanesFrom(i, count);
      const __m512i x = _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(lanes, x_row + i));  // 0 in unused lanes
      sum = _mm512_add_epi64(sum, x);
      squares = _mm512_add_epi64(squares, _mm512_mul_epi32(x, x));
      low = _mm512_mask_min_epi64(low, lanes, low, x);
      high = _mm512_mask_max_epi64(high, lanes, high, x);
      if (++steps == 32) {
        _mm512_store_si512(parts, squares);
        for (const uint64_t part : parts) s2 += part;
        squares = _mm512_setzero_si512();
        steps = 0;
      }
    }
  }
  _mm512_store_si512(parts, squares);
  for (const uint64_t part : parts) s2 += part;
  s1 += _mm512_reduce_add_epi64(sum);
  lo = static_cast<int32_t>(_mm512_reduce_min_epi64(low));
  hi = static_cast<int32_t>(_mm512_reduce_max_epi64(high));
}

// GradientSumsRow on AVX-512 over `rows` rows of one channel (stride elements apart), reduced
// once, sixteen elements per step: e2 and the products e1 x2 (|e1 x2| < 2^30) in int32
// lanes, the sums in int64 lanes. For short rows only (kShortRow): on long ones the plain
// vectorised loop measured faster.
OCTET_AVX512_ROWS
void GradientSumsRowsAvx512(const int8_t* e1, const int32_t* x2, int64_t rows, int64_t stride, int64_t count,
                            int64_t gamma, int32_t* e2, int64_t& sum_e1, int64_t& sum_e1x2, uint32_t& max_e1,
                            uint32_t& max_x2) {
  const __m512i gamma_v = _mm512_set1_epi32(static_cast<int32_t>(gamma));  // |gamma_q| < 2^15
  __m512i s_e = _mm512_setzero_si512(), s_ex = _mm512_setzero_si512();
  __m512i m_e = _mm512_set1_epi32(static_cast<int32_t>(max_e1)), m_x = _mm512_set1_epi32(static_cast<int32_t>(max_x2));
  for (int64_t row = 0; row < rows; ++row) {
    const int64_t base = row * stride;
    for (int64_t i = 0; i < count; i += 16) {
      const __mmask16 lanes =
          count - i >= 16 ? __mmask16{0xffff} : static_cast<__mmask16>((1u << (count - i)) - 1);
      const __m512i e = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(lanes, e1 + base + i));  // 0 in unused lanes
      const __m512i x = _mm512_maskz_loadu_epi32(lanes, x2 + base + i);
      _mm512_mask_storeu_epi32(e2 + base + i, lanes, _mm512_mullo_epi32(e, gamma_v));  // |e2| < 2^7 * 2^15
      const __m512i ex = _mm512_mullo_epi32(e, x);
      s_e = _mm512_add_epi64(s_e, _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(e)),
                                                   _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(e, 1))));
      s_ex = _mm512_add_epi64(s_ex, _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(ex)),
                                                     _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(ex, 1))));
      m_e = _mm512_max_epu32(m_e, _mm512_abs_epi32(e));  // unsigned: |INT32_MIN| as 2^31
      m_x = _mm512_max_epu32(m_x, _mm512_abs_epi32(x));
    }
  }
  sum_e1 += _mm512_reduce_add_epi64(s_e);
  sum_e1x2 += _mm512_reduce_add_epi64(s_ex);
  max_e1 = _mm512_reduce_max_epu32(m_e);
  max_x2 = _mm512_reduce_max_epu32(m_x);
}

// NormalizeRow on AVX-512, in doubles where RoundWhenClear8 allows: the centred value
// x1 2^x1_shift - mu_aligned and its product with 2^num_shift are exact (below 2^53), so the
// estimate t = centred * (2^num_shift fl(1 / den)) is within two roundings of num / den:
// |t - v| <= 2^-51 |v| <= eps for eps = 2^-51 max|v| (the caller's limit 1/2 - eps).
// Otherwise the eight lanes take NormalizeRow's integer correction.
OCTET_AVX512_ROWS
void NormalizeRowAvx512(const int32_t* x1, int64_t count, int x1_shift, int64_t mu_aligned, int num_shift,
                        int64_t den, int x2_bits, double limit, int32_t* x2) {
  const double inv_scalar = 1.0 / static_cast<double>(den);
  const __m512d inv = _mm512_set1_pd(inv_scalar), scaled_inv = _mm512_set1_pd(std::ldexp(inv_scalar, num_shift));
  const __m512d x1_scale = _mm512_set1_pd(std::ldexp(1.0, x1_shift));
  const __m512d mu_d = _mm512_set1_pd(static_cast<double>(mu_aligned));
  const __m512d clear = _mm512_set1_pd(limit);
  const int64_t x2_max = (int64_t{1} << (x2_bits - 1)) - 1;
  const __m512d hi_d = _mm512_set1_pd(static_cast<double>(x2_max));
  const __m512d lo_d = _mm512_set1_pd(static_cast<double>(-x2_max - 1));
  const __m512i den_v = _mm512_set1_epi64(den), mu = _mm512_set1_epi64(mu_aligned);
  const __m512i hi = _mm512_set1_epi64(x2_max), lo = _mm512_set1_epi64(-x2_max - 1);
  const __m128i x1_count = _mm_cvtsi32_si128(x1_shift), num_count = _mm_cvtsi32_si128(num_shift);
  for (int64_t i = 0; i < count; i += 8) {
    const __mmask8 lanes = LanesFrom(i, count);
    const __m256i x_32 = _mm256_maskz_loadu_epi32(lanes, x1 + i);
    const __m512d centred = _mm512_sub_pd(_mm512_mul_pd(_mm512_cvtepi32_pd(x_32), x1_scale), mu_d);
    __m512d rounded;
    if (RoundWhenClear8(_mm512_mul_pd(centred, scaled_inv), clear, lanes, rounded)) {
      const __m512d y = _mm512_min_pd(_mm512_max_pd(rounded, lo_d), hi_d);
      _mm256_mask_storeu_epi32(x2 + i, lanes, _mm512_cvtpd_epi32(y));
      continue;
    }
    const __m512i x = _mm512_cvtepi32_epi64(x_32);
    const __m512i num = _mm512_sll_epi64(_mm512_sub_epi64(_mm512_sll_epi64(x, x1_count), mu), num_count);
    const __m512i q = FloorOf8(_mm512_mul_pd(_mm512_cvtepi64_pd(num), inv));
    const __m512i r = _mm512_sub_epi64(num, _mm512_mullo_epi64(q, den_v));
    const __m512i y = _mm512_min_epi64(_mm512_max_epi64(RoundHalfEvenFromEstimate8(q, r, den_v), lo), hi);
    _mm256_mask_storeu_epi32(x2 + i, lanes, _mm512_cvtepi64_epi32(y));
  }
}

// GradientRow on AVX-512, in doubles where RoundWhenClear8 allows (the caller's limit
// covers the estimate's error: see IntBatchNormBackward); otherwise the eight lanes take
// GradientRow's integer correction. a_i = n e1_i - sum(e1) is exact in doubles (below 2^33).
OCTET_AVX512_ROWS
uint64_t GradientRowAvx512(const GradientConstants& k, const int8_t* e1, const int32_t* x2, int64_t count,
                           int64_t* dx1) {
  __m512i max_abs = _mm512_setzero_si512();  // |INT64_MIN| reads as 2^63 unsigned, as AbsMagnitude
  __m512d max_abs_d = _mm512_setzero_pd();   // the lanes rounded in doubles (integers below 2^49)
  const __m512i n = _mm512_set1_epi64(k.n), sum_e1 = _mm512_set1_epi64(k.sum_e1), den = _mm512_set1_epi64(k.den);
  const __m512i g_mod = _mm512_set1_epi64(static_cast<int64_t>(k.gamma_shifted_mod));
  const __m512i s_mod = _mm512_set1_epi64(static_cast<int64_t>(k.s_ex_mod));
  const __m512d c_a = _mm512_set1_pd(k.c_a), c_b = _mm512_set1_pd(k.c_b), clear = _mm512_set1_pd(k.clear_limit);
  const __m512d n_d = _mm512_set1_pd(static_cast<double>(k.n)), sum_e1_d = _mm512_set1_pd(static_cast<double>(k.sum_e1));
  for (int64_t i = 0; i < count; i += 8) {
    const __mmask8 lanes = LanesFrom(i, count);
    const __m256i e_32 = _mm256_cvtepi8_epi32(_mm_maskz_loadu_epi8(lanes, e1 + i));
    const __m256i x_32 = _mm256_maskz_loadu_epi32(lanes, x2 + i);
    const __m512d a_d = _mm512_sub_pd(_mm512_mul_pd(n_d, _mm512_cvtepi32_pd(e_32)), sum_e1_d);
    const __m512d estimate = _mm512_sub_pd(_mm512_mul_pd(a_d, c_a), _mm512_mul_pd(_mm512_cvtepi32_pd(x_32), c_b));
    __m512d rounded;
    if (RoundWhenClear8(estimate, clear, lanes, rounded)) {
      _mm512_mask_storeu_epi64(dx1 + i, lanes, _mm512_cvtpd_epi64(rounded));
      max_abs_d = _mm512_mask_max_pd(max_abs_d, lanes, max_abs_d, _mm512_abs_pd(rounded));
      continue;
    }
    const __m512i e = _mm512_cvtepi32_epi64(e_32);
    const __m512i x = _mm512_cvtepi32_epi64(x_32);
    const __m512i a = _mm512_sub_epi64(_mm512_mullo_epi64(n, e), sum_e1);  // n e1_i - sum(e1)
    const __m512i q = FloorOf8(estimate);
    // r = num - q den modulo 2^64 (wrapping products, as the uint64 arithmetic of GradientRow).
    const __m512i num = _mm512_sub_epi64(_mm512_mullo_epi64(a, g_mod), _mm512_mullo_epi64(x, s_mod));
    const __m512i r = _mm512_sub_epi64(num, _mm512_mullo_epi64(q, den));
    const __m512i y = RoundHalfEvenFromEstimate8(q, r, den);
    _mm512_mask_storeu_epi64(dx1 + i, lanes, y);
    max_abs = _mm512_mask_max_epu64(max_abs, lanes, max_abs, _mm512_abs_epi64(y));
  }
  return std::max(static_cast<uint64_t>(_mm512_reduce_max_epu64(max_abs)),
                  static_cast<uint64_t>(_mm512_reduce_max_pd(max_abs_d)));
}

#pragma GCC diagnostic pop

}  // namespace

void IntBatchNormForward(const Scheme& s, const BnShape& shape, const int32_t* x1, int32_t* mu_q, int32_t* sigma_q,
                         int32_t* x2) {
  const int f_x1 = s.frac_x1(), f_mu = s.frac_mu(), f_sigma = s.frac_sigma(), f_bn = s.frac_BN();
  const int64_t n = shape.count();
  const int x2_bits = s.k_BN + 8;  // x2 container: k_BN - 1 fractional bits, 8 integer bits, sign
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < shape.channels; ++c) {
    // 1. Statistics pass: S1 = sum x1 (int64), S2 = sum x1^2 (unsigned 128-bit), and the
    //    range of x1 (for the fast path of step 4).
    int64_t s1 = 0;
    u128 s2 = 0;
    int32_t x1_lo = INT32_MAX, x1_hi = INT32_MIN;
    if (UseAvx512Rows()) {
      SumRowsAvx512(x1 + c * shape.pixels, shape.batch, shape.channels * shape.pixels, shape.pixels, s1, s2, x1_lo,
                    x1_hi);
    } else {
      for (int64_t b = 0; b < shape.batch; ++b) {
        SumRow(x1 + (b * shape.channels + c) * shape.pixels, shape.pixels, s1, s2, x1_lo, x1_hi);
      }
    }
    // 2. mu_q = Q(S1 / n, k_mu) = RHE(S1 * 2^(f_mu - f_x1) / n).
    const int128 mu_num = f_mu >= f_x1 ? static_cast<int128>(s1) << (f_mu - f_x1) : static_cast<int128>(s1);
    const int128 mu_den = f_mu >= f_x1 ? static_cast<int128>(n) : static_cast<int128>(n) << (f_x1 - f_mu);
    const auto mu = static_cast<int32_t>(fx::RoundHalfEvenDivide(mu_num, mu_den));
    // 3. sigma = sqrt(population variance) with the exact mean:
    //    var = (n S2 - S1^2) / n^2 (units 2^(-2 f_x1)), so
    //    sigma_q = RHE(sqrt(D * 4^(f_sigma - f_x1) / n^2)), D = n S2 - S1^2 >= 0; then + eps.
    const u128 d = static_cast<u128>(n) * s2 - static_cast<u128>(static_cast<int128>(s1) * s1);
    const int sh = 2 * (f_sigma - f_x1);
    const u128 sq_num = sh >= 0 ? d << sh : d;
    const u128 sq_den = sh >= 0 ? static_cast<u128>(n) * n : (static_cast<u128>(n) * n) << -sh;
    const auto sigma = static_cast<int32_t>(fx::RoundHalfEvenSqrtOfRatio(sq_num, sq_den) + 1);  // + eps (1 LSB)
    mu_q[c] = mu;
    sigma_q[c] = sigma;
    // 4. x2 = Q((x1 - mu_q) / sigma_q, k_BN) = RHE((x1 - mu_q) * 2^(f_bn + f_sigma - F) / sigma_q),
    //    F = max(f_x1, f_mu) the common fractional bits of x1 - mu_q: BnNormaliser element
    //    by element, or NormalizeRow when the channel's range allows it.
    const BnNormaliser normalise(s, mu, sigma);
    const int f_common = std::max(f_x1, f_mu);
    const int out_shift = f_bn + f_sigma - f_common;
    const int num_shift = std::max(out_shift, 0);
    const int128 den = static_cast<int128>(sigma) << std::max(-out_shift, 0);
    const int64_t mu_aligned = int64_t{mu} << (f_common - f_mu);
    // Fast path (NormalizeRow) when den < 2^52 and every |num| < min(2^53, den 2^49), checked
    // from the range of x1: both are exact doubles and the quotient is below 2^49.
    const int64_t lo_centered = (int64_t{x1_lo} << (f_common - f_x1)) - mu_aligned;
    const int64_t hi_centered = (int64_t{x1_hi} << (f_common - f_x1)) - mu_aligned;
    const int128 max_num = static_cast<int128>(std::max(fx::AbsMagnitude(lo_centered), fx::AbsMagnitude(hi_centered)))
                           << num_shift;
    const bool fast = den < (int128{1} << 52) && max_num < (int128{1} << 53) && max_num < (den << 49);
    // NormalizeRowAvx512's rounding in doubles: |num / den| <= max_num / den, so its
    // estimates lie within eps = 2^-51 max_num / den of the quotients (computed here with
    // one rounding upwards at most, covered by the factor 2 of 2^-51 over two roundings).
    const double clear_limit =
        fast ? ClearLimit(std::ldexp(static_cast<double>(max_num) / static_cast<double>(den), -51)) : 0.0;
    for (int64_t b = 0; b < shape.batch; ++b) {
      const int64_t base = (b * shape.channels + c) * shape.pixels;
      if (fast) {
        if (UseAvx512Rows()) {
          NormalizeRowAvx512(x1 + base, shape.pixels, f_common - f_x1, mu_aligned, num_shift,
                             static_cast<int64_t>(den), x2_bits, clear_limit, x2 + base);
        } else {
          NormalizeRow(x1 + base, shape.pixels, f_common - f_x1, mu_aligned, num_shift, static_cast<int64_t>(den),
                       x2_bits, x2 + base);
        }
      } else {
        for (int64_t i = 0; i < shape.pixels; ++i) x2[base + i] = normalise(x1[base + i]);
      }
    }
  }
}

// x2 = RHE((x1 - mu_q) * 2^(f_bn + f_sigma - F) / sigma_q), F = max(f_x1, f_mu) the common
// fractional bits of x1 - mu_q.
BnNormaliser::BnNormaliser(const Scheme& s, int32_t mu_q, int32_t sigma_q)
    : mu_(mu_q),
      x1_shift_(std::max(s.frac_x1(), s.frac_mu()) - s.frac_x1()),
      mu_shift_(std::max(s.frac_x1(), s.frac_mu()) - s.frac_mu()),
      out_shift_(s.frac_BN() + s.frac_sigma() - std::max(s.frac_x1(), s.frac_mu())),
      x2_bits_(s.k_BN + 8),  // x2 container: k_BN - 1 fractional bits, 8 integer bits, sign
      divide_(out_shift_ >= 0 ? static_cast<int128>(sigma_q) : static_cast<int128>(sigma_q) << -out_shift_) {}

int32_t BnNormaliser::operator()(int32_t x1) const {
  // |x1| < 2^28 at f_x1 bits, so |num| < 2^(29 - f_x1 + f_bn + f_sigma) <= 2^59: int64 is exact.
  const int64_t centered = (int64_t{x1} << x1_shift_) - (mu_ << mu_shift_);
  const int64_t num = out_shift_ >= 0 ? centered << out_shift_ : centered;
  const int64_t q = fx::SaturateToInt64(divide_(num));
  return static_cast<int32_t>(fx::SaturateSigned(q, x2_bits_));
}

int IntBatchNormBackward(const Scheme& s, const BnShape& shape, const int8_t* e1, int e1_exp, const int16_t* gamma_q,
                         const int32_t* x2, const int32_t* sigma_q, int32_t* e2, int64_t* dx1, int64_t* g_gamma,
                         int64_t* g_beta, int* g_gamma_exp, int* g_beta_exp, uint64_t* max_dx1) {
  const int f_bn = s.frac_BN(), f_sigma = s.frac_sigma();
  const int e2_exp = e1_exp - s.frac_gamma();
  const int dx1_exp = e2_exp - kBnBackwardExtraBits;
  const int64_t n = shape.count();
  // dx1 = 2^(e2_exp + f_sigma) [n 2^(2 f_bn) e2_i - 2^(2 f_bn) S_e - x2_i S_ex] / (n s 2^(2 f_bn)),
  // expressed at dx1_exp: multiply by 2^(f_sigma + extra) and divide by n s 2^(2 f_bn).
  const int scale = f_sigma + kBnBackwardExtraBits - 2 * f_bn;
  // With e2 = gamma_q e1: S_e = gamma_q sum(e1) and S_ex = gamma_q sum(e1 x2), both exact
  // in int64 (|e1 x2| < 2^30, n <= 2^24), so the numerator is
  //   num_i = gamma_q [ (n e1_i - sum(e1)) 2^(2 f_bn) - x2_i sum(e1 x2) ].
  if (scale < 0) Fail("scheme {}: k_sigma + 16 must be at least 2 k_BN - 1 for the BN backward unit", s.name);
  uint64_t max_abs = 0;  // max |dx1|: exact in any order, so the parallel reduction is too
#pragma omp parallel for schedule(static) reduction(max : max_abs)
  for (int64_t c = 0; c < shape.channels; ++c) {
    const int64_t gamma = gamma_q[c];
    int64_t sum_e1 = 0, sum_e1x2 = 0;
    uint32_t max_e1 = 0, max_x2 = 0;  // max |e1|, max |x2|, for the fast path below
    if (UseAvx512Rows() && shape.pixels < kShortRow) {
      const int64_t base = c * shape.pixels, stride = shape.channels * shape.pixels;
      GradientSumsRowsAvx512(e1 + base, x2 + base, shape.batch, stride, shape.pixels, gamma, e2 + base, sum_e1,
                             sum_e1x2, max_e1, max_x2);
    } else {
      for (int64_t b = 0; b < shape.batch; ++b) {
        const int64_t base = (b * shape.channels + c) * shape.pixels;
        GradientSumsRow(e1 + base, x2 + base, shape.pixels, gamma, e2 + base, sum_e1, sum_e1x2, max_e1, max_x2);
      }
    }
    g_gamma[c] = sum_e1x2;
    g_beta[c] = sum_e1;
    // dx1_i = RHE(num_i 2^scale / (n sigma_q)).
    const int128 den = static_cast<int128>(n) * sigma_q[c];
    const int128 s_ex_scaled = (static_cast<int128>(sum_e1x2) * gamma) << scale;
    const int a_shift = 2 * f_bn + scale;
    // A double estimate of the quotient from the two terms a_i c_a and x2_i c_b, then the
    // exact remainder.
    const double to_quotient = 1.0 / static_cast<double>(den);
    const double c_a = std::ldexp(static_cast<double>(gamma), a_shift) * to_quotient;
    const double c_b = static_cast<double>(s_ex_scaled) * to_quotient;
    // Fast path (GradientRow) when both terms are below 2^48 for every element of the
    // channel (bounded from max |e1| and max |x2|: |a_i| <= n max|e1| + |sum(e1)|), den < 2^61
    // and a_shift < 64.
    const double bound_a = (static_cast<double>(n) * max_e1 + static_cast<double>(fx::AbsMagnitude(sum_e1))) * std::fabs(c_a);
    const double bound_b = static_cast<double>(max_x2) * std::fabs(c_b);
    if (den < (int128{1} << 61) && a_shift < 64 && bound_a + bound_b < 0x1p48) {
      // The estimate a_i c_a - x2_i c_b is within 6 roundings (2^-53 each) of |a_i c_a| +
      // |x2_i c_b| of num_i / den (c_a: den, its reciprocal, the product; c_b: also S_ex to
      // double; then both products and the difference), and bound_a + bound_b bounds that
      // sum to within a few roundings: eps = 2^-49 (bound_a + bound_b) covers it with room.
      const GradientConstants k{n,
                                sum_e1,
                                static_cast<int64_t>(den),
                                c_a,
                                c_b,
                                static_cast<uint64_t>(gamma) << a_shift,
                                static_cast<uint64_t>(s_ex_scaled),
                                ClearLimit(std::ldexp(bound_a + bound_b, -49))};
      for (int64_t b = 0; b < shape.batch; ++b) {
        const int64_t base = (b * shape.channels + c) * shape.pixels;
        max_abs = std::max(max_abs, UseAvx512Rows() ? GradientRowAvx512(k, e1 + base, x2 + base, shape.pixels, dx1 + base)
                                                     : GradientRow(k, e1 + base, x2 + base, shape.pixels, dx1 + base));
      }
      continue;
    }
    // General path: with both terms below 2^50 the estimate is within one unit of the floor
    // quotient, corrected with the int128 remainder; otherwise an exact int128 division.
    const fx::RoundHalfEvenDivider divide(den);
    const bool den_fits = den < (int128{1} << 62);
    for (int64_t b = 0; b < shape.batch; ++b) {
      const int64_t base = (b * shape.channels + c) * shape.pixels;
      for (int64_t i = 0; i < shape.pixels; ++i) {
        const int64_t a = n * e1[base + i] - sum_e1;
        const int128 num = (static_cast<int128>(a) * gamma << a_shift) - static_cast<int128>(x2[base + i]) * s_ex_scaled;
        const double term_a = static_cast<double>(a) * c_a, term_b = static_cast<double>(x2[base + i]) * c_b;
        if (den_fits && std::fabs(term_a) + std::fabs(term_b) < 0x1p50) {
          int128 q = static_cast<int64_t>(std::floor(term_a - term_b)), r = 0;
          fx::CorrectFloorQuotient(num, den, q, r);
          dx1[base + i] = static_cast<int64_t>(fx::RoundFloorQuotient(q, r, den));
        } else {
          dx1[base + i] = fx::SaturateToInt64(divide(num));
        }
        max_abs = std::max(max_abs, fx::AbsMagnitude(dx1[base + i]));
      }
    }
  }
  *g_gamma_exp = e1_exp - f_bn;
  *g_beta_exp = e1_exp;
  if (max_dx1 != nullptr) *max_dx1 = max_abs;
  return dx1_exp;
}

}  // namespace octet
