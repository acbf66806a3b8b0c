// Counter-based random bits for stochastic rounding (CQ). A pure function of
// (seed, step, layer, tensor, index): no state, so the bits do not depend on thread count
// or execution order, and the SystemC model and the RTL compute the same function.
//
// Specification (docs/numerics.md, "Random bits"): Mix is the SplitMix64 finaliser
// (Steele, Lea, Flood 2014), a bijection on 64-bit words:
//   z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27; z *= 0x94D049BB133111EB; z ^= z >> 31.
// The counter is absorbed one 64-bit word at a time:
//   h = Mix(seed ^ 0x9E3779B97F4A7C15)
//   h = Mix(h ^ step)
//   h = Mix(h ^ (layer << 32 | tensor))
//   h = Mix(h ^ index)
//   u = h >> 32            (32 uniform bits; u / 2^32 is the U[0,1) draw)
// All arithmetic is modulo 2^64.
#pragma once

#include <cstdint>

namespace octet {

constexpr uint64_t Mix64(uint64_t z) {
  z ^= z >> 30;
  z *= 0xBF58476D1CE4E5B9ULL;
  z ^= z >> 27;
  z *= 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return z;
}

// Identifies one random stream: everything but the element index.
struct RandomStream {
  uint64_t seed = 0;
  uint64_t step = 0;
  uint32_t layer = 0;
  uint32_t tensor = 0;

  // The prefix hash of (seed, step, layer, tensor), shared by all elements.
  constexpr uint64_t Prefix() const {
    uint64_t h = Mix64(seed ^ 0x9E3779B97F4A7C15ULL);
    h = Mix64(h ^ step);
    h = Mix64(h ^ ((static_cast<uint64_t>(layer) << 32) | tensor));
    return h;
  }
};

// 32 random bits for element `index` of the stream whose prefix is `prefix`.
constexpr uint32_t RandomBits32(uint64_t prefix, uint64_t index) {
  return static_cast<uint32_t>(Mix64(prefix ^ index) >> 32);
}

// Tensor ids of the random streams (the only stochastic tensors are CQ outputs).
enum class RandomTensorId : uint32_t { kWeightGradient = 1 };

}  // namespace octet
