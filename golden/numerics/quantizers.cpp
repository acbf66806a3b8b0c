#include "golden/numerics/quantizers.h"

#include <algorithm>
#include <cstdlib>

#include "golden/core/error.h"
#include "golden/core/vector_clones.h"
#include "golden/numerics/fixed_point.h"

namespace octet::q {
namespace {

// Element-wise passes over an integer tensor run in chunks of kChunk elements: a chunk is
// one call of a vectorised kernel (golden/core/vector_clones.h), chunks are the parallel loop.
constexpr int64_t kChunk = 16384;

// Runs kernel(first, count) over [0, count) in chunks, in parallel when there is more than one.
template <typename Kernel>
void ForEachChunk(int64_t count, const Kernel& kernel) {
  const int64_t chunks = (count + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    const int64_t i0 = chunk * kChunk;
    kernel(i0, std::min(kChunk, count - i0));
  }
}

// |m| saturated to 2^63 - 1 (only INT64_MIN is affected): an integer quantizer input is
// taken in the symmetric range +-(2^63 - 1).
inline uint64_t Magnitude(int64_t v) { return std::min<uint64_t>(fx::AbsMagnitude(v), INT64_MAX); }

// RHE(|m| / 2^shift), an exact left shift for shift <= 0 (saturating at 2^63 - 1, which
// every clip of the callers lies below).
int64_t RoundAbsShift(int64_t m, int shift) {
  const auto a = static_cast<int64_t>(Magnitude(m));
  if (shift >= 1 && shift <= 63) return static_cast<int64_t>(fx::RoundHalfEvenShiftRightUnsigned(a, shift));
  if (shift >= 64) return 0;  // |m| < 2^63 <= half of 2^shift
  return fx::SaturatingShiftLeft(a, -shift);
}

// |m| < 2^t.
bool AbsBelowPow2(int64_t m, int t) {
  const uint64_t a = Magnitude(m);
  if (t <= 0) return a == 0;  // 2^t <= 1 <= |m| unless m = 0
  return t >= 64 || (a >> t) == 0;
}

// The element rules below for the shifts every real tensor takes (the right shift of |m|
// in [1, 63], for the flag format t in [8, 63]), without the range branches so that the
// chunk loops over them vectorise. Callers check the range; other shifts take the general
// element functions, which give the same result here.
inline int64_t ShiftQuantizeInRange(int64_t m, int shift, int64_t bound) {
  const auto a = static_cast<int64_t>(fx::RoundHalfEvenShiftRightUnsigned(Magnitude(m), shift));
  const int64_t magnitude = std::min(a, bound);
  return m < 0 ? -magnitude : magnitude;
}
inline int16_t FlagQuantizeInRange(int64_t m, int t) {
  const uint64_t a = Magnitude(m);
  const auto fine = static_cast<int64_t>(fx::RoundHalfEvenShiftRightUnsigned(a, t - 7));
  const auto coarse = static_cast<int64_t>(fx::RoundHalfEvenShiftRightUnsigned(a, t));
  const int64_t magnitude = (a >> t) == 0 ? fine : 128 * fx::Saturate(coarse, 1, 127);
  return static_cast<int16_t>(m < 0 ? -magnitude : magnitude);
}
bool ShiftInRange(int shift) { return shift >= 1 && shift <= 63; }
bool FlagShiftInRange(int t) { return t >= 8 && t <= 63; }

OCTET_VECTOR_CLONES
uint64_t MaxMagnitudeRow(const int64_t* m, int64_t count) {
  uint64_t max_abs = 0;
  for (int64_t i = 0; i < count; ++i) max_abs = std::max(max_abs, Magnitude(m[i]));
  return max_abs;
}

template <typename Out>
OCTET_VECTOR_CLONES void ShiftQuantizeChunk(const int64_t* m, int64_t count, int shift, int64_t bound, Out* out) {
  for (int64_t i = 0; i < count; ++i) out[i] = static_cast<Out>(ShiftQuantizeInRange(m[i], shift, bound));
}

OCTET_VECTOR_CLONES
void FlagQuantizeChunk(const int64_t* m, int64_t count, int t, int16_t* out) {
  for (int64_t i = 0; i < count; ++i) out[i] = FlagQuantizeInRange(m[i], t);
}

OCTET_VECTOR_CLONES
void FlagEncodeChunk(const int16_t* values, int64_t count, uint16_t* words) {
  for (int64_t i = 0; i < count; ++i) words[i] = FlagEncode(values[i]);
}

OCTET_VECTOR_CLONES
void FlagQuantizeEncodeChunk(const int64_t* m, int64_t count, int t, int16_t* out, uint16_t* words) {
  for (int64_t i = 0; i < count; ++i) {
    out[i] = FlagQuantizeInRange(m[i], t);
    words[i] = FlagEncode(out[i]);
  }
}

// round(log2 max |x|) for max |x| = max_abs * 2^exp, or 0 when all zero.
int ExponentOfMax(uint64_t max_abs, int exp) { return max_abs == 0 ? 0 : fx::RoundLog2(max_abs) + exp; }

// Uniform access to "value i = m[i] * 2^exp" for integer tensors and to float tensors,
// with exactly the operations the quantizers need. Integer tensors take the element
// functions below (ShiftQuantizeElement, FlagQuantizeElement); the templates serve floats.
struct IntInput {
  std::span<const int64_t> m;
  int exp;
  int MaxExponent() const { return ExponentOfMax(MaxMagnitude(), exp); }  // round(log2 max |x|) or 0
  uint64_t MaxMagnitude() const {
    uint64_t max_abs = 0;  // max is exact in any order, so the parallel reduction is too
    const int64_t count = static_cast<int64_t>(m.size());
    const int64_t chunks = (count + kChunk - 1) / kChunk;
#pragma omp parallel for reduction(max : max_abs) schedule(static) if (chunks > 1)
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      const int64_t i0 = chunk * kChunk;
      max_abs = std::max(max_abs, MaxMagnitudeRow(m.data() + i0, std::min(kChunk, count - i0)));
    }
    return max_abs;
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
  bool AbsBelowPow2(size_t i, int e) const { return std::fabs(double{x[i]}) < fx::Pow2(e); }
  bool Negative(size_t i) const { return x[i] < 0; }
};

// Q(x / R, k) of float elements, as magnitudes RHE(|x| / 2^out_exp) clipped to bound, signed.
template <typename Out>
OCTET_VECTOR_CLONES void ShiftQuantizeFloatChunk(const float* x, int64_t count, int out_exp, int64_t bound,
                                                  Out* out) {
  const FloatInput in{std::span<const float>(x, static_cast<size_t>(count))};
  for (int64_t i = 0; i < count; ++i) {
    const int64_t magnitude = std::min(in.RoundAbsToExp(i, out_exp), bound);
    out[i] = static_cast<Out>(in.Negative(i) ? -magnitude : magnitude);
  }
}

template <typename Out>
int ShiftQuantizeFloat(const FloatInput& in, int k, std::span<Out> out) {
  const int r = in.MaxExponent();
  const int out_exp = r - (k - 1);             // LSB of Q(x / R, k) scaled back by R
  const int64_t bound = (int64_t{1} << (k - 1)) - 1;  // clip to +-(1 - 2^-(k-1))
  ForEachChunk(static_cast<int64_t>(in.size()), [&](int64_t i0, int64_t n) {
    ShiftQuantizeFloatChunk(in.x.data() + i0, n, out_exp, bound, out.data() + i0);
  });
  return out_exp;
}

int FlagQuantizeFloat(const FloatInput& in, std::span<int16_t> out) {
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

// r: the shift exponent of R(x).
template <typename Out>
int ShiftQuantizeInt(std::span<const int64_t> m, int exp, int r, int k, std::span<Out> out) {
  const int out_exp = r - (k - 1);  // LSB of Q(x / R, k) scaled back by R
  const int shift = out_exp - exp;                      // right shift of |m| to that LSB
  const int64_t count = static_cast<int64_t>(m.size());
  if (ShiftInRange(shift)) {
    const int64_t bound = (int64_t{1} << (k - 1)) - 1;
    ForEachChunk(count, [&](int64_t i0, int64_t n) { ShiftQuantizeChunk(m.data() + i0, n, shift, bound, out.data() + i0); });
  } else {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < count; ++i) out[i] = static_cast<Out>(ShiftQuantizeElement(m[i], shift, k));
  }
  return out_exp;
}

}  // namespace

int ShiftExponent(std::span<const int64_t> m, int exp) { return IntInput{m, exp}.MaxExponent(); }
uint64_t MaxMagnitude(std::span<const int64_t> m) { return IntInput{m, 0}.MaxMagnitude(); }
int ShiftExponent(std::span<const float> x) { return FloatInput{x}.MaxExponent(); }

int64_t ShiftQuantizeElement(int64_t m, int shift, int k) {
  const int64_t bound = (int64_t{1} << (k - 1)) - 1;  // clip to +-(1 - 2^-(k-1))
  if (ShiftInRange(shift)) return ShiftQuantizeInRange(m, shift, bound);
  const int64_t magnitude = std::min(RoundAbsShift(m, shift), bound);
  return m < 0 ? -magnitude : magnitude;
}

int16_t FlagQuantizeElement(int64_t m, int t) {
  if (FlagShiftInRange(t)) return FlagQuantizeInRange(m, t);
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
  return ShiftQuantizeInt(m, exp, ShiftExponent(m, exp), k, out);
}
int ShiftQuantize(std::span<const int64_t> m, int exp, uint64_t max_abs, int k, std::span<int16_t> out) {
  return ShiftQuantizeInt(m, exp, ExponentOfMax(max_abs, exp), k, out);
}
int ShiftQuantize(std::span<const float> x, int k, std::span<int16_t> out) {
  return ShiftQuantizeFloat(FloatInput{x}, k, out);
}
int ShiftQuantize(std::span<const int64_t> m, int exp, int k, std::span<int8_t> out) {
  if (k > 8) Fail("ShiftQuantize: k = {} does not fit an int8 output", k);
  return ShiftQuantizeInt(m, exp, ShiftExponent(m, exp), k, out);
}
int ShiftQuantize(std::span<const float> x, int k, std::span<int8_t> out) {
  if (k > 8) Fail("ShiftQuantize: k = {} does not fit an int8 output", k);
  return ShiftQuantizeFloat(FloatInput{x}, k, out);
}

int FlagQuantize(std::span<const int64_t> m, int exp, std::span<int16_t> out) {
  return FlagQuantize(m, exp, MaxMagnitude(m), out);
}

int FlagQuantize(std::span<const int64_t> m, int exp, uint64_t max_abs, std::span<int16_t> out) {
  return FlagQuantize(m, exp, max_abs, out, {});
}

int FlagQuantize(std::span<const int64_t> m, int exp, uint64_t max_abs, std::span<int16_t> out,
                 std::span<uint16_t> words) {
  const int sc_exp = ExponentOfMax(max_abs, exp) - 7;  // Sc = R / 2^(k_E2 - 1) = R / 128
  const int t = sc_exp - exp;                    // right shift of |m| to Sc
  const int64_t count = static_cast<int64_t>(m.size());
  const bool encode = !words.empty();  // FlagQuantize without words passes an empty span
  if (FlagShiftInRange(t)) {
    ForEachChunk(count, [&](int64_t i0, int64_t n) {
      if (encode) {
        FlagQuantizeEncodeChunk(m.data() + i0, n, t, out.data() + i0, words.data() + i0);
      } else {
        FlagQuantizeChunk(m.data() + i0, n, t, out.data() + i0);
      }
    });
  } else {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < count; ++i) {
      out[i] = FlagQuantizeElement(m[i], t);
      if (encode) words[i] = FlagEncode(out[i]);
    }
  }
  return sc_exp - 7;  // small-region LSB: Q(x / Sc, 8) -> Sc / 128
}
int FlagQuantize(std::span<const float> x, std::span<int16_t> out) { return FlagQuantizeFloat(FloatInput{x}, out); }

