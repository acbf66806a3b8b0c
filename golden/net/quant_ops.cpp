#include "golden/net/quant_ops.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "golden/core/vector_clones.h"
#include "golden/numerics/fixed_point.h"
#include "golden/numerics/init.h"
#include "golden/numerics/quantizers.h"

namespace octet {

// Element-wise loops over parameter tensors run in parallel from this many elements on.
constexpr int64_t kParallelElements = 8192;

int64_t RequantizeMaster(const Scheme& s, int32_t p, int frac_out) {
  return fx::RoundHalfEvenShiftRight(p, s.frac_WU() - frac_out);
}

namespace {

// Q_W of one row of master weights: RHE by shift = frac_WU - frac_W, clipped to +-bound
// (RequantizeMaster with the shift passed in, so that GCC vectorises the loop).
OCTET_VECTOR_CLONES
void QuantizeWeightsRow(const int32_t* w, int64_t count, int shift, int64_t bound, int8_t* wq) {
  for (int64_t i = 0; i < count; ++i) {
    wq[i] = static_cast<int8_t>(fx::SaturateSymmetric(fx::RoundHalfEvenShiftRight(w[i], shift), bound));
  }
}

}  // namespace

Tensor<int8_t> QuantizeWeights(const Scheme& s, const Tensor<int32_t>& w) {
  const int64_t bound = (int64_t{1} << s.frac_W()) - 1;
  Tensor<int8_t> wq(w.shape);
  const int64_t rows = w.size() / kParallelElements;
#pragma omp parallel for schedule(static) if (rows > 0)
  for (int64_t row = 0; row <= rows; ++row) {
    const int64_t i0 = row * kParallelElements;
    QuantizeWeightsRow(w.ptr() + i0, std::min(kParallelElements, w.size() - i0), s.frac_WU() - s.frac_W(), bound,
                       wq.ptr() + i0);
  }
  return wq;
}

void QuantizeBnParameters(const Scheme& s, const Tensor<int32_t>& gamma, const Tensor<int32_t>& beta,
                          Tensor<int16_t>& gamma_q, Tensor<int16_t>& beta_q) {
  gamma_q = Tensor<int16_t>(gamma.shape);
  beta_q = Tensor<int16_t>(beta.shape);
  for (int64_t c = 0; c < gamma.size(); ++c) {
    gamma_q[c] = static_cast<int16_t>(fx::SaturateSigned(RequantizeMaster(s, gamma[c], s.frac_gamma()), 16));
    beta_q[c] = static_cast<int16_t>(fx::SaturateSigned(RequantizeMaster(s, beta[c], s.frac_beta()), 16));
  }
}

namespace {

// Q_A(relu(x3)) and the ReLU mask of one x3 (docs/numerics.md): a = RHE(x3 / 2^a_shift),
// x4 = clip(a, 0, 2^k_A - 1); the error passes where x3 > 0 and x4 did not saturate.
inline void Activate(int64_t x3, int a_shift, int64_t a_max, uint8_t& x4, uint8_t& pass) {
  const int64_t a = fx::RoundHalfEvenShiftRight(x3, a_shift);
  x4 = static_cast<uint8_t>(fx::Saturate(a, 0, a_max));
  pass = x3 > 0 && a <= a_max;
}

// x3 = gamma_q x2 + offset (+ residual) for one row (one image, one channel), exact.
// x3 = gamma_q x2 + offset + (identity << identity_shift) for one row: the identity shortcut
// at frac_x3 bits (ActivationAsResidual), exact.
OCTET_VECTOR_CLONES
void ScaleShiftIdentityRow(const int32_t* x2, const uint8_t* identity, int identity_shift, int64_t count,
                           int64_t gamma, int64_t offset, int64_t* x3) {
  for (int64_t i = 0; i < count; ++i) x3[i] = gamma * x2[i] + offset + (int64_t{identity[i]} << identity_shift);
}

OCTET_VECTOR_CLONES
void ScaleShiftRow(const int32_t* x2, const int64_t* residual, int64_t count, int64_t gamma, int64_t offset,
                   int64_t* x3) {
  if (residual == nullptr) {
    for (int64_t i = 0; i < count; ++i) x3[i] = gamma * x2[i] + offset;
  } else {
    for (int64_t i = 0; i < count; ++i) x3[i] = gamma * x2[i] + offset + residual[i];
  }
}

// x4 and the ReLU mask for one row.
OCTET_VECTOR_CLONES
void ActivationRow(const int64_t* x3, int64_t count, int a_shift, int64_t a_max, uint8_t* x4, uint8_t* pass) {
  for (int64_t i = 0; i < count; ++i) Activate(x3[i], a_shift, a_max, x4[i], pass[i]);
}

OCTET_VECTOR_CLONES
void MaskRow(const uint8_t* pass, const int8_t* e0, int64_t count, int8_t* e1) {
  for (int64_t i = 0; i < count; ++i) e1[i] = pass[i] ? e0[i] : 0;
}

// GCC 12 warns that the conversion intrinsics read an "uninitialized" value inside its own
// headers (a false positive: every vector is set before use).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

// One short row of ScaleOffsetActivate on AVX-512 (vector_clones.h, kShortRow): x3 = gamma
// x2 + offset, plus the residual or the shifted identity if given, then x4 and the ReLU
// mask if x4 is given (Activate lane by lane: RHE shift by 0 < a_shift < 63, clip, mask).
OCTET_AVX512_ROWS
void ScaleOffsetActivateRowAvx512(const int32_t* x2, const int64_t* residual, const uint8_t* identity,
                                  int identity_shift, int64_t count, int64_t gamma, int64_t offset, int a_shift,
                                  int64_t a_max, int64_t* x3, uint8_t* x4, uint8_t* pass) {
  const __m512i gamma_v = _mm512_set1_epi64(gamma), offset_v = _mm512_set1_epi64(offset);
  const __m512i one = _mm512_set1_epi64(1), zero = _mm512_setzero_si512(), a_max_v = _mm512_set1_epi64(a_max);
  const __m512i low_bits = _mm512_set1_epi64((int64_t{1} << a_shift) - 1);
  const __m512i half = _mm512_set1_epi64(int64_t{1} << (a_shift - 1));
  const __m128i a_count = _mm_cvtsi32_si128(a_shift), identity_count = _mm_cvtsi32_si128(identity_shift);
  for (int64_t i = 0; i < count; i += 8) {
    const __mmask8 lanes = LanesFrom(i, count);
    const __m512i x = _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(lanes, x2 + i));
    __m512i v = _mm512_add_epi64(_mm512_mul_epi32(gamma_v, x), offset_v);  // |gamma_q| < 2^15: exact
    if (residual != nullptr) v = _mm512_add_epi64(v, _mm512_maskz_loadu_epi64(lanes, residual + i));
    if (identity != nullptr) {
      const __m512i id = _mm512_cvtepu8_epi64(_mm_maskz_loadu_epi8(lanes, identity + i));
      v = _mm512_add_epi64(v, _mm512_sll_epi64(id, identity_count));
    }
    _mm512_mask_storeu_epi64(x3 + i, lanes, v);
    if (x4 == nullptr) continue;
    // a = RHE(x3 / 2^a_shift): the floor, plus one above half or at half with an odd floor.
    const __m512i floor = _mm512_sra_epi64(v, a_count), rest = _mm512_and_si512(v, low_bits);
    const __mmask8 up = _mm512_cmpgt_epi64_mask(rest, half) |
                        (_mm512_cmpeq_epi64_mask(rest, half) & _mm512_test_epi64_mask(floor, one));
    const __m512i a = _mm512_mask_add_epi64(floor, up, floor, one);
    _mm_mask_storeu_epi8(x4 + i, lanes, _mm512_cvtepi64_epi8(_mm512_min_epi64(_mm512_max_epi64(a, zero), a_max_v)));
    const __mmask8 passes = _mm512_cmpgt_epi64_mask(v, zero) & _mm512_cmple_epi64_mask(a, a_max_v);
    _mm_mask_storeu_epi8(pass + i, lanes, _mm_maskz_mov_epi8(passes, _mm_set1_epi8(1)));
  }
}

#pragma GCC diagnostic pop

// Element-wise passes over a whole tensor run in rows of kRow elements (the last one
// shorter or empty), each row one call of a kernel.
constexpr int64_t kRow = 16384;

// The scale/offset/activation constants of a scheme.
struct ActivationConstants {
  int beta_shift;  // beta_q (frac_beta bits) to x3's frac_x3 bits
  int a_shift;     // x3 (frac_x3 bits) to x4's frac_A bits
  int64_t a_max;   // 2^k_A - 1
  explicit ActivationConstants(const Scheme& s)
      : beta_shift(s.frac_x3() - s.frac_beta()), a_shift(s.frac_x3() - s.frac_A()), a_max((int64_t{1} << s.k_A) - 1) {}
  int64_t Offset(int16_t beta_q) const { return int64_t{beta_q} * (int64_t{1} << beta_shift); }
};

}  // namespace

