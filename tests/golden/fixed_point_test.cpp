// The fast fixed-point paths agree with the reference definitions bit for bit.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>

#include "golden/numerics/fixed_point.h"

namespace octet::fx {
namespace {

TEST(FixedPoint, UnsignedShiftMatchesSignedReference) {
  for (int shift = 1; shift <= 63; ++shift) {
    // Exhaustive around every multiple of the step near zero and near 2^63.
    for (uint64_t base : {uint64_t{0}, uint64_t{1} << shift, uint64_t{5} << std::min(shift, 60),
                          (uint64_t{1} << 63) - (uint64_t{1} << shift) * 3}) {
      for (uint64_t d = 0; d < 64; ++d) {
        const uint64_t x = std::min<uint64_t>(base + d, INT64_MAX);
        ASSERT_EQ(RoundHalfEvenShiftRightUnsigned(x, shift),
                  static_cast<uint64_t>(RoundHalfEvenShiftRight(static_cast<int64_t>(x), shift)))
            << "x=" << x << " shift=" << shift;
      }
    }
    // Exact ties: (2q + 1) * 2^(shift-1) rounds to the even neighbour.
    for (uint64_t q = 0; q < 8 && shift < 60; ++q) {
      const uint64_t tie = (2 * q + 1) << (shift - 1);
      EXPECT_EQ(RoundHalfEvenShiftRightUnsigned(tie, shift), (q & 1) ? q + 1 : q);
    }
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t x = rng() >> 1;
    const int shift = 1 + static_cast<int>(rng() % 63);
    ASSERT_EQ(RoundHalfEvenShiftRightUnsigned(x, shift),
              static_cast<uint64_t>(RoundHalfEvenShiftRight(static_cast<int64_t>(x), shift)));
  }
}

TEST(FixedPoint, DividerMatchesRoundHalfEvenDivide) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 20000; ++i) {
    const int128 den = static_cast<int128>(rng() % (uint64_t{1} << (1 + rng() % 62))) + 1;
    const RoundHalfEvenDivider divide(den);
    const int64_t small = static_cast<int64_t>(rng()) >> (rng() % 63);
    EXPECT_EQ(divide(small), RoundHalfEvenDivide(small, den));
    const int128 big = (static_cast<int128>(static_cast<int64_t>(rng())) << (rng() % 40)) + static_cast<int128>(rng());
    EXPECT_EQ(divide(big), RoundHalfEvenDivide(big, den));
    const int128 tie = den * static_cast<int128>(static_cast<int64_t>(rng() >> 20)) + den / 2;
    EXPECT_EQ(divide(tie), RoundHalfEvenDivide(tie, den));
  }
}

}  // namespace
}  // namespace octet::fx
