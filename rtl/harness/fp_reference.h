// The C++ reference of the precision comparison's MACs (rtl/precision; docs/energy-area.md,
// "Precision comparison (Fig. 10)"): the exact value of c + a * b, computed in IEEE quad
// precision (__float128, whose 113-bit significand holds every sum the formats here need
// exactly), rounded once to nearest even into the accumulator's format, with the RTL's
// documented simplifications: exponent field 0 is zero on input, results below the
// smallest normal flush to +0, no Inf or NaN (the all-ones exponent is an ordinary binade;
// larger results saturate), every zero result is +0. Written independently of the RTL's
// datapath (no window, no sticky slot), so the two check each other.
#pragma once

#include <cstdint>

namespace octet::rtl {

// A binary floating-point format in IEEE layout {sign, exponent, fraction}, bias
// 2^(exp_bits - 1) - 1.
struct FpFormat {
  int exp_bits = 8;
  int man_bits = 23;
  int Bits() const { return 1 + exp_bits + man_bits; }
  int Bias() const { return (1 << (exp_bits - 1)) - 1; }
};

inline constexpr FpFormat kFp8E5M2{5, 2};    // FP8 (1-5-2) of Wang et al. 2018
inline constexpr FpFormat kFp16Acc{6, 9};    // their 16-bit accumulator (1-6-9)
inline constexpr FpFormat kFp16{5, 10};      // IEEE binary16
inline constexpr FpFormat kFp32{8, 23};      // IEEE binary32

// RNE(c + a * b) with a, b in `op` and c and the result in `acc`, as the RTL's
// octet_fp_fma computes it (exp_bits <= 11, man_bits <= 23: products of <= 48 bits).
uint64_t FpFmaReference(uint64_t a, uint64_t b, uint64_t c, FpFormat op, FpFormat acc);

// A value of `format` as a double (exact for these formats; exponent field 0 is 0).
double FpToDouble(uint64_t bits, FpFormat format);

}  // namespace octet::rtl
