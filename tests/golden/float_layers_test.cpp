// Tests of the floating-point reference layers: central-difference gradient checks in
// double precision for every layer and for a small residual network, thread-count
// determinism, float-vs-double agreement, and bitwise agreement with naive loops.
#include "golden/kernels/float_layers.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "golden/core/error.h"

namespace octet::fl {
namespace {

using Vec = std::vector<double>;

constexpr double kStep = 1e-6;       // finite-difference step h
constexpr double kTolerance = 1e-3;  // relative error bound

template <typename Real = double>
std::vector<Real> Random(int64_t count, std::mt19937_64& rng, double lo = -1.0, double hi = 1.0) {
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<Real> v(count);
  for (auto& e : v) e = static_cast<Real>(dist(rng));
  return v;
}

double Dot(const Vec& a, const Vec& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += a[i] * b[i];
  return sum;
}

// Central differences of loss() with respect to every element of v (perturbed in place
// and restored).
Vec NumericGradient(Vec& v, const std::function<double()>& loss) {
  Vec grad(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const double old = v[i];
    v[i] = old + kStep;
    const double plus = loss();
    v[i] = old - kStep;
    const double minus = loss();
    v[i] = old;
    grad[i] = (plus - minus) / (2 * kStep);
  }
  return grad;
}

// Relative error per element, |a-n| / max(|a|, |n|, 1e-8), for every tensor: no tensor
// here needed the max-norm fallback (the worst element error seen is ~3e-6, in the
// composite's conv weights).
void ExpectGradientNear(const Vec& analytic, const Vec& numeric, const std::string& what) {
  ASSERT_EQ(analytic.size(), numeric.size()) << what;
  double worst = 0;
  size_t worst_index = 0;
  for (size_t i = 0; i < analytic.size(); ++i) {
    const double denom = std::max({std::abs(analytic[i]), std::abs(numeric[i]), 1e-8});
    const double err = std::abs(analytic[i] - numeric[i]) / denom;
    if (err > worst) {
      worst = err;
      worst_index = i;
    }
  }
  EXPECT_LT(worst, kTolerance) << what << ": element " << worst_index << " analytic "
                               << analytic[worst_index] << " numeric " << numeric[worst_index];
}

// Runs f with a given OpenMP thread count and restores the previous one.
template <typename F>
void WithThreads(int threads, F f) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  f();
  omp_set_num_threads(saved);
}

// ---------------------------------------------------------------------------------------
// Convolution

struct ConvCase {
  int64_t n, c, h, w, k, kernel, stride, pad;
};

ConvGeometry Geometry(const ConvCase& p) {
  return ConvGeometry{p.n, p.c, p.h, p.w, p.k, p.kernel, p.stride, p.pad};
}

class FloatConvGradTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(FloatConvGradTest, MatchesFiniteDifferences) {
  const ConvGeometry g = Geometry(GetParam());
  std::mt19937_64 rng(11);
  Vec x = Random(g.input_count(), rng), w = Random(g.weight_count(), rng);
  const Vec r = Random(g.output_count(), rng);
  Vec y(g.output_count());
  auto loss = [&] {
    Conv2dForward(g, x.data(), w.data(), y.data());
    return Dot(y, r);
  };
  Vec dx(x.size()), dw(w.size());
  Conv2dBackward(g, x.data(), w.data(), r.data(), dx.data(), dw.data());
  // Conv is linear in x and in w, so per element the difference quotient is exact up to
  // rounding (~1e-10); inputs no window reads have gradient exactly 0 on both sides.
  ExpectGradientNear(dx, NumericGradient(x, loss), "dx");
  ExpectGradientNear(dw, NumericGradient(w, loss), "dw");

