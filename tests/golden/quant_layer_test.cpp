// One QuantLayer training step (forward, backward from the output, update) with the
// reported tensors checked exactly: ranges of every integer container, the ReLU mask, the
// flag-word format of e3, CQ bounds, the first-step momentum identities (Acc = G,
// dW = lr * Acc), recomputation of selected tensors from their inputs with the library's
// primitives and naive loops, and run-to-run determinism.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "golden/core/named_tensor.h"
#include "golden/net/quant_layer.h"
#include "golden/numerics/counter_rng.h"
#include "golden/numerics/fixed_point.h"
#include "golden/numerics/quantizers.h"
#include "golden/numerics/scheme.h"

namespace octet {
namespace {

class CollectingSink : public TensorSink {
 public:
  void Put(const std::string& name, const AnyTensor& tensor, int frac_bits) override {
    EXPECT_EQ(tensors.count(name), 0u) << "reported twice: " << name;
    tensors[name] = NamedTensor{name, tensor, frac_bits};
  }
  template <typename T>
  const Tensor<T>& Get(const std::string& name) const {
    const auto it = tensors.find(name);
    if (it == tensors.end()) {
      ADD_FAILURE() << "missing tensor " << name;
      static const Tensor<T> empty;
      return empty;
    }
    const auto* t = std::get_if<Tensor<T>>(&it->second.tensor);
    if (t == nullptr) {
      ADD_FAILURE() << "wrong element type for " << name;
      static const Tensor<T> empty;
      return empty;
    }
    return *t;
  }
  int Frac(const std::string& name) const {
    const auto it = tensors.find(name);
    return it == tensors.end() ? -99999 : it->second.frac_bits;
  }
  std::map<std::string, NamedTensor> tensors;
};

const ConvGeometry kGeometry{2, 3, 6, 6, 4, 3, 1, 1};

struct StepResult {
  CollectingSink before;  // state after Initialize (W, Acc_q_*)
  CollectingSink step;    // Report after Update
  CollectingSink after;   // state after Update
  IntError error;
};

Tensor<uint8_t> RandomInput(uint64_t seed) {
  std::mt19937_64 rng(seed);
  Tensor<uint8_t> x0({kGeometry.batch, kGeometry.in_channels, kGeometry.in_height, kGeometry.in_width});
  for (auto& v : x0.data) v = static_cast<uint8_t>(rng() % 256);
  return x0;
}

IntError RandomError(uint64_t seed) {
  std::mt19937_64 rng(seed);
  IntError e{Tensor<int64_t>({kGeometry.batch, kGeometry.out_channels, kGeometry.out_height(), kGeometry.out_width()}),
             -40};
  std::uniform_int_distribution<int64_t> dist(-(int64_t{1} << 40), int64_t{1} << 40);
  for (auto& v : e.m.data) v = dist(rng);
  return e;
}

StepResult RunStep(const Scheme& scheme) {
  StepResult r;
  QuantLayer layer(QuantLayerConfig{"t", kGeometry, true, true, 0}, scheme);
  layer.Initialize(7);
  layer.ReportState(r.before);
  const Tensor<uint8_t> x0 = RandomInput(42);
  layer.Forward(x0, nullptr);
  r.error = RandomError(43);
  const StepContext ctx{1, 0, 128, 128};
  layer.BackwardFromOutput(r.error, ctx);
  layer.Update(ctx);
  layer.Report(r.step);
  layer.ReportState(r.after);
  return r;
}

int64_t Idx4(const Shape& s, int64_t a, int64_t b, int64_t c, int64_t d) {
  return ((a * s[1] + b) * s[2] + c) * s[3] + d;
}

class QuantLayerStep : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scheme8_ = new Scheme(LoadScheme("wageubn8"));
    result8_ = new StepResult(RunStep(*scheme8_));
  }
  static void TearDownTestSuite() {
    delete result8_;
    delete scheme8_;
  }
  static Scheme* scheme8_;
  static StepResult* result8_;
  const CollectingSink& R() const { return result8_->step; }
};
Scheme* QuantLayerStep::scheme8_ = nullptr;
StepResult* QuantLayerStep::result8_ = nullptr;

