// Throughput of the model's fast array (model/array/gemm_engine.h) on the three GEMMs of a
// ResNet-18 training step at 224x224, batch 1, on the default 32 x 32 array in both
// dataflows: forward (uint8 activations x int8 weights), error and weight gradient with
// flag-word and 16-bit SQ error operands (SQ16 takes two digit passes). The operands are
// in the layouts the controller stores them in (docs/architecture.md, "Lowering").
// items_processed counts MACs (M x N x K per GEMM), so "items_per_second" is MAC/s; the
// engine runs on one thread and the rates are per CPU second (steady on a shared machine).
//
//   build/bench/bench_gemm_engine [--benchmark_filter=layer1]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "model/array/gemm_engine.h"

namespace octet::model {
namespace {

// A conv layer's GEMM sizes: P output pixels, CRS = C x R x S, K_out output channels.
struct ConvCase {
  const char* name;
  int64_t p, crs, k_out;
};
constexpr ConvCase kLayers[] = {
    {"layer1", 56 * 56, 64 * 9, 64},    // 3 x 3 conv, 64 -> 64 channels at 56 x 56
    {"layer4", 7 * 7, 512 * 9, 512},    // 3 x 3 conv, 512 -> 512 channels at 7 x 7
};

enum class Gemm { kForward, kError, kWeightGrad };

// One matrix in its stored format, filled from a fixed-seed generator.
struct Operand {
  OperandKind kind;
  int64_t rows, cols;
  MatrixLayout layout;
  std::vector<int8_t> weights;
  std::vector<uint8_t> activations;
  std::vector<uint16_t> flag_words;
  std::vector<int16_t> errors;

  Operand(OperandKind k, int64_t r, int64_t c, MatrixLayout l, uint64_t seed) : kind(k), rows(r), cols(c), layout(l) {
    std::mt19937_64 rng(seed);
    const size_t size = static_cast<size_t>(r * c);
    switch (kind) {
      case OperandKind::kWeight:
        weights.resize(size);
        for (int8_t& w : weights) w = static_cast<int8_t>(rng());
        break;
      case OperandKind::kActivation:
        activations.resize(size);
        for (uint8_t& a : activations) a = static_cast<uint8_t>(rng());
        break;
      case OperandKind::kFlagError:
        flag_words.resize(size);
        for (uint16_t& w : flag_words) w = static_cast<uint16_t>(rng() & 0x1FF);
        break;
      default:  // SQ16 errors
        errors.resize(size);
        for (int16_t& e : errors) e = static_cast<int16_t>(rng());
        break;
    }
  }

  OperandView view() const {
    switch (kind) {
      case OperandKind::kWeight: return WeightMatrix(weights.data(), rows, cols, layout);
      case OperandKind::kActivation: return ActivationMatrix(activations.data(), rows, cols, layout);
      case OperandKind::kFlagError: return FlagErrorMatrix(flag_words.data(), rows, cols, layout);
      default: return ShiftErrorMatrix(errors.data(), 16, rows, cols, layout);
    }
  }
};

void BM_GemmEngine(benchmark::State& state, Dataflow dataflow, ConvCase layer, Gemm gemm, OperandKind error) {
  const int64_t p = layer.p, crs = layer.crs, k_out = layer.k_out;
  constexpr auto kRow = MatrixLayout::kRowMajor;
  constexpr auto kCol = MatrixLayout::kColumnMajor;
  // forward: col [P][CRS] x W_q^T (W_q stored [K_out][CRS]); error: e3 [P][K_out] x W_q;
  // weight gradient: e3^T (pixel-major e3 read column-wise) x col.
  const Operand ifmap = gemm == Gemm::kForward  ? Operand(OperandKind::kActivation, p, crs, kRow, 1)
                        : gemm == Gemm::kError ? Operand(error, p, k_out, kRow, 2)
                                               : Operand(error, k_out, p, kCol, 2);
  const Operand filter = gemm == Gemm::kForward  ? Operand(OperandKind::kWeight, crs, k_out, kCol, 3)
                         : gemm == Gemm::kError ? Operand(OperandKind::kWeight, k_out, crs, kRow, 3)
                                                : Operand(OperandKind::kActivation, p, crs, kRow, 4);
  const GemmEngine engine({32, 32}, dataflow);
  const OperandView a = ifmap.view(), b = filter.view();
  GemmRun run;
  for (auto _ : state) {
    run = engine.Run(a, b);
    benchmark::DoNotOptimize(run.output.data());
  }
  state.SetItemsProcessed(state.iterations() * run.macs);
  state.counters["passes"] = static_cast<double>(run.passes);
  state.counters["PE-pass MAC/s"] = benchmark::Counter(static_cast<double>(run.macs * run.passes),
                                                       benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::to_string(run.shape.m) + "x" + std::to_string(run.shape.n) + "x" + std::to_string(run.shape.k));
}

void RegisterAll() {
  struct Named {
    const char* name;
    Gemm gemm;
    OperandKind error;
  };
  constexpr Named kGemms[] = {
      {"forward", Gemm::kForward, OperandKind::kActivation},
      {"error_flag", Gemm::kError, OperandKind::kFlagError},
      {"error_sq16", Gemm::kError, OperandKind::kShiftError16},
      {"wgrad_flag", Gemm::kWeightGrad, OperandKind::kFlagError},
      {"wgrad_sq16", Gemm::kWeightGrad, OperandKind::kShiftError16},
  };
  for (const ConvCase& layer : kLayers) {
    for (Dataflow df : {Dataflow::kWeightStationary, Dataflow::kOutputStationary}) {
      for (const Named& g : kGemms) {
        const std::string name = std::string("BM_GemmEngine/") + layer.name + "/" + DataflowName(df) + "/" + g.name;
        benchmark::RegisterBenchmark(name.c_str(), BM_GemmEngine, df, layer, g.gemm, g.error)
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
}

}  // namespace
}  // namespace octet::model

// libsystemc.so (linked through octet_cli) defines main() and calls sc_main(); this main
// takes precedence, but the library's reference to sc_main must resolve.
extern "C" int sc_main(int, char**) { return 0; }

int main(int argc, char** argv) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  octet::model::RegisterAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