  // dx == nullptr (first layer) leaves dw unchanged.
  Vec dw_only(w.size(), 123.0);
  Conv2dBackward(g, x.data(), w.data(), r.data(), static_cast<double*>(nullptr), dw_only.data());
  EXPECT_EQ(dw_only, dw);
}

INSTANTIATE_TEST_SUITE_P(Shapes, FloatConvGradTest,
                         ::testing::Values(ConvCase{2, 3, 7, 5, 4, 3, 1, 1},   // stride 1 pad 1
                                           ConvCase{2, 3, 7, 5, 4, 3, 1, 0},   // stride 1 pad 0
                                           ConvCase{2, 3, 8, 5, 4, 3, 2, 0},   // row 7 unread
                                           ConvCase{2, 3, 7, 6, 5, 3, 2, 1},   // stride 2 pad 1
                                           ConvCase{2, 4, 5, 6, 3, 1, 1, 0},   // pointwise
                                           ConvCase{1, 2, 6, 7, 3, 2, 2, 1})); // even kernel

// Naive loops with the same per-element summation order as the GEMM lowering: forward sums
// over k = (c, r, s), dW over p = (n, oh, ow), dcol over ko then col2im in (k, q) order.
// Padding taps are skipped: adding a zero product never changes a sum that starts at +0.
template <typename Real>
void NaiveConv(const ConvGeometry& g, const std::vector<Real>& x, const std::vector<Real>& w,
               const std::vector<Real>& dy, std::vector<Real>& y, std::vector<Real>& dx,
               std::vector<Real>& dw) {
  const int64_t oh_count = g.out_height(), ow_count = g.out_width(), q_count = oh_count * ow_count;
  const int64_t kr = g.kernel, k_count = g.gemm_k(), h = g.in_height, wd = g.in_width;
  auto tap = [&](int64_t k, int64_t q, int64_t* index) {
    const int64_t c = k / (kr * kr), r = (k / kr) % kr, s = k % kr;
    const int64_t ih = q / ow_count * g.stride - g.pad + r, iw = q % ow_count * g.stride - g.pad + s;
    *index = (c * h + ih) * wd + iw;
    return ih >= 0 && ih < h && iw >= 0 && iw < wd;
  };
  const int64_t image = g.in_channels * h * wd;
  y.assign(g.output_count(), 0);
  dx.assign(g.input_count(), 0);
  dw.assign(g.weight_count(), 0);
  int64_t index = 0;
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t ko = 0; ko < g.out_channels; ++ko) {
      for (int64_t q = 0; q < q_count; ++q) {
        Real sum = 0;
        for (int64_t k = 0; k < k_count; ++k) {
          if (tap(k, q, &index)) sum += w[ko * k_count + k] * x[n * image + index];
        }
        y[(n * g.out_channels + ko) * q_count + q] = sum;
      }
    }
    for (int64_t k = 0; k < k_count; ++k) {
      for (int64_t q = 0; q < q_count; ++q) {
        Real dcol = 0;
        for (int64_t ko = 0; ko < g.out_channels; ++ko) {
          dcol += w[ko * k_count + k] * dy[(n * g.out_channels + ko) * q_count + q];
        }
        if (tap(k, q, &index)) dx[n * image + index] += dcol;
      }
    }
  }
  for (int64_t ko = 0; ko < g.out_channels; ++ko) {
    for (int64_t k = 0; k < k_count; ++k) {
      Real sum = 0;
      for (int64_t n = 0; n < g.batch; ++n) {
        for (int64_t q = 0; q < q_count; ++q) {
          if (tap(k, q, &index)) {
            sum += dy[(n * g.out_channels + ko) * q_count + q] * x[n * image + index];
          }
        }
      }
      dw[ko * k_count + k] = sum;
    }
  }
}

