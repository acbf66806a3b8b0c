// The WAGEUBN quantization functions in integer arithmetic (paper section III-B/C).
// Each returns integers plus the exponent of their least significant bit: the value of
// element i is out[i] * 2^exp. docs/numerics.md gives the formula of each one.
//
// Inputs are either integer tensors with a common exponent (value = m[i] * 2^exp), as
// produced by the integer datapath, or float tensors, at the boundary with a float layer.
// Both paths share one template, so the two give identical results on the same values.
#pragma once

#include <cstdint>
#include <span>

#include "golden/numerics/counter_rng.h"

namespace octet::q {

// The shift exponent r of R(x) = 2^round(log2 max|x|). For an all-zero tensor R is
// defined as 1 (r = 0): every quantizer then outputs zeros.
int ShiftExponent(std::span<const int64_t> m, int exp);
int ShiftExponent(std::span<const float> x);

// SQ(x, k) = R * clip(Q(x / R, k), -1 + 2^-(k-1), 1 - 2^-(k-1)) (paper eq. 7), used for
// E1 (k = k_E1) and the shift-mode E2 (k = k_E2). out[i] in [-(2^(k-1) - 1), 2^(k-1) - 1];
// returns exp = r - (k - 1).
int ShiftQuantize(std::span<const int64_t> m, int exp, int k, std::span<int16_t> out);
int ShiftQuantize(std::span<const float> x, int k, std::span<int16_t> out);
// The same into int8 for k <= 8 (E1), where every output fits.
int ShiftQuantize(std::span<const int64_t> m, int exp, int k, std::span<int8_t> out);
int ShiftQuantize(std::span<const float> x, int k, std::span<int8_t> out);

// 8-bit Flag QE2 (paper eq. 16) with Sc = R / 128. out[i] is the decoded value in units
// of Sc / 128 = R * 2^-14: small region |x| < Sc gives |out| in [0, 127]; the large region
// gives |out| = 128 * clip(RHE(|x| / Sc), 1, 127). Returns exp = r - 14.
int FlagQuantize(std::span<const int64_t> m, int exp, std::span<int16_t> out);
int FlagQuantize(std::span<const float> x, std::span<int16_t> out);
// max |m| over an integer tensor (|INT64_MIN| taken as 2^63 - 1), from which the quantizers
// above take R.
uint64_t MaxMagnitude(std::span<const int64_t> m);
// SQ and Flag QE2 of an integer tensor whose max |m| the caller already has (the BN backward
// unit computes it with dx1): the same outputs without a pass over m to find it.
int ShiftQuantize(std::span<const int64_t> m, int exp, uint64_t max_abs, int k, std::span<int16_t> out);
int FlagQuantize(std::span<const int64_t> m, int exp, uint64_t max_abs, std::span<int16_t> out);
// The same, writing each value's stored word (FlagEncode) to words in the same pass.
int FlagQuantize(std::span<const int64_t> m, int exp, uint64_t max_abs, std::span<int16_t> out,
                 std::span<uint16_t> words);

// The 9-bit stored word of a flag-quantized value (paper Fig. 4), canonical encoding:
//   bit 8 flag (1: |value| >= Sc), bit 7 sign (1: negative), bits 6..0 magnitude.
//   flag 0: value = +-mag (units Sc/128), mag in [0, 127]; flag 1: value = +-128 * mag,
//   mag in [1, 127]. A small-region 128/128 is stored as flag 1, mag 1. Zero is +0.
uint16_t FlagEncode(int16_t value);
int16_t FlagDecode(uint16_t word);  // any 9-bit word; flag 1 with mag 0 decodes to 0
// words[i] = FlagEncode(values[i]) for a whole tensor (same size).
void FlagEncode(std::span<const int16_t> values, std::span<uint16_t> words);

// Stochastic rounding of one element for CQ: floor(m * 2^-shift) + (u < frac ? 1 : 0),
// where frac is the shifted-out fraction scaled to 32 bits (truncated beyond 32 bits),
// and u is a uniform 32-bit draw. shift <= 0 is an exact left shift (saturating to int64).
int64_t StochasticRoundShift(int64_t m, int shift, uint32_t u);

// The element steps of SQ, Flag QE2 and CQ on an integer element m (value m * 2^exp), given
// the shift that the tensor's max|x| pass fixes (r = ShiftExponent(m, exp)). The span
// versions call them, and the RTL vector units (rtl/units) are checked against them. They
// are defined for every m and shift: a left shift past int64 saturates, under every clip.
//   ShiftQuantizeElement:    shift = r - (k - 1) - exp; sign(m) min(RHE(|m| 2^-shift), 2^(k-1) - 1).
//   FlagQuantizeElement:     t = r - 7 - exp (|m| against Sc = 2^t); out[i] of FlagQuantize.
//   ConstantQuantizeElement: shift = r - log2(dr) - exp; clip(SR(m 2^-shift, u), +-(dr - 1)).
int64_t ShiftQuantizeElement(int64_t m, int shift, int k);
int16_t FlagQuantizeElement(int64_t m, int t);
int16_t ConstantQuantizeElement(int64_t m, int shift, int dr, uint32_t u);

// CQ(x) (paper eq. 6): n = clip(SR(dr * x / R(x)), -(dr - 1), dr - 1); G = n / 2^(k_GC-1).
// out[i] = n. dr is a power of two. Element i draws RandomBits32(stream prefix, i).
void ConstantQuantize(std::span<const int64_t> m, int exp, int dr, const RandomStream& stream,
                      std::span<int16_t> out);

}  // namespace octet::q
