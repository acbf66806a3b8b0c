#include "golden/net/quant_layer.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <span>

#include "golden/core/error.h"
#include "golden/core/vector_clones.h"
#include "golden/kernels/int_batchnorm.h"
#include "golden/kernels/int_gemm.h"
#include "golden/net/quant_ops.h"
#include "golden/numerics/fixed_point.h"
#include "golden/numerics/quantizers.h"

namespace octet {
namespace {

// Element-wise passes over a whole tensor run in rows of kRow elements (the last one
// shorter or empty), each row one call of a kernel.
constexpr int64_t kRow = 16384;

// x << shift clamped to int64 (fx::SaturatingShiftLeft) for 0 <= shift <= 62, branch-free:
// x 2^shift > INT64_MAX iff x > INT64_MAX >> shift = 2^(63 - shift) - 1, and < INT64_MIN iff
// x < -2^(63 - shift).
inline int64_t SaturatingShiftLeftRow(int64_t x, int shift) {
  const int64_t limit = INT64_MAX >> shift;
  return x > limit ? INT64_MAX : (x < -limit - 1 ? INT64_MIN : static_cast<int64_t>(static_cast<uint64_t>(x) << shift));
}

// sum = saturate_int64((a << shift_a) + (b << shift_b)), each shift saturating (AddErrors).
// The int64 sum wraps exactly when both terms have one sign and the sum the other; it then
// saturates towards that sign.
OCTET_VECTOR_CLONES
void AddErrorsRow(const int64_t* a, int shift_a, const int64_t* b, int shift_b, int64_t count, int64_t* sum) {
  for (int64_t i = 0; i < count; ++i) {
    const int64_t x = SaturatingShiftLeftRow(a[i], shift_a), y = SaturatingShiftLeftRow(b[i], shift_b);
    const auto wrapped = static_cast<int64_t>(static_cast<uint64_t>(x) + static_cast<uint64_t>(y));
    const bool overflow = ((x ^ wrapped) & (y ^ wrapped)) < 0;
    sum[i] = overflow ? (x < 0 ? INT64_MIN : INT64_MAX) : wrapped;
  }
}

OCTET_VECTOR_CLONES
void WidenRow(const int8_t* v, int64_t count, int64_t* m) {
  for (int64_t i = 0; i < count; ++i) m[i] = v[i];
}


}  // namespace

IntError AddErrors(const IntError& a, const IntError& b) {
  if (a.m.shape != b.m.shape) Fail("error sum: shapes {} and {} differ", ShapeString(a.m.shape), ShapeString(b.m.shape));
  IntError sum{Tensor<int64_t>(a.m.shape), std::min(a.exp, b.exp)};
  const int shift_a = a.exp - sum.exp, shift_b = b.exp - sum.exp;
  if (shift_a <= 62 && shift_b <= 62) {
    const int64_t rows = a.m.size() / kRow;
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row <= rows; ++row) {
      const int64_t i0 = row * kRow;
      AddErrorsRow(a.m.ptr() + i0, shift_a, b.m.ptr() + i0, shift_b, std::min(kRow, a.m.size() - i0), sum.m.ptr() + i0);
    }
    return sum;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < a.m.size(); ++i) {
    const fx::int128 total = static_cast<fx::int128>(fx::SaturatingShiftLeft(a.m[i], a.exp - sum.exp)) +
                             fx::SaturatingShiftLeft(b.m[i], b.exp - sum.exp);
    sum.m[i] = fx::SaturateToInt64(total);
  }
  return sum;
}

IntError ToIntError(const Int8Error& e) {
  IntError out{Tensor<int64_t>(e.v.shape), e.exp};
  const int64_t rows = e.v.size() / kRow;
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row <= rows; ++row) {
    const int64_t i0 = row * kRow;
    WidenRow(e.v.ptr() + i0, std::min(kRow, e.v.size() - i0), out.m.ptr() + i0);
  }
  return out;
}

Tensor<int64_t> QuantLayer::AsResidual(const Tensor<uint8_t>& x) const {
  Tensor<int64_t> r(x.shape);
  ActivationAsResidual(s_, Span(x), Span(r));
  return r;
}

