#include "rtl/harness/fp_reference.h"

#include <cstring>

namespace octet::rtl {
namespace {

using Quad = __float128;
using U128 = unsigned __int128;

constexpr int kQuadMan = 112;
constexpr int kQuadBias = 16383;

U128 QuadBits(Quad q) {
  U128 bits;
  std::memcpy(&bits, &q, sizeof bits);
  return bits;
}

Quad QuadFromBits(U128 bits) {
  Quad q;
  std::memcpy(&q, &bits, sizeof q);
  return q;
}

// 2^k, exactly, for |k| well inside the quad range.
Quad Pow2(int k) { return QuadFromBits(static_cast<U128>(k + kQuadBias) << kQuadMan); }

// The unbiased exponent of the leading bit of a nonzero (normal) quad.
int LeadingExponent(Quad q) { return static_cast<int>((QuadBits(q) >> kQuadMan) & 0x7fff) - kQuadBias; }

struct Fields {
  bool sign;
  uint64_t exp, man;
};

Fields Split(uint64_t bits, FpFormat f) {
  return {((bits >> (f.exp_bits + f.man_bits)) & 1) != 0, (bits >> f.man_bits) & ((uint64_t{1} << f.exp_bits) - 1),
          bits & ((uint64_t{1} << f.man_bits) - 1)};
}

// The value of `bits`; exponent field 0 is zero (no subnormals).
Quad Decode(uint64_t bits, FpFormat f) {
  const Fields x = Split(bits, f);
  if (x.exp == 0) return 0;
  const Quad v = static_cast<Quad>((uint64_t{1} << f.man_bits) + x.man) *
                 Pow2(static_cast<int>(x.exp) - f.Bias() - f.man_bits);
  return x.sign ? -v : v;
}

// Round-to-nearest-even of an exactly held value into `f`, flushing below the smallest
// normal to +0 and saturating above the largest.
uint64_t Encode(Quad q, FpFormat f) {
  if (q == 0) return 0;
  const U128 bits = QuadBits(q);
  const uint64_t sign = static_cast<uint64_t>(bits >> 127);
  int exp = static_cast<int>((bits >> kQuadMan) & 0x7fff) - kQuadBias;
  const U128 sig = (U128{1} << kQuadMan) | (bits & ((U128{1} << kQuadMan) - 1));
  const int drop = kQuadMan - f.man_bits;
  U128 keep = sig >> drop;
  const U128 rest = sig & ((U128{1} << drop) - 1);
  const U128 half = U128{1} << (drop - 1);
  if (rest > half || (rest == half && (keep & 1) != 0)) ++keep;
  if ((keep >> (f.man_bits + 1)) != 0) {  // rounded up to the next binade
    keep >>= 1;
    ++exp;
  }
  const int64_t biased = exp + f.Bias();
  const uint64_t max_exp = (uint64_t{1} << f.exp_bits) - 1;
  const uint64_t man_mask = (uint64_t{1} << f.man_bits) - 1;
  const uint64_t sign_bit = sign << (f.exp_bits + f.man_bits);
  if (biased <= 0) return 0;
  if (static_cast<uint64_t>(biased) > max_exp) return sign_bit | (max_exp << f.man_bits) | man_mask;
  return sign_bit | (static_cast<uint64_t>(biased) << f.man_bits) | (static_cast<uint64_t>(keep) & man_mask);
}

}  // namespace

uint64_t FpFmaReference(uint64_t a, uint64_t b, uint64_t c, FpFormat op, FpFormat acc) {
  const Quad product = Decode(a, op) * Decode(b, op);  // <= 2 x 24 bits: exact
  Quad addend = Decode(c, acc);
  Quad big = product, small = addend;
  if (product == 0 || (addend != 0 && LeadingExponent(addend) > LeadingExponent(product))) {
    big = addend;
    small = product;
  }
  // Within 59 binades the sum spans at most 59 + 48 + 2 bits < 113: exact. Farther apart,
  // |small| is below 2^-50 of big's leading bit, under every rounding boundary of a result
  // of <= 48 significant bits; any stand-in of its sign between 0 and that bound rounds the
  // same, and 2^-70 of big keeps the sum exact.
  if (big != 0 && small != 0 && LeadingExponent(big) - LeadingExponent(small) >= 60) {
    const Quad tiny = Pow2(LeadingExponent(big) - 70);
    small = small < 0 ? -tiny : tiny;
  }
  return Encode(big + small, acc);
}

double FpToDouble(uint64_t bits, FpFormat f) { return static_cast<double>(Decode(bits, f)); }

}  // namespace octet::rtl
