// The precision comparison's MACs (rtl/precision) bit for bit against their C++ references:
// the floating-point FMA core of FP8, FP16 and FP32 on random vectors (uniform bits, close
// exponents, near-cancellation, zeros, saturation) against rtl/harness/fp_reference.h; the
// reference itself against the C library's IEEE arithmetic (fmaf, double) where the
// simplifications do not apply; the clocked PE of every precision on random token
// sequences against a running reference accumulator (INT8 and INT16 exact).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include <fmt/format.h>

#include "rtl/harness/fp_reference.h"
#include "rtl/harness/precision_driver.h"

namespace octet::rtl {
namespace {

constexpr int kFmaVectors = 20000;
constexpr int kPeSteps = 4000;

uint64_t Mask(int bits) { return (uint64_t{1} << bits) - 1; }

uint64_t Pack(FpFormat f, uint64_t sign, uint64_t exp, uint64_t man) {
  return (sign << (f.exp_bits + f.man_bits)) | ((exp & Mask(f.exp_bits)) << f.man_bits) | (man & Mask(f.man_bits));
}
uint64_t ExpOf(uint64_t bits, FpFormat f) { return (bits >> f.man_bits) & Mask(f.exp_bits); }

// Random FMA operands of five kinds, so that alignment, cancellation, rounding ties,
// zeros and saturation are all reached.
struct FmaVector {
  uint64_t a, b, c;
};

FmaVector Draw(std::mt19937_64& rng, const MacShape& s) {
  const FpFormat op = s.op, acc = s.acc;
  FmaVector v{rng() & Mask(op.Bits()), rng() & Mask(op.Bits()), rng() & Mask(acc.Bits())};
  const int kind = static_cast<int>(rng() % 8);
  // The product's exponent in the accumulator's format.
  const int64_t p_exp = static_cast<int64_t>(ExpOf(v.a, op) + ExpOf(v.b, op)) - 2 * op.Bias() + acc.Bias();
  const int64_t max_exp = static_cast<int64_t>(Mask(acc.exp_bits));
  auto clamp = [&](int64_t e) { return static_cast<uint64_t>(std::clamp<int64_t>(e, 1, max_exp)); };
  if (kind <= 2) {  // exponents within a few binades: alignment and rounding
    v.c = Pack(acc, rng() & 1, clamp(p_exp + static_cast<int64_t>(rng() % 9) - 4), rng());
  } else if (kind <= 4) {  // c close to -a*b: cancellation
    const uint64_t p = FpFmaReference(v.a, v.b, 0, op, acc);
    v.c = p ^ (uint64_t{1} << (acc.Bits() - 1)) ^ (rng() & 7);
  } else if (kind == 5) {  // zeros
    if (rng() & 1) v.a &= ~(Mask(op.exp_bits) << op.man_bits);
    else v.c &= ~(Mask(acc.exp_bits) << acc.man_bits);
  } else if (kind == 6) {  // large operands and accumulator of one sign: saturation
    v.a = Pack(op, 0, Mask(op.exp_bits) - rng() % 4, rng());
    v.b = Pack(op, 0, Mask(op.exp_bits) - rng() % 4, rng());
    v.c = Pack(acc, 0, Mask(acc.exp_bits) - rng() % 2, rng());
  }
  return v;
}

class FpFma : public testing::TestWithParam<MacPrecision> {};

TEST_P(FpFma, MatchesReferenceBitForBit) {
  const MacShape s = MacShapeOf(GetParam());
  FpFmaDriver dut(GetParam());
  std::mt19937_64 rng(0x0C7E7F9A ^ static_cast<uint64_t>(GetParam()));
  int failures = 0, zeros = 0, saturated = 0;
  for (int i = 0; i < kFmaVectors; ++i) {
    const FmaVector v = Draw(rng, s);
    const uint64_t want = FpFmaReference(v.a, v.b, v.c, s.op, s.acc);
    const uint64_t got = dut.Run(v.a, v.b, v.c);
    zeros += want == 0;
    saturated += (want & Mask(s.acc.Bits() - 1)) == Mask(s.acc.Bits() - 1);
    if (got != want && failures++ < 5)
      ADD_FAILURE() << fmt::format("{} vector {}: a={:#x} b={:#x} c={:#x}: RTL {:#x}, reference {:#x}", s.name, i, v.a,
                                   v.b, v.c, got, want);
  }
  EXPECT_EQ(failures, 0);
  EXPECT_GT(zeros, kFmaVectors / 100) << "zeros and cancellations are exercised";
  // FP16 products (< 2^34) cannot leave the FP32 range; a maximal c plus a product can.
  if (GetParam() != MacPrecision::kFp16) {
    EXPECT_GT(saturated, kFmaVectors / 200) << "saturation is exercised";
  }
}

// Hand-computed anchors, so that a reference and RTL wrong the same way are caught.
TEST(FpFmaAnchors, Fp32) {
  FpFmaDriver dut(MacPrecision::kFp32);
  auto bits = [](float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return uint64_t{u};
  };
  EXPECT_EQ(dut.Run(bits(1.5f), bits(2.0f), bits(0.25f)), bits(3.25f));
  EXPECT_EQ(dut.Run(bits(1.5f), bits(2.0f), bits(-3.0f)), 0u);                   // exact cancellation: +0
  EXPECT_EQ(dut.Run(bits(1.0f), bits(1.0f), bits(0x1p24f)), bits(0x1p24f));       // 2^24 + 1: tie, to even
  EXPECT_EQ(dut.Run(bits(3.0f), bits(1.0f), bits(0x1p24f)), bits(0x1p24f + 4));   // 2^24 + 3: tie, to even (up)
  EXPECT_EQ(dut.Run(bits(0x1p-100f), bits(0x1p-30f), 0), 0u);                     // below 2^-126: flushed
  EXPECT_EQ(dut.Run(bits(0x1p100f), bits(0x1p100f), 0), 0x7fffffffu);             // above the range: saturates
  // (1 + 2^-23)(1 + 3 x 2^-23) - 1 = 2^-21 + 3 x 2^-46: one rounding gives 2^-21 (1 + 2^-23);
  // rounding the product first would give 2^-21.
  EXPECT_EQ(dut.Run(bits(0x1.000002p0f), bits(0x1.000006p0f), bits(-1.0f)), bits(0x1.000002p-21f));
}

TEST(FpFmaAnchors, Fp8IntoOneSixNine) {
  FpFmaDriver dut(MacPrecision::kFp8);
  // E5M2: 1.5 = 0 01111 10, 1.25 = 0 01111 01; 1-6-9 (bias 31): 1.875 = 0 011111 111000000.
  EXPECT_EQ(dut.Run(Pack(kFp8E5M2, 0, 15, 2), Pack(kFp8E5M2, 0, 15, 1), 0), Pack(kFp16Acc, 0, 31, 0x1c0));
  // (1.75 x 2^15)^2 = 1.53125 x 2^31: exponent 31 + 31, fraction 0.53125 x 512 = 272.
  EXPECT_EQ(dut.Run(Pack(kFp8E5M2, 0, 30, 3), Pack(kFp8E5M2, 0, 30, 3), 0), Pack(kFp16Acc, 0, 62, 272));
}

// The reference is IEEE round-to-nearest-even where no simplification applies: FP32 against
// fmaf, FP16 x FP16 + FP32 against the exact float product plus c in float.
TEST(FpReference, MatchesIeeeInTheNormalRange) {
  std::mt19937_64 rng(7);
  int checked = 0;
  for (int i = 0; i < 200000; ++i) {
    const FmaVector v = Draw(rng, MacShapeOf(i % 2 ? MacPrecision::kFp32 : MacPrecision::kFp16));
    const FpFormat op = i % 2 ? kFp32 : kFp16;
    auto in_range = [](uint64_t x, FpFormat f) {
      const uint64_t e = ExpOf(x, f);
      return e != Mask(f.exp_bits) && (e != 0 || (x & Mask(f.exp_bits + f.man_bits)) == 0);
    };
    if (!in_range(v.a, op) || !in_range(v.b, op) || !in_range(v.c, kFp32)) continue;
    const auto fa = static_cast<float>(FpToDouble(v.a, op));
    const auto fb = static_cast<float>(FpToDouble(v.b, op));
    const auto fc = static_cast<float>(FpToDouble(v.c, kFp32));
    const float ieee = i % 2 ? std::fmaf(fa, fb, fc) : fc + fa * fb;  // FP16 product: exact in float
    if (!std::isnormal(ieee) && ieee != 0) continue;  // inf or subnormal: simplified away
    uint32_t ieee_bits;
    std::memcpy(&ieee_bits, &ieee, 4);
    if (ieee == 0) ieee_bits = 0;  // the simplified unit gives +0
    ASSERT_EQ(FpFmaReference(v.a, v.b, v.c, op, kFp32), ieee_bits)
        << fmt::format("a={:#x} b={:#x} c={:#x} ({})", v.a, v.b, v.c, i % 2 ? "fp32" : "fp16");
    ++checked;
  }
  EXPECT_GT(checked, 100000);
}

INSTANTIATE_TEST_SUITE_P(Formats, FpFma, testing::Values(MacPrecision::kFp8, MacPrecision::kFp16, MacPrecision::kFp32),
                         [](const auto& info) { return MacShapeOf(info.param).name; });

// The clocked PE: tokens with random valid and first bits; the accumulator after each
// edge equals the reference's, and the operands come out a cycle later.
class MacPe : public testing::TestWithParam<MacPrecision> {};

TEST_P(MacPe, AccumulatesLikeTheReference) {
  const MacShape s = MacShapeOf(GetParam());
  MacPeDriver dut(GetParam());
  std::mt19937_64 rng(0x5EED ^ static_cast<uint64_t>(GetParam()));
  uint64_t acc = 0;
  int failures = 0, valid_steps = 0;
  for (int i = 0; i < kPeSteps; ++i) {
    const bool valid = rng() % 5 != 0, first = rng() % 16 == 0;
    uint64_t a = rng() & Mask(s.op_bits), b = rng() & Mask(s.op_bits);
    if (s.is_float && rng() % 2) {  // keep products near 1 so that sums stay in range
      a = Pack(s.op, rng() & 1, s.op.Bias() + rng() % 3 - 1, rng());
      b = Pack(s.op, rng() & 1, s.op.Bias() + rng() % 3 - 1, rng());
    }
    if (valid) {
      ++valid_steps;
      const uint64_t addend = first ? 0 : acc;
      if (s.is_float) {
        acc = FpFmaReference(a, b, addend, s.op, s.acc);
      } else {
        const auto sx = [&](uint64_t x) {
          return static_cast<int64_t>(x << (64 - s.op_bits)) >> (64 - s.op_bits);
        };
        acc = (addend + static_cast<uint64_t>(sx(a) * sx(b))) & Mask(s.acc_bits);
      }
    }
    const uint64_t got = dut.Step(valid, first, a, b);
    if (got != acc && failures++ < 5)
      ADD_FAILURE() << fmt::format("{} step {}: a={:#x} b={:#x} valid={} first={}: RTL {:#x}, reference {:#x}", s.name,
                                   i, a, b, valid, first, got, acc);
    EXPECT_EQ(dut.a_out(), a);
    EXPECT_EQ(dut.b_out(), b);
  }
  EXPECT_EQ(failures, 0);
  EXPECT_GT(valid_steps, kPeSteps / 2);
}

TEST(MacPeAnchors, Int8AndInt16) {
  MacPeDriver int8(MacPrecision::kInt8);
  EXPECT_EQ(int8.Step(true, true, 0x80, 0x80), 16384u);            // -128 x -128
  EXPECT_EQ(int8.Step(true, false, 0x7f, 0x80), 16384u - 16256u);  // + 127 x -128
  EXPECT_EQ(int8.Step(false, false, 0x7f, 0x7f), 128u);            // not valid: holds
  EXPECT_EQ(int8.Step(true, false, 0xff, 0x02), 126u);             // + -1 x 2
  MacPeDriver int16(MacPrecision::kInt16);
  EXPECT_EQ(int16.Step(true, true, 0x8000, 0x8000), uint64_t{1} << 30);
  EXPECT_EQ(int16.Step(true, false, 0x8000, 0x7fff), (uint64_t{1} << 30) - 32768u * 32767u);
  EXPECT_EQ(int16.Step(true, true, 0xffff, 0x0001), Mask(48));     // -1 in 48 bits
}

INSTANTIATE_TEST_SUITE_P(Precisions, MacPe,
                         testing::Values(MacPrecision::kInt8, MacPrecision::kInt16, MacPrecision::kFp8,
                                         MacPrecision::kFp16, MacPrecision::kFp32),
                         [](const auto& info) { return MacShapeOf(info.param).name; });

}  // namespace
}  // namespace octet::rtl
