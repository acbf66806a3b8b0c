// The compute-bound case at the accelerator level: with a DRAM port that never limits
// the array (4096 bytes per cycle, no latency), a one-layer training step simulated in
// shape-only mode spends, in each GEMM phase, exactly the closed-form array time of the
// GEMM the controller runs (model/array/array_timing.h), for layer shapes that do and do
// not divide the array, several array sizes and both dataflows, and counts M * N * K MACs.
//
// The GEMMs of a conv layer with P = N*OH*OW output pixels (docs/architecture.md, "Lowering"):
//   forward      x1 = col(x0) W_q^T   M = P,     N = K_out, K = C*R*S
//   error        e4 = e3 W_q          M = P,     N = C*R*S, K = K_out
//   weight_grad  g_W = e3^T col(x0)   M = K_out, N = C*R*S, K = P
// e3 is an operand of the last two; as a 16-bit SQ error (wageubn16) it takes two digit
// passes per fold.
//
// Also here: the progress events SimulateStep reports (one per layer stage, in order).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "golden/numerics/scheme.h"
#include "model/accelerator.h"
#include "model/array/array_timing.h"
#include "model/control/step_program.h"

namespace octet {
namespace {

using model::ArrayShape;
using model::Dataflow;
using model::GemmShape;
using model::Phase;

struct Layer {
  const char* label;
  ConvGeometry geometry;  // batch, C, H, W, K_out, kernel, stride, pad
};

// Shapes that divide a 4x4 or 8x4 array and many that divide none of the arrays; P, C*R*S
// and K_out from 1 up to a few hundred.
const Layer kLayers[] = {
    {"3x3_c3_k5", {2, 3, 9, 9, 5, 3, 1, 1}},        // P 162, CRS 27, K_out 5
    {"3x3_s2", {3, 4, 8, 7, 6, 3, 2, 1}},           // P 48, CRS 36, K_out 6
    {"1x1_s2", {2, 6, 6, 6, 9, 1, 2, 0}},           // P 18, CRS 6, K_out 9
    {"divides", {1, 16, 8, 8, 32, 1, 1, 0}},        // P 64, CRS 16, K_out 32
    {"3x3_c16_k32", {2, 16, 8, 8, 32, 3, 1, 1}},    // P 128, CRS 144, K_out 32
    {"single_out", {1, 7, 5, 5, 1, 5, 1, 0}},       // P 1, CRS 175, K_out 1
    {"1x1_c1_k1", {1, 1, 3, 3, 1, 1, 1, 0}},        // P 9, CRS 1, K_out 1
    {"wide", {1, 3, 12, 12, 67, 3, 1, 1}},          // P 144, CRS 27, K_out 67
    {"7x7_s2", {1, 3, 20, 20, 8, 7, 2, 3}},         // P 100, CRS 147, K_out 8
    {"prime", {1, 5, 13, 11, 33, 3, 3, 1}},         // P 20, CRS 45, K_out 33
};

const ArrayShape kArrays[] = {{4, 4}, {8, 4}, {4, 8}, {16, 16}, {32, 32}, {3, 5}};

struct Case {
  Layer layer;
  ArrayShape array;
  Dataflow dataflow;
  const char* scheme;
};

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (const char* scheme : {"wageubn8", "wageubn16"})
    for (const Layer& layer : kLayers)
      for (const ArrayShape& array : kArrays)
        for (Dataflow df : {Dataflow::kWeightStationary, Dataflow::kOutputStationary})
          cases.push_back({layer, array, df, scheme});
  return cases;
}

std::string CaseName(const testing::TestParamInfo<Case>& info) {
  const Case& c = info.param;
  std::string scheme = c.scheme;
  return fmt::format("{}_{}x{}_{}_{}", c.layer.label, c.array.rows, c.array.cols, model::DataflowName(c.dataflow),
                     scheme.substr(7));
}

class GemmCycles : public testing::TestWithParam<Case> {};

TEST_P(GemmCycles, ComputeBoundPhasesMatchTheClosedForm) {
  const Case& c = GetParam();
  const ConvGeometry& g = c.layer.geometry;
  const Scheme scheme = LoadScheme(c.scheme);

  model::ArchConfig config;
  config.name = "compute-bound";
  config.array_rows = c.array.rows;
  config.array_cols = c.array.cols;
  config.dataflow = c.dataflow;
  config.dram_bytes_per_cycle = 4096;
  config.dram_latency_cycles = 0;

  StepContext ctx;
  ctx.lr = scheme.LearningRateInt(0);
  ctx.dr = scheme.DynamicRange(0);
  // input_error: the layer computes e4, so the error GEMM runs.
  const model::StepProgram program =
      model::BuildProgram("one-layer", {{"layer", g, true, true, true}}, scheme, ctx);
  const model::StepResult result = model::SimulateStep(config, program, nullptr);
  ASSERT_EQ(result.layers.size(), 1u);
  const model::LayerStats& stats = result.layers[0];
  ASSERT_EQ(stats.name, "layer");

  const int64_t p = g.batch * g.out_height() * g.out_width();
  const int64_t crs = g.in_channels * g.kernel * g.kernel;
  const int64_t k_out = g.out_channels;
  const int error_passes = scheme.e2_mode == E2Mode::kShift && scheme.k_E2 > 8 ? 2 : 1;
  ASSERT_EQ(error_passes, std::string(c.scheme) == "wageubn16" ? 2 : 1);

  struct Expected {
    Phase phase;
    GemmShape shape;
    int passes;
  };
  const Expected gemms[] = {
      {Phase::kForward, {p, k_out, crs}, 1},
      {Phase::kError, {p, crs, k_out}, error_passes},
      {Phase::kWeightGrad, {k_out, crs, p}, error_passes},
  };
  for (const Expected& e : gemms) {
    const model::ArrayTiming want = model::ComputeArrayTiming(c.array, c.dataflow, e.shape, e.passes);
    const model::Counters& got = stats.phases[static_cast<int>(e.phase)];
    SCOPED_TRACE(fmt::format("{}: GEMM M={} N={} K={} x{} passes, {} folds of {} cycles", model::PhaseName(e.phase),
                             e.shape.m, e.shape.n, e.shape.k, e.passes, want.folds, want.cycles_per_fold));
    EXPECT_EQ(got.array_cycles, want.total_cycles);
    EXPECT_EQ(got.cycles - got.stall_cycles, want.total_cycles)
        << "cycles " << got.cycles << ", of which stalled " << got.stall_cycles;
    EXPECT_EQ(got.macs, e.shape.m * e.shape.n * e.shape.k);
    EXPECT_EQ(got.macs, want.macs);
    // The PEs run every digit pass; flag words are the streamed error operand of the two
    // backward GEMMs under a flag E2 scheme (wageubn8), never of the forward GEMM.
    EXPECT_EQ(got.pe_macs, got.macs * e.passes);
    const bool flagged = e.phase != Phase::kForward && scheme.e2_mode == E2Mode::kFlag;
    EXPECT_EQ(got.flag_macs, flagged ? got.pe_macs : 0);
    // The DRAM port moves a fold's operands in a cycle or two: the phase is compute-bound.
    EXPECT_LE(got.stall_cycles, want.folds + 2) << "cycles " << got.cycles;
  }
  // Only the three GEMM phases use the array.
  for (Phase phase : {Phase::kBn, Phase::kQuantize, Phase::kUpdate}) {
    EXPECT_EQ(stats.phases[static_cast<int>(phase)].array_cycles, 0) << model::PhaseName(phase);
    EXPECT_EQ(stats.phases[static_cast<int>(phase)].macs, 0) << model::PhaseName(phase);
    EXPECT_EQ(stats.phases[static_cast<int>(phase)].pe_macs, 0) << model::PhaseName(phase);
  }
  EXPECT_EQ(result.total.macs, p * k_out * crs * 3);
}

INSTANTIATE_TEST_SUITE_P(Shapes, GemmCycles, testing::ValuesIn(AllCases()), CaseName);

// The progress callback of SimulateStep (what `octet run` draws): one event as each
// layer's forward, backward and update starts, in the controller's order, with done/total
// counts and the simulated cycles so far; the counts do not depend on it.
TEST(StepProgress, OneEventPerLayerStageInControllerOrder) {
  const Scheme scheme = LoadScheme("wageubn8");
  StepContext ctx;
  ctx.lr = scheme.LearningRateInt(0);
  ctx.dr = scheme.DynamicRange(0);
  const ConvGeometry chain{2, 3, 8, 8, 4, 3, 1, 1}, conv1{2, 4, 8, 8, 8, 3, 2, 1}, conv2{2, 8, 4, 4, 8, 3, 1, 1},
      shortcut{2, 4, 8, 8, 8, 1, 2, 0};
  const model::StepProgram program = model::BuildProgram(
      "progress",
      {{"first", chain, true, true, false}, {"b.conv1", conv1, true, true, true}, {"b.conv2", conv2, true, true, true},
       {"b.shortcut", shortcut, true, false, true}},
      scheme, ctx);
  model::ArchConfig config;
  config.array_rows = config.array_cols = 8;

  std::vector<std::string> events;
  int64_t last_cycles = -1;
  const model::StepResult with = model::SimulateStep(config, program, nullptr, [&](const model::ProgressEvent& e) {
    EXPECT_EQ(e.done, static_cast<int64_t>(events.size()));
    EXPECT_EQ(e.total, 12);
    EXPECT_GE(e.cycles, last_cycles);
    last_cycles = e.cycles;
    events.push_back(fmt::format("{} {}", model::ProgressStageName(e.stage), e.layer));
  });
  const std::vector<std::string> want = {
      "forward first",      "forward b.conv1",     "forward b.shortcut", "forward b.conv2",
      "backward b.conv2",   "backward b.shortcut", "backward b.conv1",   "backward first",
      "update first",       "update b.conv1",      "update b.conv2",     "update b.shortcut"};
  EXPECT_EQ(events, want);
  EXPECT_LT(last_cycles, with.cycles);

  const model::StepResult without = model::SimulateStep(config, program, nullptr);
  EXPECT_EQ(without.cycles, with.cycles);
  EXPECT_TRUE(without.total == with.total);
}

// A program's layers point at its scheme: copies and moves of a program keep them valid
// (a copy outliving its original runs with the original's scheme, not a dangling one).
TEST(StepProgramCopy, CopiesAndMovesKeepTheirScheme) {
  const ConvGeometry g{2, 8, 8, 8, 8, 3, 1, 1};
  model::ArchConfig config;
  config.array_rows = config.array_cols = 8;
  std::vector<model::StepProgram> programs;
  std::vector<model::StepResult> direct;
  for (const char* name : {"wageubn8", "wageubn16"}) {
    const Scheme scheme = LoadScheme(name);
    StepContext ctx;
    ctx.lr = scheme.LearningRateInt(0);
    ctx.dr = scheme.DynamicRange(0);
    auto original = std::make_unique<model::StepProgram>(
        model::BuildProgram(name, {{"layer", g, true, true, true}}, scheme, ctx));
    direct.push_back(model::SimulateStep(config, *original, nullptr));
    const model::StepProgram copy = *original;
    original.reset();  // the copy must not depend on the original's storage
    programs.push_back(copy);
  }
  // The 16-bit E2 runs two digit passes in the backward GEMMs: the schemes differ in cycles.
  ASSERT_NE(direct[0].cycles, direct[1].cycles);
  for (size_t i = 0; i < programs.size(); ++i) {
    const model::StepResult again = model::SimulateStep(config, programs[i], nullptr);
    EXPECT_EQ(again.cycles, direct[i].cycles) << programs[i].name;
    EXPECT_TRUE(again.total == direct[i].total) << programs[i].name;
  }
}

}  // namespace
}  // namespace octet
