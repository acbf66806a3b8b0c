// Counter-based random draws for the RTL regressions (block_regressions.h,
// array_regression.h): draw k of vector `index` of the stream `salt` under `seed` is
// Mix64(h ^ k), h = Mix64(Mix64(Mix64(seed ^ golden ratio) ^ salt) ^ index). No state
// between vectors and no std:: distribution, so any vector of a run can be regenerated on
// its own and a seed gives the same vectors on every platform.
#pragma once

#include <cstdint>
#include <initializer_list>

#include "golden/numerics/counter_rng.h"
#include "golden/numerics/fixed_point.h"

namespace octet::rtl {

class Draws {
 public:
  Draws(uint64_t seed, uint64_t salt, int64_t index)
      : h_(Mix64(Mix64(Mix64(seed ^ 0x9E3779B97F4A7C15ULL) ^ salt) ^ static_cast<uint64_t>(index))) {}

  uint64_t Next() { return Mix64(h_ ^ ++k_); }
  // In [lo, hi] by reduction modulo the span (bias below 2^-32 for the spans used here).
  int64_t Range(int64_t lo, int64_t hi) {
    const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1;
    return static_cast<int64_t>(static_cast<uint64_t>(lo) + (span == 0 ? Next() : Next() % span));
  }
  bool OneIn(int64_t n) { return Next() % static_cast<uint64_t>(n) == 0; }
  template <typename T>
  T Pick(std::initializer_list<T> values) {
    return values.begin()[Range(0, static_cast<int64_t>(values.size()) - 1)];
  }
  // A magnitude whose bit length is uniform in [0, max_bits] (max_bits <= 63): every scale
  // is as likely as every other.
  uint64_t Magnitude(int max_bits) {
    const int bits = static_cast<int>(Range(0, max_bits));
    if (bits == 0) return 0;
    return (uint64_t{1} << (bits - 1)) | (Next() & ((uint64_t{1} << (bits - 1)) - 1));
  }
  // +-Magnitude(max_bits).
  int64_t Signed(int max_bits) {
    const auto a = static_cast<int64_t>(Magnitude(max_bits));
    return OneIn(2) ? -a : a;
  }
  // In [0, max], log-uniform.
  uint64_t Below(uint64_t max) {
    if (max == 0) return 0;
    const uint64_t a = Magnitude(fx::FloorLog2(max) + 1);
    return a > max ? a % (max + 1) : a;
  }

 private:
  uint64_t h_;
  uint64_t k_ = 0;
};

}  // namespace octet::rtl
