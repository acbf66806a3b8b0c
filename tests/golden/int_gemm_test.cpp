// The exact integer GEMM and the three convolution lowerings against naive int64 loops,
// bit for bit, on odd shapes (m, n, k not multiples of 4, 64 or 256; k = 1; k > 256) and
// at the operand extremes allowed by the |a * b| < 2^23 precondition; and the results do
// not depend on the OpenMP thread count.
#include <gtest/gtest.h>
#include <omp.h>

#include <cstdint>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "tests/golden/thread_count.h"
#include "golden/core/conv_geometry.h"
#include "golden/kernels/int_gemm.h"

namespace octet {
namespace {


std::vector<int64_t> NaiveGemm(int64_t m, int64_t n, int64_t k, const std::vector<int16_t>& a,
                               const std::vector<int16_t>& b) {
  std::vector<int64_t> c(m * n, 0);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      int64_t sum = 0;
      for (int64_t t = 0; t < k; ++t) sum += int64_t{a[i * k + t]} * b[j * k + t];
      c[i * n + j] = sum;
    }
  }
  return c;
}

std::vector<int64_t> RunGemm(int64_t m, int64_t n, int64_t k, const std::vector<int16_t>& a,
                             const std::vector<int16_t>& b) {
  std::vector<int64_t> c(m * n, -777);
  GemmInt16ABt(m, n, k, a.data(), b.data(), c.data());
  return c;
}

enum class Fill { kRandom, kMaxPositive, kMaxNegative, kAlternating };

// A in [-32767, 32767]; B in [0, 255] (unsigned activations) or [-128, 127]: |a b| < 2^23.
void FillOperands(Fill fill, bool b_unsigned, std::mt19937_64& rng, std::vector<int16_t>& a,
                  std::vector<int16_t>& b) {
  std::uniform_int_distribution<int> da(-32767, 32767);
  std::uniform_int_distribution<int> db(b_unsigned ? 0 : -128, b_unsigned ? 255 : 127);
  const int16_t b_max = b_unsigned ? 255 : -128;  // largest |b|
  for (size_t i = 0; i < a.size(); ++i) {
    switch (fill) {
      case Fill::kRandom: a[i] = static_cast<int16_t>(da(rng)); break;
      case Fill::kMaxPositive: a[i] = 32767; break;
      case Fill::kMaxNegative: a[i] = -32767; break;
      case Fill::kAlternating: a[i] = (i % 2) ? 32767 : -32767; break;
    }
  }
  for (size_t i = 0; i < b.size(); ++i) {
    b[i] = fill == Fill::kRandom ? static_cast<int16_t>(db(rng)) : b_max;
  }
}

// The sweeps run single-threaded: every kernel call opens OpenMP parallel regions, which
// cost milliseconds each on an oversubscribed machine. The ThreadCount tests below compare
// 1, 2 and the default number of threads on representative shapes.
TEST(IntGemm, MatchesNaiveOnOddShapes) {
  const ThreadCount single(1);
  struct Dims {
    int64_t m, n, k;
  };
  const std::vector<Dims> dims = {{1, 1, 1},   {1, 5, 1},    {3, 5, 7},    {4, 4, 256}, {5, 7, 257},
                                  {7, 67, 513}, {2, 130, 1000}, {9, 3, 255}, {6, 65, 3}, {1, 129, 300},
                                  {13, 1, 1025}, {16, 150, 2049}, {3, 40, 5000}, {64, 33, 2301}};  // last three: panel path
  std::mt19937_64 rng(1);
  for (const Dims& d : dims) {
    for (Fill fill : {Fill::kRandom, Fill::kMaxPositive, Fill::kMaxNegative, Fill::kAlternating}) {
      for (bool b_unsigned : {true, false}) {
        std::vector<int16_t> a(d.m * d.k), b(d.n * d.k);
        FillOperands(fill, b_unsigned, rng, a, b);
        const std::vector<int64_t> expected = NaiveGemm(d.m, d.n, d.k, a, b);
        EXPECT_EQ(RunGemm(d.m, d.n, d.k, a, b), expected)
            << d.m << "x" << d.n << "x" << d.k << " fill " << static_cast<int>(fill) << " unsigned " << b_unsigned;
      }
    }
  }
}