TEST_F(QuantLayerStep, ReportsEveryTensorWithItsScale) {
  const Scheme& s = *scheme8_;
  for (const char* name : {"x0", "W_q", "x1", "mu_q", "sigma_q", "x2", "gamma_q", "beta_q", "x3", "x4", "e0", "e1", "e2",
                           "dx1", "e3", "e3_flag", "e4", "g_W", "g_W_q", "g_gamma", "g_gamma_q", "g_beta", "g_beta_q",
                           "Acc_W", "Acc_gamma", "Acc_beta", "lr", "dW", "dgamma", "dbeta"}) {
    EXPECT_EQ(R().tensors.count(std::string("t/") + name), 1u) << name;
  }
  EXPECT_EQ(R().Frac("t/W_q"), 7);
  EXPECT_EQ(R().Frac("t/x1"), 14);
  EXPECT_EQ(R().Frac("t/x2"), s.frac_BN());
  EXPECT_EQ(R().Frac("t/x3"), 22);
  EXPECT_EQ(R().Frac("t/x4"), 7);
  EXPECT_EQ(R().Frac("t/g_W_q"), 14);
  EXPECT_EQ(R().Frac("t/Acc_W"), 14);
  EXPECT_EQ(R().Frac("t/dW"), 23);
  EXPECT_EQ(R().Frac("t/e3_flag"), R().Frac("t/e3"));
  EXPECT_EQ(R().Frac("t/e4"), R().Frac("t/e3") + 7);
  EXPECT_EQ(R().Frac("t/g_W"), R().Frac("t/e3") + 7);
  EXPECT_EQ(R().Get<int32_t>("t/lr"), (Tensor<int32_t>(Shape{}, 128)));
}

TEST_F(QuantLayerStep, WeightsQuantizedFromMaster) {
  const Tensor<int8_t>& wq = R().Get<int8_t>("t/W_q");
  const Tensor<int32_t>& w = result8_->before.Get<int32_t>("t/W");
  ASSERT_EQ(wq.size(), kGeometry.weight_count());
  ASSERT_EQ(w.size(), wq.size());
  int nonzero = 0;
  for (int64_t i = 0; i < wq.size(); ++i) {
    EXPECT_GE(wq[i], -127);
    EXPECT_LE(wq[i], 127);
    EXPECT_EQ(wq[i], fx::SaturateSymmetric(fx::RoundHalfEvenShiftRight(w[i], 16), 127)) << i;
    EXPECT_LE(std::abs(w[i]), (1 << 23) - 1);
    nonzero += wq[i] != 0;
  }
  EXPECT_GT(nonzero, wq.size() / 2);  // stddev 1/sqrt(27) ~ 25 LSB: mostly non-zero
}