QuantLayer::QuantLayer(QuantLayerConfig config, const Scheme& scheme) : config_(std::move(config)), s_(scheme) {
  const ConvGeometry& g = config_.geometry;
  // Exactness bounds of the integer datapath (docs/numerics.md, "Accumulators").
  if (g.gemm_k() > 8192) Fail("layer {}: reduction length {} exceeds 8192 (x1 must fit 29 bits)", config_.name, g.gemm_k());
  if (g.batch * g.out_height() * g.out_width() > (int64_t{1} << 24))
    Fail("layer {}: {} elements per BN channel exceed 2^24", config_.name, g.batch * g.out_height() * g.out_width());
  if (s_.frac_x3() < s_.frac_A() || s_.frac_x3() < s_.frac_beta())
    Fail("scheme {}: k_gamma + k_BN - 2 must be at least k_A - 1 and k_beta - 1", s_.name);
  w_ = Tensor<int32_t>({g.out_channels, g.in_channels, g.kernel, g.kernel});
  acc_w_ = Tensor<int32_t>(w_.shape);
  gamma_ = Tensor<int32_t>({g.out_channels});
  beta_ = Tensor<int32_t>({g.out_channels});
  acc_gamma_ = Tensor<int32_t>(gamma_.shape);
  acc_beta_ = Tensor<int32_t>(gamma_.shape);
}

void QuantLayer::Initialize(uint64_t seed) {
  InitializeWeights(s_, seed, config_.index, config_.geometry.gemm_k(), w_);
  std::fill(gamma_.data.begin(), gamma_.data.end(), int32_t{1} << s_.frac_WU());  // 1.0
  std::fill(beta_.data.begin(), beta_.data.end(), 0);
  std::fill(acc_w_.data.begin(), acc_w_.data.end(), 0);
  std::fill(acc_gamma_.data.begin(), acc_gamma_.data.end(), 0);
  std::fill(acc_beta_.data.begin(), acc_beta_.data.end(), 0);
}

void QuantLayer::Forward(const Tensor<uint8_t>& x0, const Tensor<int64_t>* residual) {
  const ConvGeometry& g = config_.geometry;
  const Shape out_shape = {g.batch, g.out_channels, g.out_height(), g.out_width()};
  if (x0.size() != g.input_count())
    Fail("layer {}: input has {} elements, expected {}", config_.name, x0.size(), g.input_count());
  x0_ = x0;

  wq_ = QuantizeWeights(s_, w_);  // paper eq. 9

  // x1 = W_q x0, exact (frac_W + frac_A bits).
  ResizeForOverwrite(x1_, out_shape);
  ConvForwardInt(g, x0.ptr(), wq_.ptr(), x1_.ptr(), &x0_lowered_);

  // x2 = Q_BN((x1 - mu_q) / sigma_q).
  const BnShape bn{g.batch, g.out_channels, g.out_height() * g.out_width()};
  mu_q_ = Tensor<int32_t>({g.out_channels});
  sigma_q_ = Tensor<int32_t>({g.out_channels});
  ResizeForOverwrite(x2_, out_shape);
  IntBatchNormForward(s_, bn, x1_.ptr(), mu_q_.ptr(), sigma_q_.ptr(), x2_.ptr());

  // gamma_q = Q(gamma, k_gamma), beta_q = Q(beta, k_beta), saturated to int16.
  QuantizeBnParameters(s_, gamma_, beta_, gamma_q_, beta_q_);

  // x3 = gamma_q * x2 + beta_q (+ residual), exact at frac_x3 = frac_gamma + frac_BN bits;
  // with ReLU, x4 = Q_A(relu(x3)) and the ReLU mask in the same pass.
  ResizeForOverwrite(x3_, out_shape);
  if (residual != nullptr && residual->shape != out_shape)
    Fail("layer {}: residual shape {} differs from output {}", config_.name, ShapeString(residual->shape),
         ShapeString(out_shape));
  if (config_.relu) {
    ResizeForOverwrite(x4_, out_shape);
    ResizeForOverwrite(relu_pass_, out_shape);
  }
  ScaleOffsetActivate(s_, bn, x2_.ptr(), gamma_q_.ptr(), beta_q_.ptr(), residual ? residual->ptr() : nullptr, x3_.ptr(),
                      config_.relu ? x4_.ptr() : nullptr, config_.relu ? relu_pass_.ptr() : nullptr);
}

namespace {

// E1 into an int8 error of the given shape.
template <typename Input>
void QuantizeE1Into(const Scheme& s, const Input& error_span, int error_exp, Int8Error& e0, const Shape& shape) {
  ResizeForOverwrite(e0.v, shape);
  if constexpr (std::is_same_v<Input, std::span<const float>>) {
    e0.exp = QuantizeE1(s, error_span, Span(e0.v));
  } else {
    e0.exp = QuantizeE1(s, error_span, error_exp, Span(e0.v));
  }
}

void MaskInto(const Tensor<uint8_t>& pass, const Int8Error& e0, Int8Error& e1) {
  ResizeForOverwrite(e1.v, e0.v.shape);
  e1.exp = e0.exp;
  ApplyActivationMask(Span(pass), Span(e0.v), Span(e1.v));
}

}  // namespace