TEST(IntGemm, FullBlocksAtTheBound) {
  // Every product 32767 * 255 = 8355585 (just below 2^23): one 256-term block sums to
  // 2139029760, 8.3 million below 2^31; k = 1024 needs the int64 total.
  const int64_t m = 5, n = 6, k = 1024;
  std::vector<int16_t> a(m * k, 32767), b(n * k, 255);
  for (int64_t t = 0; t < k; ++t) a[1 * k + t] = -32767;  // row 1 negative
  const std::vector<int64_t> c = RunGemm(m, n, k, a, b);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      EXPECT_EQ(c[i * n + j], (i == 1 ? -1 : 1) * int64_t{8355585} * 1024) << i << " " << j;
    }
  }
}

class IntGemmThreads : public ::testing::TestWithParam<std::tuple<int64_t, int64_t, int64_t>> {};

TEST_P(IntGemmThreads, ThreadCountDoesNotChangeResult) {
  std::mt19937_64 rng(3);
  const auto [m, n, k] = GetParam();
  std::vector<int16_t> a(m * k), b(n * k);
  FillOperands(Fill::kRandom, true, rng, a, b);
  std::vector<int64_t> c1, c2, cd;
  {
    ThreadCount t(1);
    c1 = RunGemm(m, n, k, a, b);
  }
  {
    ThreadCount t(2);
    c2 = RunGemm(m, n, k, a, b);
  }
  cd = RunGemm(m, n, k, a, b);
  EXPECT_EQ(c1, c2);
  EXPECT_EQ(c1, cd);
  EXPECT_EQ(c1, NaiveGemm(m, n, k, a, b));
}

// The tiled path and the panel path of the weight-gradient shape (few rows, deep reduction).
INSTANTIATE_TEST_SUITE_P(Shapes, IntGemmThreads,
                         ::testing::Values(std::make_tuple(37, 150, 700), std::make_tuple(16, 150, 6001)));

// ---------------------------------------------------------------------------------------
// Convolutions against direct loops.

struct ConvOperands {
  std::vector<uint8_t> x0;  // [N][C][H][W]
  std::vector<int8_t> wq;   // [K_out][C][R][S]
  std::vector<int16_t> e3;  // [N][K_out][OH][OW]
};

int64_t InIndex(const ConvGeometry& g, int64_t n, int64_t c, int64_t h, int64_t w) {
  return ((n * g.in_channels + c) * g.in_height + h) * g.in_width + w;
}
int64_t OutIndex(const ConvGeometry& g, int64_t n, int64_t ko, int64_t oh, int64_t ow) {
  return ((n * g.out_channels + ko) * g.out_height() + oh) * g.out_width() + ow;
}
int64_t WIndex(const ConvGeometry& g, int64_t ko, int64_t c, int64_t r, int64_t s) {
  return ((ko * g.in_channels + c) * g.kernel + r) * g.kernel + s;
}

// Calls f(n, ko, oh, ow, c, r, s, ih, iw) for every tap that reads a real (unpadded) input.
template <typename F>
void ForEachTap(const ConvGeometry& g, F f) {
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t ko = 0; ko < g.out_channels; ++ko)
      for (int64_t oh = 0; oh < g.out_height(); ++oh)
        for (int64_t ow = 0; ow < g.out_width(); ++ow)
          for (int64_t c = 0; c < g.in_channels; ++c)
            for (int64_t r = 0; r < g.kernel; ++r)
              for (int64_t s = 0; s < g.kernel; ++s) {
                const int64_t ih = oh * g.stride - g.pad + r, iw = ow * g.stride - g.pad + s;
                if (ih >= 0 && ih < g.in_height && iw >= 0 && iw < g.in_width) f(n, ko, oh, ow, c, r, s, ih, iw);
              }
}