TEST_F(QuantLayerStep, ForwardTensors) {
  const Tensor<uint8_t>& x0 = R().Get<uint8_t>("t/x0");
  const Tensor<int8_t>& wq = R().Get<int8_t>("t/W_q");
  const Tensor<int32_t>& x1 = R().Get<int32_t>("t/x1");
  const Tensor<int32_t>& x2 = R().Get<int32_t>("t/x2");
  const Tensor<int64_t>& x3 = R().Get<int64_t>("t/x3");
  const Tensor<uint8_t>& x4 = R().Get<uint8_t>("t/x4");
  EXPECT_EQ(x0, RandomInput(42));
  // x1 = W_q * x0 by direct convolution.
  const ConvGeometry& g = kGeometry;
  ASSERT_EQ(x1.shape, (Shape{2, 4, 6, 6}));
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t ko = 0; ko < g.out_channels; ++ko)
      for (int64_t oh = 0; oh < 6; ++oh)
        for (int64_t ow = 0; ow < 6; ++ow) {
          int64_t sum = 0;
          for (int64_t c = 0; c < 3; ++c)
            for (int64_t r = 0; r < 3; ++r)
              for (int64_t s = 0; s < 3; ++s) {
                const int64_t ih = oh - 1 + r, iw = ow - 1 + s;
                if (ih < 0 || ih >= 6 || iw < 0 || iw >= 6) continue;
                sum += int64_t{wq[((ko * 3 + c) * 3 + r) * 3 + s]} * x0[Idx4(x0.shape, n, c, ih, iw)];
              }
          EXPECT_EQ(x1[Idx4(x1.shape, n, ko, oh, ow)], sum);
        }
  // gamma = 1, beta = 0 initially: x3 = 128 x2.
  EXPECT_EQ(R().Get<int16_t>("t/gamma_q"), (Tensor<int16_t>({4}, 128)));
  EXPECT_EQ(R().Get<int16_t>("t/beta_q"), (Tensor<int16_t>({4}, 0)));
  int positive = 0;
  for (int64_t i = 0; i < x3.size(); ++i) {
    EXPECT_EQ(x3[i], int64_t{128} * x2[i]) << i;
    const int64_t expected = fx::Saturate(fx::RoundHalfEvenShiftRight(x3[i], 15), 0, 255);
    EXPECT_EQ(x4[i], expected) << i;
    positive += x3[i] > 0;
  }
  EXPECT_GT(positive, 0);
  EXPECT_LT(positive, x3.size());
}

TEST_F(QuantLayerStep, BackwardE0E1AndReluMask) {
  const Tensor<int8_t>& e0 = R().Get<int8_t>("t/e0");
  const Tensor<int8_t>& e1 = R().Get<int8_t>("t/e1");
  const Tensor<int64_t>& x3 = R().Get<int64_t>("t/x3");
  // e0 = E1(error) = SQ(error, 8).
  std::vector<int16_t> expected(e0.size());
  const int exp = q::ShiftQuantize(std::span<const int64_t>(result8_->error.m.data), result8_->error.exp, 8, expected);
  EXPECT_EQ(R().Frac("t/e0"), -exp);
  EXPECT_EQ(R().Frac("t/e1"), -exp);
  int zeros_from_mask = 0;
  for (int64_t i = 0; i < e0.size(); ++i) {
    EXPECT_GE(e0[i], -127);
    EXPECT_LE(e0[i], 127);
    EXPECT_EQ(e0[i], expected[i]) << i;
    const bool pass = x3[i] > 0 && fx::RoundHalfEvenShiftRight(x3[i], 15) <= 255;
    if (x3[i] <= 0) {
      EXPECT_EQ(e1[i], 0) << i;
    }
    EXPECT_EQ(e1[i], pass ? e0[i] : 0) << i;
    zeros_from_mask += !pass && e0[i] != 0;
  }
  EXPECT_GT(zeros_from_mask, 0);
}

TEST_F(QuantLayerStep, E3FlagFormat) {
  const Tensor<int16_t>& e3 = R().Get<int16_t>("t/e3");
  const Tensor<uint16_t>& words = R().Get<uint16_t>("t/e3_flag");
  const Tensor<int64_t>& dx1 = R().Get<int64_t>("t/dx1");
  ASSERT_EQ(words.size(), e3.size());
  std::vector<int16_t> expected(e3.size());
  const int exp = q::FlagQuantize(std::span<const int64_t>(dx1.data), -R().Frac("t/dx1"), expected);
  EXPECT_EQ(R().Frac("t/e3"), -exp);
  int large = 0;
  for (int64_t i = 0; i < e3.size(); ++i) {
    const int mag = std::abs(int{e3[i]});
    EXPECT_TRUE(mag <= 127 || (mag % 128 == 0 && mag <= 127 * 128)) << i << " e3 " << e3[i];
    EXPECT_EQ(e3[i], expected[i]) << i;
    EXPECT_LT(words[i], 512);
    EXPECT_EQ(q::FlagDecode(words[i]), e3[i]) << i;
    EXPECT_EQ(words[i], q::FlagEncode(e3[i])) << i;
    large += mag >= 128;
  }
  EXPECT_GT(large, 0);
}

