#include "golden/net/float_layer.h"

#include <cmath>

#include "golden/core/error.h"
#include "golden/numerics/init.h"

namespace octet {
namespace {

void SgdMomentum(const StepContext& ctx, const Tensor<float>& grad, Tensor<float>& velocity, Tensor<float>& param) {
  for (int64_t i = 0; i < param.size(); ++i) {
    velocity[i] = ctx.float_momentum * velocity[i] + grad[i];
    param[i] -= ctx.float_lr * velocity[i];
  }
}

void InitNormal(Tensor<float>& w, int64_t fan_in, uint64_t seed, uint32_t index) {
  const double stddev = 1.0 / std::sqrt(static_cast<double>(fan_in));
  const uint64_t prefix = RandomStream{seed, 0, index, static_cast<uint32_t>(InitStreamId::kWeights)}.Prefix();
  for (int64_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(stddev * TruncatedStandardNormal(prefix, i));
}

}  // namespace

FloatLayer::FloatLayer(QuantLayerConfig config, const Scheme& scheme) : config_(std::move(config)), s_(scheme) {
  const ConvGeometry& g = config_.geometry;
  w_ = Tensor<float>({g.out_channels, g.in_channels, g.kernel, g.kernel});
  gamma_ = Tensor<float>({g.out_channels});
  beta_ = Tensor<float>({g.out_channels});
  v_w_ = Tensor<float>(w_.shape);
  v_gamma_ = Tensor<float>(gamma_.shape);
  v_beta_ = Tensor<float>(beta_.shape);
}

void FloatLayer::Initialize(uint64_t seed) {
  InitNormal(w_, config_.geometry.gemm_k(), seed, config_.index);
  std::fill(gamma_.data.begin(), gamma_.data.end(), 1.0f);
  std::fill(beta_.data.begin(), beta_.data.end(), 0.0f);
  for (auto* v : {&v_w_, &v_gamma_, &v_beta_}) std::fill(v->data.begin(), v->data.end(), 0.0f);
}

void FloatLayer::Forward(const Tensor<float>& x0, const Tensor<float>* residual) {
  const ConvGeometry& g = config_.geometry;
  const Shape out_shape = {g.batch, g.out_channels, g.out_height(), g.out_width()};
  if (x0.size() != g.input_count())
    Fail("layer {}: input has {} elements, expected {}", config_.name, x0.size(), g.input_count());
  x0_ = x0;
  ResizeForOverwrite(x1_, out_shape);  // every element written below
  fl::Conv2dForward(g, x0.ptr(), w_.ptr(), x1_.ptr());
  ResizeForOverwrite(x3_, out_shape);
  fl::BatchNormForward<float>(g.batch, g.out_channels, g.out_height() * g.out_width(), x1_.ptr(), gamma_.ptr(),
                              beta_.ptr(), static_cast<float>(s_.float_bn_eps), x3_.ptr(), bn_);
  if (residual != nullptr) {
    if (residual->shape != out_shape) Fail("layer {}: residual shape differs from output", config_.name);
    for (int64_t i = 0; i < x3_.size(); ++i) x3_[i] += (*residual)[i];
  }
  if (config_.relu) {
    ResizeForOverwrite(x4_, out_shape);
    fl::ReluForward(x3_.size(), x3_.ptr(), x4_.ptr());
  }
}

const Tensor<float>& FloatLayer::BackwardFromOutput(const Tensor<float>& error, const StepContext&) {
  if (error.size() != x3_.size()) Fail("layer {}: error size {} differs from output", config_.name, error.size());
  ResizeForOverwrite(e1_, x3_.shape);
  fl::ReluBackward(x3_.size(), x3_.ptr(), error.ptr(), e1_.ptr());
  Backward();
  return e1_;
}

void FloatLayer::BackwardFromE1(const Tensor<float>& e1, const StepContext&) {
  e1_ = e1;
  Backward();
}

void FloatLayer::Backward() {
  const ConvGeometry& g = config_.geometry;
  ResizeForOverwrite(dx1_, x3_.shape);
  ResizeForOverwrite(g_gamma_, gamma_.shape);
  ResizeForOverwrite(g_beta_, beta_.shape);
  fl::BatchNormBackward<float>(g.batch, g.out_channels, g.out_height() * g.out_width(), e1_.ptr(), gamma_.ptr(), bn_,
                               dx1_.ptr(), g_gamma_.ptr(), g_beta_.ptr());
  ResizeForOverwrite(g_w_, w_.shape);
  if (config_.input_error) {
    ResizeForOverwrite(e4_, x0_.shape);  // Col2Im zeroes each image first
    fl::Conv2dBackward(g, x0_.ptr(), w_.ptr(), dx1_.ptr(), e4_.ptr(), g_w_.ptr());
  } else {
    e4_ = Tensor<float>();
    fl::Conv2dBackward<float>(g, x0_.ptr(), w_.ptr(), dx1_.ptr(), nullptr, g_w_.ptr());
  }
}

void FloatLayer::Update(const StepContext& ctx) {
  SgdMomentum(ctx, g_w_, v_w_, w_);
  SgdMomentum(ctx, g_gamma_, v_gamma_, gamma_);
  SgdMomentum(ctx, g_beta_, v_beta_, beta_);
}

void FloatLayer::Report(TensorSink& sink) const {
  const std::string p = config_.name + "/";
  sink.Put(p + "x0", x0_, 0);
  sink.Put(p + "x1", x1_, 0);
  sink.Put(p + "x3", x3_, 0);
  if (config_.relu) sink.Put(p + "x4", x4_, 0);
  sink.Put(p + "e1", e1_, 0);
  sink.Put(p + "dx1", dx1_, 0);
  if (config_.input_error) sink.Put(p + "e4", e4_, 0);
  sink.Put(p + "g_W", g_w_, 0);
  sink.Put(p + "g_gamma", g_gamma_, 0);
  sink.Put(p + "g_beta", g_beta_, 0);
}

void FloatLayer::ReportState(TensorSink& sink) const {
  const std::string p = config_.name + "/";
  sink.Put(p + "W", w_, 0);
  sink.Put(p + "gamma", gamma_, 0);
  sink.Put(p + "beta", beta_, 0);
  sink.Put(p + "V_W", v_w_, 0);
  sink.Put(p + "V_gamma", v_gamma_, 0);
  sink.Put(p + "V_beta", v_beta_, 0);
}

void FloatLayer::LoadState(const std::string& tensor, const AnyTensor& value) {
  AssignByName<float>(config_.name, tensor, value,
                      {{"W", &w_}, {"gamma", &gamma_}, {"beta", &beta_}, {"V_W", &v_w_}, {"V_gamma", &v_gamma_},
                       {"V_beta", &v_beta_}});
}

FloatHead::FloatHead(std::string name, int64_t channels, int64_t classes)
    : name_(std::move(name)), channels_(channels), classes_(classes) {
  w_ = Tensor<float>({classes, channels});
  b_ = Tensor<float>({classes});
  v_w_ = Tensor<float>(w_.shape);
  v_b_ = Tensor<float>(b_.shape);
}

void FloatHead::Initialize(uint64_t seed, uint32_t index) {
  InitNormal(w_, channels_, seed, index);
  for (auto* t : {&b_, &v_w_, &v_b_}) std::fill(t->data.begin(), t->data.end(), 0.0f);
}

float FloatHead::Forward(const Tensor<float>& x, const uint16_t* labels, int64_t* correct) {
  const int64_t n = x.dim(0), hw = x.dim(2) * x.dim(3);
  if (x.dim(1) != channels_) Fail("{}: input has {} channels, expected {}", name_, x.dim(1), channels_);
  x_shape_ = x.shape;
  pooled_ = Tensor<float>({n, channels_});
  fl::GlobalAvgPoolForward(n, channels_, hw, x.ptr(), pooled_.ptr());
  logits_ = Tensor<float>({n, classes_});
  fl::LinearForward(n, channels_, classes_, pooled_.ptr(), w_.ptr(), b_.ptr(), logits_.ptr());
  dlogits_ = Tensor<float>(logits_.shape);
  return fl::SoftmaxCrossEntropy(n, classes_, logits_.ptr(), labels, dlogits_.ptr(), correct);
}

const Tensor<float>& FloatHead::Backward() {
  const int64_t n = x_shape_[0], hw = x_shape_[2] * x_shape_[3];
  dpooled_ = Tensor<float>(pooled_.shape);
  g_w_ = Tensor<float>(w_.shape);
  g_b_ = Tensor<float>(b_.shape);
  fl::LinearBackward(n, channels_, classes_, pooled_.ptr(), w_.ptr(), dlogits_.ptr(), dpooled_.ptr(), g_w_.ptr(),
                     g_b_.ptr());
  ResizeForOverwrite(dx_, x_shape_);  // every element written below
  fl::GlobalAvgPoolBackward(n, channels_, hw, dpooled_.ptr(), dx_.ptr());
  return dx_;
}

void FloatHead::Update(const StepContext& ctx) {
  SgdMomentum(ctx, g_w_, v_w_, w_);
  SgdMomentum(ctx, g_b_, v_b_, b_);
}

void FloatHead::Report(TensorSink& sink) const {
  sink.Put(name_ + "/pooled", pooled_, 0);
  sink.Put(name_ + "/logits", logits_, 0);
  sink.Put(name_ + "/dlogits", dlogits_, 0);
  sink.Put(name_ + "/dx", dx_, 0);
}

void FloatHead::ReportState(TensorSink& sink) const {
  sink.Put(name_ + "/W", w_, 0);
  sink.Put(name_ + "/b", b_, 0);
  sink.Put(name_ + "/V_W", v_w_, 0);
  sink.Put(name_ + "/V_b", v_b_, 0);
}

void FloatHead::LoadState(const std::string& tensor, const AnyTensor& value) {
  AssignByName<float>(name_, tensor, value, {{"W", &w_}, {"b", &b_}, {"V_W", &v_w_}, {"V_b", &v_b_}});
}

}  // namespace octet