ActivatedElement ScaleOffsetActivateElement(const Scheme& s, int32_t x2, int16_t gamma_q, int16_t beta_q,
                                            int64_t residual) {
  const ActivationConstants k(s);
  ActivatedElement e{int64_t{gamma_q} * x2 + k.Offset(beta_q) + residual, 0, 0};
  Activate(e.x3, k.a_shift, k.a_max, e.x4, e.relu_pass);
  return e;
}

void ScaleOffsetActivate(const Scheme& s, const BnShape& shape, const int32_t* x2, const int16_t* gamma_q,
                         const int16_t* beta_q, const int64_t* residual, int64_t* x3, uint8_t* x4, uint8_t* relu_pass,
                         const uint8_t* identity) {
  const ActivationConstants k(s);
  const int identity_shift = s.frac_x3() - s.frac_A();  // exact: frac_x3 >= frac_A (checked by QuantLayer)
  // Short rows (kShortRow) on AVX-512; on long ones the plain vectorised loops measured as fast.
  const bool short_rows = UseAvx512Rows() && shape.pixels < kShortRow && k.a_shift > 0 && k.a_shift < 63;
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < shape.batch * shape.channels; ++nc) {
    const int64_t c = nc % shape.channels;
    const int64_t i0 = nc * shape.pixels;
    if (short_rows) {
      ScaleOffsetActivateRowAvx512(x2 + i0, residual ? residual + i0 : nullptr, identity ? identity + i0 : nullptr,
                                   identity_shift, shape.pixels, gamma_q[c], k.Offset(beta_q[c]), k.a_shift, k.a_max,
                                   x3 + i0, x4 ? x4 + i0 : nullptr, x4 ? relu_pass + i0 : nullptr);
      continue;
    }
    if (identity != nullptr) {
      ScaleShiftIdentityRow(x2 + i0, identity + i0, identity_shift, shape.pixels, gamma_q[c], k.Offset(beta_q[c]), x3 + i0);
    } else {
      ScaleShiftRow(x2 + i0, residual ? residual + i0 : nullptr, shape.pixels, gamma_q[c], k.Offset(beta_q[c]), x3 + i0);
    }
    if (x4 != nullptr) ActivationRow(x3 + i0, shape.pixels, k.a_shift, k.a_max, x4 + i0, relu_pass + i0);
  }
}