TEST_F(QuantLayerStep, ErrorAndWeightGradientGemms) {
  const Tensor<uint8_t>& x0 = R().Get<uint8_t>("t/x0");
  const Tensor<int8_t>& wq = R().Get<int8_t>("t/W_q");
  const Tensor<int16_t>& e3 = R().Get<int16_t>("t/e3");
  const Tensor<int64_t>& e4 = R().Get<int64_t>("t/e4");
  const Tensor<int64_t>& gw = R().Get<int64_t>("t/g_W");
  std::vector<int64_t> e4_ref(x0.size(), 0), gw_ref(wq.size(), 0);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t ko = 0; ko < 4; ++ko)
      for (int64_t oh = 0; oh < 6; ++oh)
        for (int64_t ow = 0; ow < 6; ++ow)
          for (int64_t c = 0; c < 3; ++c)
            for (int64_t r = 0; r < 3; ++r)
              for (int64_t s = 0; s < 3; ++s) {
                const int64_t ih = oh - 1 + r, iw = ow - 1 + s;
                if (ih < 0 || ih >= 6 || iw < 0 || iw >= 6) continue;
                const int64_t wi = ((ko * 3 + c) * 3 + r) * 3 + s;
                const int64_t ei = Idx4(e3.shape, n, ko, oh, ow), xi = Idx4(x0.shape, n, c, ih, iw);
                e4_ref[xi] += int64_t{wq[wi]} * e3[ei];
                gw_ref[wi] += int64_t{e3[ei]} * x0[xi];
              }
  EXPECT_EQ(e4.data, e4_ref);
  EXPECT_EQ(gw.data, gw_ref);
}

TEST_F(QuantLayerStep, GradientQuantization) {
  const Tensor<int64_t>& gw = R().Get<int64_t>("t/g_W");
  const Tensor<int16_t>& gwq = R().Get<int16_t>("t/g_W_q");
  std::vector<int16_t> expected(gw.size());
  q::ConstantQuantize(std::span<const int64_t>(gw.data), -R().Frac("t/g_W"), 128,
                      RandomStream{1, 0, 0, static_cast<uint32_t>(RandomTensorId::kWeightGradient)}, expected);
  int nonzero = 0;
  for (int64_t i = 0; i < gwq.size(); ++i) {
    EXPECT_GE(gwq[i], -127);
    EXPECT_LE(gwq[i], 127);
    EXPECT_EQ(gwq[i], expected[i]) << i;
    nonzero += gwq[i] != 0;
  }
  EXPECT_GT(nonzero, 0);
  // g_gamma_q, g_beta_q = Q(g, 15): RHE to 14 fractional bits.
  for (const char* p : {"gamma", "beta"}) {
    const Tensor<int64_t>& g = R().Get<int64_t>(std::string("t/g_") + p);
    const Tensor<int32_t>& gq = R().Get<int32_t>(std::string("t/g_") + p + "_q");
    for (int64_t c = 0; c < g.size(); ++c) {
      EXPECT_EQ(gq[c], fx::RoundHalfEvenScale(g[c], 14 - R().Frac(std::string("t/g_") + p))) << p << c;
    }
  }
}

