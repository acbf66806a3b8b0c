#include "golden/numerics/quantizers.h"

#include <algorithm>
#include <cstdlib>

#include "golden/numerics/fixed_point.h"

namespace octet::q {
namespace {

// |m| saturated to 2^63 - 1 (only INT64_MIN is affected): an integer quantizer input is
// taken in the symmetric range +-(2^63 - 1).
int64_t Magnitude(int64_t v) { return static_cast<int64_t>(std::min<uint64_t>(fx::AbsMagnitude(v), INT64_MAX)); }

// RHE(|m| / 2^shift), an exact left shift for shift <= 0 (saturating at 2^63 - 1, which
// every clip of the callers lies below).
int64_t RoundAbsShift(int64_t m, int shift) {
  const int64_t a = Magnitude(m);
  if (shift >= 1 && shift <= 63) return static_cast<int64_t>(fx::RoundHalfEvenShiftRightUnsigned(a, shift));
  if (shift >= 64) return 0;  // |m| < 2^63 <= half of 2^shift
  return fx::SaturatingShiftLeft(a, -shift);
}

// |m| < 2^t.
bool AbsBelowPow2(int64_t m, int t) {
  const auto a = static_cast<uint64_t>(Magnitude(m));
  if (t <= 0) return a == 0;  // 2^t <= 1 <= |m| unless m = 0
  return t >= 64 || (a >> t) == 0;
}

// Uniform access to "value i = m[i] * 2^exp" for integer tensors and to float tensors,
// with exactly the operations the quantizers need. Integer tensors take the element
// functions below (ShiftQuantizeElement, FlagQuantizeElement); the templates serve floats.
struct IntInput {
  std::span<const int64_t> m;
  int exp;
  int MaxExponent() const {  // round(log2 max |x|) or 0 when all zero
    uint64_t max_abs = 0;  // max is exact in any order, so the parallel reduction is too
    const int64_t count = static_cast<int64_t>(m.size());
#pragma omp parallel for reduction(max : max_abs) schedule(static)
    for (int64_t i = 0; i < count; ++i) {
      max_abs = std::max(max_abs, static_cast<uint64_t>(Magnitude(m[i])));
    }
    return max_abs == 0 ? 0 : fx::RoundLog2(max_abs) + exp;
  }
};

struct FloatInput {
  std::span<const float> x;
  size_t size() const { return x.size(); }
  int MaxExponent() const {
    float max_abs = 0;
    const int64_t count = static_cast<int64_t>(x.size());
#pragma omp parallel for reduction(max : max_abs) schedule(static)
    for (int64_t i = 0; i < count; ++i) max_abs = std::max(max_abs, std::fabs(x[i]));
    return max_abs == 0 ? 0 : fx::RoundLog2(static_cast<double>(max_abs));
  }
  int64_t RoundAbsToExp(size_t i, int e) const { return fx::RoundHalfEvenScale(std::fabs(double{x[i]}), -e); }
  bool AbsBelowPow2(size_t i, int e) const { return std::fabs(double{x[i]}) < std::ldexp(1.0, e); }
  bool Negative(size_t i) const { return x[i] < 0; }
};

template <typename Input>
int ShiftQuantizeImpl(const Input& in, int k, std::span<int16_t> out) {
  const int r = in.MaxExponent();
  const int out_exp = r - (k - 1);             // LSB of Q(x / R, k) scaled back by R
  const int64_t bound = (int64_t{1} << (k - 1)) - 1;  // clip to +-(1 - 2^-(k-1))
  const int64_t count = static_cast<int64_t>(in.size());
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    const int64_t magnitude = std::min(in.RoundAbsToExp(i, out_exp), bound);
    out[i] = static_cast<int16_t>(in.Negative(i) ? -magnitude : magnitude);
  }
  return out_exp;
}

template <typename Input>
int FlagQuantizeImpl(const Input& in, std::span<int16_t> out) {
  const int r = in.MaxExponent();
  const int sc_exp = r - 7;        // Sc = R / 2^(k_E2 - 1) = R / 128
  const int fine_exp = sc_exp - 7;  // small-region LSB: Q(x / Sc, 8) -> Sc / 128
  const int64_t count = static_cast<int64_t>(in.size());
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    int64_t magnitude;
    if (in.AbsBelowPow2(i, sc_exp)) {
      // |x| < Sc: Q(|x| / Sc, 8) * Sc. RHE may give 128 (= Sc), the large region's 1.
      magnitude = in.RoundAbsToExp(i, fine_exp);
    } else {
      // |x| >= Sc: clip(RHE(|x| / Sc), 1, 127) * Sc, in units of Sc / 128.
      magnitude = 128 * fx::Saturate(in.RoundAbsToExp(i, sc_exp), 1, 127);
    }
    out[i] = static_cast<int16_t>(in.Negative(i) ? -magnitude : magnitude);
  }
  return fine_exp;
}

}  // namespace

