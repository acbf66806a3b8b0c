// Throughput of the exact integer GEMM on the shapes of the small ResNet's training
// step (batch 64): reports MACs per second (counter "MAC/s").
#include <benchmark/benchmark.h>

#include <vector>

#include "golden/kernels/int_gemm.h"

namespace {

void BM_GemmInt16(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  std::vector<int16_t> a(m * k), b(n * k);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<int16_t>((i * 7919) % 255 - 127);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<int16_t>((i * 104729) % 256);
  std::vector<int64_t> c(m * n);
  for (auto _ : state) {
    octet::GemmInt16ABt(m, n, k, a.data(), b.data(), c.data());
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(m * n * k), benchmark::Counter::kIsIterationInvariantRate);
}

// forward (M=K_out, N=P, K=C*9), error (M=P, N=C*9, K=K_out), weight grad (M=K_out, N=C*9, K=P)
BENCHMARK(BM_GemmInt16)->Args({16, 50176, 144})->Args({50176, 144, 16})->Args({16, 144, 50176})
    ->Args({64, 3136, 576})->Args({3136, 576, 64})->Args({64, 576, 3136})->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