void ActivationAsResidual(const Scheme& s, std::span<const uint8_t> x, std::span<int64_t> residual) {
  const int shift = s.frac_x3() - s.frac_A();  // exact: frac_x3 >= frac_A (checked by QuantLayer)
  for (size_t i = 0; i < x.size(); ++i) residual[i] = int64_t{x[i]} << shift;
}

// k_E1 <= 8, so SQ(., k_E1) fits the int8 container directly.
int QuantizeE1(const Scheme& s, std::span<const int64_t> m, int exp, std::span<int8_t> out) {
  return q::ShiftQuantize(m, exp, s.k_E1, out);
}
int QuantizeE1(const Scheme& s, std::span<const float> x, std::span<int8_t> out) {
  return q::ShiftQuantize(x, s.k_E1, out);
}

void ApplyActivationMask(std::span<const uint8_t> pass, std::span<const int8_t> e0, std::span<int8_t> e1) {
  const auto size = static_cast<int64_t>(pass.size());
  const int64_t rows = size / kRow;
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row <= rows; ++row) {
    const int64_t i0 = row * kRow;
    MaskRow(pass.data() + i0, e0.data() + i0, std::min(kRow, size - i0), e1.data() + i0);
  }
}

void InitializeWeights(const Scheme& s, uint64_t seed, uint32_t layer, int64_t fan_in, Tensor<int32_t>& w) {
  const double stddev = 1.0 / std::sqrt(static_cast<double>(fan_in));
  const uint64_t prefix = RandomStream{seed, 0, layer, static_cast<uint32_t>(InitStreamId::kWeights)}.Prefix();
  for (int64_t i = 0; i < w.size(); ++i) {
    const double value = stddev * TruncatedStandardNormal(prefix, i);
    w[i] = static_cast<int32_t>(fx::SaturateSymmetric(fx::RoundHalfEvenScale(value, s.frac_WU()), MasterWeightBound(s)));
  }
}

int QuantizeE2(const Scheme& s, std::span<const int64_t> m, int exp, Tensor<int16_t>& e3, Tensor<uint16_t>& words) {
  return QuantizeE2(s, m, exp, q::MaxMagnitude(m), e3, words);
}