// Shapes that cross every GEMM block edge: K = 270 > 256 (two reduction blocks),
// OH*OW = 529 > 512 (two column blocks), K_out = 6 (partial register tiles).
TEST(FloatConv, FloatMatchesNaiveLoopsBitwise) {
  for (const ConvCase& p : {ConvCase{2, 30, 23, 23, 6, 3, 1, 1}, ConvCase{3, 5, 9, 11, 9, 3, 2, 1}}) {
    const ConvGeometry g = Geometry(p);
    std::mt19937_64 rng(12);
    const auto x = Random<float>(g.input_count(), rng), w = Random<float>(g.weight_count(), rng);
    const auto dy = Random<float>(g.output_count(), rng);
    std::vector<float> y(g.output_count()), dx(g.input_count()), dw(g.weight_count());
    Conv2dForward(g, x.data(), w.data(), y.data());
    Conv2dBackward(g, x.data(), w.data(), dy.data(), dx.data(), dw.data());
    std::vector<float> y_ref, dx_ref, dw_ref;
    NaiveConv(g, x, w, dy, y_ref, dx_ref, dw_ref);
    EXPECT_EQ(y, y_ref);
    EXPECT_EQ(dx, dx_ref);
    EXPECT_EQ(dw, dw_ref);
  }
}

TEST(FloatConv, BitwiseIdenticalForAnyThreadCount) {
  // Large enough to take the parallel paths; 5 images and 54 weight columns split unevenly.
  const ConvGeometry g{5, 6, 9, 10, 10, 3, 1, 1};
  std::mt19937_64 rng(13);
  const auto x = Random<float>(g.input_count(), rng), w = Random<float>(g.weight_count(), rng);
  const auto dy = Random<float>(g.output_count(), rng);
  auto run = [&](int threads) {
    std::vector<float> out(g.output_count() + g.input_count() + g.weight_count());
    WithThreads(threads, [&] {
      Conv2dForward(g, x.data(), w.data(), out.data());
      Conv2dBackward(g, x.data(), w.data(), dy.data(), out.data() + g.output_count(),
                     out.data() + g.output_count() + g.input_count());
    });
    return out;
  };
  const auto one = run(1);
  EXPECT_EQ(run(2), one);
  EXPECT_EQ(run(3), one);
}

TEST(FloatConv, FloatAgreesWithDouble) {
  const ConvGeometry g{3, 8, 10, 9, 7, 3, 1, 1};
  std::mt19937_64 rng(14);
  const auto xf = Random<float>(g.input_count(), rng), wf = Random<float>(g.weight_count(), rng);
  const auto dyf = Random<float>(g.output_count(), rng);
  const Vec xd(xf.begin(), xf.end()), wd(wf.begin(), wf.end()), dyd(dyf.begin(), dyf.end());
  std::vector<float> yf(g.output_count()), dxf(g.input_count()), dwf(g.weight_count());
  Vec yd(yf.size()), dxd(dxf.size()), dwd(dwf.size());
  Conv2dForward(g, xf.data(), wf.data(), yf.data());
  Conv2dBackward(g, xf.data(), wf.data(), dyf.data(), dxf.data(), dwf.data());
  Conv2dForward(g, xd.data(), wd.data(), yd.data());
  Conv2dBackward(g, xd.data(), wd.data(), dyd.data(), dxd.data(), dwd.data());
  // Sums of <= 300 products in float: relative to the tensor's max-norm, ~1e-6 at worst.
  auto expect_close = [](const std::vector<float>& f, const Vec& d, const char* what) {
    double scale = 0, worst = 0;
    for (double v : d) scale = std::max(scale, std::abs(v));
    for (size_t i = 0; i < d.size(); ++i) worst = std::max(worst, std::abs(f[i] - d[i]));
    EXPECT_LT(worst / scale, 1e-5) << what;
  };
  expect_close(yf, yd, "y");
  expect_close(dxf, dxd, "dx");
  expect_close(dwf, dwd, "dw");
}

TEST(FloatConv, RejectsBadGeometry) {
  const ConvGeometry g{1, 1, 2, 2, 1, 3, 1, 0};  // kernel larger than the input
  float v[9] = {};
  EXPECT_THROW(Conv2dForward(g, v, v, v), Error);
}