std::vector<int64_t> NaiveForward(const ConvGeometry& g, const ConvOperands& op) {
  std::vector<int64_t> x1(g.output_count(), 0);
  ForEachTap(g, [&](int64_t n, int64_t ko, int64_t oh, int64_t ow, int64_t c, int64_t r, int64_t s, int64_t ih,
                    int64_t iw) {
    x1[OutIndex(g, n, ko, oh, ow)] += int64_t{op.wq[WIndex(g, ko, c, r, s)]} * op.x0[InIndex(g, n, c, ih, iw)];
  });
  return x1;
}

std::vector<int64_t> NaiveError(const ConvGeometry& g, const ConvOperands& op) {
  std::vector<int64_t> e4(g.input_count(), 0);
  ForEachTap(g, [&](int64_t n, int64_t ko, int64_t oh, int64_t ow, int64_t c, int64_t r, int64_t s, int64_t ih,
                    int64_t iw) {
    e4[InIndex(g, n, c, ih, iw)] += int64_t{op.wq[WIndex(g, ko, c, r, s)]} * op.e3[OutIndex(g, n, ko, oh, ow)];
  });
  return e4;
}

std::vector<int64_t> NaiveWeightGrad(const ConvGeometry& g, const ConvOperands& op) {
  std::vector<int64_t> gw(g.weight_count(), 0);
  ForEachTap(g, [&](int64_t n, int64_t ko, int64_t oh, int64_t ow, int64_t c, int64_t r, int64_t s, int64_t ih,
                    int64_t iw) {
    gw[WIndex(g, ko, c, r, s)] += int64_t{op.e3[OutIndex(g, n, ko, oh, ow)]} * op.x0[InIndex(g, n, c, ih, iw)];
  });
  return gw;
}

struct ConvResults {
  std::vector<int32_t> x1;
  std::vector<int64_t> e4, gw;
  bool operator==(const ConvResults&) const = default;
};

ConvResults RunConv(const ConvGeometry& g, const ConvOperands& op) {
  ConvResults r{std::vector<int32_t>(g.output_count(), -1), std::vector<int64_t>(g.input_count(), -1),
                std::vector<int64_t>(g.weight_count(), -1)};
  ConvForwardInt(g, op.x0.data(), op.wq.data(), r.x1.data());
  ConvErrorInt(g, op.wq.data(), op.e3.data(), r.e4.data());
  ConvWeightGradInt(g, op.e3.data(), op.x0.data(), r.gw.data());
  return r;
}

enum class ConvFill { kRandom, kExtremePositive, kExtremeMixed, kFlagExtremes };

ConvOperands MakeOperands(const ConvGeometry& g, ConvFill fill, std::mt19937_64& rng) {
  ConvOperands op{std::vector<uint8_t>(g.input_count()), std::vector<int8_t>(g.weight_count()),
                  std::vector<int16_t>(g.output_count())};
  std::uniform_int_distribution<int> dx(0, 255), dw(-127, 127), de(-32767, 32767);
  for (size_t i = 0; i < op.x0.size(); ++i) op.x0[i] = fill == ConvFill::kRandom ? static_cast<uint8_t>(dx(rng)) : 255;
  for (size_t i = 0; i < op.wq.size(); ++i) {
    switch (fill) {
      case ConvFill::kRandom: op.wq[i] = static_cast<int8_t>(dw(rng)); break;
      case ConvFill::kExtremePositive: op.wq[i] = 127; break;
      default: op.wq[i] = (rng() & 1) ? 127 : -127; break;
    }
  }
  for (size_t i = 0; i < op.e3.size(); ++i) {
    switch (fill) {
      case ConvFill::kRandom: op.e3[i] = static_cast<int16_t>(de(rng)); break;
      case ConvFill::kExtremePositive: op.e3[i] = 32767; break;
      case ConvFill::kExtremeMixed: op.e3[i] = (rng() & 1) ? 32767 : -32767; break;
      case ConvFill::kFlagExtremes: op.e3[i] = (rng() & 1) ? 16256 : -16256; break;  // +-127 * 128
    }
  }
  return op;
}