const Int8Error& QuantLayer::BackwardFromOutput(const IntError& error, const StepContext& ctx) {
  if (!config_.relu) Fail("layer {}: BackwardFromOutput on a layer without ReLU", config_.name);
  if (error.m.shape != x3_.shape) Fail("layer {}: error shape {} differs from output", config_.name, ShapeString(error.m.shape));
  QuantizeE1Into(s_, Span(error.m), error.exp, e0_, x3_.shape);
  MaskInto(relu_pass_, e0_, e1_);
  Backward(ctx);
  return e1_;
}

const Int8Error& QuantLayer::BackwardFromOutput(const Tensor<float>& error, const StepContext& ctx) {
  if (!config_.relu) Fail("layer {}: BackwardFromOutput on a layer without ReLU", config_.name);
  if (error.size() != x3_.size()) Fail("layer {}: error size {} differs from output", config_.name, error.size());
  QuantizeE1Into(s_, Span(error), 0, e0_, x3_.shape);
  MaskInto(relu_pass_, e0_, e1_);
  Backward(ctx);
  return e1_;
}

void QuantLayer::BackwardFromE1(const Int8Error& e1, const StepContext& ctx) {
  e0_ = Int8Error{};  // a layer without ReLU has no E1 of its own
  e1_ = e1;
  Backward(ctx);
}

void QuantLayer::Backward(const StepContext& ctx) {
  const ConvGeometry& g = config_.geometry;
  const BnShape bn{g.batch, g.out_channels, g.out_height() * g.out_width()};

  // BN backward: e2 = e1 * gamma_q, dx1 = full batch-statistics gradient.
  ResizeForOverwrite(e2_, x3_.shape);
  ResizeForOverwrite(dx1_.m, x3_.shape);
  g_gamma_.m = Tensor<int64_t>({g.out_channels});
  g_beta_.m = Tensor<int64_t>({g.out_channels});
  dx1_.exp = IntBatchNormBackward(s_, bn, e1_.v.ptr(), e1_.exp, gamma_q_.ptr(), x2_.ptr(), sigma_q_.ptr(), e2_.ptr(),
                                  dx1_.m.ptr(), g_gamma_.m.ptr(), g_beta_.m.ptr(), &g_gamma_.exp, &g_beta_.exp);
  e2_exp_ = e1_.exp - s_.frac_gamma();

  // e3 = Q_E2(dx1): the 8-bit flag format or shift quantization.
  ResizeForOverwrite(e3_, x3_.shape);
  if (coverage.enabled) {  // paper Fig. 9: both 8-bit E2 variants on the same dL/dx1
    q::ShiftQuantize(Span(dx1_.m), dx1_.exp, 8, Span(e3_));
    coverage.nonzero_shift8 += std::count_if(e3_.data.begin(), e3_.data.end(), [](int16_t v) { return v != 0; });
    q::FlagQuantize(Span(dx1_.m), dx1_.exp, Span(e3_));
    coverage.nonzero_flag8 += std::count_if(e3_.data.begin(), e3_.data.end(), [](int16_t v) { return v != 0; });
    coverage.total += e3_.size();
  }
  e3_exp_ = QuantizeE2(s_, Span(dx1_.m), dx1_.exp, e3_, e3_words_);

  // e4 = W_q^T e3 (exact), g_W = e3 x0^T (exact).
  if (config_.input_error) {
    ResizeForOverwrite(e4_.m, x0_.shape);
    ConvErrorInt(g, wq_.ptr(), e3_.ptr(), e4_.m.ptr());
    e4_.exp = e3_exp_ - s_.frac_W();
  } else {
    e4_ = IntError{};
  }
  ResizeForOverwrite(g_w_.m, w_.shape);
  ConvWeightGradInt(g, e3_.ptr(), x0_.ptr(), g_w_.m.ptr(), &x0_lowered_);
  g_w_.exp = e3_exp_ - s_.frac_A();

  // Q_GW = CQ (stochastic rounding, counter-based bits); Q_Ggamma, Q_Gbeta = Q(., k_G).
  ResizeForOverwrite(g_w_q_, w_.shape);
  const RandomStream stream{ctx.seed, ctx.step, config_.index, static_cast<uint32_t>(RandomTensorId::kWeightGradient)};
  q::ConstantQuantize(Span(g_w_.m), g_w_.exp, ctx.dr, stream, Span(g_w_q_));
  g_gamma_q_ = QuantizeParameterGradient(s_, g_gamma_.m, g_gamma_.exp);
  g_beta_q_ = QuantizeParameterGradient(s_, g_beta_.m, g_beta_.exp);
}