TEST_F(QuantLayerStep, FirstStepMomentumUpdate) {
  const Tensor<int16_t>& gwq = R().Get<int16_t>("t/g_W_q");
  const Tensor<int32_t>& acc = R().Get<int32_t>("t/Acc_W");
  const Tensor<int64_t>& dw = R().Get<int64_t>("t/dW");
  const Tensor<int32_t>& w_old = result8_->before.Get<int32_t>("t/W");
  const Tensor<int32_t>& w_new = result8_->after.Get<int32_t>("t/W");
  const Tensor<int32_t>& acc_q = result8_->after.Get<int32_t>("t/Acc_q_W");
  EXPECT_EQ(result8_->before.Get<int32_t>("t/Acc_q_W"), (Tensor<int32_t>(w_old.shape, 0)));
  ASSERT_EQ(acc.size(), gwq.size());
  for (int64_t i = 0; i < acc.size(); ++i) {
    EXPECT_EQ(acc[i], gwq[i]) << i;  // Acc = 0.25 * 0 + G
    EXPECT_EQ(dw[i], int64_t{128} * acc[i]) << i;
    EXPECT_EQ(w_new[i], fx::SaturateSymmetric(int64_t{w_old[i]} - dw[i], (1 << 23) - 1)) << i;
    EXPECT_EQ(acc_q[i], fx::RoundHalfEvenShiftRight(acc[i], 2)) << i;
  }
  for (const char* p : {"gamma", "beta"}) {
    const Tensor<int32_t>& gq = R().Get<int32_t>(std::string("t/g_") + p + "_q");
    const Tensor<int32_t>& a = R().Get<int32_t>(std::string("t/Acc_") + p);
    const Tensor<int64_t>& d = R().Get<int64_t>(std::string("t/d") + p);
    const Tensor<int32_t>& before = result8_->before.Get<int32_t>(std::string("t/") + p);
    const Tensor<int32_t>& after = result8_->after.Get<int32_t>(std::string("t/") + p);
    for (int64_t c = 0; c < gq.size(); ++c) {
      EXPECT_EQ(a[c], gq[c]) << p << c;
      EXPECT_EQ(d[c], int64_t{128} * a[c]) << p << c;
      EXPECT_EQ(int64_t{after[c]}, int64_t{before[c]} - d[c]) << p << c;
    }
  }
  EXPECT_EQ(result8_->before.Get<int32_t>("t/gamma"), (Tensor<int32_t>({4}, 1 << 23)));
}

TEST_F(QuantLayerStep, RepeatedRunIsIdentical) {
  const StepResult again = RunStep(*scheme8_);
  ASSERT_EQ(again.step.tensors.size(), R().tensors.size());
  for (const auto& [name, t] : R().tensors) {
    const auto it = again.step.tensors.find(name);
    ASSERT_NE(it, again.step.tensors.end()) << name;
    EXPECT_TRUE(it->second.tensor == t.tensor) << name;
    EXPECT_EQ(it->second.frac_bits, t.frac_bits) << name;
  }
  for (const auto& [name, t] : result8_->after.tensors) {
    EXPECT_TRUE(again.after.tensors.at(name).tensor == t.tensor) << name;
  }
}

TEST(QuantLayerStep16, ShiftE2Within16Bits) {
  const Scheme s = LoadScheme("wageubn16");
  const StepResult r = RunStep(s);
  EXPECT_EQ(r.step.tensors.count("t/e3_flag"), 0u);
  const Tensor<int16_t>& e3 = r.step.Get<int16_t>("t/e3");
  const Tensor<int64_t>& dx1 = r.step.Get<int64_t>("t/dx1");
  std::vector<int16_t> expected(e3.size());
  const int exp = q::ShiftQuantize(std::span<const int64_t>(dx1.data), -r.step.Frac("t/dx1"), 16, expected);
  EXPECT_EQ(r.step.Frac("t/e3"), -exp);
  int16_t max_abs = 0;
  for (int64_t i = 0; i < e3.size(); ++i) {
    EXPECT_LE(std::abs(int{e3[i]}), 32767) << i;
    EXPECT_EQ(e3[i], expected[i]) << i;
    max_abs = std::max<int16_t>(max_abs, static_cast<int16_t>(std::abs(int{e3[i]})));
  }
  EXPECT_GT(max_abs, 16384);  // max |dx1| is within a factor sqrt(2) of R: uses the top bit range
  // The forward pass does not depend on the E2 mode.
  StepResult r8 = RunStep(LoadScheme("wageubn8"));
  EXPECT_EQ(r.step.Get<int32_t>("t/x2"), r8.step.Get<int32_t>("t/x2"));
  EXPECT_EQ(r.step.Get<int64_t>("t/dx1"), r8.step.Get<int64_t>("t/dx1"));
}

}  // namespace
}  // namespace octet