std::string Describe(const ConvGeometry& g) {
  return "N" + std::to_string(g.batch) + " C" + std::to_string(g.in_channels) + " " + std::to_string(g.in_height) +
         "x" + std::to_string(g.in_width) + " K" + std::to_string(g.out_channels) + " k" + std::to_string(g.kernel) +
         " s" + std::to_string(g.stride) + " p" + std::to_string(g.pad);
}

const std::vector<ConvGeometry> kGeometries = {
    {2, 3, 5, 7, 4, 3, 1, 1},   {2, 3, 5, 7, 4, 3, 2, 0},  {2, 2, 6, 9, 3, 1, 1, 0}, {2, 2, 6, 9, 3, 1, 2, 1},
    {2, 3, 7, 4, 5, 3, 2, 1},   {2, 5, 4, 6, 6, 3, 1, 0},  {1, 1, 1, 1, 1, 1, 1, 0}, {2, 1, 3, 3, 2, 3, 1, 1},
    {2, 32, 8, 10, 5, 3, 1, 1},  // gemm_k = 288 > 256 (forward), gemm_n = 160
    {2, 4, 17, 19, 3, 3, 1, 1},  // weight-gradient reduction P = 646 > 256
    // The error's stride phases: 5x5 stride 2, an even kernel, stride 3 with a 1x1 kernel
    // (phases no tap reaches), a 4x4 kernel at stride 3.
    {2, 3, 9, 8, 4, 5, 2, 2}, {2, 2, 7, 7, 3, 2, 2, 0}, {2, 3, 10, 11, 2, 1, 3, 0}, {3, 2, 8, 9, 3, 4, 3, 1},
    // Channel counts that fill whole k-quads (the forward's implicit lowering, no im2col) at
    // strides 2 and 3, with even and odd kernels and pads.
    {2, 8, 9, 11, 6, 3, 2, 1}, {2, 4, 10, 7, 4, 1, 2, 0}, {2, 8, 7, 9, 5, 2, 2, 0}, {1, 12, 6, 6, 8, 4, 3, 1},
    // 16 and 32 channels on the output side of a GEMM (the forward's K_out, the error's
    // C_in): full 8-row tiles stored as transposed 8 x 8 blocks, and ragged last tiles.
    {2, 4, 6, 7, 16, 3, 1, 1}, {2, 16, 5, 9, 3, 3, 1, 1}, {3, 8, 7, 5, 32, 3, 2, 1},
};

TEST(IntConv, MatchesDirectConvolution) {
  const ThreadCount single(1);  // see IntGemm.MatchesNaiveOnOddShapes
  std::mt19937_64 rng(21);
  for (const ConvGeometry& g : kGeometries) {
    for (ConvFill fill : {ConvFill::kRandom, ConvFill::kExtremePositive, ConvFill::kExtremeMixed,
                          ConvFill::kFlagExtremes}) {
      const ConvOperands op = MakeOperands(g, fill, rng);
      const ConvResults got = RunConv(g, op);
      const std::vector<int64_t> x1 = NaiveForward(g, op);
      SCOPED_TRACE(Describe(g) + " fill " + std::to_string(static_cast<int>(fill)));
      ASSERT_EQ(got.x1.size(), x1.size());
      for (size_t i = 0; i < x1.size(); ++i) ASSERT_EQ(got.x1[i], x1[i]) << "x1 " << i;
      EXPECT_EQ(got.e4, NaiveError(g, op));
      EXPECT_EQ(got.gw, NaiveWeightGrad(g, op));
    }
  }
}

