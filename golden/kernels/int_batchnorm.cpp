#include "golden/kernels/int_batchnorm.h"

#include <algorithm>
#include <cmath>

#include "golden/core/error.h"
#include "golden/numerics/fixed_point.h"

namespace octet {

using fx::int128;
using u128 = unsigned __int128;

void IntBatchNormForward(const Scheme& s, const BnShape& shape, const int32_t* x1, int32_t* mu_q, int32_t* sigma_q,
                         int32_t* x2) {
  const int f_x1 = s.frac_x1(), f_mu = s.frac_mu(), f_sigma = s.frac_sigma();
  const int64_t n = shape.count();
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < shape.channels; ++c) {
    // 1. Statistics pass: S1 = sum x1 (int64), S2 = sum x1^2 (unsigned 128-bit).
    int64_t s1 = 0;
    u128 s2 = 0;
    for (int64_t b = 0; b < shape.batch; ++b) {
      const int32_t* xs = x1 + (b * shape.channels + c) * shape.pixels;
      // |x1| < 2^28, so 64 squares sum below 2^62: partial sums in uint64, exact.
      for (int64_t i0 = 0; i0 < shape.pixels; i0 += 64) {
        const int64_t i1 = std::min(shape.pixels, i0 + 64);
        uint64_t part = 0;
        for (int64_t i = i0; i < i1; ++i) {
          s1 += xs[i];
          part += static_cast<uint64_t>(int64_t{xs[i]} * xs[i]);
        }
        s2 += part;
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
    // 4. x2 = Q((x1 - mu_q) / sigma_q, k_BN), element by element.
    const BnNormaliser normalise(s, mu, sigma);
    for (int64_t b = 0; b < shape.batch; ++b) {
      const int64_t base = (b * shape.channels + c) * shape.pixels;
      for (int64_t i = 0; i < shape.pixels; ++i) x2[base + i] = normalise(x1[base + i]);
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
                         int64_t* g_beta, int* g_gamma_exp, int* g_beta_exp) {
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
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < shape.channels; ++c) {
    const int64_t gamma = gamma_q[c];
    int64_t sum_e1 = 0, sum_e1x2 = 0;
    for (int64_t b = 0; b < shape.batch; ++b) {
      const int64_t base = (b * shape.channels + c) * shape.pixels;
      for (int64_t i = 0; i < shape.pixels; ++i) {
        e2[base + i] = static_cast<int32_t>(e1[base + i] * gamma);  // |e2| < 2^7 * 2^15
        sum_e1 += e1[base + i];
        sum_e1x2 += int64_t{e1[base + i]} * x2[base + i];
      }
    }
    g_gamma[c] = sum_e1x2;
    g_beta[c] = sum_e1;
    // dx1_i = RHE(num_i 2^scale / (n sigma_q)).
    const int128 den = static_cast<int128>(n) * sigma_q[c];
    const int128 s_ex_scaled = (static_cast<int128>(sum_e1x2) * gamma) << scale;
    const int a_shift = 2 * f_bn + scale;
    const fx::RoundHalfEvenDivider divide(den);
    // A double estimate of the quotient from the two terms, then the exact remainder:
    // with both terms below 2^50 the estimate is within one unit of the floor quotient.
    const double to_quotient = 1.0 / static_cast<double>(den);
    const double c_a = std::ldexp(static_cast<double>(gamma), a_shift) * to_quotient;
    const double c_b = static_cast<double>(s_ex_scaled) * to_quotient;
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
      }
    }
  }
  *g_gamma_exp = e1_exp - f_bn;
  *g_beta_exp = e1_exp;
  return dx1_exp;
}

}  // namespace octet
