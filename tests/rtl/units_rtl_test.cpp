// The vector units' RTL blocks (rtl/units) against the golden model's element functions, bit
// for bit: every block with 100,000 seeded random vectors plus its edge cases (ties,
// saturation, zero, max|x| at powers of two, flag boundaries, largest products), through
// the regressions of rtl/harness/block_regressions.h, with stalls on the clocked blocks.
// Also: the harness reports a corrupted expectation (it cannot pass silently), the drivers
// on hand-computed anchors, and the cycle counts docs/rtl.md states.
#include <gtest/gtest.h>

#include <vector>

#include "golden/core/error.h"
#include "golden/numerics/counter_rng.h"
#include "golden/numerics/quantizers.h"
#include "rtl/harness/block_regressions.h"
#include "rtl/harness/units_driver.h"

namespace octet::rtl {
namespace {

constexpr int64_t kRandomVectors = 100000;
constexpr uint64_t kSeed = 0x0C7E7'5EEDULL;

class UnitsRtl : public testing::TestWithParam<std::string> {};

TEST_P(UnitsRtl, MatchesGoldenOnRandomAndEdgeVectors) {
  const BlockResult r = RunBlockRegression(GetParam(), kSeed, kRandomVectors);
  EXPECT_EQ(r.block, GetParam());
  EXPECT_GT(r.vectors, kRandomVectors);  // the edge cases come on top
  EXPECT_EQ(r.failures, 0) << r.first_mismatch;
  RecordProperty("vectors", std::to_string(r.vectors));
}

// Every 97th expected value is corrupted by one LSB: exactly those vectors must be reported,
// the first being vector 0.
TEST_P(UnitsRtl, ReportsEveryCorruptedExpectation) {
  RegressionOptions options;
  options.corrupt_every = 97;
  const BlockResult r = RunBlockRegression(GetParam(), kSeed + 1, 3000, options);
  EXPECT_EQ(r.failures, (r.vectors + 96) / 97);
  EXPECT_EQ(r.first_mismatch.rfind("vector 0 {", 0), 0u) << r.first_mismatch;
}

// The same seed draws the same vectors: with the corruption as a probe, two runs agree on
// the whole report.
TEST_P(UnitsRtl, RunsAreReproducibleForASeed) {
  RegressionOptions options;
  options.corrupt_every = 1000;
  const BlockResult a = RunBlockRegression(GetParam(), 7, 2000, options);
  const BlockResult b = RunBlockRegression(GetParam(), 7, 2000, options);
  EXPECT_EQ(a.vectors, b.vectors);
  EXPECT_EQ(a.failures, b.failures);
  EXPECT_EQ(a.first_mismatch, b.first_mismatch);
}

INSTANTIATE_TEST_SUITE_P(Blocks, UnitsRtl, testing::ValuesIn(RegressionBlocks()),
                         [](const testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(UnitsRtlHarness, ListsEveryBlock) {
  EXPECT_EQ(RegressionBlocks(), (std::vector<std::string>{"flag_encoder", "flag_decoder", "e1_quantizer", "relu_qa",
                                                          "cq", "update_unit", "bn_normalise"}));
}

TEST(UnitsRtlHarness, UnknownBlockIsAnError) { EXPECT_THROW(RunBlockRegression("no_such_block", 1, 1), Error); }

// A golden value corrupted by one LSB goes through the comparison helper and is caught.
TEST(UnitsRtlHarness, MismatchRecorderCatchesACorruptedGoldenValue) {
  FlagDecoderDriver decoder;
  const int16_t golden = q::FlagDecode(0x181);  // flag 1, negative, magnitude 1: -128
  const int16_t rtl = decoder.Run(0x181);
  MismatchRecorder recorder;
  const auto inputs = [] { return std::string("word=0x181"); };
  EXPECT_TRUE(recorder.Compare(0, {{"value", golden}}, {{"value", rtl}}, inputs));
  EXPECT_EQ(recorder.failures(), 0);
  EXPECT_FALSE(recorder.Compare(1, {{"value", golden ^ 1}}, {{"value", rtl}}, inputs));
  EXPECT_FALSE(recorder.Compare(2, {{"value", golden}}, {{"value", rtl + 1}}, inputs));
  EXPECT_EQ(recorder.failures(), 2);
  EXPECT_EQ(recorder.first_mismatch(), "vector 1 {word=0x181}: value expected -127, rtl -128");
  // A difference in a later field is reported by that field's name.
  MismatchRecorder second;
  EXPECT_FALSE(second.Compare(5, {{"x3", 1}, {"x4", 2}}, {{"x3", 1}, {"x4", 3}}, inputs));
  EXPECT_EQ(second.first_mismatch(), "vector 5 {word=0x181}: x4 expected 2, rtl 3");
}

// ---------------------------------------------------------------------------------------
// Drivers on hand-computed anchors (docs/numerics.md 3.3-3.6, 4, 6).

TEST(UnitsRtlDrivers, FlagEncoderAnchors) {
  FlagEncoderDriver encoder;
  // t = 8: Sc = 256 LSBs of m, the small region's unit 2.
  EXPECT_EQ(encoder.Run({128, 8}), 0x040);                 // 64 fine units
  EXPECT_EQ(encoder.Run({-1, 8}), 0x000);                  // RHE(0.5) = 0, stored as +0
  EXPECT_EQ(encoder.Run({255, 8}), 0x101);                 // 127.5 -> 128 fine = 1 Sc
  EXPECT_EQ(encoder.Run({-256, 8}), 0x181);                // large, 1 Sc, negative
  EXPECT_EQ(encoder.Run({127 * 256 + 128, 8}), 0x17F);     // 127.5 Sc -> 128, clipped to 127
  EXPECT_EQ(encoder.Run({3 * 256 + 128, 8}), 0x104);       // 3.5 Sc -> 4 (even)
  EXPECT_EQ(encoder.Run({INT64_MIN, 56}), 0x1FF);          // |m| = 2^63 - 1 -> 127 Sc
}

TEST(UnitsRtlDrivers, FlagDecoderAnchors) {
  FlagDecoderDriver decoder;
  EXPECT_EQ(decoder.Run(0x000), 0);
  EXPECT_EQ(decoder.Run(0x07F), 127);
  EXPECT_EQ(decoder.Run(0x0FF), -127);
  EXPECT_EQ(decoder.Run(0x17F), 127 * 128);
  EXPECT_EQ(decoder.Run(0x1FF), -127 * 128);
  EXPECT_EQ(decoder.Run(0x180), 0);  // flag 1, magnitude 0: never produced, decodes to 0
}

TEST(UnitsRtlDrivers, E1QuantizerAnchors) {
  E1QuantizerDriver e1;
  EXPECT_EQ(e1.Run({5 * 256 + 128, 8}), 6);      // 5.5 -> 6
  EXPECT_EQ(e1.Run({-(6 * 256 + 128), 8}), -6);  // -6.5 -> -6
  EXPECT_EQ(e1.Run({127 * 256 + 128, 8}), 127);  // 127.5 -> 128, clipped
  EXPECT_EQ(e1.Run({-3, -5}), -96);              // exact left shift
  EXPECT_EQ(e1.Run({4, -5}), 127);               // 128 clips
  EXPECT_EQ(e1.Run({INT64_MIN, 56}), -127);
}

TEST(UnitsRtlDrivers, ReluQaAnchors) {
  ReluQaDriver act;
  // gamma_q = 1.0, x2 = 1.5 (f_BN = 15), beta_q = 0.25: x3 = 1.75 at 22 bits, x4 = 1.75.
  ReluQaOut o = act.Run({3 << 14, 128, 32, 0});
  EXPECT_EQ(o.x3, (int64_t{7} << 20));
  EXPECT_EQ(o.x4, 224);
  EXPECT_EQ(o.relu_pass, 1);
  o = act.Run({0, 0, 0, (int64_t{255} << 15) + (1 << 14)});  // 255.5 -> 256: saturated
  EXPECT_EQ(o.x4, 255);
  EXPECT_EQ(o.relu_pass, 0);
  o = act.Run({-5, 128, 0, 0});  // negative: ReLU
  EXPECT_EQ(o.x3, -640);
  EXPECT_EQ(o.x4, 0);
  EXPECT_EQ(o.relu_pass, 0);
}

TEST(UnitsRtlDrivers, UpdateUnitAnchors) {
  UpdateUnitDriver update;
  // Acc = 1 * 10 + 6 = 16, dP = 128 * 16 = 2048, P = 5000 - 2048, Acc_q = RHE(16 / 4) = 4.
  const UpdateOut o = update.Run({6, 5000, 10, 1, 128, true});
  EXPECT_EQ(o.acc, 16);
  EXPECT_EQ(o.delta, 2048);
  EXPECT_EQ(o.param, 2952);
  EXPECT_EQ(o.acc_q, 4);
  // A weight saturates at 2^23 - 1, gamma and beta at 2^31 - 1.
  EXPECT_EQ(update.Run({-1000, (1 << 23) - 10, 0, 0, 511, true}).param, (1 << 23) - 1);
  EXPECT_EQ(update.Run({-1000, (1 << 23) - 10, 0, 0, 511, false}).param, (1 << 23) - 10 + 511000);
}

// ---------------------------------------------------------------------------------------
// Cycles of the clocked blocks (docs/rtl.md).

TEST(UnitsRtlDrivers, CqStreamsOneElementPerCycleWithTwoCyclesLatency) {
  CqDriver cq;
  std::vector<CqIn> in;
  for (int i = 0; i < 10; ++i) in.push_back({int64_t{1000} * i - 4321, 5, 7, 0x1234, static_cast<uint64_t>(i)});
  const int64_t before = cq.cycles();
  const std::vector<int16_t> out = cq.Run(in);
  EXPECT_EQ(cq.cycles() - before, 10 + kCqLatency);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(out[i], q::ConstantQuantizeElement(in[i].m, 5, 128, RandomBits32(0x1234, i))) << i;
  }
}

TEST(UnitsRtlDrivers, BnNormaliseTakesOneElementPerLatencyWhenNeverStalled) {
  BnNormaliseDriver bn;
  // x1 = 1.0 (f_x1 = 14), mu_q = 0.5, sigma_q = 0.25 (f = 15): x2 = (1 - 0.5) / 0.25 = 2.
  const std::vector<BnNormaliseIn> in(10, BnNormaliseIn{1 << 14, 1 << 14, 1 << 13});
  const int64_t before = bn.cycles();
  const std::vector<int32_t> out = bn.Run(in);
  EXPECT_EQ(bn.cycles() - before, 10 * kBnNormaliseLatency + 1);
  for (int32_t x2 : out) EXPECT_EQ(x2, 2 << 15);
}

}  // namespace
}  // namespace octet::rtl
