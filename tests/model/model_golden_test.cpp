// The SystemC model against the golden model: every named tensor bit-exact, for a layer
// alone, residual blocks (identity and projection shortcut) and the small ResNet over two
// consecutive steps (momentum state carried by the model), under wageubn8 and wageubn16.
// Shape-only runs give the same counts as data runs.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "golden/net/network.h"
#include "golden/net/quant_layer.h"
#include "golden/numerics/counter_rng.h"
#include "model/accelerator.h"
#include "sim/io/topology.h"
#include "sim/io/trace.h"
#include "sim/run/model_run.h"
#include "sim/train/trainer.h"
#include "tests/common/scratch_dir_test.h"

namespace octet {
namespace {

constexpr uint64_t kSeed = 7;

// Seeded bytes (inputs) and small floats (the host's error), reproducible.
Tensor<uint8_t> RandomBytes(const Shape& shape, uint32_t stream) {
  Tensor<uint8_t> t(shape);
  const uint64_t prefix = RandomStream{kSeed, 0, 0, stream}.Prefix();
  for (int64_t i = 0; i < t.size(); ++i) t[i] = static_cast<uint8_t>(RandomBits32(prefix, i) >> 24);
  return t;
}

Tensor<float> RandomErrors(const Shape& shape, uint32_t stream) {
  Tensor<float> t(shape);
  const uint64_t prefix = RandomStream{kSeed, 0, 0, stream}.Prefix();
  for (int64_t i = 0; i < t.size(); ++i)
    t[i] = (static_cast<float>(RandomBits32(prefix, i) >> 8) / 16777216.0f - 0.5f) * 0.01f;
  return t;
}

std::map<std::string, NamedTensor> ByName(const CollectSink& sink) {
  std::map<std::string, NamedTensor> out;
  for (const NamedTensor& t : sink.items) out[t.name] = t;
  return out;
}

void ExpectSameTensors(const CollectSink& golden, const CollectSink& model) {
  const auto got = ByName(model);
  ASSERT_EQ(golden.items.size(), got.size());
  for (const NamedTensor& want : golden.items) {
    const auto it = got.find(want.name);
    ASSERT_NE(it, got.end()) << want.name << " not produced by the model";
    EXPECT_EQ(want.frac_bits, it->second.frac_bits) << want.name;
    EXPECT_TRUE(want.tensor == it->second.tensor) << want.name << " differs";
  }
}

model::ArchConfig SmallArray(model::Dataflow dataflow) {
  model::ArchConfig c;
  c.array_rows = 8;
  c.array_cols = 4;  // does not divide most layer sizes
  c.dataflow = dataflow;
  return c;
}

struct LayerCase {
  const char* scheme;
  ConvGeometry geometry;
  model::Dataflow dataflow;
};

class SingleLayer : public testing::TestWithParam<LayerCase> {};

// A conv-BN-ReLU layer alone: golden QuantLayer and the model's chain stage.
TEST_P(SingleLayer, EveryTensorBitExact) {
  const LayerCase& c = GetParam();
  const Scheme scheme = LoadScheme(c.scheme);
  QuantLayer golden({"layer", c.geometry, true, true, 3}, scheme);
  golden.Initialize(kSeed);
  const Shape in_shape = {c.geometry.batch, c.geometry.in_channels, c.geometry.in_height, c.geometry.in_width};
  const Shape out_shape = {c.geometry.batch, c.geometry.out_channels, c.geometry.out_height(), c.geometry.out_width()};
  const Tensor<uint8_t> x0 = RandomBytes(in_shape, 1);
  const Tensor<float> error = RandomErrors(out_shape, 2);

  // The model starts from the golden layer's initial state.
  model::StepData data;
  data.layers.resize(1);
  data.layers[0].ShapeState(c.geometry);
  CollectSink initial;
  golden.ReportState(initial);
  for (const NamedTensor& t : initial.items) data.layers[0].LoadState("layer", t.name.substr(6), t.tensor);
  data.input = x0;
  data.host_error = error;

  StepContext ctx;
  ctx.seed = kSeed;
  ctx.step = 5;
  ctx.lr = scheme.LearningRateInt(0);
  ctx.dr = scheme.DynamicRange(0);
  // Layer index 3, as the golden layer's: positions 0-2 are host layers.
  std::vector<model::ProgramLayerSpec> specs(3, {"host", c.geometry, false, true, true});
  specs.push_back({"layer", c.geometry, true, true, true});
  const model::StepProgram program = model::BuildProgram("single", specs, scheme, ctx);
  model::SimulateStep(SmallArray(c.dataflow), program, &data);

  golden.Forward(x0, nullptr);
  golden.BackwardFromOutput(error, ctx);
  golden.Update(ctx);
  CollectSink want, got;
  golden.Report(want);
  golden.ReportState(want);
  data.layers[0].Report(got, "layer", scheme, true, true);
  data.layers[0].ReportState(got, "layer", scheme);
  ExpectSameTensors(want, got);
}

INSTANTIATE_TEST_SUITE_P(
    Layers, SingleLayer,
    testing::Values(LayerCase{"wageubn8", {2, 3, 9, 9, 5, 3, 1, 1}, model::Dataflow::kWeightStationary},
                    LayerCase{"wageubn8", {2, 3, 9, 9, 5, 3, 1, 1}, model::Dataflow::kOutputStationary},
                    LayerCase{"wageubn16", {2, 3, 9, 9, 5, 3, 1, 1}, model::Dataflow::kWeightStationary},
                    LayerCase{"wageubn16", {2, 3, 9, 9, 5, 3, 1, 1}, model::Dataflow::kOutputStationary},
                    LayerCase{"wageubn8", {3, 4, 8, 7, 6, 3, 2, 1}, model::Dataflow::kWeightStationary},
                    LayerCase{"wageubn16", {3, 4, 8, 7, 6, 3, 2, 1}, model::Dataflow::kOutputStationary},
                    LayerCase{"wageubn8", {2, 6, 6, 6, 9, 1, 2, 0}, model::Dataflow::kOutputStationary},
                    LayerCase{"wageubn8-noflag", {2, 4, 7, 7, 4, 3, 1, 1}, model::Dataflow::kWeightStationary}));

// Golden traces of consecutive training steps of a network, in a scratch directory.
class NetworkTrace : public ScratchDirTest {
 protected:
  // Records `steps` consecutive steps of `spec` under `scheme`; returns their directories.
  std::vector<std::string> Record(const NetSpec& spec, const std::string& scheme_name, int64_t batch, int steps) {
    const Scheme scheme = LoadScheme(scheme_name);
    Network net(spec, scheme, batch);
    net.Initialize(kSeed);
    std::vector<std::string> dirs;
    for (int step = 0; step < steps; ++step) {
      const Tensor<uint8_t> images = RandomBytes({batch, spec.in_channels, spec.in_height, spec.in_width}, 10 + step);
      Tensor<uint16_t> labels({batch});
      for (int64_t b = 0; b < batch; ++b) labels[b] = static_cast<uint16_t>((b * 7 + step) % spec.classes);
      StepContext ctx = ContextForEpoch(scheme, kSeed, 0, 1);
      ctx.step = static_cast<uint64_t>(step);
      dirs.push_back(Path("step" + std::to_string(step)));
      RecordTrace(dirs.back(), net, kSeed, ctx, images.ptr(), labels.ptr());
    }
    return dirs;
  }
};

NetSpec OneBlock(int64_t out, int64_t stride) {
  NetSpec spec;
  spec.name = "one-block";
  spec.in_channels = 1;
  spec.in_height = spec.in_width = 12;
  spec.classes = 10;
  spec.stem = {4, 3, 1, 1, std::nullopt};
  spec.blocks = {{out, stride}};
  return spec;
}

struct BlockCase {
  const char* scheme;
  int64_t out, stride;  // out 4 stride 1: identity shortcut; else a projection shortcut
};

class ResidualBlock : public NetworkTrace, public testing::WithParamInterface<BlockCase> {};

TEST_P(ResidualBlock, EveryTensorBitExact) {
  const BlockCase& c = GetParam();
  const auto dirs = Record(OneBlock(c.out, c.stride), c.scheme, 3, 1);
  for (model::Dataflow df : {model::Dataflow::kWeightStationary, model::Dataflow::kOutputStationary}) {
    const ModelTraceRun run = RunTraceOnModel(dirs[0], SmallArray(df));
    EXPECT_TRUE(run.check.bit_exact) << run.check.mismatch;
    EXPECT_GT(run.check.tensors_checked, 60);
  }
}

INSTANTIATE_TEST_SUITE_P(Blocks, ResidualBlock,
                         testing::Values(BlockCase{"wageubn8", 4, 1}, BlockCase{"wageubn8", 8, 2},
                                         BlockCase{"wageubn16", 4, 1}, BlockCase{"wageubn16", 8, 2}));

class SmallResNet : public NetworkTrace, public testing::WithParamInterface<const char*> {};

// Two consecutive steps; the second runs on the state the model left after the first.
TEST_P(SmallResNet, TwoStepsBitExactWithCarriedState) {
  const auto dirs = Record(LoadNetSpec("small-resnet"), GetParam(), 2, 2);
  std::vector<QuantLayerTensors> state;
  const ModelTraceRun first = RunTraceOnModel(dirs[0], model::ArchConfig{}, &state);
  ASSERT_TRUE(first.check.bit_exact) << first.check.mismatch;
  ASSERT_FALSE(state.empty());
  const ModelTraceRun second = RunTraceOnModel(dirs[1], model::ArchConfig{}, &state);
  EXPECT_TRUE(second.check.bit_exact) << second.check.mismatch;
  EXPECT_EQ(second.check.tensors_checked, first.check.tensors_checked);
}

INSTANTIATE_TEST_SUITE_P(Schemes, SmallResNet, testing::Values("wageubn8", "wageubn16"));

// A data run and a shape-only run of the same network count the same cycles and accesses.
TEST_F(NetworkTrace, ShapeOnlyCountsEqualDataCounts) {
  for (const char* scheme : {"wageubn8", "wageubn16"}) {
    const auto dirs = Record(LoadNetSpec("tiny-resnet"), scheme, 2, 1);
    for (model::Dataflow df : {model::Dataflow::kWeightStationary, model::Dataflow::kOutputStationary}) {
      const model::ArchConfig config = SmallArray(df);
      const ModelTraceRun data = RunTraceOnModel(dirs[0], config);
      ASSERT_TRUE(data.check.bit_exact) << data.check.mismatch;
      const model::StepResult shape =
          model::SimulateStep(config, ProgramForTopology(LoadTopology("tiny-resnet", 2), LoadScheme(scheme)), nullptr);
      EXPECT_EQ(shape.cycles, data.result.cycles) << scheme;
      // The action counts the energy model charges: flag MACs under wageubn8's flag E2,
      // two digit passes of the backward GEMMs under wageubn16's 16-bit SQ errors.
      const model::Counters& total = data.result.total;
      const model::Counters& forward = data.result.layers.front().phases[static_cast<int>(model::Phase::kForward)];
      EXPECT_EQ(forward.pe_macs, forward.macs);
      EXPECT_EQ(forward.flag_macs, 0);
      if (std::string(scheme) == "wageubn8") {
        EXPECT_GT(total.flag_macs, 0);
        EXPECT_EQ(total.pe_macs, total.macs);
      } else {
        EXPECT_EQ(total.flag_macs, 0);
        EXPECT_GT(total.pe_macs, total.macs);
      }
      ASSERT_EQ(shape.layers.size(), data.result.layers.size());
      for (size_t i = 0; i < shape.layers.size(); ++i) {
        EXPECT_EQ(shape.layers[i].name, data.result.layers[i].name);
        for (int p = 0; p < model::kPhaseCount; ++p)
          EXPECT_TRUE(shape.layers[i].phases[p] == data.result.layers[i].phases[p])
              << scheme << " " << shape.layers[i].name << " " << model::PhaseName(static_cast<model::Phase>(p));
      }
    }
  }
}

}  // namespace
}  // namespace octet
