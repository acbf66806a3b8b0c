// Fixed-point primitives of the golden model. Every rounding and saturation in Octet's
// integer numerics goes through one of these functions, so each rule is written once.
//
// Conventions (docs/numerics.md, section "Primitives"):
// - Deterministic rounding is round half to even (RHE), done in integer arithmetic.
// - A value with f fractional bits is the integer v standing for v * 2^-f.
// - "Saturate" clamps to a stated range; nothing in the golden model wraps around.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace octet::fx {

using int128 = __int128;

// Floor division of x by 2^shift (arithmetic shift, rounds towards -inf). shift >= 0.
// C++20 defines >> on negative values as arithmetic; a shift of 64 or more is clamped.
constexpr int64_t FloorShiftRight(int64_t x, int shift) {
  if (shift >= 63) return x < 0 ? -1 : 0;
  return x >> shift;
}

// x / 2^shift rounded to nearest, ties to even. shift >= 0. Exact for all int64 x.
//   q = floor(x / 2^shift), r = x - q * 2^shift in [0, 2^shift).
//   Round up when r > half, or r == half and q is odd.
constexpr int64_t RoundHalfEvenShiftRight(int64_t x, int shift) {
  if (shift == 0) return x;
  if (shift >= 64) return 0;  // |x| < 2^63 <= half of 2^64: rounds to 0 (tie impossible)
  const int64_t q = FloorShiftRight(x, shift);
  const uint64_t mask = (uint64_t{1} << shift) - 1;
  const uint64_t r = static_cast<uint64_t>(x) & mask;
  const uint64_t half = uint64_t{1} << (shift - 1);
  if (r > half || (r == half && (q & 1) != 0)) return q + 1;
  return q;
}

// x / 2^shift rounded half to even for an unsigned x and 1 <= shift <= 63, branch-free:
// adding half - 1 plus the quotient's low bit moves exactly the values above half, and the
// tie only when the quotient is odd, past the next multiple of 2^shift. No overflow for
// x < 2^63 (half - 1 + 1 <= 2^62).
constexpr uint64_t RoundHalfEvenShiftRightUnsigned(uint64_t x, int shift) {
  const uint64_t half_minus_one = (uint64_t{1} << (shift - 1)) - 1;
  return (x + half_minus_one + ((x >> shift) & 1)) >> shift;
}

// x * 2^shift for any sign of shift: left shifts are exact (caller guarantees no
// overflow), right shifts round half to even.
constexpr int64_t RoundHalfEvenScale(int64_t x, int shift) {
  return shift >= 0 ? x * (int64_t{1} << shift) : RoundHalfEvenShiftRight(x, -shift);
}

// Division in two steps: the floor quotient q and remainder r in [0, den), then the RHE
// rule on them. Both steps are shared by RoundHalfEvenDivide and RoundHalfEvenDivider.

// From an estimate q of floor(num / den) (off by a few units at most) and its remainder
// r = num - q * den, the exact floor quotient and its remainder in [0, den). The caller may
// compute r in a narrower ring (e.g. modulo 2^64 when |r| < 2^63 is known).
template <typename Int>
constexpr void CorrectFloorRemainder(Int den, Int& q, Int& r) {
  while (r < 0) {
    q -= 1;
    r += den;
  }
  while (r >= den) {
    q += 1;
    r -= den;
  }
}

// From an estimate q of floor(num / den) (off by a few units at most), the exact floor
// quotient and its remainder.
template <typename Int>
constexpr void CorrectFloorQuotient(Int num, Int den, Int& q, Int& r) {
  r = num - q * den;
  CorrectFloorRemainder(den, q, r);
}

// RHE from the floor quotient: round up when 2r > den, or 2r == den and q is odd.
template <typename Int>
constexpr Int RoundFloorQuotient(Int q, Int r, Int den) {
  return (2 * r > den || (2 * r == den && (q & 1) != 0)) ? q + 1 : q;
}

