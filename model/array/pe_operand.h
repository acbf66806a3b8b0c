// The operand form of a processing element (PE) and its multiply-accumulate step.
//
// Every operand of every GEMM enters the array as a sign-magnitude byte with an exponent:
// value = (-1)^negative * magnitude << shift. The multiplier is therefore one 8 x 8
// unsigned multiplier for all three GEMMs of a training step; the wider formats are
// fed to it as follows (docs/numerics.md, 3.3 and 3.4):
//
//   operand                       magnitude     negative  shift  passes
//   int8 weight W_q               |w| (<= 128)  w < 0     0      1
//   uint8 activation x0           a             false     0      1
//   9-bit Flag QE2 word           bits 6..0     bit 7     7*bit8 1
//   8-bit SQ error (int8 range)   |e| (<= 128)  e < 0     0      1
//   16-bit SQ error, high digit   |e| >> 8      e < 0     8      2 (hi pass, lo pass)
//   16-bit SQ error, low digit    |e| & 255     e < 0     0
//
// PE step: product = magnitude_a * magnitude_b (16 bits, unsigned), shifted left by
// shift_a + shift_b (at most one operand of a pair is shifted, so the shift is <= 8 and
// the shifted product is < 2^24), negated when negative_a != negative_b, added to the
// accumulator.
//
// Accumulator width (kAccumulatorBits = 48, signed). Largest product magnitudes:
//   forward        |w| * a            <= 128 * 255       = 32640   < 2^15
//   error, flag    |w| * 127 << 7     <= 128 * 16256     = 2080768 < 2^21
//   error, SQ16    |w| * |e|          <= 128 * 32768             = 2^22
//   wgrad, flag    a * 127 << 7       <= 255 * 16256     = 4145280 < 2^22
//   wgrad, SQ16    a * |e|            <= 255 * 32768     = 8355840 < 2^23
// Reduction lengths enforced by the golden QuantLayer: K <= 8192 = 2^13 for the forward
// and error GEMMs (so |sum| <= 2^13 * 2^22 = 2^35), and P = N*OH*OW <= 2^24 for the
// weight gradient (so |sum| < 2^24 * 2^23 = 2^47). Every partial sum, in any order, is
// bounded by the sum of the product magnitudes, and the two digit passes of a 16-bit SQ
// error split each product into two of the same sign, so no intermediate of a legal GEMM
// leaves [-2^47, 2^47 - 1]. Operands outside these limits can; the accumulator then
// throws octet::Error instead of wrapping (AddToAccumulator).
#pragma once

#include <cstdint>

namespace octet::model {

inline constexpr int kMultiplierBits = 8;     // each magnitude is one unsigned byte
inline constexpr int kMaxProductShift = 8;    // shift_a + shift_b: the flag's 7, a high digit's 8
inline constexpr int kAccumulatorBits = 48;   // PE accumulators, WS partial sums, output buffer
inline constexpr int64_t kAccumulatorMax = (int64_t{1} << (kAccumulatorBits - 1)) - 1;
inline constexpr int64_t kAccumulatorMin = -(int64_t{1} << (kAccumulatorBits - 1));

// The flag word's exponent: a flag-1 magnitude counts in units of 128 (2^7).
inline constexpr int kFlagShift = 7;
// A 16-bit SQ error is split into base-256 digits; the high digit carries 2^8.
inline constexpr int kDigitShift = 8;

struct PeOperand {
  uint8_t magnitude = 0;
  bool negative = false;
  uint8_t shift = 0;

