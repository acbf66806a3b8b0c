// The hand-checkable vectors of the WAGEUBN numerics anchors
// (/work/shared/research/numerics-anchors.md, "Hand-checkable vectors"), expressed in the
// golden model's integer arithmetic. Every expected value below was worked out by hand
// from the paper / official-code formulas (round half to even everywhere).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "golden/kernels/int_batchnorm.h"
#include "golden/numerics/counter_rng.h"
#include "golden/numerics/fixed_point.h"
#include "golden/numerics/quantizers.h"
#include "golden/numerics/scheme.h"

namespace octet {
namespace {

// m = round(x * 2^40) (exp = -40): all anchor values are far above 2^-40, so the integer
// input carries the value to 40 fractional bits.
constexpr int kExp40 = -40;
std::vector<int64_t> Scale40(const std::vector<double>& x) {
  std::vector<int64_t> m;
  for (double v : x) m.push_back(static_cast<int64_t>(std::llround(std::ldexp(v, 40))));
  return m;
}

std::vector<double> Decode(const std::vector<int16_t>& out, int exp) {
  std::vector<double> v;
  for (int16_t o : out) v.push_back(std::ldexp(static_cast<double>(o), exp));
  return v;
}

// ---------------------------------------------------------------------------------------
// Q8: 2.5/128 -> 2/128, -2.5/128 -> -2/128, 1.5 -> 1.5 (Q does not clip).
TEST(NumericsAnchorQ8, TiesRoundHalfToEvenInteger) {
  // 2.5/128 = 5/256: an integer at 8 fractional bits, quantized to 7.
  EXPECT_EQ(fx::RoundHalfEvenShiftRight(5, 1), 2);
  EXPECT_EQ(fx::RoundHalfEvenShiftRight(-5, 1), -2);
  EXPECT_EQ(fx::RoundHalfEvenScale(int64_t{5}, -1), 2);
  EXPECT_EQ(fx::RoundHalfEvenScale(int64_t{-5}, -1), -2);
  // The same values at 40 fractional bits.
  EXPECT_EQ(fx::RoundHalfEvenShiftRight(int64_t{5} << 32, 33), 2);
  EXPECT_EQ(fx::RoundHalfEvenShiftRight(-(int64_t{5} << 32), 33), -2);
  // Off-tie values round to nearest: 2.0625 -> 2, 2.5625 -> 3.
  EXPECT_EQ(fx::RoundHalfEvenShiftRight(33, 4), 2);  // 33/16 = 2.0625 -> 2
  EXPECT_EQ(fx::RoundHalfEvenShiftRight(41, 4), 3);  // 2.5625 -> 3
  // 1.5 -> 192/128: no clip in Q itself.
  EXPECT_EQ(fx::RoundHalfEvenShiftRight(1536, 3), 192);
  EXPECT_EQ(fx::RoundHalfEvenScale(int64_t{3}, 6), 192);
}

TEST(NumericsAnchorQ8, TiesRoundHalfToEvenFloat) {
  EXPECT_EQ(fx::RoundHalfEvenScale(2.5 / 128, 7), 2);
  EXPECT_EQ(fx::RoundHalfEvenScale(-2.5 / 128, 7), -2);
  EXPECT_EQ(std::ldexp(static_cast<double>(fx::RoundHalfEvenScale(2.5 / 128, 7)), -7), 0.015625);
  EXPECT_EQ(fx::RoundHalfEvenScale(1.5, 7), 192);
  EXPECT_EQ(fx::RoundHalfEvenScale(3.5 / 128, 7), 4);
  EXPECT_EQ(fx::RoundHalfEvenScale(-3.5 / 128, 7), -4);
}

// ---------------------------------------------------------------------------------------
// W_q = clip(Q(W, 8), +-127/128), with W a master value at frac_WU = 23 bits: the layer's
// rule is saturate(RHE(w >> 16), +-127).
int64_t WeightQuantize(int64_t master) {
  return fx::SaturateSymmetric(fx::RoundHalfEvenShiftRight(master, 16), 127);
}

TEST(NumericsAnchorWq, ClipAfterQuantize) {
  const int64_t w_neg = fx::RoundHalfEvenScale(-1.2, 23);
  const int64_t w_pos = fx::RoundHalfEvenScale(0.996, 23);
  EXPECT_EQ(w_neg, -10066330);  // -1.2 * 2^23 = -10066329.6
  EXPECT_EQ(w_pos, 8355054);    // 0.996 * 2^23 = 8355053.568
  EXPECT_EQ(fx::RoundHalfEvenShiftRight(w_neg, 16), -154);  // Q first: -153.6 -> -154
  EXPECT_EQ(WeightQuantize(w_neg), -127);
  EXPECT_EQ(fx::RoundHalfEvenShiftRight(w_pos, 16), 127);  // 127.488 -> 127
  EXPECT_EQ(WeightQuantize(w_pos), 127);
  // The master range edge +-(1 - 2^-23) rounds to +-128 and clips to +-127.
  EXPECT_EQ(fx::RoundHalfEvenShiftRight((int64_t{1} << 23) - 1, 16), 128);
  EXPECT_EQ(WeightQuantize((int64_t{1} << 23) - 1), 127);
  EXPECT_EQ(WeightQuantize(-((int64_t{1} << 23) - 1)), -127);
  // A tie of the weight quantizer: 2.5/128 -> 2/128, 3.5/128 -> 4/128.
  EXPECT_EQ(WeightQuantize(5 << 15), 2);
  EXPECT_EQ(WeightQuantize(7 << 15), 4);
  EXPECT_EQ(WeightQuantize(-(5 << 15)), -2);
}

// ---------------------------------------------------------------------------------------
// R(x) = 2^round(log2 max|x|): 0.7 -> 0.5, 0.75 -> 1, 0.04 -> 2^-5, 3.0 -> 4.
TEST(NumericsAnchorR, RoundLog2OfDouble) {
  EXPECT_EQ(fx::RoundLog2(0.7), -1);
  EXPECT_EQ(fx::RoundLog2(0.75), 0);
  EXPECT_EQ(fx::RoundLog2(0.04), -5);
  EXPECT_EQ(fx::RoundLog2(3.0), 2);
  EXPECT_EQ(fx::RoundLog2(-3.0), 2);
}

TEST(NumericsAnchorR, ShiftExponentIntegerAndFloat) {
  const std::vector<double> xs = {0.7, 0.75, 0.04, 3.0};
  const std::vector<int> expected = {-1, 0, -5, 2};
  for (size_t i = 0; i < xs.size(); ++i) {
    const std::vector<int64_t> m = Scale40({xs[i]});
    EXPECT_EQ(q::ShiftExponent(m, kExp40), expected[i]) << xs[i];
    // As the max of a tensor with smaller elements of both signs.
    const std::vector<int64_t> m2 = Scale40({xs[i] / 3, -xs[i], xs[i] / 2});
    EXPECT_EQ(q::ShiftExponent(m2, kExp40), expected[i]) << xs[i];
    const std::vector<float> f = {static_cast<float>(xs[i] / 4), static_cast<float>(-xs[i])};
    EXPECT_EQ(q::ShiftExponent(f), expected[i]) << xs[i];
  }
}

// ---------------------------------------------------------------------------------------
// e = [0.3, -0.05, 0.001, 0.6], R = 0.5, Sc = 2^-8.
const std::vector<double> kE = {0.3, -0.05, 0.001, 0.6};

TEST(NumericsAnchorE1, PaperClipInteger) {
  const std::vector<int64_t> m = Scale40(kE);
  std::vector<int16_t> out(4);
  const int exp = q::ShiftQuantize(m, kExp40, 8, out);
  EXPECT_EQ(exp, -8);  // R / 128 = 2^-8
  EXPECT_EQ(out, (std::vector<int16_t>{77, -13, 0, 127}));
  EXPECT_EQ(Decode(out, exp), (std::vector<double>{0.30078125, -0.05078125, 0, 0.49609375}));
}

TEST(NumericsAnchorE1, PaperClipFloat) {
  const std::vector<float> x(kE.begin(), kE.end());
  std::vector<int16_t> out(4);
  const int exp = q::ShiftQuantize(x, 8, out);
  EXPECT_EQ(exp, -8);
  EXPECT_EQ(out, (std::vector<int16_t>{77, -13, 0, 127}));
  EXPECT_EQ(Decode(out, exp), (std::vector<double>{0.30078125, -0.05078125, 0, 0.49609375}));
}

TEST(NumericsAnchorE2, FlagInteger) {
  const std::vector<int64_t> m = Scale40(kE);
  std::vector<int16_t> out(4);
  const int exp = q::FlagQuantize(m, kExp40, out);
  EXPECT_EQ(exp, -15);  // Sc / 128 = R * 2^-14
  EXPECT_EQ(out, (std::vector<int16_t>{77 * 128, -13 * 128, 33, 127 * 128}));
  EXPECT_EQ(Decode(out, exp), (std::vector<double>{0.30078125, -0.05078125, 0.001007080078125, 0.49609375}));
}

TEST(NumericsAnchorE2, FlagFloat) {
  const std::vector<float> x(kE.begin(), kE.end());
  std::vector<int16_t> out(4);
  const int exp = q::FlagQuantize(x, out);
  EXPECT_EQ(exp, -15);
  EXPECT_EQ(Decode(out, exp), (std::vector<double>{0.30078125, -0.05078125, 0.001007080078125, 0.49609375}));
}

TEST(NumericsAnchorE2, FlagWordsOfTheVector) {
  // 9-bit words: flag | sign | 7-bit magnitude.
  EXPECT_EQ(q::FlagEncode(77 * 128), (1u << 8) | 77u);
  EXPECT_EQ(q::FlagEncode(-13 * 128), (1u << 8) | (1u << 7) | 13u);
  EXPECT_EQ(q::FlagEncode(33), 33u);
  EXPECT_EQ(q::FlagEncode(127 * 128), (1u << 8) | 127u);
}

// ---------------------------------------------------------------------------------------
// CQ: g = [0.02, -0.013, 0.0001, 0.04], every u = 0.5, R(g) = 2^-5.
const std::vector<double> kG = {0.02, -0.013, 0.0001, 0.04};

std::vector<int64_t> CqWithHalfU(int dr) {
  const std::vector<int64_t> m = Scale40(kG);
  const int r = q::ShiftExponent(m, kExp40);
  const int shift = r - fx::FloorLog2(static_cast<uint64_t>(dr)) - kExp40;  // as ConstantQuantize
  std::vector<int64_t> n;
  for (int64_t v : m) n.push_back(fx::SaturateSymmetric(q::StochasticRoundShift(v, shift, 0x80000000u), dr - 1));
  return n;
}

TEST(NumericsAnchorCQ, HalfUniformDraw) {
  EXPECT_EQ(q::ShiftExponent(Scale40(kG), kExp40), -5);
  EXPECT_EQ(CqWithHalfU(128), (std::vector<int64_t>{82, -53, 0, 127}));
  EXPECT_EQ(CqWithHalfU(32), (std::vector<int64_t>{20, -13, 0, 31}));
  EXPECT_EQ(CqWithHalfU(8), (std::vector<int64_t>{5, -3, 0, 7}));
  EXPECT_EQ(CqWithHalfU(2), (std::vector<int64_t>{1, -1, 0, 1}));
}

TEST(NumericsAnchorCQ, EndToEndDeterministicAndBracketed) {
  const std::vector<int64_t> m = Scale40(kG);
  for (int dr : {128, 32, 8, 2}) {
    const RandomStream stream{1, 5, 3, static_cast<uint32_t>(RandomTensorId::kWeightGradient)};
    std::vector<int16_t> a(4), b(4);
    q::ConstantQuantize(m, kExp40, dr, stream, a);
    q::ConstantQuantize(m, kExp40, dr, stream, b);
    EXPECT_EQ(a, b);
    for (size_t i = 0; i < m.size(); ++i) {
      const double exact = kG[i] / 0.03125 * dr;  // dr * g / R
      const double lo = std::floor(exact);
      const double clipped_lo = std::max(std::min(lo, dr - 1.0), -(dr - 1.0));
      const double clipped_hi = std::max(std::min(lo + 1, dr - 1.0), -(dr - 1.0));
      EXPECT_TRUE(a[i] == clipped_lo || a[i] == clipped_hi) << "dr " << dr << " i " << i << " got " << a[i];
      EXPECT_LE(std::abs(a[i]), dr - 1);
    }
    // The draw is RandomBits32(prefix, i): reproduce it element by element.
    const int shift = -5 - fx::FloorLog2(static_cast<uint64_t>(dr)) - kExp40;
    for (size_t i = 0; i < m.size(); ++i) {
      const int64_t n = q::StochasticRoundShift(m[i], shift, RandomBits32(stream.Prefix(), i));
      EXPECT_EQ(a[i], fx::SaturateSymmetric(n, dr - 1));
    }
  }
}

TEST(NumericsAnchorCQ, DifferentStepChangesDraws) {
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int64_t> dist(-(int64_t{1} << 30), int64_t{1} << 30);
  std::vector<int64_t> m(512);
  for (auto& v : m) v = dist(rng);
  std::vector<int16_t> a(m.size()), b(m.size()), c(m.size());
  const RandomStream s0{1, 0, 0, 1}, s1{1, 1, 0, 1};
  q::ConstantQuantize(m, -30, 128, s0, a);
  q::ConstantQuantize(m, -30, 128, s0, c);
  q::ConstantQuantize(m, -30, 128, s1, b);
  EXPECT_EQ(a, c);
  int differ = 0;
  for (size_t i = 0; i < m.size(); ++i) {
    differ += a[i] != b[i];
    EXPECT_LE(std::abs(a[i] - b[i]), 1) << i;  // both are floor or floor + 1
  }
  EXPECT_GT(differ, 0);
}

// ---------------------------------------------------------------------------------------
// Q13 of 82/16384 (the accumulator re-quantization, frac_GC = 14 -> frac_Acc = 12).
TEST(NumericsAnchorQ13, AccumulatorTie) {
  const Scheme s = LoadScheme("wageubn8");
  EXPECT_EQ(s.frac_GC() - s.frac_Acc(), 2);
  EXPECT_EQ(fx::RoundHalfEvenShiftRight(82, s.frac_GC() - s.frac_Acc()), 20);  // 20.5 -> 20
  EXPECT_EQ(fx::RoundHalfEvenShiftRight(86, 2), 22);                          // 21.5 -> 22
  EXPECT_EQ(fx::RoundHalfEvenShiftRight(-82, 2), -20);
}

// ---------------------------------------------------------------------------------------
// BN on one channel [1, 2, 3, 6] with k_BN = 8.
TEST(NumericsAnchorBN, OneChannel) {
  Scheme s = LoadScheme("wageubn8");
  s.k_BN = 8;
  ASSERT_EQ(s.frac_x1(), 14);
  std::vector<int32_t> x1;
  for (int v : {1, 2, 3, 6}) x1.push_back(v << 14);
  int32_t mu = 0, sigma = 0;
  std::vector<int32_t> x2(4);
  IntBatchNormForward(s, BnShape{1, 1, 4}, x1.data(), &mu, &sigma, x2.data());
  EXPECT_EQ(mu, 3 << 15);
  EXPECT_EQ(std::ldexp(static_cast<double>(mu), -15), 3.0);
  EXPECT_EQ(sigma, 61304);  // Q16(sqrt 3.5) = 61303 / 2^15, plus eps = 1 LSB
  EXPECT_EQ(std::ldexp(static_cast<double>(sigma), -15), 1.870849609375);
  EXPECT_EQ(x2, (std::vector<int32_t>{-137, -68, 0, 205}));
  std::vector<double> x2v;
  for (int32_t v : x2) x2v.push_back(std::ldexp(static_cast<double>(v), -7));
  EXPECT_EQ(x2v, (std::vector<double>{-1.0703125, -0.53125, 0, 1.6015625}));
}

TEST(NumericsAnchorBN, OneChannelAcrossBatchAndPixels) {
  // The same four values as [N=2][C=1][pixels=2]: the statistics run over N and pixels.
  Scheme s = LoadScheme("wageubn8");
  s.k_BN = 8;
  std::vector<int32_t> x1;
  for (int v : {1, 2, 3, 6}) x1.push_back(v << 14);
  int32_t mu = 0, sigma = 0;
  std::vector<int32_t> x2(4);
  IntBatchNormForward(s, BnShape{2, 1, 2}, x1.data(), &mu, &sigma, x2.data());
  EXPECT_EQ(mu, 3 << 15);
  EXPECT_EQ(sigma, 61304);
  EXPECT_EQ(x2, (std::vector<int32_t>{-137, -68, 0, 205}));
}

}  // namespace
}  // namespace octet
