#include "golden/net/quant_layer.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <span>

#include "golden/core/copy_into.h"
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
// saturates towards that sign. B is int64 or the int8 of an e1 (widened exactly).
template <typename B>
OCTET_VECTOR_CLONES void AddErrorsRow(const int64_t* a, int shift_a, const B* b, int shift_b, int64_t count,
                                      int64_t* sum) {
  for (int64_t i = 0; i < count; ++i) {
    const int64_t x = SaturatingShiftLeftRow(a[i], shift_a), y = SaturatingShiftLeftRow(int64_t{b[i]}, shift_b);
    const auto wrapped = static_cast<int64_t>(static_cast<uint64_t>(x) + static_cast<uint64_t>(y));
    const bool overflow = ((x ^ wrapped) & (y ^ wrapped)) < 0;
    sum[i] = overflow ? (x < 0 ? INT64_MIN : INT64_MAX) : wrapped;
  }
}

OCTET_VECTOR_CLONES
void WidenRow(const int8_t* v, int64_t count, int64_t* m) {
  for (int64_t i = 0; i < count; ++i) m[i] = v[i];
}

template <typename B>
void AddErrorsImpl(const IntError& a, const Tensor<B>& b_values, int b_exp, IntError& sum) {
  if (a.m.shape != b_values.shape)
    Fail("error sum: shapes {} and {} differ", ShapeString(a.m.shape), ShapeString(b_values.shape));
  ResizeForOverwrite(sum.m, a.m.shape);  // every element written below
  sum.exp = std::min(a.exp, b_exp);
  const int shift_a = a.exp - sum.exp, shift_b = b_exp - sum.exp;
  if (shift_a <= 62 && shift_b <= 62) {
    const int64_t rows = a.m.size() / kRow;
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row <= rows; ++row) {
      const int64_t i0 = row * kRow;
      AddErrorsRow(a.m.ptr() + i0, shift_a, b_values.ptr() + i0, shift_b, std::min(kRow, a.m.size() - i0),
                   sum.m.ptr() + i0);
    }
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < a.m.size(); ++i) {
    const fx::int128 total = static_cast<fx::int128>(fx::SaturatingShiftLeft(a.m[i], a.exp - sum.exp)) +
                             fx::SaturatingShiftLeft(int64_t{b_values[i]}, b_exp - sum.exp);
    sum.m[i] = fx::SaturateToInt64(total);
  }
}

}  // namespace

void AddErrors(const IntError& a, const IntError& b, IntError& sum) { AddErrorsImpl(a, b.m, b.exp, sum); }
void AddErrors(const IntError& a, const Int8Error& b, IntError& sum) { AddErrorsImpl(a, b.v, b.exp, sum); }
IntError AddErrors(const IntError& a, const IntError& b) {
  IntError sum;
  AddErrors(a, b, sum);
  return sum;
}
IntError AddErrors(const IntError& a, const Int8Error& b) {
  IntError sum;
  AddErrors(a, b, sum);
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
  t_.ShapeState(g);
}

void QuantLayer::Initialize(uint64_t seed) {
  InitializeWeights(s_, seed, config_.index, config_.geometry.gemm_k(), t_.w);
  std::fill(t_.gamma.data.begin(), t_.gamma.data.end(), int32_t{1} << s_.frac_WU());  // 1.0
  std::fill(t_.beta.data.begin(), t_.beta.data.end(), 0);
  std::fill(t_.acc_w.data.begin(), t_.acc_w.data.end(), 0);
  std::fill(t_.acc_gamma.data.begin(), t_.acc_gamma.data.end(), 0);
  std::fill(t_.acc_beta.data.begin(), t_.acc_beta.data.end(), 0);
}

void QuantLayer::Forward(const Tensor<uint8_t>& x0, const Tensor<int64_t>* residual) { Forward(x0, residual, nullptr); }

void QuantLayer::ForwardWithIdentity(const Tensor<uint8_t>& x0, const Tensor<uint8_t>& identity) {
  Forward(x0, nullptr, &identity);
}