// ---------------------------------------------------------------------------------------
// Batch norm, ReLU, pooling, linear, loss

TEST(FloatBatchNorm, MatchesFiniteDifferences) {
  const int64_t n = 3, c = 4, hw = 5;
  std::mt19937_64 rng(21);
  Vec x = Random(n * c * hw, rng, -2.0, 3.0), gamma = Random(c, rng, 0.5, 1.5), beta = Random(c, rng);
  const Vec r = Random(n * c * hw, rng);
  Vec y(x.size());
  BatchNormCache<double> cache;
  auto loss = [&] {
    BatchNormForward(n, c, hw, x.data(), gamma.data(), beta.data(), 1e-5, y.data(), cache);
    return Dot(y, r);
  };
  loss();
  Vec dx(x.size()), dgamma(c), dbeta(c);
  BatchNormBackward(n, c, hw, r.data(), gamma.data(), cache, dx.data(), dgamma.data(), dbeta.data());
  ExpectGradientNear(dx, NumericGradient(x, loss), "dx");
  ExpectGradientNear(dgamma, NumericGradient(gamma, loss), "dgamma");
  ExpectGradientNear(dbeta, NumericGradient(beta, loss), "dbeta");
}

TEST(FloatBatchNorm, NormalizesWithPopulationVariance) {
  const double x[4] = {1, 2, 3, 6};  // n=2, c=1, hw=2: mean 3, population variance 3.5
  const double gamma = 2, beta = 0.5;
  double y[4];
  BatchNormCache<double> cache;
  BatchNormForward(2, 1, 2, x, &gamma, &beta, 0.0, y, cache);
  EXPECT_DOUBLE_EQ(cache.mean[0], 3.0);
  EXPECT_DOUBLE_EQ(cache.inv_std[0], 1 / std::sqrt(3.5));
  EXPECT_DOUBLE_EQ(y[3], 2 * 3 / std::sqrt(3.5) + 0.5);
}

TEST(FloatRelu, MatchesFiniteDifferences) {
  std::mt19937_64 rng(31);
  // Magnitudes in [0.1, 1] with random signs: far from the kink at 0.
  Vec x = Random(40, rng, 0.1, 1.0);
  for (size_t i = 0; i < x.size(); i += 2) x[i] = -x[i];
  const Vec r = Random(40, rng);
  Vec y(x.size());
  auto loss = [&] {
    ReluForward(static_cast<int64_t>(x.size()), x.data(), y.data());
    return Dot(y, r);
  };
  Vec dx(x.size());
  ReluBackward(static_cast<int64_t>(x.size()), x.data(), r.data(), dx.data());
  ExpectGradientNear(dx, NumericGradient(x, loss), "dx");
}

TEST(FloatMaxPool, MatchesFiniteDifferences) {
  for (const PoolGeometry& p : {PoolGeometry{2, 3, 7, 6, 3, 2, 1}, PoolGeometry{2, 2, 6, 8, 2, 2, 0}}) {
    std::mt19937_64 rng(41);
    // Continuous random values: ties (or near-ties within h) have probability ~0.
    Vec x = Random(p.batch * p.channels * p.in_height * p.in_width, rng);
    const int64_t outputs = p.batch * p.channels * p.out_height() * p.out_width();
    const Vec r = Random(outputs, rng);
    Vec y(outputs);
    std::vector<int64_t> argmax(outputs);
    auto loss = [&] {
      MaxPoolForward(p, x.data(), y.data(), argmax.data());
      return Dot(y, r);
    };
    loss();
    Vec dx(x.size());
    MaxPoolBackward(p, argmax.data(), r.data(), dx.data());
    ExpectGradientNear(dx, NumericGradient(x, loss), "dx");
  }
}