int QuantizeE2(const Scheme& s, std::span<const int64_t> m, int exp, uint64_t max_abs, Tensor<int16_t>& e3,
               Tensor<uint16_t>& words) {
  if (s.e2_mode == E2Mode::kFlag) {  // values and their stored words in one pass
    ResizeForOverwrite(words, e3.shape);
    return q::FlagQuantize(m, exp, max_abs, Span(e3), Span(words));
  }
  words = Tensor<uint16_t>();
  return q::ShiftQuantize(m, exp, max_abs, s.k_E2, Span(e3));
}

int QuantizeE2(const Scheme& s, std::span<const float> x, Tensor<int16_t>& e3, Tensor<uint16_t>& words) {
  if (s.e2_mode == E2Mode::kFlag) {
    const int exp = q::FlagQuantize(x, Span(e3));
    ResizeForOverwrite(words, e3.shape);
    q::FlagEncode(Span(std::as_const(e3)), Span(words));
    return exp;
  }
  words = Tensor<uint16_t>();
  return q::ShiftQuantize(x, s.k_E2, Span(e3));
}

Tensor<int32_t> QuantizeParameterGradient(const Scheme& s, const Tensor<int64_t>& m, int exp) {
  Tensor<int32_t> out(m.shape);
  for (int64_t i = 0; i < m.size(); ++i) {
    out[i] = static_cast<int32_t>(fx::SaturateSymmetric(fx::RoundHalfEvenScale(m[i], exp + s.frac_GC()), kInt32Max));
  }
  return out;
}

namespace {

// One element's update, with Acc's requantisation shift k_GC - k_Acc passed in (so that the
// row loop below reads nothing from the Scheme and GCC vectorises it).
inline MomentumStep MomentumStepOf(int64_t mom, int64_t lr, int64_t grad, int64_t bound, int acc_shift,
                                   int32_t& param, int32_t& acc_q) {
  const int64_t acc = fx::SaturateSymmetric(mom * acc_q + grad, kInt32Max);
  const int64_t delta = lr * acc;
  param = static_cast<int32_t>(fx::SaturateSymmetric(int64_t{param} - delta, bound));
  acc_q = static_cast<int32_t>(fx::RoundHalfEvenShiftRight(acc, acc_shift));
  return {static_cast<int32_t>(acc), delta};
}

// MomentumStepOf over one row.
template <typename G>
OCTET_VECTOR_CLONES void MomentumRow(int64_t mom, int64_t lr, int acc_shift, const G* grad, int64_t count,
                                     int64_t bound, int32_t* param, int32_t* acc_q, int32_t* acc_out,
                                     int64_t* delta_out) {
  for (int64_t i = 0; i < count; ++i) {
    const MomentumStep step = MomentumStepOf(mom, lr, grad[i], bound, acc_shift, param[i], acc_q[i]);
    acc_out[i] = step.acc;
    delta_out[i] = step.delta;
  }
}

}  // namespace

MomentumStep MomentumUpdateElement(const Scheme& s, int64_t mom, int64_t lr, int64_t grad, int64_t bound,
                                   int32_t& param, int32_t& acc_q) {
  return MomentumStepOf(mom, lr, grad, bound, s.frac_GC() - s.frac_Acc(), param, acc_q);
}

template <typename G>
void MomentumUpdate(const Scheme& s, int64_t lr, const Tensor<G>& grad, int64_t bound, Tensor<int32_t>& param,
                    Tensor<int32_t>& acc_q, Tensor<int32_t>& acc_out, Tensor<int64_t>& delta_out) {
  const int64_t mom = s.MomentumInt();
  ResizeForOverwrite(acc_out, grad.shape);  // every element written below
  ResizeForOverwrite(delta_out, grad.shape);
  const int64_t rows = grad.size() / kParallelElements;
#pragma omp parallel for schedule(static) if (rows > 0)
  for (int64_t row = 0; row <= rows; ++row) {
    const int64_t i0 = row * kParallelElements;
    MomentumRow(mom, lr, s.frac_GC() - s.frac_Acc(), grad.ptr() + i0, std::min(kParallelElements, grad.size() - i0),
                bound, param.ptr() + i0, acc_q.ptr() + i0, acc_out.ptr() + i0, delta_out.ptr() + i0);
  }
}

template void MomentumUpdate<int16_t>(const Scheme&, int64_t, const Tensor<int16_t>&, int64_t, Tensor<int32_t>&,
                                      Tensor<int32_t>&, Tensor<int32_t>&, Tensor<int64_t>&);
template void MomentumUpdate<int32_t>(const Scheme&, int64_t, const Tensor<int32_t>&, int64_t, Tensor<int32_t>&,
                                      Tensor<int32_t>&, Tensor<int32_t>&, Tensor<int64_t>&);

}  // namespace octet