void QuantLayer::Forward(const Tensor<uint8_t>& x0, const Tensor<int64_t>* residual, const Tensor<uint8_t>* identity) {
  const ConvGeometry& g = config_.geometry;
  const Shape out_shape = {g.batch, g.out_channels, g.out_height(), g.out_width()};
  if (x0.size() != g.input_count())
    Fail("layer {}: input has {} elements, expected {}", config_.name, x0.size(), g.input_count());
  CopyInto(x0, t_.x0);

  t_.wq = QuantizeWeights(s_, t_.w);  // paper eq. 9

  // x1 = W_q x0, exact (frac_W + frac_A bits).
  ResizeForOverwrite(t_.x1, out_shape);
  ConvForwardInt(g, x0.ptr(), t_.wq.ptr(), t_.x1.ptr(), &x0_channels_last_);

  // x2 = Q_BN((x1 - mu_q) / sigma_q).
  const BnShape bn{g.batch, g.out_channels, g.out_height() * g.out_width()};
  t_.mu_q = Tensor<int32_t>({g.out_channels});
  t_.sigma_q = Tensor<int32_t>({g.out_channels});
  ResizeForOverwrite(t_.x2, out_shape);
  IntBatchNormForward(s_, bn, t_.x1.ptr(), t_.mu_q.ptr(), t_.sigma_q.ptr(), t_.x2.ptr());

  // gamma_q = Q(gamma, k_gamma), beta_q = Q(beta, k_beta), saturated to int16.
  QuantizeBnParameters(s_, t_.gamma, t_.beta, t_.gamma_q, t_.beta_q);

  // x3 = gamma_q * x2 + beta_q (+ residual), exact at frac_x3 = frac_gamma + frac_BN bits;
  // with ReLU, x4 = Q_A(relu(x3)) and the ReLU mask in the same pass.
  ResizeForOverwrite(t_.x3, out_shape);
  if (residual != nullptr && residual->shape != out_shape)
    Fail("layer {}: residual shape {} differs from output {}", config_.name, ShapeString(residual->shape),
         ShapeString(out_shape));
  if (identity != nullptr && identity->shape != out_shape)
    Fail("layer {}: residual shape {} differs from output {}", config_.name, ShapeString(identity->shape),
         ShapeString(out_shape));
  if (config_.relu) {
    ResizeForOverwrite(t_.x4, out_shape);
    ResizeForOverwrite(t_.relu_pass, out_shape);
  }
  ScaleOffsetActivate(s_, bn, t_.x2.ptr(), t_.gamma_q.ptr(), t_.beta_q.ptr(), residual ? residual->ptr() : nullptr, t_.x3.ptr(),
                      config_.relu ? t_.x4.ptr() : nullptr, config_.relu ? t_.relu_pass.ptr() : nullptr,
                      identity ? identity->ptr() : nullptr);
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
  if (error.m.shape != t_.x3.shape) Fail("layer {}: error shape {} differs from output", config_.name, ShapeString(error.m.shape));
  QuantizeE1Into(s_, Span(error.m), error.exp, t_.e0, t_.x3.shape);
  MaskInto(t_.relu_pass, t_.e0, t_.e1);
  Backward(ctx);
  return t_.e1;
}

const Int8Error& QuantLayer::BackwardFromOutput(const Tensor<float>& error, const StepContext& ctx) {
  if (!config_.relu) Fail("layer {}: BackwardFromOutput on a layer without ReLU", config_.name);
  if (error.size() != t_.x3.size()) Fail("layer {}: error size {} differs from output", config_.name, error.size());
  QuantizeE1Into(s_, Span(error), 0, t_.e0, t_.x3.shape);
  MaskInto(t_.relu_pass, t_.e0, t_.e1);
  Backward(ctx);
  return t_.e1;
}

void QuantLayer::BackwardFromE1(const Int8Error& e1, const StepContext& ctx) {
  t_.e0 = Int8Error{};  // a layer without ReLU has no E1 of its own
  CopyInto(e1.v, t_.e1.v);
  t_.e1.exp = e1.exp;
  Backward(ctx);
}