  // (-1)^negative * magnitude << shift: the number the operand stands for.
  int64_t value() const {
    const int64_t scaled = int64_t{magnitude} << shift;
    return negative ? -scaled : scaled;
  }
  friend bool operator==(const PeOperand&, const PeOperand&) = default;
};

// One 8 x 8 unsigned multiplication; the result fits 16 bits.
inline uint16_t MultiplyMagnitudes(uint8_t a, uint8_t b) {
  return static_cast<uint16_t>(uint32_t{a} * uint32_t{b});
}

// The PE's product of two operands: magnitudes multiplied, shifted, then signed.
// Precondition: a.shift + b.shift <= kMaxProductShift, so |product| < 2^24.
inline int32_t PeProduct(const PeOperand& a, const PeOperand& b) {
  const uint32_t shifted = uint32_t{MultiplyMagnitudes(a.magnitude, b.magnitude)} << (a.shift + b.shift);
  const int32_t magnitude = static_cast<int32_t>(shifted);  // < 2^24: exact
  return a.negative != b.negative ? -magnitude : magnitude;
}

// Throws octet::Error: `sum` (already computed in 64 bits) left the 48-bit range.
[[noreturn]] void FailAccumulatorOverflow(int64_t sum);

// accumulator + addend in the 48-bit accumulator. Leaving [-2^47, 2^47 - 1] is an error,
// never a silent wrap: with |addend| < 2^48 the int64 sum itself cannot overflow.
inline int64_t AddToAccumulator(int64_t accumulator, int64_t addend) {
  const int64_t sum = accumulator + addend;
  if (sum > kAccumulatorMax || sum < kAccumulatorMin) [[unlikely]] FailAccumulatorOverflow(sum);
  return sum;
}

// Encoders (the table above).
inline PeOperand EncodeWeight(int8_t w) {
  const int magnitude = w < 0 ? -int{w} : int{w};  // 128 for -128: still one byte
  return {static_cast<uint8_t>(magnitude), w < 0, 0};
}
inline PeOperand EncodeActivation(uint8_t a) { return {a, false, 0}; }
[[noreturn]] void FailFlagWord(uint16_t word);
[[noreturn]] void FailShiftError8(int16_t e);
// A 9-bit Flag QE2 word (bit 8 flag, bit 7 sign, bits 6..0 magnitude). Throws
// octet::Error when a bit above bit 8 is set. A flag-1 word with magnitude 0 stands
// for 0, as in q::FlagDecode.
inline PeOperand EncodeFlagWord(uint16_t word) {
  constexpr uint16_t kFlagBit = 0x100, kSignBit = 0x80, kMagnitudeBits = 0x7F;
  if (word > (kFlagBit | kSignBit | kMagnitudeBits)) [[unlikely]] FailFlagWord(word);
  return {static_cast<uint8_t>(word & kMagnitudeBits), (word & kSignBit) != 0,
          static_cast<uint8_t>((word & kFlagBit) ? kFlagShift : 0)};
}
// An 8-bit SQ error held in an int16 container: throws octet::Error outside [-128, 127].
// The operand is the same sign-magnitude byte as a weight's.
inline PeOperand EncodeShiftError8(int16_t e) {
  if (e < -128 || e > 127) [[unlikely]] FailShiftError8(e);
  return EncodeWeight(static_cast<int8_t>(e));
}

// A 16-bit SQ error as two base-256 digits of the same sign: value = high + low.
struct ErrorDigits {
  PeOperand high;  // (|e| >> 8, e < 0, 8): the hi pass
  PeOperand low;   // (|e| & 255, e < 0, 0): the lo pass
};
// Every int16 value is accepted: |-32768| = 128 << 8 still has a one-byte high digit.
inline ErrorDigits EncodeShiftError16(int16_t e) {
  const uint32_t magnitude = static_cast<uint32_t>(e < 0 ? -int32_t{e} : int32_t{e});  // <= 2^15
  return {{static_cast<uint8_t>(magnitude >> kDigitShift), e < 0, kDigitShift},
          {static_cast<uint8_t>(magnitude & 0xFFu), e < 0, 0}};
}

// The stored formats the array reads, one per operand column of the table above.
enum class OperandKind {
  kWeight,        // int8 W_q
  kActivation,    // uint8 x0
  kFlagError,     // uint16 container of a 9-bit Flag QE2 word
  kShiftError8,   // int16 container of an SQ(e, 8) error, [-128, 127]
  kShiftError16,  // int16 SQ(e, 16) error: two digit operands, two passes
  kEncoded,       // PeOperand, already encoded (at most one digit pass)
};

const char* OperandKindName(OperandKind kind);
// Passes the array makes over an operand of this kind: 2 for a 16-bit SQ error, else 1.
int OperandPasses(OperandKind kind);

}  // namespace octet::model