// num / den rounded to nearest, ties to even. den > 0. Exact for all int128 inputs
// whose |num| + 2 den does not overflow.
constexpr int128 RoundHalfEvenDivide(int128 num, int128 den) {
  constexpr int128 kLimit = int128{1} << 62;
  if (num > -kLimit && num < kLimit && den < kLimit) {  // 64-bit division is much faster
    const auto n64 = static_cast<int64_t>(num), d64 = static_cast<int64_t>(den);
    int64_t q = n64 / d64, r = 0;  // truncation is at most one above the floor
    CorrectFloorQuotient(n64, d64, q, r);
    return RoundFloorQuotient(q, r, d64);
  }
  int128 q = num / den, r = 0;
  CorrectFloorQuotient(num, den, q, r);
  return RoundFloorQuotient(q, r, den);
}

// RoundHalfEvenDivide by a fixed denominator, faster when one divisor serves many
// numerators (a BN channel): a double estimate of the floor quotient, corrected with the
// exact remainder, then the same RHE rule. Identical results to RoundHalfEvenDivide.
class RoundHalfEvenDivider {
 public:
  explicit RoundHalfEvenDivider(int128 den) : den_(den), inv_(1.0 / ToDouble(den)) {}

  int128 operator()(int64_t num) const {
    const double estimate = static_cast<double>(num) * inv_;
    if (den_ >= (int128{1} << 62) || !(estimate > -0x1p50 && estimate < 0x1p50)) return RoundHalfEvenDivide(num, den_);
    const auto den = static_cast<int64_t>(den_);
    // Truncation, not std::floor (a library call without SSE4.1): within one unit of the
    // floor of the estimate, which the correction absorbs. |q den| <= |num| + 2 den.
    int64_t q = static_cast<int64_t>(estimate), r = 0;
    CorrectFloorQuotient(num, den, q, r);
    return RoundFloorQuotient(q, r, den);
  }

  int128 operator()(int128 num) const {
    const double estimate = ToDouble(num) * inv_;
    if (!(estimate > -0x1p50 && estimate < 0x1p50)) return RoundHalfEvenDivide(num, den_);
    int128 q = static_cast<int64_t>(estimate), r = 0;  // truncation, as above
    CorrectFloorQuotient(num, den_, q, r);
    return RoundFloorQuotient(q, r, den_);
  }

 private:
  static double ToDouble(int128 x) {
    const auto hi = static_cast<int64_t>(x >> 64);
    const auto lo = static_cast<uint64_t>(x);
    return static_cast<double>(hi) * 18446744073709551616.0 + static_cast<double>(lo);  // hi * 2^64 + lo
  }
  int128 den_;
  double inv_;
};

// Clamp x to [lo, hi].
constexpr int64_t Saturate(int64_t x, int64_t lo, int64_t hi) { return x < lo ? lo : (x > hi ? hi : x); }

// Clamp x to the symmetric range [-bound, bound].
constexpr int64_t SaturateSymmetric(int64_t x, int64_t bound) { return Saturate(x, -bound, bound); }

// Clamp x to a two's-complement signed range of `bits` bits: [-2^(bits-1), 2^(bits-1) - 1].
constexpr int64_t SaturateSigned(int64_t x, int bits) {
  const int64_t hi = (int64_t{1} << (bits - 1)) - 1;
  return Saturate(x, -hi - 1, hi);
}