void QuantLayer::Backward(const StepContext& ctx) {
  const ConvGeometry& g = config_.geometry;
  const BnShape bn{g.batch, g.out_channels, g.out_height() * g.out_width()};

  // BN backward: e2 = e1 * gamma_q, dx1 = full batch-statistics gradient.
  ResizeForOverwrite(t_.e2, t_.x3.shape);
  ResizeForOverwrite(t_.dx1.m, t_.x3.shape);
  t_.g_gamma.m = Tensor<int64_t>({g.out_channels});
  t_.g_beta.m = Tensor<int64_t>({g.out_channels});
  uint64_t max_dx1 = 0;  // max |dx1|, for E2's R
  t_.dx1.exp = IntBatchNormBackward(s_, bn, t_.e1.v.ptr(), t_.e1.exp, t_.gamma_q.ptr(), t_.x2.ptr(), t_.sigma_q.ptr(), t_.e2.ptr(),
                                  t_.dx1.m.ptr(), t_.g_gamma.m.ptr(), t_.g_beta.m.ptr(), &t_.g_gamma.exp, &t_.g_beta.exp,
                                  &max_dx1);
  t_.e2_exp = t_.e1.exp - s_.frac_gamma();

  // e3 = Q_E2(dx1): the 8-bit flag format or shift quantization.
  ResizeForOverwrite(t_.e3, t_.x3.shape);
  if (coverage.enabled) {  // paper Fig. 9: both 8-bit E2 variants on the same dL/dx1
    q::ShiftQuantize(Span(t_.dx1.m), t_.dx1.exp, 8, Span(t_.e3));
    coverage.nonzero_shift8 += std::count_if(t_.e3.data.begin(), t_.e3.data.end(), [](int16_t v) { return v != 0; });
    q::FlagQuantize(Span(t_.dx1.m), t_.dx1.exp, Span(t_.e3));
    coverage.nonzero_flag8 += std::count_if(t_.e3.data.begin(), t_.e3.data.end(), [](int16_t v) { return v != 0; });
    coverage.total += t_.e3.size();
  }
  t_.e3_exp = QuantizeE2(s_, Span(t_.dx1.m), t_.dx1.exp, max_dx1, t_.e3, t_.e3_words);

  // e4 = W_q^T e3 (exact), g_W = e3 x0^T (exact).
  if (config_.input_error) {
    ResizeForOverwrite(t_.e4.m, t_.x0.shape);
    ConvErrorInt(g, t_.wq.ptr(), t_.e3.ptr(), t_.e4.m.ptr());
    t_.e4.exp = t_.e3_exp - s_.frac_W();
  } else {
    t_.e4 = IntError{};
  }
  ResizeForOverwrite(t_.g_w.m, t_.w.shape);
  ConvWeightGradInt(g, t_.e3.ptr(), t_.x0.ptr(), t_.g_w.m.ptr(), &x0_channels_last_);
  t_.g_w.exp = t_.e3_exp - s_.frac_A();

  // Q_GW = CQ (stochastic rounding, counter-based bits); Q_Ggamma, Q_Gbeta = Q(., k_G).
  ResizeForOverwrite(t_.g_w_q, t_.w.shape);
  const RandomStream stream{ctx.seed, ctx.step, config_.index, static_cast<uint32_t>(RandomTensorId::kWeightGradient)};
  q::ConstantQuantize(Span(t_.g_w.m), t_.g_w.exp, ctx.dr, stream, Span(t_.g_w_q));
  t_.g_gamma_q = QuantizeParameterGradient(s_, t_.g_gamma.m, t_.g_gamma.exp);
  t_.g_beta_q = QuantizeParameterGradient(s_, t_.g_beta.m, t_.g_beta.exp);
}

void QuantLayer::Update(const StepContext& ctx) {
  t_.lr = ctx.lr;
  MomentumUpdate(s_, ctx.lr, t_.g_w_q, MasterWeightBound(s_), t_.w, t_.acc_w, t_.acc_w_new, t_.dw);
  MomentumUpdate(s_, ctx.lr, t_.g_gamma_q, kInt32Max, t_.gamma, t_.acc_gamma, t_.acc_gamma_new, t_.dgamma);
  MomentumUpdate(s_, ctx.lr, t_.g_beta_q, kInt32Max, t_.beta, t_.acc_beta, t_.acc_beta_new, t_.dbeta);
}

void QuantLayer::Report(TensorSink& sink) const {
  t_.Report(sink, config_.name, s_, config_.relu, config_.input_error);
}

void QuantLayer::ReportState(TensorSink& sink) const { t_.ReportState(sink, config_.name, s_); }

void QuantLayer::LoadState(const std::string& tensor, const AnyTensor& value) {
  t_.LoadState(config_.name, tensor, value);
}

}  // namespace octet
