// IntBatchNormForward / IntBatchNormBackward against independent references: exact
// rational characterisations of round-half-to-even (|2 (q d - n)| <= d, ties even) and
// long-double evaluations of the textbook formulas, on seeded random channels of several
// shapes and on hand-made corner channels (ties, constant channels, saturation).
#include <algorithm>
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "tests/golden/thread_count.h"
#include "golden/kernels/int_batchnorm.h"
#include "golden/numerics/scheme.h"

namespace octet {
namespace {

using int128 = __int128;

using u128 = unsigned __int128;

int128 Pow2(int e) { return static_cast<int128>(1) << e; }

// q is RHE(num / den) (den > 0): |2 (q den - num)| <= den, and a tie picks the even q.
bool IsRoundHalfEven(int128 q, int128 num, int128 den) {
  const int128 twice_err = 2 * (q * den - num);
  const int128 abs_err = twice_err < 0 ? -twice_err : twice_err;
  if (abs_err > den) return false;
  if (abs_err == den && (q & 1) != 0) return false;
  return true;
}

std::string Where(int64_t c, int64_t i = -1) {
  return "channel " + std::to_string(c) + (i >= 0 ? " element " + std::to_string(i) : "");
}

struct BnCase {
  BnShape shape;
  std::vector<int32_t> x1;
};

// Checks one forward result against the definitions, for any scheme widths.
void CheckForward(const Scheme& s, const BnCase& bc, const std::vector<int32_t>& mu_q,
                  const std::vector<int32_t>& sigma_q, const std::vector<int32_t>& x2) {
  const BnShape& sh = bc.shape;
  const int f_x1 = s.frac_x1(), f_mu = s.frac_mu(), f_sigma = s.frac_sigma(), f_bn = s.frac_BN();
  const int128 n = sh.count();
  const int64_t x2_max = (int64_t{1} << (s.k_BN + 7)) - 1;
  for (int64_t c = 0; c < sh.channels; ++c) {
    int128 s1 = 0, s2 = 0;
    long double ld_sum = 0;
    for (int64_t b = 0; b < sh.batch; ++b) {
      for (int64_t i = 0; i < sh.pixels; ++i) {
        const int128 v = bc.x1[(b * sh.channels + c) * sh.pixels + i];
        s1 += v;
        s2 += v * v;
        ld_sum += static_cast<long double>(v);
      }
    }
    // mu_q = RHE(mean * 2^f_mu), mean = S1 / n * 2^-f_x1.
    const int dm = f_mu - f_x1;
    const int128 mu_num = dm >= 0 ? s1 * Pow2(dm) : s1;
    const int128 mu_den = dm >= 0 ? n : n * Pow2(-dm);
    EXPECT_TRUE(IsRoundHalfEven(mu_q[c], mu_num, mu_den)) << Where(c) << " mu_q " << mu_q[c];
    const long double mean_ld = std::ldexp(ld_sum / static_cast<long double>(sh.count()), dm);
    EXPECT_LE(std::fabs(static_cast<long double>(mu_q[c]) - mean_ld), 0.5L + 1e-9L) << Where(c);

    // sigma_q - 1 = RHE(sqrt(var) * 2^f_sigma), var = (n S2 - S1^2) / n^2 * 2^(-2 f_x1):
    // (2 s - 1)^2 n^2 <= 4 D 4^h <= (2 s + 1)^2 n^2, h = f_sigma - f_x1, ties to even s.
    const int128 d = n * s2 - s1 * s1;
    ASSERT_GE(d, 0);
    const int h = f_sigma - f_x1;
    const int128 mid = h >= 0 ? 4 * d * Pow2(2 * h) : 4 * d;
    const int128 scale_n2 = h >= 0 ? n * n : n * n * Pow2(-2 * h);
    const int128 sp = sigma_q[c] - 1;
    ASSERT_GE(sp, 0) << Where(c);
    const int128 lo = (2 * sp - 1) * (2 * sp - 1) * scale_n2, hi = (2 * sp + 1) * (2 * sp + 1) * scale_n2;
    if (sp > 0) {
      EXPECT_LE(lo, mid) << Where(c) << " sigma_q " << sigma_q[c];
      if (lo == mid) {
        EXPECT_EQ(static_cast<int>(sp % 2), 0) << Where(c);
      }
    }
    EXPECT_LE(mid, hi) << Where(c) << " sigma_q " << sigma_q[c];
    if (hi == mid) {
      EXPECT_EQ(static_cast<int>(sp % 2), 0) << Where(c);
    }
    const long double var_ld = static_cast<long double>(d) / (static_cast<long double>(n) * static_cast<long double>(n));
    const long double sigma_ld = std::ldexp(std::sqrt(var_ld), f_sigma - f_x1);
    EXPECT_LE(std::fabs(static_cast<long double>(sp) - sigma_ld), 0.5L + 1e-9L * (1 + sigma_ld)) << Where(c);

    // x2 = sat(RHE((x1 - mu_q) / sigma_q * 2^f_bn)).
    const int f = std::max(f_x1, f_mu);
    const int out_shift = f_bn + f_sigma - f;
    for (int64_t b = 0; b < sh.batch; ++b) {
      for (int64_t i = 0; i < sh.pixels; ++i) {
        const int64_t idx = (b * sh.channels + c) * sh.pixels + i;
        const int128 centered = bc.x1[idx] * Pow2(f - f_x1) - static_cast<int128>(mu_q[c]) * Pow2(f - f_mu);
        const int128 num = out_shift >= 0 ? centered * Pow2(out_shift) : centered;
        const int128 den = out_shift >= 0 ? static_cast<int128>(sigma_q[c]) : sigma_q[c] * Pow2(-out_shift);
        const int64_t q = x2[idx];
        if (q == x2_max) {
          EXPECT_GE(2 * num, (2 * static_cast<int128>(q) - 1) * den) << Where(c, idx);
        } else if (q == -x2_max - 1) {
          EXPECT_LE(2 * num, (2 * static_cast<int128>(q) + 1) * den) << Where(c, idx);
        } else {
          EXPECT_TRUE(IsRoundHalfEven(q, num, den)) << Where(c, idx) << " x2 " << q;
        }
        EXPECT_LE(q, x2_max);
        EXPECT_GE(q, -x2_max - 1);
      }
    }
  }
}

BnCase RandomCase(const BnShape& shape, int64_t range, std::mt19937_64& rng) {
  BnCase bc{shape, std::vector<int32_t>(shape.batch * shape.channels * shape.pixels)};
  std::uniform_int_distribution<int64_t> dist(-range, range);
  std::uniform_int_distribution<int64_t> offset(-range / 2, range / 2);
  for (int64_t c = 0; c < shape.channels; ++c) {
    // Each channel gets its own offset and spread so the statistics differ per channel.
    const int64_t off = offset(rng);
    const int64_t spread = 1 + static_cast<int64_t>(rng() % 4);
    for (int64_t b = 0; b < shape.batch; ++b) {
      for (int64_t i = 0; i < shape.pixels; ++i) {
        bc.x1[(b * shape.channels + c) * shape.pixels + i] = static_cast<int32_t>(off + dist(rng) / spread);
      }
    }
  }
  return bc;
}

struct ForwardOut {
  std::vector<int32_t> mu, sigma, x2;
};

ForwardOut RunForward(const Scheme& s, const BnCase& bc) {
  ForwardOut out{std::vector<int32_t>(bc.shape.channels), std::vector<int32_t>(bc.shape.channels),
                 std::vector<int32_t>(bc.x1.size())};
  IntBatchNormForward(s, bc.shape, bc.x1.data(), out.mu.data(), out.sigma.data(), out.x2.data());
  return out;
}

const std::vector<BnShape> kShapes = {{1, 1, 1}, {1, 1, 4}, {2, 3, 5}, {4, 2, 1}, {3, 4, 7}, {8, 3, 16}, {1, 2, 9}};

Scheme SchemeWith(int k_BN, int k_mu, int k_sigma) {
  Scheme s = LoadScheme("wageubn8");
  s.k_BN = k_BN;
  s.k_mu = k_mu;
  s.k_sigma = k_sigma;
  return s;
}

// ---------------------------------------------------------------------------------------
// Forward.

TEST(IntBatchNormForward, RandomChannelsMatchDefinition) {
  const ThreadCount single(1);
  std::mt19937_64 rng(77);
  // Default wageubn8 widths, the anchor's k_BN = 8, and narrower statistics (f_mu, f_sigma
  // below f_x1 = 14) to exercise the other alignment branches.
  const std::vector<Scheme> schemes = {LoadScheme("wageubn8"), SchemeWith(8, 16, 16), SchemeWith(12, 10, 12)};
  for (const Scheme& s : schemes) {
    for (const BnShape& shape : kShapes) {
      for (int64_t range : {int64_t{3}, int64_t{1000}, int64_t{1} << 22, int64_t{1} << 28}) {
        const BnCase bc = RandomCase(shape, range, rng);
        const ForwardOut out = RunForward(s, bc);
        SCOPED_TRACE("k_BN " + std::to_string(s.k_BN) + " k_mu " + std::to_string(s.k_mu) + " shape " +
                     std::to_string(shape.batch) + "x" + std::to_string(shape.channels) + "x" +
                     std::to_string(shape.pixels) + " range " + std::to_string(range));
        CheckForward(s, bc, out.mu, out.sigma, out.x2);
      }
    }
  }
}

TEST(IntBatchNormForward, MeanTiesRoundToEven) {
  const Scheme s = LoadScheme("wageubn8");
  // [0, 0, 0, 1] at 2^-14: mean 0.5 units of 2^-15 -> 0; variance 3/16 -> sigma 0.866 -> 1, + eps.
  {
    const ForwardOut out = RunForward(s, BnCase{{1, 1, 4}, {0, 0, 0, 1}});
    EXPECT_EQ(out.mu[0], 0);
    EXPECT_EQ(out.sigma[0], 2);
    EXPECT_EQ(out.x2, (std::vector<int32_t>{0, 0, 0, 32768}));  // 2 * 2^15 / 2
  }
  // [1, 1, 1, 0]: mean 1.5 units -> 2.
  {
    const ForwardOut out = RunForward(s, BnCase{{1, 1, 4}, {1, 1, 1, 0}});
    EXPECT_EQ(out.mu[0], 2);
    EXPECT_EQ(out.sigma[0], 2);
    EXPECT_EQ(out.x2, (std::vector<int32_t>{0, 0, 0, -32768}));
  }
}

TEST(IntBatchNormForward, NormalizedValueTiesRoundToEven) {
  // [-32767, -32767, 32768, 32768]: mean 0.5 (mu_q = 1 at 2^-15), std exactly 32767.5
  // (sigma_q = 65535 + eps = 2^16), so x2 = (2 x1 - 1) / 2 is always a tie.
  const Scheme s = LoadScheme("wageubn8");
  const ForwardOut out = RunForward(s, BnCase{{2, 1, 2}, {-32767, -32767, 32768, 32768}});
  EXPECT_EQ(out.mu[0], 1);
  EXPECT_EQ(out.sigma[0], 65536);
  EXPECT_EQ(out.x2, (std::vector<int32_t>{-32768, -32768, 32768, 32768}));  // -32767.5, 32767.5
}

TEST(IntBatchNormForward, ConstantChannel) {
  const Scheme s = LoadScheme("wageubn8");
  for (int32_t v : {0, 1, -7, 123456789, -(1 << 28)}) {
    BnCase bc{{3, 2, 5}, std::vector<int32_t>(30)};
    for (int64_t b = 0; b < 3; ++b) {
      for (int64_t i = 0; i < 5; ++i) {
        bc.x1[(b * 2 + 0) * 5 + i] = v;                           // channel 0 constant
        bc.x1[(b * 2 + 1) * 5 + i] = static_cast<int32_t>(b * 5 + i);  // channel 1 not
      }
    }
    const ForwardOut out = RunForward(s, bc);
    EXPECT_EQ(out.mu[0], static_cast<int64_t>(v) * 2) << v;  // exact at one more fractional bit
    EXPECT_EQ(out.sigma[0], 1) << v;                        // variance 0: eps only
    for (int64_t b = 0; b < 3; ++b) {
      for (int64_t i = 0; i < 5; ++i) EXPECT_EQ(out.x2[(b * 2) * 5 + i], 0) << v;
    }
    EXPECT_EQ(out.mu[1], 14);  // channel 1 is 0..14: mean 7 -> 14 at 2^-15
    CheckForward(s, bc, out.mu, out.sigma, out.x2);
  }
}

TEST(IntBatchNormForward, SaturatesX2Container) {
  // One outlier among n - 1 zeros normalises to sqrt(n - 1): with n = 2^17 that is 362 > 256,
  // beyond the (k_BN + 8)-bit container (|x2| <= 2^23 - 1 at 15 fractional bits).
  const Scheme s = LoadScheme("wageubn8");
  const int64_t n = int64_t{1} << 17;
  BnCase bc{{2, 1, n / 2}, std::vector<int32_t>(n, 0)};
  bc.x1[12345] = 1 << 20;
  const ForwardOut out = RunForward(s, bc);
  EXPECT_EQ(out.x2[12345], (1 << 23) - 1);
  CheckForward(s, bc, out.mu, out.sigma, out.x2);
  // The negative outlier saturates at -2^23.
  bc.x1[12345] = -(1 << 20);
  const ForwardOut neg = RunForward(s, bc);
  EXPECT_EQ(neg.x2[12345], -(1 << 23));
  CheckForward(s, bc, neg.mu, neg.sigma, neg.x2);
}

// ---------------------------------------------------------------------------------------
// Backward.

void CheckBackward(const Scheme& s, const BnCase& bc, const ForwardOut& fwd, const std::vector<int8_t>& e1,
                   int e1_exp, const std::vector<int16_t>& gamma_q) {
  const BnShape& sh = bc.shape;
  const int64_t total = static_cast<int64_t>(bc.x1.size());
  std::vector<int32_t> e2(total);
  std::vector<int64_t> dx1(total), g_gamma(sh.channels), g_beta(sh.channels);
  int g_gamma_exp = 0, g_beta_exp = 0;
  uint64_t max_dx1 = 12345;
  const int dx1_exp = IntBatchNormBackward(s, sh, e1.data(), e1_exp, gamma_q.data(), fwd.x2.data(), fwd.sigma.data(),
                                           e2.data(), dx1.data(), g_gamma.data(), g_beta.data(), &g_gamma_exp,
                                           &g_beta_exp, &max_dx1);
  uint64_t expected_max = 0;  // max |dx1|, which E2 takes from the BN unit
  for (const int64_t v : dx1) expected_max = std::max(expected_max, v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v));
  EXPECT_EQ(max_dx1, expected_max);
  const int e2_exp = e1_exp - s.frac_gamma();
  const int f_bn = s.frac_BN(), f_sigma = s.frac_sigma();
  EXPECT_EQ(dx1_exp, e2_exp - kBnBackwardExtraBits);
  EXPECT_EQ(g_gamma_exp, e1_exp - f_bn);
  EXPECT_EQ(g_beta_exp, e1_exp);
  const int64_t n = sh.count();
  for (int64_t c = 0; c < sh.channels; ++c) {
    int64_t sum_e1 = 0, sum_e1x2 = 0;
    int128 s_e = 0, s_ex = 0;
    long double mean_e2 = 0, mean_e2x2 = 0;
    for (int64_t b = 0; b < sh.batch; ++b) {
      for (int64_t i = 0; i < sh.pixels; ++i) {
        const int64_t idx = (b * sh.channels + c) * sh.pixels + i;
        const int64_t e2_i = int64_t{e1[idx]} * gamma_q[c];
        EXPECT_EQ(e2[idx], e2_i) << Where(c, idx);
        sum_e1 += e1[idx];
        sum_e1x2 += int64_t{e1[idx]} * fwd.x2[idx];
        s_e += e2_i;
        s_ex += static_cast<int128>(e2_i) * fwd.x2[idx];
        const long double e2v = std::ldexp(static_cast<long double>(e2_i), e2_exp);
        const long double x2v = std::ldexp(static_cast<long double>(fwd.x2[idx]), -f_bn);
        mean_e2 += e2v;
        mean_e2x2 += e2v * x2v;
      }
    }
    mean_e2 /= n;
    mean_e2x2 /= n;
    EXPECT_EQ(g_beta[c], sum_e1) << Where(c);
    EXPECT_EQ(g_gamma[c], sum_e1x2) << Where(c);
    const long double sigma = std::ldexp(static_cast<long double>(fwd.sigma[c]), -f_sigma);
    // Exact: dx1 = RHE(N 2^(f_sigma + extra) / (n sigma_q 2^(2 f_bn))),
    // N = (n e2 - S_e) 2^(2 f_bn) - x2 S_ex (the formula over a common denominator).
    const int128 den = static_cast<int128>(n) * fwd.sigma[c] * Pow2(2 * f_bn);
    for (int64_t b = 0; b < sh.batch; ++b) {
      for (int64_t i = 0; i < sh.pixels; ++i) {
        const int64_t idx = (b * sh.channels + c) * sh.pixels + i;
        const long double e2v = std::ldexp(static_cast<long double>(e2[idx]), e2_exp);
        const long double x2v = std::ldexp(static_cast<long double>(fwd.x2[idx]), -f_bn);
        const long double dx = (e2v - mean_e2 - x2v * mean_e2x2) / sigma;
        const long double ref_lsb = std::ldexp(dx, -dx1_exp);
        const long double scale_lsb = std::ldexp((std::fabs(e2v) + std::fabs(mean_e2) + std::fabs(x2v * mean_e2x2)) / sigma, -dx1_exp);
        EXPECT_LE(std::fabs(static_cast<long double>(dx1[idx]) - ref_lsb), 0.5L + 1e-9L * (1 + scale_lsb))
            << Where(c, idx) << " dx1 " << dx1[idx] << " ref " << static_cast<double>(ref_lsb);
        const int128 num = ((static_cast<int128>(n) * e2[idx] - s_e) * Pow2(2 * f_bn) - fwd.x2[idx] * s_ex) *
                           Pow2(f_sigma + kBnBackwardExtraBits);
        EXPECT_TRUE(IsRoundHalfEven(dx1[idx], num, den)) << Where(c, idx) << " dx1 " << dx1[idx];
      }
    }
  }
}

TEST(IntBatchNormBackward, RandomChannelsMatchFormula) {
  const ThreadCount single(1);
  std::mt19937_64 rng(99);
  const std::vector<Scheme> schemes = {LoadScheme("wageubn8"), SchemeWith(8, 16, 16)};
  for (const Scheme& s : schemes) {
    for (const BnShape& shape : kShapes) {
      for (int64_t range : {int64_t{50}, int64_t{1} << 20, int64_t{1} << 28}) {
        const BnCase bc = RandomCase(shape, range, rng);
        const ForwardOut fwd = RunForward(s, bc);
        std::vector<int8_t> e1(bc.x1.size());
        for (auto& e : e1) e = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
        if (rng() % 2 == 0) e1[0] = 0;
        std::vector<int16_t> gamma_q(shape.channels);
        for (auto& g : gamma_q) g = static_cast<int16_t>(static_cast<int>(rng() % 513) - 256);
        gamma_q[0] = 128;  // gamma = 1.0, the initial value
        const int e1_exp = -20 + static_cast<int>(rng() % 16);
        SCOPED_TRACE("k_BN " + std::to_string(s.k_BN) + " shape " + std::to_string(shape.batch) + "x" +
                     std::to_string(shape.channels) + "x" + std::to_string(shape.pixels) + " range " +
                     std::to_string(range));
        CheckBackward(s, bc, fwd, e1, e1_exp, gamma_q);
      }
    }
  }
}

// The row kernels round most quotients from a double estimate and settle those near a
// half-integer with the exact remainder. Channels of two elements {m, m + 2^k - 1} have
// (x1 at 14 fractional bits, sigma_q at 15) sigma_q = 2^k and x2 = -+(2^k - 1) 2^(15 - k),
// so dx1 = num / den with den = 2^(k + 31) and
// num = gamma_q 2^31 [(2 e1_i - sum e1) 2^30 -+ (2^k - 1)^2 2^(30 - 2k) (e1_1 - e1_0)]: a tie
// exactly when the bracket times gamma_q has 2-adic valuation k - 1, i.e. when
// 30 - 2k + v(e1_1 - e1_0) + v(gamma_q) = k - 1. Every dx1 here is a tie, and must round to even.
TEST(IntBatchNormBackward, GradientTiesRoundToEven) {
  const Scheme s = LoadScheme("wageubn8");
  ASSERT_EQ(s.frac_x1() + 1, s.frac_sigma());
  std::mt19937_64 rng(2024);
  const int64_t channels = 12;
  for (int trial = 0; trial < 20; ++trial) {
    BnCase bc{{1, channels, 2}, std::vector<int32_t>(channels * 2)};
    std::vector<int8_t> e1(bc.x1.size());
    std::vector<int16_t> gamma_q(channels);
    for (int64_t c = 0; c < channels; ++c) {
      // (k, v(e1_1 - e1_0), v(gamma_q)) with 3k = 31 + v(d) + v(gamma).
      static const int kCases[][3] = {{11, 2, 0}, {11, 1, 1}, {11, 0, 2}, {12, 5, 0}, {12, 3, 2}, {13, 6, 2}};
      const int* pick = kCases[rng() % 6];
      const int32_t b = (1 << pick[0]) - 1, m = static_cast<int32_t>(rng() % 20001) - 10000;
      bc.x1[2 * c] = m;
      bc.x1[2 * c + 1] = m + b;
      const int odd = 2 * static_cast<int>(rng() % 2) - 1;  // d = +-2^v(d)
      const int d = odd << pick[1];
      const int e0 = static_cast<int>(rng() % 101) - 50;
      e1[2 * c] = static_cast<int8_t>(e0);
      e1[2 * c + 1] = static_cast<int8_t>(e0 + d);
      gamma_q[c] = static_cast<int16_t>((2 * static_cast<int>(rng() % 8) + 1) << pick[2]);
    }
    const ForwardOut fwd = RunForward(s, bc);
    for (int64_t c = 0; c < channels; ++c) ASSERT_EQ(fwd.sigma[c] & (fwd.sigma[c] - 1), 0) << Where(c);
    std::vector<int32_t> e2(bc.x1.size());
    std::vector<int64_t> dx1(bc.x1.size()), g_gamma(channels), g_beta(channels);
    int g_gamma_exp = 0, g_beta_exp = 0;
    IntBatchNormBackward(s, bc.shape, e1.data(), -10, gamma_q.data(), fwd.x2.data(), fwd.sigma.data(), e2.data(),
                         dx1.data(), g_gamma.data(), g_beta.data(), &g_gamma_exp, &g_beta_exp);
    const int f_bn = s.frac_BN(), f_sigma = s.frac_sigma();
    for (int64_t c = 0; c < channels; ++c) {
      int128 s_e = 0, s_ex = 0;
      for (int64_t i = 2 * c; i < 2 * c + 2; ++i) {
        s_e += int64_t{e1[i]} * gamma_q[c];
        s_ex += static_cast<int128>(int64_t{e1[i]} * gamma_q[c]) * fwd.x2[i];
      }
      const int128 den = 2 * static_cast<int128>(fwd.sigma[c]) * Pow2(2 * f_bn);
      for (int64_t i = 2 * c; i < 2 * c + 2; ++i) {
        const int128 num = ((2 * static_cast<int128>(e1[i]) * gamma_q[c] - s_e) * Pow2(2 * f_bn) - fwd.x2[i] * s_ex) *
                           Pow2(f_sigma + kBnBackwardExtraBits);
        ASSERT_EQ((2 * num) % den, 0) << Where(c, i);  // a tie: 2 num / den is odd
        ASSERT_NE((2 * num / den) % 2, 0) << Where(c, i);
        EXPECT_TRUE(IsRoundHalfEven(dx1[i], num, den)) << Where(c, i) << " dx1 " << dx1[i];
      }
    }
    CheckBackward(s, bc, fwd, e1, -10, gamma_q);
  }
}

TEST(IntBatchNormBackward, ExtremeErrorsAndConstantChannel) {
  const Scheme s = LoadScheme("wageubn8");
  std::mt19937_64 rng(5);
  BnCase bc = RandomCase({4, 3, 6}, int64_t{1} << 27, rng);
  for (int64_t b = 0; b < 4; ++b) {
    for (int64_t i = 0; i < 6; ++i) bc.x1[(b * 3 + 2) * 6 + i] = 4242;  // channel 2 constant
  }
  const ForwardOut fwd = RunForward(s, bc);
  EXPECT_EQ(fwd.sigma[2], 1);
  std::vector<int8_t> e1(bc.x1.size());
  for (size_t i = 0; i < e1.size(); ++i) e1[i] = (i % 3 == 0) ? -127 : 127;
  CheckBackward(s, bc, fwd, e1, -7, {32767, -32767, 255});
  CheckBackward(s, bc, fwd, e1, -7, {-256, 1, 0});
  // All-equal errors with gamma 1: e2 - mean(e2) = 0, so dx1 = -x2 mean(e2 x2) / sigma.
  std::vector<int8_t> flat(bc.x1.size(), 100);
  std::vector<int32_t> e2(bc.x1.size());
  std::vector<int64_t> dx1(bc.x1.size(), 7), gg(3), gb(3);
  int gge = 0, gbe = 0;
  const std::vector<int16_t> gamma = {128, 128, 128};
  IntBatchNormBackward(s, bc.shape, flat.data(), -9, gamma.data(), fwd.x2.data(), fwd.sigma.data(), e2.data(),
                       dx1.data(), gg.data(), gb.data(), &gge, &gbe);
  for (int64_t c = 0; c < 3; ++c) EXPECT_EQ(gb[c], 100 * 24);
  // Constant channel: x2 = 0, so dx1 = 0 there.
  for (int64_t b = 0; b < 4; ++b) {
    for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(dx1[(b * 3 + 2) * 6 + i], 0);
  }
  CheckBackward(s, bc, fwd, flat, -9, gamma);
}

}  // namespace
}  // namespace octet