// x * 2^shift (shift >= 0) clamped to int64 instead of overflowing.
constexpr int64_t SaturatingShiftLeft(int64_t x, int shift) {
  if (x == 0) return 0;
  const int128 wide = shift >= 64 ? (x < 0 ? std::numeric_limits<int128>::min() / 2
                                           : std::numeric_limits<int128>::max() / 2)
                                  : static_cast<int128>(x) << shift;
  if (wide > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (wide < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(wide);
}

// Narrow int128 to int64 with saturation.
constexpr int64_t SaturateToInt64(int128 x) {
  if (x > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (x < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(x);
}

// floor(log2(m)) for m > 0.
constexpr int FloorLog2(uint64_t m) { return 63 - std::countl_zero(m); }

// round(log2(m)) for m > 0, exactly: with p = floor(log2 m), log2 m rounds up to p + 1
// iff log2 m >= p + 1/2, i.e. m^2 >= 2^(2p+1). (log2 m is never exactly p + 1/2 for
// an integer m, so there is no tie.) m^2 < 2^128 fits in unsigned __int128.
constexpr int RoundLog2(uint64_t m) {
  const int p = FloorLog2(m);
  const unsigned __int128 square = static_cast<unsigned __int128>(m) * m;
  const unsigned __int128 threshold = static_cast<unsigned __int128>(1) << (2 * p + 1);
  return square >= threshold ? p + 1 : p;
}

// round(log2(|x|)) for a finite non-zero double, exactly: x = m * 2^e with a 53-bit
// integer m, so round(log2 |x|) = RoundLog2(m) + e.
inline int RoundLog2(double x) {
  int e = 0;
  const double fraction = std::frexp(std::fabs(x), &e);  // in [0.5, 1)
  const auto m = static_cast<uint64_t>(std::ldexp(fraction, 53));
  return RoundLog2(m) + (e - 53);
}

// floor(sqrt(x)) for x >= 0 (Newton iteration on integers, exact).
constexpr uint64_t FloorSqrt(unsigned __int128 x) {
  if (x == 0) return 0;
  // Initial guess from the bit length: 2^ceil(bits/2) >= sqrt(x).
  int bits = 0;
  for (unsigned __int128 t = x; t != 0; t >>= 1) ++bits;
  unsigned __int128 y = static_cast<unsigned __int128>(1) << ((bits + 1) / 2);
  while (true) {
    const unsigned __int128 next = (y + x / y) / 2;
    if (next >= y) break;
    y = next;
  }
  return static_cast<uint64_t>(y);
}

// round(sqrt(num / den)) with ties to even, 0 <= num < 2^127, 0 < den < 2^127, exactly.
//   n = floor(sqrt(floor(num / den))) = floor(sqrt(num / den)).
//   sqrt(num/den) vs n + 1/2: num/den vs n^2 + n + 1/4, i.e. d = num - (n^2 + n) den vs den/4
//   (no intermediate exceeds 2^128 under the stated bounds).
inline uint64_t RoundHalfEvenSqrtOfRatio(unsigned __int128 num, unsigned __int128 den) {
  using u128 = unsigned __int128;
  const uint64_t n = FloorSqrt(num / den);
  const u128 base = (static_cast<u128>(n) * n + n) * den;
  if (num < base) return n;  // below n + 1/2
  const u128 d = num - base;
  // 4d > den <=> d > den / 4 (integer division), and 4d == den <=> d == den / 4 with no
  // remainder: the exact tie, rounded to even.
  const u128 quarter = den / 4;
  if (d > quarter) return n + 1;
  if (d == quarter && den % 4 == 0) return (n & 1) != 0 ? n + 1 : n;
  return n;
}

// |x| as an unsigned magnitude (defined for INT64_MIN, whose magnitude is 2^63).
constexpr uint64_t AbsMagnitude(int64_t x) { return x < 0 ? 0 - static_cast<uint64_t>(x) : static_cast<uint64_t>(x); }

// 2^e as a double, the value of std::ldexp(1.0, e), built from its exponent field when
// 2^e is a normal double (-1022 <= e <= 1023): no library call in a loop.
inline double Pow2(int e) {
  if (e < -1022 || e > 1023) return std::ldexp(1.0, e);
  return std::bit_cast<double>(static_cast<uint64_t>(e + 1023) << 52);
}

// x * 2^shift rounded half to even to an integer, for a float or double x. Scaling by a
// power of two is exact (no overflow or underflow for the ranges used), and
// std::nearbyint in the default rounding mode (FE_TONEAREST) rounds ties to even.
inline int64_t RoundHalfEvenScale(double x, int shift) {
  return static_cast<int64_t>(std::nearbyint(x * Pow2(shift)));  // 2^shift is a normal double here
}

}  // namespace octet::fx
