// Seeded parameter initialisation without std:: distributions: a truncated normal draw
// built from the counter-based random bits (counter_rng.h), so it is the same on every
// run and thread count. Box-Muller on two 32-bit draws; redrawn (next attempt index)
// while |z| > 2; after 16 rejected attempts (probability 1e-21) z = 0.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

#include "golden/numerics/counter_rng.h"

namespace octet {

inline double TruncatedStandardNormal(uint64_t prefix, uint64_t index) {
  for (uint64_t attempt = 0; attempt < 16; ++attempt) {
    const uint64_t counter = (index * 16 + attempt) * 2;
    const double u1 = (RandomBits32(prefix, counter) + 0.5) / 4294967296.0;  // in (0, 1)
    const double u2 = (RandomBits32(prefix, counter + 1) + 0.5) / 4294967296.0;
    const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
    if (std::fabs(z) <= 2.0) return z;
  }
  return 0.0;
}

// Stream ids of the initial values (tensor field of RandomStream, step 0).
enum class InitStreamId : uint32_t { kWeights = 100 };

}  // namespace octet