namespace octet {
namespace {

TEST(IntBatchNormThreads, ThreadCountDoesNotChangeResult) {
  const Scheme s = LoadScheme("wageubn8");
  std::mt19937_64 rng(31);
  const BnCase bc = RandomCase({3, 7, 10}, int64_t{1} << 26, rng);
  std::vector<int8_t> e1(bc.x1.size());
  for (auto& e : e1) e = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  const std::vector<int16_t> gamma_q = {128, -3, 77, 256, -256, 1, 100};
  auto run = [&](int threads) {
    const ThreadCount t(threads > 0 ? threads : omp_get_max_threads());
    const ForwardOut fwd = RunForward(s, bc);
    std::vector<int32_t> e2(bc.x1.size());
    std::vector<int64_t> dx1(bc.x1.size()), gg(7), gb(7);
    int gge = 0, gbe = 0;
    IntBatchNormBackward(s, bc.shape, e1.data(), -8, gamma_q.data(), fwd.x2.data(), fwd.sigma.data(), e2.data(),
                         dx1.data(), gg.data(), gb.data(), &gge, &gbe);
    return std::make_tuple(fwd.mu, fwd.sigma, fwd.x2, e2, dx1, gg, gb);
  };
  const auto one = run(1), two = run(2), dflt = run(0);
  EXPECT_TRUE(one == two);
  EXPECT_TRUE(one == dflt);
  const ForwardOut fwd = RunForward(s, bc);
  CheckForward(s, bc, fwd.mu, fwd.sigma, fwd.x2);
  CheckBackward(s, bc, fwd, e1, -8, gamma_q);
}

}  // namespace
}  // namespace octet