TEST(FloatMaxPool, TiesPickFirstInScanOrderAndPaddingNeverWins) {
  // 1x1x2x3 input, kernel 2, stride 1, pad 1: output 3x4.
  const PoolGeometry p{1, 1, 2, 3, 2, 1, 1};
  const float x[6] = {-5, 7, 7,
                      7, -5, 7};
  float y[12];
  int64_t argmax[12];
  MaxPoolForward(p, x, y, argmax);
  // Window (oh=1, ow=1) covers x[0..1][0..1] = {-5, 7; 7, -5}: first max is x[0][1] = index 1.
  EXPECT_EQ(y[5], 7.0f);
  EXPECT_EQ(argmax[5], 1);
  // Corner window (0, 0) sees only x[0][0] = -5 plus padding.
  EXPECT_EQ(y[0], -5.0f);
  EXPECT_EQ(argmax[0], 0);

  // uint8_t: a real 0 is chosen over the padding (which is the type's lowest, also 0).
  const uint8_t xu[6] = {0, 0, 3, 0, 3, 1};
  uint8_t yu[12];
  MaxPoolForward(p, xu, yu, argmax);
  EXPECT_EQ(yu[0], 0);
  EXPECT_EQ(argmax[0], 0);
  EXPECT_EQ(yu[6], 3);        // window (1, 2) covers x[0..1][1..2]
  EXPECT_EQ(argmax[6], 2);    // x[0][2] comes before x[1][1] in scan order

  EXPECT_THROW(MaxPoolForward(PoolGeometry{1, 1, 2, 3, 2, 1, 2}, x, y, argmax), Error);
}

TEST(FloatGlobalAvgPool, MatchesFiniteDifferences) {
  const int64_t n = 2, c = 3, hw = 7;
  std::mt19937_64 rng(51);
  Vec x = Random(n * c * hw, rng);
  const Vec r = Random(n * c, rng);
  Vec y(n * c);
  auto loss = [&] {
    GlobalAvgPoolForward(n, c, hw, x.data(), y.data());
    return Dot(y, r);
  };
  Vec dx(x.size());
  GlobalAvgPoolBackward(n, c, hw, r.data(), dx.data());
  ExpectGradientNear(dx, NumericGradient(x, loss), "dx");
}

TEST(FloatLinear, MatchesFiniteDifferences) {
  const int64_t batch = 5, in = 11, out = 7;
  std::mt19937_64 rng(61);
  Vec x = Random(batch * in, rng), w = Random(out * in, rng), b = Random(out, rng);
  const Vec r = Random(batch * out, rng);
  Vec y(batch * out);
  auto loss = [&] {
    LinearForward(batch, in, out, x.data(), w.data(), b.data(), y.data());
    return Dot(y, r);
  };
  Vec dx(x.size()), dw(w.size()), db(out);
  LinearBackward(batch, in, out, x.data(), w.data(), r.data(), dx.data(), dw.data(), db.data());
  ExpectGradientNear(dx, NumericGradient(x, loss), "dx");
  ExpectGradientNear(dw, NumericGradient(w, loss), "dw");
  ExpectGradientNear(db, NumericGradient(b, loss), "dbias");
}

TEST(FloatLinear, BitwiseIdenticalForAnyThreadCount) {
  const int64_t batch = 64, in = 70, out = 37;  // large enough for the parallel GEMM path
  std::mt19937_64 rng(62);
  const auto x = Random<float>(batch * in, rng), w = Random<float>(out * in, rng);
  const auto b = Random<float>(out, rng), dy = Random<float>(batch * out, rng);
  auto run = [&](int threads) {
    std::vector<float> y(batch * out), dx(batch * in), dw(out * in), db(out);
    WithThreads(threads, [&] {
      LinearForward(batch, in, out, x.data(), w.data(), b.data(), y.data());
      LinearBackward(batch, in, out, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data());
    });
    y.insert(y.end(), dx.begin(), dx.end());
    y.insert(y.end(), dw.begin(), dw.end());
    return y;
  };
  const auto one = run(1);
  EXPECT_EQ(run(2), one);
  EXPECT_EQ(run(3), one);
}