// Weight gradients whose reduction (N OH OW pixels) reaches the panel path (at least 1024
// pixel pairs) with B packed block by block: an odd pixel count (a half last pair), two row
// tiles of output channels, stride 2, channel quads; with one and two threads.
TEST(IntConv, PanelWeightGradientMatchesDirectConvolution) {
  const std::vector<ConvGeometry> geometries = {
      {3, 3, 29, 31, 5, 3, 1, 1},   // P = 2697
      {2, 8, 33, 33, 12, 3, 1, 1},  // P = 2178, 12 output channels
      {4, 4, 50, 50, 6, 3, 2, 1},   // P = 2500 at stride 2
  };
  std::mt19937_64 rng(44);
  for (const ConvGeometry& g : geometries) {
    for (ConvFill fill : {ConvFill::kRandom, ConvFill::kExtremeMixed, ConvFill::kFlagExtremes}) {
      const ConvOperands op = MakeOperands(g, fill, rng);
      const std::vector<int64_t> expected = NaiveWeightGrad(g, op);
      for (const int threads : {1, 2}) {
        const ThreadCount count(threads);
        std::vector<int64_t> gw(g.weight_count(), -1);
        ConvWeightGradInt(g, op.e3.data(), op.x0.data(), gw.data());
        EXPECT_EQ(gw, expected) << Describe(g) << " fill " << static_cast<int>(fill) << " threads " << threads;
      }
    }
  }
}

TEST(IntConv, HandCheckedAllMaxOperands) {
  // 3x3, pad 1, stride 1, one channel, x0 = 255, W = 127: a corner output reads 4 taps,
  // an edge 6, the centre 9.
  const ConvGeometry g{1, 1, 3, 3, 1, 3, 1, 1};
  std::mt19937_64 rng(0);
  const ConvOperands op = MakeOperands(g, ConvFill::kExtremePositive, rng);
  const ConvResults r = RunConv(g, op);
  const int32_t t = 127 * 255;
  EXPECT_EQ(r.x1, (std::vector<int32_t>{4 * t, 6 * t, 4 * t, 6 * t, 9 * t, 6 * t, 4 * t, 6 * t, 4 * t}));
  const int64_t u = int64_t{127} * 32767;  // e4 taps: same counts
  EXPECT_EQ(r.e4, (std::vector<int64_t>{4 * u, 6 * u, 4 * u, 6 * u, 9 * u, 6 * u, 4 * u, 6 * u, 4 * u}));
  const int64_t v = int64_t{32767} * 255;  // weight tap (r, s) pairs with 4, 6 or 9 real inputs
  EXPECT_EQ(r.gw, (std::vector<int64_t>{4 * v, 6 * v, 4 * v, 6 * v, 9 * v, 6 * v, 4 * v, 6 * v, 4 * v}));
}

TEST(IntConv, ThreadCountDoesNotChangeResult) {
  std::mt19937_64 rng(8);
  for (const ConvGeometry& g : {kGeometries[0], kGeometries[4], kGeometries[8], kGeometries[9]}) {
    const ConvOperands op = MakeOperands(g, ConvFill::kRandom, rng);
    ConvResults r1, r2;
    {
      ThreadCount t(1);
      r1 = RunConv(g, op);
    }
    {
      ThreadCount t(2);
      r2 = RunConv(g, op);
    }
    const ConvResults rd = RunConv(g, op);
    EXPECT_TRUE(r1 == r2) << Describe(g);
    EXPECT_TRUE(r1 == rd) << Describe(g);
    EXPECT_EQ(r1.gw, NaiveWeightGrad(g, op));
    EXPECT_EQ(r2.e4, NaiveError(g, op));
  }
  // Extreme operands with two threads.
  const ThreadCount two(2);
  const ConvOperands op = MakeOperands(kGeometries[9], ConvFill::kExtremeMixed, rng);
  const ConvResults r = RunConv(kGeometries[9], op);
  EXPECT_EQ(r.e4, NaiveError(kGeometries[9], op));
  EXPECT_EQ(r.gw, NaiveWeightGrad(kGeometries[9], op));
}

}  // namespace
}  // namespace octet
