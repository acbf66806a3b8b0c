// Time of the three integer conv kernels of a training step (forward x1 = W_q x0, error
// e4 = W_q^T e3, weight gradient g_W = e3 x0^T) on each conv geometry of the small ResNet
// at batch 64, with the counter "MAC/s". Arguments: C, H (= W), K_out, kernel, stride.
#include <benchmark/benchmark.h>

#include <vector>

#include "golden/kernels/int_gemm.h"

namespace {

struct Operands {
  octet::ConvGeometry g;
  std::vector<uint8_t> x0;
  std::vector<int8_t> wq;
  std::vector<int16_t> e3;
  explicit Operands(const benchmark::State& state)
      : g{64, state.range(0), state.range(1), state.range(1), state.range(2), state.range(3), state.range(4),
          state.range(3) / 2},
        x0(g.input_count()), wq(g.weight_count()), e3(g.output_count()) {
    for (size_t i = 0; i < x0.size(); ++i) x0[i] = static_cast<uint8_t>((i * 7919) % 256);
    for (size_t i = 0; i < wq.size(); ++i) wq[i] = static_cast<int8_t>((i * 104729) % 255 - 127);
    for (size_t i = 0; i < e3.size(); ++i) e3[i] = static_cast<int16_t>((i * 15485863) % 32767 - 16383);
  }
  double Macs() const { return static_cast<double>(g.out_channels * g.gemm_k() * g.gemm_n()); }
};

void BM_ConvForward(benchmark::State& state) {
  const Operands op(state);
  std::vector<int32_t> x1(op.g.output_count());
  octet::ChannelsLastInput lowered;
  for (auto _ : state) {
    octet::ConvForwardInt(op.g, op.x0.data(), op.wq.data(), x1.data(), &lowered);
    benchmark::DoNotOptimize(x1.data());
  }
  state.counters["MAC/s"] = benchmark::Counter(op.Macs(), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_ConvError(benchmark::State& state) {
  const Operands op(state);
  std::vector<int64_t> e4(op.g.input_count());
  for (auto _ : state) {
    octet::ConvErrorInt(op.g, op.wq.data(), op.e3.data(), e4.data());
    benchmark::DoNotOptimize(e4.data());
  }
  state.counters["MAC/s"] = benchmark::Counter(op.Macs(), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_ConvWeightGrad(benchmark::State& state) {
  const Operands op(state);
  std::vector<int32_t> x1(op.g.output_count());
  octet::ChannelsLastInput lowered;
  octet::ConvForwardInt(op.g, op.x0.data(), op.wq.data(), x1.data(), &lowered);
  std::vector<int64_t> g_w(op.g.weight_count());
  for (auto _ : state) {
    octet::ConvWeightGradInt(op.g, op.e3.data(), op.x0.data(), g_w.data(), &lowered);
    benchmark::DoNotOptimize(g_w.data());
  }
  state.counters["MAC/s"] = benchmark::Counter(op.Macs(), benchmark::Counter::kIsIterationInvariantRate);
}

// The small ResNet's quantized convs (golden/nets/small-resnet.json): block 1 (3x3, 16 -> 16
// at 28x28), block 2 (3x3 stride 2, 16 -> 32; 3x3, 32 -> 32 at 14x14; 1x1 stride-2 shortcut),
// block 3 likewise 32 -> 64 at 7x7.
void SmallResNetConvs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"C", "H", "K", "R", "S"});
  for (const auto& a : std::vector<std::vector<int64_t>>{{16, 28, 16, 3, 1},
                                                          {16, 28, 32, 3, 2},
                                                          {32, 14, 32, 3, 1},
                                                          {16, 28, 32, 1, 2},
                                                          {32, 14, 64, 3, 2},
                                                          {64, 7, 64, 3, 1},
                                                          {32, 14, 64, 1, 2}}) {
    b->Args(a);
  }
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_ConvForward)->Apply(SmallResNetConvs);
BENCHMARK(BM_ConvError)->Apply(SmallResNetConvs);
BENCHMARK(BM_ConvWeightGrad)->Apply(SmallResNetConvs);

}  // namespace

BENCHMARK_MAIN();