uint16_t FlagEncode(int16_t value) {
  const uint16_t sign = value < 0 ? 1 : 0;
  const int magnitude = std::abs(static_cast<int>(value));
  if (magnitude >= 128) return static_cast<uint16_t>((1u << 8) | (sign << 7) | (magnitude / 128));
  return static_cast<uint16_t>((sign << 7) | magnitude);
}

void FlagEncode(std::span<const int16_t> values, std::span<uint16_t> words) {
  ForEachChunk(static_cast<int64_t>(values.size()),
               [&](int64_t i0, int64_t n) { FlagEncodeChunk(values.data() + i0, n, words.data() + i0); });
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

namespace {

// ConstantQuantizeElement for elements first.. of a chunk and 1 <= shift <= 63, in uint64:
// the remainder of m / 2^shift is m's low shift bits, and its 32-bit fraction a shift of it
// (the int128 of StochasticRoundShift is needed only beyond these shifts).
OCTET_VECTOR_CLONES
void ConstantQuantizeChunk(const int64_t* m, int64_t count, uint64_t first, int shift, int64_t bound,
                           uint64_t prefix, int16_t* out) {
  const uint64_t low_bits = (uint64_t{1} << shift) - 1;
  for (int64_t i = 0; i < count; ++i) {
    const uint64_t remainder = static_cast<uint64_t>(m[i]) & low_bits;
    const uint64_t frac32 = shift <= 32 ? remainder << (32 - shift) : remainder >> (shift - 32);
    const int64_t floor = m[i] >> shift;  // arithmetic shift: the floor quotient
    const int64_t rounded = floor + (RandomBits32(prefix, first + static_cast<uint64_t>(i)) < frac32 ? 1 : 0);
    out[i] = static_cast<int16_t>(std::clamp(rounded, -bound, bound));  // fx::SaturateSymmetric
  }
}

}  // namespace

void ConstantQuantize(std::span<const int64_t> m, int exp, int dr, const RandomStream& stream,
                      std::span<int16_t> out) {
  const int r = IntInput{m, exp}.MaxExponent();
  const int log2_dr = fx::FloorLog2(static_cast<uint64_t>(dr));
  // dr * x / R = m * 2^(exp + log2 dr - r): a right shift by r - log2 dr - exp.
  const int shift = r - log2_dr - exp;
  const uint64_t prefix = stream.Prefix();
  const int64_t count = static_cast<int64_t>(m.size());
  if (ShiftInRange(shift)) {
    ForEachChunk(count, [&](int64_t i0, int64_t n) {
      ConstantQuantizeChunk(m.data() + i0, n, static_cast<uint64_t>(i0), shift, dr - 1, prefix, out.data() + i0);
    });
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    out[i] = ConstantQuantizeElement(m[i], shift, dr, RandomBits32(prefix, i));
  }
}

}  // namespace octet::q