TEST(FloatSoftmaxCrossEntropy, MatchesFiniteDifferences) {
  const int64_t batch = 4, classes = 6;
  std::mt19937_64 rng(71);
  Vec logits = Random(batch * classes, rng, -3.0, 3.0);
  const std::vector<uint16_t> labels = {2, 0, 5, 2};
  auto loss = [&] {
    return SoftmaxCrossEntropy<double>(batch, classes, logits.data(), labels.data(), nullptr, nullptr);
  };
  Vec dlogits(logits.size());
  SoftmaxCrossEntropy(batch, classes, logits.data(), labels.data(), dlogits.data(), nullptr);
  ExpectGradientNear(dlogits, NumericGradient(logits, loss), "dlogits");
}

TEST(FloatSoftmaxCrossEntropy, StableLossAndCorrectCount) {
  // Huge logits must not overflow; sample 1 ties classes 0 and 2 -> argmax 0.
  const float logits[6] = {1000, 0, 0, 5, 1, 5};
  const uint16_t labels[2] = {0, 2};
  float dlogits[6];
  int64_t correct = -1;
  const float loss = SoftmaxCrossEntropy(2, 3, logits, labels, dlogits, &correct);
  EXPECT_EQ(correct, 1);
  const double lse = 5 + std::log(2 + std::exp(-4.0));
  EXPECT_NEAR(loss, (0 + (lse - 5)) / 2, 1e-6);
  EXPECT_NEAR(dlogits[0], 0.0, 1e-7);
  EXPECT_NEAR(dlogits[5], (std::exp(5 - lse) - 1) / 2, 1e-6);
  const uint16_t bad[2] = {0, 3};
  EXPECT_THROW(SoftmaxCrossEntropy(2, 3, logits, bad, dlogits, &correct), Error);
}

// ---------------------------------------------------------------------------------------
// conv -> BN -> ReLU -> conv -> BN (+ residual) -> ReLU -> GAP -> linear -> CE

struct TinyResNet {
  static constexpr int64_t kBatch = 3, kIn = 2, kMid = 3, kH = 5, kW = 6, kClasses = 4;
  static constexpr double kEps = 1e-5;
  const ConvGeometry g1{kBatch, kIn, kH, kW, kMid, 3, 1, 1};
  const ConvGeometry g2{kBatch, kMid, kH, kW, kMid, 3, 1, 1};
  const int64_t hw = kH * kW, act = kBatch * kMid * kH * kW;
  Vec x, w1, gamma1, beta1, w2, gamma2, beta2, wl, bl;
  std::vector<uint16_t> labels{1, 3, 0};
  // Forward state kept for the backward pass.
  Vec a1, b1, h1, a2, b2, s, h2, pooled, logits;
  BatchNormCache<double> bn1, bn2;

  explicit TinyResNet(std::mt19937_64& rng)
      : x(Random(g1.input_count(), rng)), w1(Random(g1.weight_count(), rng, -0.5, 0.5)),
        gamma1(Random(kMid, rng, 0.5, 1.5)), beta1(Random(kMid, rng, -0.5, 0.5)),
        w2(Random(g2.weight_count(), rng, -0.5, 0.5)), gamma2(Random(kMid, rng, 0.5, 1.5)),
        beta2(Random(kMid, rng, -0.5, 0.5)), wl(Random(kClasses * kMid, rng)),
        bl(Random(kClasses, rng)), a1(act), b1(act), h1(act), a2(act), b2(act), s(act),
        h2(act), pooled(kBatch * kMid), logits(kBatch * kClasses) {}

