#include "golden/net/quant_head.h"

#include <cmath>

#include "golden/core/error.h"
#include "golden/kernels/float_layers.h"
#include "golden/kernels/int_gemm.h"
#include "golden/net/quant_ops.h"
#include "golden/numerics/fixed_point.h"
#include "golden/numerics/quantizers.h"

namespace octet {

QuantHead::QuantHead(std::string name, int64_t channels, int64_t classes, uint32_t index, const Scheme& scheme)
    : name_(std::move(name)), channels_(channels), classes_(classes), index_(index), s_(scheme) {
  w_ = Tensor<int32_t>({classes, channels});
  b_ = Tensor<int32_t>({classes});
  acc_w_ = Tensor<int32_t>(w_.shape);
  acc_b_ = Tensor<int32_t>(b_.shape);
}

void QuantHead::Initialize(uint64_t seed) {
  InitializeWeights(s_, seed, index_, channels_, w_);
  for (auto* t : {&b_, &acc_w_, &acc_b_}) std::fill(t->data.begin(), t->data.end(), 0);
}

float QuantHead::Forward(const Tensor<uint8_t>& x, const uint16_t* labels, int64_t* correct) {
  const int64_t n = x.dim(0), hw = x.dim(2) * x.dim(3);
  if (x.dim(1) != channels_) Fail("{}: input has {} channels, expected {}", name_, x.dim(1), channels_);
  x_shape_ = x.shape;
  // Average pool: Q_A(mean) = RHE(sum / (H W)) at frac_A bits, exact integer division.
  pooled_ = Tensor<uint8_t>({n, channels_, 1, 1});
  for (int64_t nc = 0; nc < n * channels_; ++nc) {
    int64_t sum = 0;
    for (int64_t i = 0; i < hw; ++i) sum += x[nc * hw + i];
    pooled_[nc] = static_cast<uint8_t>(fx::RoundHalfEvenDivide(sum, hw));
  }
  // Logits x1 = W_q pooled + b_q at frac_W + frac_A bits (b_q = Q(b, k_beta), aligned).
  wq_ = QuantizeWeights(s_, w_);
  bq_ = Tensor<int16_t>({classes_});
  const ConvGeometry g{n, channels_, 1, 1, classes_, 1, 1, 0};
  x1_ = Tensor<int32_t>({n, classes_});
  ConvForwardInt(g, pooled_.ptr(), wq_.ptr(), x1_.ptr());
  const int bias_shift = s_.frac_x1() - s_.frac_beta();
  for (int64_t c = 0; c < classes_; ++c) {
    bq_[c] = static_cast<int16_t>(fx::SaturateSigned(RequantizeMaster(s_, b_[c], s_.frac_beta()), 16));
  }
  logits_ = Tensor<float>({n, classes_});
  for (int64_t i = 0; i < x1_.size(); ++i) {
    // |W_q pooled| < C * 2^15 and |b_q| 2^bias_shift < 2^22: int32 holds the sum exactly.
    x1_[i] += static_cast<int32_t>(int64_t{bq_[i % classes_]} << bias_shift);
    logits_[i] = static_cast<float>(std::ldexp(static_cast<double>(x1_[i]), -s_.frac_x1()));  // nearest float
  }
  dlogits_ = Tensor<float>(logits_.shape);
  return fl::SoftmaxCrossEntropy(n, classes_, logits_.ptr(), labels, dlogits_.ptr(), correct);
}

const IntError& QuantHead::Backward(const StepContext& ctx) {
  const int64_t n = x_shape_[0], hw = x_shape_[2] * x_shape_[3];
  const ConvGeometry g{n, channels_, 1, 1, classes_, 1, 1, 0};
  // e3 = Q_E2(dL/dlogits): the classifier has no BN, so E2 quantizes the loss gradient.
  e3_ = Tensor<int16_t>(logits_.shape);
  e3_exp_ = QuantizeE2(s_, Span(dlogits_), e3_, e3_words_);
  e4_.m = Tensor<int64_t>({n, channels_, 1, 1});
  ConvErrorInt(g, wq_.ptr(), e3_.ptr(), e4_.m.ptr());
  e4_.exp = e3_exp_ - s_.frac_W();
  g_w_.m = Tensor<int64_t>(w_.shape);
  ConvWeightGradInt(g, e3_.ptr(), pooled_.ptr(), g_w_.m.ptr());
  g_w_.exp = e3_exp_ - s_.frac_A();
  g_w_q_ = Tensor<int16_t>(w_.shape);
  const RandomStream stream{ctx.seed, ctx.step, index_, static_cast<uint32_t>(RandomTensorId::kWeightGradient)};
  q::ConstantQuantize(Span(g_w_.m), g_w_.exp, ctx.dr, stream, Span(g_w_q_));
  g_b_.m = Tensor<int64_t>({classes_});
  for (int64_t i = 0; i < e3_.size(); ++i) g_b_.m[i % classes_] += e3_[i];
  g_b_.exp = e3_exp_;
  g_b_q_ = QuantizeParameterGradient(s_, g_b_.m, g_b_.exp);
  // Average-pool backward: dL/dx = e4 / (H W), rounded once (RHE) with
  // kPoolBackwardExtraBits more fractional bits than e4.
  dx_.m = Tensor<int64_t>(x_shape_);
  dx_.exp = e4_.exp - kPoolBackwardExtraBits;
  for (int64_t nc = 0; nc < n * channels_; ++nc) {
    const int64_t v = fx::SaturateToInt64(
        fx::RoundHalfEvenDivide(static_cast<fx::int128>(e4_.m[nc]) << kPoolBackwardExtraBits, hw));
    std::fill_n(dx_.m.ptr() + nc * hw, hw, v);
  }
  return dx_;
}

void QuantHead::Update(const StepContext& ctx) {
  lr_ = ctx.lr;
  MomentumUpdate(s_, ctx.lr, g_w_q_, MasterWeightBound(s_), w_, acc_w_, acc_w_new_, dw_);
  MomentumUpdate(s_, ctx.lr, g_b_q_, kInt32Max, b_, acc_b_, acc_b_new_, db_);
}

void QuantHead::Report(TensorSink& sink) const {
  const std::string p = name_ + "/";
  const int fgc = s_.frac_GC();
  sink.Put(p + "x0", pooled_, s_.frac_A());
  sink.Put(p + "W_q", wq_, s_.frac_W());
  sink.Put(p + "b_q", bq_, s_.frac_beta());
  sink.Put(p + "x1", x1_, s_.frac_x1());
  sink.Put(p + "logits", logits_, 0);
  sink.Put(p + "dlogits", dlogits_, 0);
  sink.Put(p + "e3", e3_, -e3_exp_);
  if (s_.e2_mode == E2Mode::kFlag) sink.Put(p + "e3_flag", e3_words_, -e3_exp_);
  sink.Put(p + "e4", e4_.m, -e4_.exp);
  sink.Put(p + "g_W", g_w_.m, -g_w_.exp);
  sink.Put(p + "g_W_q", g_w_q_, fgc);
  sink.Put(p + "g_b", g_b_.m, -g_b_.exp);
  sink.Put(p + "g_b_q", g_b_q_, fgc);
  sink.Put(p + "Acc_W", acc_w_new_, fgc);
  sink.Put(p + "Acc_b", acc_b_new_, fgc);
  sink.Put(p + "lr", Tensor<int32_t>(Shape{}, static_cast<int32_t>(lr_)), s_.frac_lr());
  sink.Put(p + "dW", dw_, s_.frac_WU());
  sink.Put(p + "db", db_, s_.frac_WU());
  sink.Put(p + "dx", dx_.m, -dx_.exp);
}

void QuantHead::ReportState(TensorSink& sink) const {
  const std::string p = name_ + "/";
  sink.Put(p + "W", w_, s_.frac_WU());
  sink.Put(p + "b", b_, s_.frac_WU());
  sink.Put(p + "Acc_q_W", acc_w_, s_.frac_Acc());
  sink.Put(p + "Acc_q_b", acc_b_, s_.frac_Acc());
}

void QuantHead::LoadState(const std::string& tensor, const AnyTensor& value) {
  AssignByName<int32_t>(name_, tensor, value, {{"W", &w_}, {"b", &b_}, {"Acc_q_W", &acc_w_}, {"Acc_q_b", &acc_b_}});
}

}  // namespace octet
