#include "rtl/harness/block_regressions.h"

#include <algorithm>
#include <climits>
#include <span>
#include <tuple>

#include <fmt/format.h>

#include "golden/core/error.h"
#include "golden/kernels/int_batchnorm.h"
#include "golden/net/quant_ops.h"
#include "golden/numerics/counter_rng.h"
#include "golden/numerics/fixed_point.h"
#include "golden/numerics/quantizers.h"
#include "golden/numerics/scheme.h"
#include "rtl/harness/draws.h"
#include "rtl/harness/units_driver.h"

namespace octet::rtl {

bool MismatchRecorder::Compare(int64_t vector, const Fields& expected, const Fields& actual,
                               const std::function<std::string()>& inputs) {
  for (size_t f = 0; f < expected.size(); ++f) {
    const int64_t rtl = f < actual.size() ? actual[f].second : 0;
    if (f < actual.size() && expected[f].second == rtl) continue;
    if (failures_++ == 0) {
      first_mismatch_ = fmt::format("vector {} {{{}}}: {} expected {}, rtl {}", vector, inputs ? inputs() : "",
                                    expected[f].first, expected[f].second, rtl);
    }
    return false;
  }
  return true;
}

void MismatchRecorder::Record(int64_t count, const std::string& message) {
  if (failures_ == 0) first_mismatch_ = message;
  failures_ += count;
}

namespace {

using Fields = MismatchRecorder::Fields;
using u128 = unsigned __int128;

const Scheme& Wageubn8() {
  static const Scheme scheme = LoadScheme("wageubn8");
  return scheme;
}

// Blocks' salts: the generators of different blocks draw different streams.
enum Salt : uint64_t { kFlagEncoder = 1, kFlagDecoder, kE1Quantizer, kReluQa, kCq, kUpdateUnit, kBnNormalise };

// The inverse of Mix64 (each step is a bijection), to pick a CQ element's random bits.
constexpr uint64_t InverseOdd(uint64_t a) {
  uint64_t x = a;  // Newton's iteration doubles the correct low bits: 3, 6, ..., 96
  for (int i = 0; i < 5; ++i) x *= 2 - a * x;
  return x;
}
constexpr uint64_t UndoXorShift(uint64_t y, int s) {
  uint64_t x = y;  // (I + S)^-1 = I + S + S^2 + ... over GF(2)
  for (int k = s; k < 64; k += s) x ^= y >> k;
  return x;
}
constexpr uint64_t Mix64Inverse(uint64_t z) {
  z = UndoXorShift(z, 31);
  z *= InverseOdd(0x94D049BB133111EBULL);
  z = UndoXorShift(z, 27);
  z *= InverseOdd(0xBF58476D1CE4E5B9ULL);
  return UndoXorShift(z, 30);
}
static_assert(Mix64(Mix64Inverse(0x0123456789ABCDEFULL)) == 0x0123456789ABCDEFULL);
static_assert(Mix64Inverse(Mix64(0xFEDCBA9876543210ULL)) == 0xFEDCBA9876543210ULL);

// ---------------------------------------------------------------------------------------
// Shared shapes of quantizer inputs: an element of a tensor whose max|x| is M, so that the
// block's shift is the one the max|x| pass gives.

// max|x| in [1, 2^63 - 1]: any bit length, often a power of two, 2^b - 1, or next to the
// point 2^(p + 1/2) where round(log2 M) steps.
uint64_t TensorMax(Draws& d) {
  const int bits = static_cast<int>(d.Range(1, 63));
  switch (d.Range(0, 5)) {
    case 0:
      return uint64_t{1} << (bits - 1);
    case 1:
      return bits == 63 ? uint64_t{INT64_MAX} : (uint64_t{1} << bits) - 1;
    case 2: {
      const int p = std::min(bits, 62) - 1;  // floor(2^(p + 1/2)) + {-1, 0, 1, 2}
      const uint64_t root = fx::FloorSqrt(static_cast<u128>(1) << (2 * p + 1));
      return std::max<uint64_t>(1, root + static_cast<uint64_t>(d.Range(-1, 2)));
    }
    default:
      return std::max<uint64_t>(1, d.Magnitude(63));
  }
}

// A magnitude in [0, max] that is q * 2^s plus one half, give or take 1 (a tie of the RHE
// at shift s), with q random or one of the clip boundaries.
uint64_t NearTie(Draws& d, int s, uint64_t max) {
  if (s < 1 || s > 62) return d.Below(max);
  const uint64_t q = d.OneIn(2) ? d.Below(max >> s) : d.Pick<uint64_t>({0, 1, 2, 126, 127, 128, 255});
  const u128 a = (static_cast<u128>(q) << s) + (uint64_t{1} << (s - 1));
  const u128 moved = a + static_cast<u128>(d.Range(0, 2)) - 1;  // a - 1, a, a + 1
  return moved > max ? max : static_cast<uint64_t>(moved);
}

uint64_t NearPow2(Draws& d, int s, uint64_t max) {
  if (s < 0 || s > 62) return d.Below(max);
  const uint64_t a = (uint64_t{1} << s) + static_cast<uint64_t>(d.Range(-1, 1));
  return std::min(a, max);
}

int64_t WithSign(Draws& d, uint64_t a) {
  return d.OneIn(2) ? -static_cast<int64_t>(a) : static_cast<int64_t>(a);
}

// An element m and the block's shift = round(log2 M) - offset for a tensor with max|x| M;
// `rounding` are the offsets (from the shift) at which the block rounds, `boundary` the
// exponent offset of a region or clip boundary.
std::pair<int64_t, int> TensorElement(Draws& d, int offset, std::initializer_list<int> rounding, int boundary) {
  const uint64_t big = TensorMax(d);
  const int shift = fx::RoundLog2(big) - offset;
  uint64_t a = 0;
  switch (d.Range(0, 5)) {
    case 0:
      a = big;  // the largest element
      break;
    case 1:
    case 2:
      a = NearTie(d, shift + d.Pick(rounding), big);
      break;
    case 3:
      a = NearPow2(d, shift + boundary, big);
      break;
    default:
      a = d.Below(big);
      break;
  }
  return {WithSign(d, a), shift};
}

// Any int64 (log-uniform magnitude, INT64_MIN sometimes) and any shift in [-128, 127], half
// of the time near the value's own scale.
std::pair<int64_t, int> FreeElement(Draws& d) {
  const int64_t m = d.OneIn(64) ? INT64_MIN : d.Signed(63);
  const int bits = fx::FloorLog2(fx::AbsMagnitude(m) | 1) + 1;
  const int shift = d.OneIn(2) ? static_cast<int>(d.Range(-128, 127)) : bits - 8 + static_cast<int>(d.Range(-4, 4));
  return {m, std::clamp(shift, -128, 127)};
}

// ---------------------------------------------------------------------------------------
// The generic regression: edge cases, then random vectors, in batches through the block's
// driver, every output field compared with the golden function's.

template <typename In, typename Out>
struct BlockSpec {
  uint64_t salt;
  std::vector<In> edges;
  std::function<In(Draws&)> random;
  std::function<Out(const In&)> golden;
  std::function<std::vector<Out>(std::span<const In>, uint64_t stall_seed)> rtl;
  std::function<std::string(const In&)> describe;
  std::function<Fields(const Out&)> fields;
};

template <typename In, typename Out>
BlockResult RunSpec(const std::string& name, const BlockSpec<In, Out>& spec, uint64_t seed, int64_t vectors,
                    const RegressionOptions& options) {
  constexpr int64_t kBatch = 4096;
  MismatchRecorder recorder;
  const auto edges = static_cast<int64_t>(spec.edges.size());
  const int64_t total = edges + std::max<int64_t>(vectors, 0);
  std::vector<In> in;
  for (int64_t start = 0; start < total; start += kBatch) {
    const int64_t end = std::min(total, start + kBatch);
    in.clear();
    for (int64_t v = start; v < end; ++v) {
      if (v < edges) {
        in.push_back(spec.edges[v]);
      } else {
        Draws d(seed, spec.salt, v - edges);
        in.push_back(spec.random(d));
      }
    }
    // Every other batch of a clocked block runs with stalls (bubbles, consumer not ready).
    const uint64_t stall_seed = (start / kBatch) % 2 == 1 ? Mix64(seed ^ static_cast<uint64_t>(start)) | 1 : 0;
    std::vector<Out> out;
    try {
      out = spec.rtl(std::span<const In>(in), stall_seed);
    } catch (const Error& e) {
      recorder.Record(total - start, fmt::format("vectors {}..{}: {}", start, total - 1, e.what()));
      break;
    }
    for (int64_t v = start; v < end; ++v) {
      const In& x = in[v - start];
      Fields expected = spec.fields(spec.golden(x));
      if (options.corrupt_every > 0 && v % options.corrupt_every == 0) expected[0].second ^= 1;
      recorder.Compare(v, expected, spec.fields(out[v - start]), [&] {
        return fmt::format("{} {}", v < edges ? "edge" : "random", spec.describe(x));
      });
    }
  }
  return {name, total, recorder.failures(), recorder.first_mismatch()};
}

// Runs a combinational driver element by element.
template <typename Driver, typename In>
auto Elementwise(Driver& driver, std::span<const In> in) {
  std::vector<decltype(driver.Run(in[0]))> out;
  out.reserve(in.size());
  for (const In& x : in) out.push_back(driver.Run(x));
  return out;
}

// ---------------------------------------------------------------------------------------
// octet_flag_encoder

BlockResult FlagEncoderRegression(uint64_t seed, int64_t vectors, const RegressionOptions& options) {
  BlockSpec<FlagEncoderIn, uint16_t> spec;
  spec.salt = kFlagEncoder;
  // Zero; the int64 extremes; every region boundary and tie at a few scales; t <= 0.
  for (int t : {-128, -1, 0, 1, 7, 8, 56, 127}) spec.edges.push_back({0, t});
  for (int t : {-128, -7, 0, 1, 7, 8, 55, 56, 57, 62, 63, 64, 120, 127}) {
    for (int64_t m : {INT64_MIN, INT64_MIN + 1, INT64_MAX, int64_t{-1}, int64_t{1}}) spec.edges.push_back({m, t});
  }
  for (int t : {8, 9, 20, 40, 55}) {
    const int64_t sc = int64_t{1} << t, fine = int64_t{1} << (t - 7), half = fine / 2;
    for (int64_t a : {sc - 1, sc, sc + 1,                   // region boundary
                      sc - half, sc - half - 1, sc - half + 1,  // 127.5 fine units: rounds to 128
                      half, 3 * half, 5 * half, half - 1, half + 1,  // fine ties
                      sc + sc / 2, 2 * sc + sc / 2, 126 * sc + sc / 2, 127 * sc + sc / 2,  // coarse ties
                      127 * sc + sc / 2 - 1, 128 * sc, 181 * sc, sc << 7}) {
      spec.edges.push_back({a, t});
      spec.edges.push_back({-a, t});
    }
  }
  for (int t = 1; t <= 7; ++t) {  // an exact left shift in the small region
    for (int64_t a : {int64_t{1}, (int64_t{1} << t) - 1, int64_t{1} << t}) {
      spec.edges.push_back({a, t});
      spec.edges.push_back({-a, t});
    }
  }
  for (int t = 0; t >= -9; --t) {  // t <= 0: everything but zero is large, clipped at 127
    const int64_t limit = 127 >> -t;
    for (int64_t a : {int64_t{1}, limit, limit + 1, int64_t{1000}}) {
      spec.edges.push_back({a, t});
      spec.edges.push_back({-a, t});
    }
  }
  spec.random = [](Draws& d) {
    const auto [m, t] = d.Range(0, 3) != 0 ? TensorElement(d, 7, {-7, 0}, 0) : FreeElement(d);
    return FlagEncoderIn{m, t};
  };
  spec.golden = [](const FlagEncoderIn& x) { return q::FlagEncode(q::FlagQuantizeElement(x.m, x.t)); };
  FlagEncoderDriver driver;
  spec.rtl = [&](std::span<const FlagEncoderIn> in, uint64_t) { return Elementwise(driver, in); };
  spec.describe = [](const FlagEncoderIn& x) { return fmt::format("m={} t={}", x.m, x.t); };
  spec.fields = [](uint16_t w) { return Fields{{"word", w}}; };
  return RunSpec("flag_encoder", spec, seed, vectors, options);
}

// ---------------------------------------------------------------------------------------
// octet_flag_decoder

BlockResult FlagDecoderRegression(uint64_t seed, int64_t vectors, const RegressionOptions& options) {
  BlockSpec<uint16_t, int16_t> spec;
  spec.salt = kFlagDecoder;
  for (uint16_t w = 0; w < 512; ++w) spec.edges.push_back(w);  // every word
  spec.random = [](Draws& d) { return static_cast<uint16_t>(d.Range(0, 511)); };
  spec.golden = [](uint16_t w) { return q::FlagDecode(w); };
  FlagDecoderDriver driver;
  spec.rtl = [&](std::span<const uint16_t> in, uint64_t) { return Elementwise(driver, in); };
  spec.describe = [](uint16_t w) { return fmt::format("word={:#05x}", w); };
  spec.fields = [](int16_t v) { return Fields{{"value", v}}; };
  return RunSpec("flag_decoder", spec, seed, vectors, options);
}

// ---------------------------------------------------------------------------------------
// octet_e1_quantizer (k_E1 = 8)

BlockResult E1QuantizerRegression(uint64_t seed, int64_t vectors, const RegressionOptions& options) {
  constexpr int kE1 = 8;
  BlockSpec<E1QuantizerIn, int8_t> spec;
  spec.salt = kE1Quantizer;
  for (int s : {-128, -1, 0, 1, 56, 127}) spec.edges.push_back({0, s});
  for (int s : {-128, -64, -63, -7, 0, 1, 55, 56, 57, 62, 63, 64, 127}) {
    for (int64_t m : {INT64_MIN, INT64_MIN + 1, INT64_MAX, int64_t{-1}, int64_t{1}}) spec.edges.push_back({m, s});
  }
  for (int s : {1, 2, 8, 30, 55}) {
    const int64_t unit = int64_t{1} << s, half = unit / 2;
    for (int64_t q : {0, 1, 2, 3, 125, 126, 127, 128}) {  // ties round to even; 127.5 clips
      for (int64_t a : {q * unit + half - 1, q * unit + half, q * unit + half + 1, q * unit}) {
        spec.edges.push_back({a, s});
        spec.edges.push_back({-a, s});
      }
    }
  }
  for (int s = 0; s >= -8; --s) {  // exact left shifts, clipped at 127
    const int64_t limit = 127 >> -s;
    for (int64_t a : {int64_t{1}, limit, limit + 1}) {
      spec.edges.push_back({a, s});
      spec.edges.push_back({-a, s});
    }
  }
  spec.random = [](Draws& d) {
    const auto [m, shift] = d.Range(0, 3) != 0 ? TensorElement(d, kE1 - 1, {0}, kE1 - 1) : FreeElement(d);
    return E1QuantizerIn{m, shift};
  };
  spec.golden = [](const E1QuantizerIn& x) { return static_cast<int8_t>(q::ShiftQuantizeElement(x.m, x.shift, kE1)); };
  E1QuantizerDriver driver;
  spec.rtl = [&](std::span<const E1QuantizerIn> in, uint64_t) { return Elementwise(driver, in); };
  spec.describe = [](const E1QuantizerIn& x) { return fmt::format("m={} shift={}", x.m, x.shift); };
  spec.fields = [](int8_t e) { return Fields{{"e", e}}; };
  return RunSpec("e1_quantizer", spec, seed, vectors, options);
}

// ---------------------------------------------------------------------------------------
// octet_relu_qa

BlockResult ReluQaRegression(uint64_t seed, int64_t vectors, const RegressionOptions& options) {
  constexpr int kAShift = 15, kBetaShift = 15;  // f_x3 - f_A, f_x3 - f_beta at wageubn8
  constexpr int32_t kX2Min = -(1 << 23), kX2Max = (1 << 23) - 1;
  BlockSpec<ReluQaIn, ReluQaOut> spec;
  spec.salt = kReluQa;
  // x3 through the residual alone (gamma = beta = 0): around 0, the Q_A ties, the clip.
  for (int64_t a : {0, 1, 2, 127, 128, 253, 254, 255, 256, 1000}) {
    const int64_t x = a << kAShift, half = 1 << 14;
    for (int64_t r : {x, x + half, x + half - 1, x + half + 1, x - 1, -x, -x - half}) {
      spec.edges.push_back({0, 0, 0, r});
    }
  }
  // Largest products and offsets, with and without the identity residual x0 << 15.
  for (int16_t g : {int16_t{-32768}, int16_t{32767}, int16_t{-1}, int16_t{128}, int16_t{0}}) {
    for (int32_t x2 : {kX2Min, kX2Max, -1, 0, 1, 1 << 15}) {
      for (int16_t b : {int16_t{-32768}, int16_t{32767}, int16_t{0}}) {
        for (int64_t r : {int64_t{0}, int64_t{255} << kAShift}) spec.edges.push_back({x2, g, b, r});
      }
    }
  }
  // Residuals at the bound of the exact sum, |residual| < 2^62.
  for (int64_t r : {(int64_t{1} << 62) - 1, -(int64_t{1} << 62) + 1}) {
    spec.edges.push_back({kX2Max, 32767, 32767, r});
    spec.edges.push_back({kX2Min, 32767, -32768, r});
  }
  spec.random = [](Draws& d) {
    ReluQaIn x;
    // gamma_q near 1.0 (128) or anywhere in int16; x2 of a normalised value or any 24-bit.
    x.gamma_q = static_cast<int16_t>(d.OneIn(2) ? d.Range(-300, 300) : d.Range(-32768, 32767));
    x.x2 = static_cast<int32_t>(d.OneIn(2) ? d.Range(-(1 << 17), 1 << 17) : d.Range(kX2Min, kX2Max));
    x.beta_q = static_cast<int16_t>(d.OneIn(2) ? d.Range(-300, 300) : d.Range(-32768, 32767));
    switch (d.Range(0, 4)) {
      case 0:
        x.residual = 0;
        break;
      case 1:
        x.residual = d.Range(0, 255) << kAShift;  // identity shortcut x0
        break;
      case 2:
        x.residual = d.Signed(41);  // projection shortcut x3
        break;
      case 3: {
        // Place x3 at a Q_A tie (or next to it) from -4 to 260 activation units.
        const int64_t target = (d.Range(-4, 260) << kAShift) + (1 << 14) + d.Range(-1, 1);
        x.residual = target - int64_t{x.gamma_q} * x.x2 - (int64_t{x.beta_q} << kBetaShift);
        break;
      }
      default:
        x.residual = d.Signed(61);
        break;
    }
    return x;
  };
  spec.golden = [](const ReluQaIn& x) {
    const ActivatedElement e = ScaleOffsetActivateElement(Wageubn8(), x.x2, x.gamma_q, x.beta_q, x.residual);
    return ReluQaOut{e.x3, e.x4, e.relu_pass};
  };
  ReluQaDriver driver;
  spec.rtl = [&](std::span<const ReluQaIn> in, uint64_t) { return Elementwise(driver, in); };
  spec.describe = [](const ReluQaIn& x) {
    return fmt::format("x2={} gamma_q={} beta_q={} residual={}", x.x2, x.gamma_q, x.beta_q, x.residual);
  };
  spec.fields = [](const ReluQaOut& o) { return Fields{{"x3", o.x3}, {"x4", o.x4}, {"relu_pass", o.relu_pass}}; };
  return RunSpec("relu_qa", spec, seed, vectors, options);
}

// ---------------------------------------------------------------------------------------
// octet_cq

// The 32-bit fraction CQ compares the random bits with (numerics.md 3.5), shift >= 1.
uint32_t CqFraction(int64_t m, int shift) {
  const __int128 wide = (static_cast<__int128>(m) * (__int128{1} << 32)) >> std::min(shift, 100);
  return static_cast<uint32_t>(static_cast<uint64_t>(wide));
}

// A stream prefix for which element `index` draws exactly the random bits u.
uint64_t PrefixDrawing(uint32_t u, uint64_t index, uint64_t low) {
  return Mix64Inverse((uint64_t{u} << 32) | (low & 0xFFFFFFFFULL)) ^ index;
}

BlockResult CqRegression(uint64_t seed, int64_t vectors, const RegressionOptions& options) {
  BlockSpec<CqIn, int16_t> spec;
  spec.salt = kCq;
  // u just below, at and above the fraction (round up iff u < frac), at several scales.
  const auto at_fraction = [&](int64_t m, int shift, int log2_dr, uint64_t index) {
    const uint32_t frac = CqFraction(m, shift);
    for (uint32_t u : {frac - 1, frac, frac + 1, 0u, 0xFFFFFFFFu}) {
      spec.edges.push_back({m, shift, log2_dr, PrefixDrawing(u, index, index * 7919), index});
    }
  };
  for (int64_t m : {1, -1, 3, -3, 255, -255, 1 << 20, -(1 << 20), 12345, -12345}) {
    for (int shift : {1, 2, 8, 31, 32, 33, 40, 63, 64, 95, 96, 100, 127}) at_fraction(m, shift, 7, 42);
  }
  for (int64_t m : {INT64_MIN, INT64_MAX, INT64_MIN + 1}) {
    for (int shift : {1, 56, 62, 63, 64, 96, 100, 101, 127}) at_fraction(m, shift, 7, 1000);
  }
  // Exact left shifts and the clip at +-(dr - 1), for every dr.
  for (int log2_dr = 0; log2_dr <= 15; ++log2_dr) {
    const int64_t bound = (int64_t{1} << log2_dr) - 1;
    for (int shift : {-128, -20, -15, -1, 0}) {
      const int64_t limit = bound >> -std::max(shift, -63);  // the largest |m| that does not clip
      for (int64_t m : {int64_t{0}, int64_t{1}, int64_t{-1}, limit, limit + 1, INT64_MIN, INT64_MAX}) {
        spec.edges.push_back({m, shift, log2_dr, 0, static_cast<uint64_t>(m)});
        spec.edges.push_back({-std::max(m, -INT64_MAX), shift, log2_dr, 1, 2});
      }
    }
    for (int64_t m : {bound << 8, (bound << 8) + 255, (bound + 1) << 8, -(bound << 8) - 1, -((bound + 1) << 8)}) {
      at_fraction(m, 8, log2_dr, 7);
    }
  }
  spec.random = [](Draws& d) {
    CqIn x;
    x.log2_dr = d.OneIn(2) ? d.Pick({7, 7, 5, 3, 1}) : static_cast<int>(d.Range(0, 15));
    if (d.Range(0, 3) == 0) {
      std::tie(x.m, x.shift) = FreeElement(d);
    } else {
      std::tie(x.m, x.shift) = TensorElement(d, x.log2_dr, {0}, x.log2_dr);
    }
    x.index = d.OneIn(2) ? static_cast<uint64_t>(d.Range(0, 1 << 24)) : d.Next();
    x.prefix = d.Next();
    if (x.shift >= 1 && d.OneIn(4)) {  // u next to the fraction
      const uint32_t u = CqFraction(x.m, x.shift) + static_cast<uint32_t>(d.Range(-1, 1));
      x.prefix = PrefixDrawing(u, x.index, d.Next());
    }
    return x;
  };
  spec.golden = [](const CqIn& x) {
    return q::ConstantQuantizeElement(x.m, x.shift, 1 << x.log2_dr, RandomBits32(x.prefix, x.index));
  };
  CqDriver driver;
  spec.rtl = [&](std::span<const CqIn> in, uint64_t stall_seed) { return driver.Run(in, stall_seed); };
  spec.describe = [](const CqIn& x) {
    return fmt::format("m={} shift={} log2_dr={} prefix={:#x} index={:#x} (u={:#x})", x.m, x.shift, x.log2_dr,
                       x.prefix, x.index, RandomBits32(x.prefix, x.index));
  };
  spec.fields = [](int16_t g) { return Fields{{"g", g}}; };
  return RunSpec("cq", spec, seed, vectors, options);
}

// ---------------------------------------------------------------------------------------
// octet_update_unit

BlockResult UpdateUnitRegression(uint64_t seed, int64_t vectors, const RegressionOptions& options) {
  constexpr int32_t kWeightBound = (1 << 23) - 1;
  BlockSpec<UpdateIn, UpdateOut> spec;
  spec.salt = kUpdateUnit;
  // The Acc clip (unreachable in training, but defined), the largest products, the bounds
  // of both parameter kinds, the RHE ties of Acc_q, and the identity (mom = lr = 0).
  for (bool weight : {true, false}) {
    for (int mom : {0, 1, 3}) {
      for (int lr : {0, 1, 128, 511}) {
        for (int32_t acc_q : {INT32_MIN, INT32_MAX, -1, 0, 1}) {
          for (int32_t grad : {INT32_MIN, INT32_MAX, -32768, 32767, 0}) {
            for (int32_t param : {INT32_MIN, INT32_MAX, -kWeightBound, kWeightBound, 0}) {
              spec.edges.push_back({grad, param, acc_q, mom, lr, weight});
            }
          }
        }
      }
    }
  }
  for (int32_t acc : {-7, -6, -5, -3, -2, -1, 1, 2, 3, 5, 6, 7, 10, 14}) {  // Acc_q = RHE(Acc / 4)
    spec.edges.push_back({acc, 0, 0, 1, 1, true});
  }
  spec.random = [](Draws& d) {
    UpdateIn x;
    x.mom = static_cast<int>(d.Range(0, 3));
    x.lr = d.OneIn(2) ? static_cast<int>(d.Range(0, 511)) : d.Pick({128, 15, 8, 4});  // wageubn8 phases
    x.weight = d.OneIn(2);
    x.acc_q = static_cast<int32_t>(d.Signed(31));
    if (x.weight) {
      x.grad = static_cast<int32_t>(d.OneIn(2) ? d.Range(-32768, 32767) : d.Range(-127, 127));
      x.param = static_cast<int32_t>(d.OneIn(8) ? d.Signed(31) : d.Range(-kWeightBound, kWeightBound));
    } else {
      x.grad = static_cast<int32_t>(d.Signed(31));
      x.param = static_cast<int32_t>(d.Signed(31));
    }
    switch (d.Range(0, 3)) {
      case 0: {  // Acc at an RHE tie of Acc_q, or next to it
        const int64_t acc = (d.Signed(30) & ~int64_t{3}) + 2 + d.Range(-1, 1);
        x.acc_q = static_cast<int32_t>(d.Signed(28));
        x.grad = static_cast<int32_t>(acc - int64_t{x.mom} * x.acc_q);
        break;
      }
      case 1: {  // the update lands next to the parameter's bound
        const int64_t bound = x.weight ? kWeightBound : INT32_MAX;
        const int64_t delta = int64_t{x.lr} * (int64_t{x.mom} * x.acc_q + x.grad);
        const int64_t target = (d.OneIn(2) ? bound : -bound) + d.Range(-2, 2);
        x.param = static_cast<int32_t>(std::clamp<int64_t>(target + delta, INT32_MIN, INT32_MAX));
        break;
      }
      default:
        break;
    }
    return x;
  };
  spec.golden = [](const UpdateIn& x) {
    int32_t param = x.param, acc_q = x.acc_q;
    const int64_t bound = x.weight ? MasterWeightBound(Wageubn8()) : kInt32Max;
    const MomentumStep step = MomentumUpdateElement(Wageubn8(), x.mom, x.lr, x.grad, bound, param, acc_q);
    return UpdateOut{param, acc_q, step.acc, step.delta};
  };
  UpdateUnitDriver driver;
  spec.rtl = [&](std::span<const UpdateIn> in, uint64_t) { return Elementwise(driver, in); };
  spec.describe = [](const UpdateIn& x) {
    return fmt::format("grad={} param={} acc_q={} mom={} lr={} weight={}", x.grad, x.param, x.acc_q, x.mom, x.lr,
                       x.weight);
  };
  spec.fields = [](const UpdateOut& o) {
    return Fields{{"param", o.param}, {"acc_q", o.acc_q}, {"acc", o.acc}, {"delta", o.delta}};
  };
  return RunSpec("update_unit", spec, seed, vectors, options);
}

// ---------------------------------------------------------------------------------------
// octet_bn_normalise

// x1 and mu_q whose aligned difference 2 x1 - mu_q (F = f_mu = f_x1 + 1 at wageubn8) is c,
// |c| <= 2^32 - 2^22; mu_offset (even) moves both.
BnNormaliseIn BnWithCentered(int64_t c, int32_t sigma, int64_t mu_offset = 0) {
  int64_t mu = (c & 1) + mu_offset;
  if ((c + mu) / 2 > INT32_MAX || (c + mu) / 2 < INT32_MIN) mu = c & 1;
  return {static_cast<int32_t>((c + mu) / 2), static_cast<int32_t>(mu), sigma};
}

BlockResult BnNormaliseRegression(uint64_t seed, int64_t vectors, const RegressionOptions& options) {
  BlockSpec<BnNormaliseIn, int32_t> spec;
  spec.salt = kBnNormalise;
  constexpr int64_t k23 = int64_t{1} << 23, k24 = int64_t{1} << 24, k25 = int64_t{1} << 25;
  // x2 = RHE(c * 2^15 / sigma). sigma = 2^16: x2 = RHE(c / 2), ties at every odd c, and the
  // clip at 2^23 - 1 / -2^23 from both sides.
  for (int64_t c : {int64_t{0}, int64_t{1}, int64_t{3}, int64_t{5}, 2 * k23 - 1, 2 * k23 - 3, 2 * k23 - 2, 2 * k23,
                    2 * k23 + 1}) {
    spec.edges.push_back(BnWithCentered(c, 1 << 16));
    spec.edges.push_back(BnWithCentered(-c, 1 << 16));
  }
  // sigma = 2^15: x2 = c exactly; around the clip and the divider's range 2^25.
  for (int64_t c : {k23 - 1, k23, k23 + 1, k24, k25 - 1, k25, k25 + 1, 2 * k25 + 1, k25 * 64 + 1}) {
    spec.edges.push_back(BnWithCentered(c, 1 << 15));
    spec.edges.push_back(BnWithCentered(-c, 1 << 15));
  }
  // sigma = 1 and the largest sigma; the int32 extremes of x1 and mu_q.
  for (int32_t sigma : {1, 2, 3, 7, INT32_MAX, INT32_MAX - 1, 1 << 30}) {
    for (int32_t x1 : {INT32_MIN, INT32_MAX, 0, 1, -1}) {
      for (int32_t mu : {INT32_MIN, INT32_MAX, 0, 1, -1}) spec.edges.push_back({x1, mu, sigma});
    }
  }
  spec.random = [](Draws& d) {
    // sigma_q >= 1, log-uniform over int32.
    const auto sigma = static_cast<int32_t>(std::max<uint64_t>(1, d.Magnitude(31)));
    switch (d.Range(0, 3)) {
      case 0: {
        // An exact tie: c = d k with d odd and sigma = k 2^16, so c 2^15 / sigma = d / 2.
        const int64_t k = d.Range(1, (1 << 15) - 1);
        const int64_t max_half = std::min<int64_t>(int64_t{1} << 24, ((int64_t{1} << 32) - (1 << 22)) / k / 2 - 1);
        const int64_t odd = 2 * d.Range(0, max_half) + 1;
        const int64_t c = d.OneIn(2) ? -odd * k : odd * k;
        return BnWithCentered(c, static_cast<int32_t>(k << 16), 2 * d.Range(-(1 << 20), 1 << 20));
      }
      case 1: {
        // A batch-like channel: |x1| < 2^28, mu_q near 2 x1 (the mean at f_mu bits).
        const auto x1 = static_cast<int32_t>(d.Signed(28));
        const int64_t mu = 2 * int64_t{x1} + d.Signed(static_cast<int>(d.Range(0, 30)));
        return BnNormaliseIn{x1, static_cast<int32_t>(std::clamp<int64_t>(mu, INT32_MIN, INT32_MAX)), sigma};
      }
      default:
        return BnNormaliseIn{static_cast<int32_t>(d.Signed(31)), static_cast<int32_t>(d.Signed(31)), sigma};
    }
  };
  spec.golden = [](const BnNormaliseIn& x) { return BnNormaliser(Wageubn8(), x.mu, x.sigma)(x.x1); };
  BnNormaliseDriver driver;
  spec.rtl = [&](std::span<const BnNormaliseIn> in, uint64_t stall_seed) { return driver.Run(in, stall_seed); };
  spec.describe = [](const BnNormaliseIn& x) { return fmt::format("x1={} mu_q={} sigma_q={}", x.x1, x.mu, x.sigma); };
  spec.fields = [](int32_t x2) { return Fields{{"x2", x2}}; };
  return RunSpec("bn_normalise", spec, seed, vectors, options);
}

// ---------------------------------------------------------------------------------------

struct Entry {
  const char* name;
  BlockResult (*run)(uint64_t, int64_t, const RegressionOptions&);
};

constexpr Entry kBlocks[] = {
    {"flag_encoder", FlagEncoderRegression}, {"flag_decoder", FlagDecoderRegression},
    {"e1_quantizer", E1QuantizerRegression}, {"relu_qa", ReluQaRegression},
    {"cq", CqRegression},                     {"update_unit", UpdateUnitRegression},
    {"bn_normalise", BnNormaliseRegression},
};

}  // namespace

std::vector<std::string> RegressionBlocks() {
  std::vector<std::string> names;
  for (const Entry& e : kBlocks) names.emplace_back(e.name);
  return names;
}

BlockResult RunBlockRegression(const std::string& block, uint64_t seed, int64_t vectors,
                               const RegressionOptions& options) {
  for (const Entry& e : kBlocks) {
    if (block == e.name) return e.run(seed, vectors, options);
  }
  std::string names;
  for (const Entry& e : kBlocks) names += fmt::format("{}{}", names.empty() ? "" : ", ", e.name);
  Fail("unknown RTL block '{}' (blocks: {})", block, names);
}

BlockResult RunBlockRegression(const std::string& block, uint64_t seed, int64_t vectors) {
  return RunBlockRegression(block, seed, vectors, RegressionOptions{});
}

}  // namespace octet::rtl