int ShiftExponent(std::span<const int64_t> m, int exp) { return IntInput{m, exp}.MaxExponent(); }
int ShiftExponent(std::span<const float> x) { return FloatInput{x}.MaxExponent(); }

int64_t ShiftQuantizeElement(int64_t m, int shift, int k) {
  const int64_t bound = (int64_t{1} << (k - 1)) - 1;  // clip to +-(1 - 2^-(k-1))
  const int64_t magnitude = std::min(RoundAbsShift(m, shift), bound);
  return m < 0 ? -magnitude : magnitude;
}

int16_t FlagQuantizeElement(int64_t m, int t) {
  int64_t magnitude;
  if (AbsBelowPow2(m, t)) {
    // |x| < Sc: Q(|x| / Sc, 8) * Sc. RHE may give 128 (= Sc), the large region's 1.
    magnitude = RoundAbsShift(m, t - 7);
  } else {
    // |x| >= Sc: clip(RHE(|x| / Sc), 1, 127) * Sc, in units of Sc / 128.
    magnitude = 128 * fx::Saturate(RoundAbsShift(m, t), 1, 127);
  }
  return static_cast<int16_t>(m < 0 ? -magnitude : magnitude);
}

int ShiftQuantize(std::span<const int64_t> m, int exp, int k, std::span<int16_t> out) {
  const int out_exp = ShiftExponent(m, exp) - (k - 1);  // LSB of Q(x / R, k) scaled back by R
  const int64_t count = static_cast<int64_t>(m.size());
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) out[i] = static_cast<int16_t>(ShiftQuantizeElement(m[i], out_exp - exp, k));
  return out_exp;
}
int ShiftQuantize(std::span<const float> x, int k, std::span<int16_t> out) {
  return ShiftQuantizeImpl(FloatInput{x}, k, out);
}
int FlagQuantize(std::span<const int64_t> m, int exp, std::span<int16_t> out) {
  const int sc_exp = ShiftExponent(m, exp) - 7;  // Sc = R / 2^(k_E2 - 1) = R / 128
  const int64_t count = static_cast<int64_t>(m.size());
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) out[i] = FlagQuantizeElement(m[i], sc_exp - exp);
  return sc_exp - 7;
}
int FlagQuantize(std::span<const float> x, std::span<int16_t> out) { return FlagQuantizeImpl(FloatInput{x}, out); }

uint16_t FlagEncode(int16_t value) {
  const uint16_t sign = value < 0 ? 1 : 0;
  const int magnitude = std::abs(static_cast<int>(value));
  if (magnitude >= 128) return static_cast<uint16_t>((1u << 8) | (sign << 7) | (magnitude / 128));
  return static_cast<uint16_t>((sign << 7) | magnitude);
}

int16_t FlagDecode(uint16_t word) {
  const int magnitude = word & 0x7F;
  const int value = (word & 0x100) ? 128 * magnitude : magnitude;
  return static_cast<int16_t>((word & 0x80) ? -value : value);
}

int64_t StochasticRoundShift(int64_t m, int shift, uint32_t u) {
  if (shift <= 0) return fx::SaturatingShiftLeft(m, -shift);  // exact unless beyond int64
  // Shifts beyond 100 give the same result as 100: |m| < 2^63 leaves no bit in the top 32
  // fraction bits of m >= 0 and all ones for m < 0.
  shift = std::min(shift, 100);
  const int64_t floor = fx::FloorShiftRight(m, shift);
  using u128 = unsigned __int128;
  const u128 remainder = static_cast<u128>(static_cast<fx::int128>(m) - (static_cast<fx::int128>(floor) << shift));
  // The fraction remainder / 2^shift as a 32-bit probability (truncated).
  const u128 frac32 = shift <= 32 ? remainder << (32 - shift) : remainder >> (shift - 32);
  return floor + (u < frac32 ? 1 : 0);
}

int16_t ConstantQuantizeElement(int64_t m, int shift, int dr, uint32_t u) {
  return static_cast<int16_t>(fx::SaturateSymmetric(StochasticRoundShift(m, shift, u), dr - 1));
}

void ConstantQuantize(std::span<const int64_t> m, int exp, int dr, const RandomStream& stream,
                      std::span<int16_t> out) {
  const int r = IntInput{m, exp}.MaxExponent();
  const int log2_dr = fx::FloorLog2(static_cast<uint64_t>(dr));
  // dr * x / R = m * 2^(exp + log2 dr - r): a right shift by r - log2 dr - exp.
  const int shift = r - log2_dr - exp;
  const uint64_t prefix = stream.Prefix();
  const int64_t count = static_cast<int64_t>(m.size());
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    out[i] = ConstantQuantizeElement(m[i], shift, dr, RandomBits32(prefix, i));
  }
}

}  // namespace octet::q