void QuantLayer::Update(const StepContext& ctx) {
  lr_ = ctx.lr;
  MomentumUpdate(s_, ctx.lr, g_w_q_, MasterWeightBound(s_), w_, acc_w_, acc_w_new_, dw_);
  MomentumUpdate(s_, ctx.lr, g_gamma_q_, kInt32Max, gamma_, acc_gamma_, acc_gamma_new_, dgamma_);
  MomentumUpdate(s_, ctx.lr, g_beta_q_, kInt32Max, beta_, acc_beta_, acc_beta_new_, dbeta_);
}

void QuantLayer::Report(TensorSink& sink) const {
  const std::string p = config_.name + "/";
  const int fa = s_.frac_A(), fgc = s_.frac_GC();
  sink.Put(p + "x0", x0_, fa);
  sink.Put(p + "W_q", wq_, s_.frac_W());
  sink.Put(p + "x1", x1_, s_.frac_x1());
  sink.Put(p + "mu_q", mu_q_, s_.frac_mu());
  sink.Put(p + "sigma_q", sigma_q_, s_.frac_sigma());
  sink.Put(p + "x2", x2_, s_.frac_BN());
  sink.Put(p + "gamma_q", gamma_q_, s_.frac_gamma());
  sink.Put(p + "beta_q", beta_q_, s_.frac_beta());
  sink.Put(p + "x3", x3_, s_.frac_x3());
  if (config_.relu) {
    sink.Put(p + "x4", x4_, fa);
    sink.Put(p + "e0", e0_.v, -e0_.exp);
  }
  sink.Put(p + "e1", e1_.v, -e1_.exp);
  sink.Put(p + "e2", e2_, -e2_exp_);
  sink.Put(p + "dx1", dx1_.m, -dx1_.exp);
  sink.Put(p + "e3", e3_, -e3_exp_);
  // The 9-bit words decode (q::FlagDecode) to e3; same scale.
  if (s_.e2_mode == E2Mode::kFlag) sink.Put(p + "e3_flag", e3_words_, -e3_exp_);
  if (config_.input_error) sink.Put(p + "e4", e4_.m, -e4_.exp);
  sink.Put(p + "g_W", g_w_.m, -g_w_.exp);
  sink.Put(p + "g_W_q", g_w_q_, fgc);
  sink.Put(p + "g_gamma", g_gamma_.m, -g_gamma_.exp);
  sink.Put(p + "g_gamma_q", g_gamma_q_, fgc);
  sink.Put(p + "g_beta", g_beta_.m, -g_beta_.exp);
  sink.Put(p + "g_beta_q", g_beta_q_, fgc);
  sink.Put(p + "Acc_W", acc_w_new_, fgc);
  sink.Put(p + "Acc_gamma", acc_gamma_new_, fgc);
  sink.Put(p + "Acc_beta", acc_beta_new_, fgc);
  sink.Put(p + "lr", Tensor<int32_t>(Shape{}, static_cast<int32_t>(lr_)), s_.frac_lr());
  sink.Put(p + "dW", dw_, s_.frac_WU());
  sink.Put(p + "dgamma", dgamma_, s_.frac_WU());
  sink.Put(p + "dbeta", dbeta_, s_.frac_WU());
}

void QuantLayer::ReportState(TensorSink& sink) const {
  const std::string p = config_.name + "/";
  sink.Put(p + "W", w_, s_.frac_WU());
  sink.Put(p + "gamma", gamma_, s_.frac_WU());
  sink.Put(p + "beta", beta_, s_.frac_WU());
  sink.Put(p + "Acc_q_W", acc_w_, s_.frac_Acc());
  sink.Put(p + "Acc_q_gamma", acc_gamma_, s_.frac_Acc());
  sink.Put(p + "Acc_q_beta", acc_beta_, s_.frac_Acc());
}

void QuantLayer::LoadState(const std::string& tensor, const AnyTensor& value) {
  AssignByName<int32_t>(config_.name, tensor, value,
                        {{"W", &w_}, {"gamma", &gamma_}, {"beta", &beta_}, {"Acc_q_W", &acc_w_},
                         {"Acc_q_gamma", &acc_gamma_}, {"Acc_q_beta", &acc_beta_}});
}

}  // namespace octet