  double Forward() {
    Conv2dForward(g1, x.data(), w1.data(), a1.data());
    BatchNormForward(kBatch, kMid, hw, a1.data(), gamma1.data(), beta1.data(), kEps, b1.data(), bn1);
    ReluForward(act, b1.data(), h1.data());
    Conv2dForward(g2, h1.data(), w2.data(), a2.data());
    BatchNormForward(kBatch, kMid, hw, a2.data(), gamma2.data(), beta2.data(), kEps, b2.data(), bn2);
    for (int64_t i = 0; i < act; ++i) s[i] = b2[i] + h1[i];
    ReluForward(act, s.data(), h2.data());
    GlobalAvgPoolForward(kBatch, kMid, hw, h2.data(), pooled.data());
    LinearForward(kBatch, kMid, kClasses, pooled.data(), wl.data(), bl.data(), logits.data());
    return SoftmaxCrossEntropy<double>(kBatch, kClasses, logits.data(), labels.data(), nullptr, nullptr);
  }

  struct Grads {
    Vec x, w1, gamma1, beta1, w2, gamma2, beta2, wl, bl;
  };

  Grads Backward() {
    Forward();
    Grads d{Vec(x.size()), Vec(w1.size()), Vec(kMid), Vec(kMid), Vec(w2.size()), Vec(kMid),
            Vec(kMid), Vec(wl.size()), Vec(kClasses)};
    Vec dlogits(logits.size()), dpooled(pooled.size()), dh2(act), ds(act), da2(act), dh1(act),
        db1(act), da1(act);
    SoftmaxCrossEntropy(kBatch, kClasses, logits.data(), labels.data(), dlogits.data(), nullptr);
    LinearBackward(kBatch, kMid, kClasses, pooled.data(), wl.data(), dlogits.data(), dpooled.data(),
                   d.wl.data(), d.bl.data());
    GlobalAvgPoolBackward(kBatch, kMid, hw, dpooled.data(), dh2.data());
    ReluBackward(act, s.data(), dh2.data(), ds.data());
    BatchNormBackward(kBatch, kMid, hw, ds.data(), gamma2.data(), bn2, da2.data(), d.gamma2.data(),
                      d.beta2.data());
    Conv2dBackward(g2, h1.data(), w2.data(), da2.data(), dh1.data(), d.w2.data());
    for (int64_t i = 0; i < act; ++i) dh1[i] += ds[i];  // the residual branch
    ReluBackward(act, b1.data(), dh1.data(), db1.data());
    BatchNormBackward(kBatch, kMid, hw, db1.data(), gamma1.data(), bn1, da1.data(), d.gamma1.data(),
                      d.beta1.data());
    Conv2dBackward(g1, x.data(), w1.data(), da1.data(), d.x.data(), d.w1.data());
    return d;
  }
};

TEST(FloatComposite, TinyResNetMatchesFiniteDifferences) {
  std::mt19937_64 rng(81);
  TinyResNet net(rng);
  const TinyResNet::Grads d = net.Backward();
  auto loss = [&] { return net.Forward(); };
  ExpectGradientNear(d.x, NumericGradient(net.x, loss), "x");
  ExpectGradientNear(d.w1, NumericGradient(net.w1, loss), "w1");
  ExpectGradientNear(d.gamma1, NumericGradient(net.gamma1, loss), "gamma1");
  ExpectGradientNear(d.beta1, NumericGradient(net.beta1, loss), "beta1");
  ExpectGradientNear(d.w2, NumericGradient(net.w2, loss), "w2");
  ExpectGradientNear(d.gamma2, NumericGradient(net.gamma2, loss), "gamma2");
  ExpectGradientNear(d.beta2, NumericGradient(net.beta2, loss), "beta2");
  ExpectGradientNear(d.wl, NumericGradient(net.wl, loss), "linear w");
  ExpectGradientNear(d.bl, NumericGradient(net.bl, loss), "linear bias");
}

}  // namespace
}  // namespace octet::fl
