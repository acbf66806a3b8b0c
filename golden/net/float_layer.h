// The float counterpart of QuantLayer: conv -> BN -> [+ residual] -> [ReLU], with SGD
// momentum. Used for the whole network under the fp32 scheme and for the float first
// layer of the quantized schemes. Same interface shape as QuantLayer so the block and
// network wiring (network.h) is written once for both.
#pragma once

#include <string>

#include "golden/core/conv_geometry.h"
#include "golden/core/named_tensor.h"
#include "golden/core/tensor.h"
#include "golden/kernels/float_layers.h"
#include "golden/net/quant_layer.h"
#include "golden/numerics/scheme.h"

namespace octet {

class FloatLayer {
 public:
  FloatLayer(QuantLayerConfig config, const Scheme& scheme);
  const QuantLayerConfig& config() const { return config_; }

  // Same initial weights as QuantLayer::Initialize with the same seed (before Q(., k_WU)).
  void Initialize(uint64_t seed);

  void Forward(const Tensor<float>& x0, const Tensor<float>* residual);
  void ForwardWithIdentity(const Tensor<float>& x0, const Tensor<float>& identity) { Forward(x0, &identity); }
  const Tensor<float>& x4() const { return x4_; }
  const Tensor<float>& x3() const { return x3_; }

  const Tensor<float>& BackwardFromOutput(const Tensor<float>& error, const StepContext& ctx);
  void BackwardFromE1(const Tensor<float>& e1, const StepContext& ctx);
  const Tensor<float>& e4() const { return e4_; }

  void Update(const StepContext& ctx);

  void Report(TensorSink& sink) const;
  void ReportState(TensorSink& sink) const;
  void LoadState(const std::string& tensor, const AnyTensor& value);

  void SetBatch(int64_t batch) { config_.geometry.batch = batch; }
  Tensor<float> AsResidual(const Tensor<float>& x) const { return x; }

 private:
  void Backward();

  QuantLayerConfig config_;
  const Scheme& s_;
  Tensor<float> w_, gamma_, beta_, v_w_, v_gamma_, v_beta_;
  Tensor<float> x0_, x1_, x3_, x4_;
  fl::BatchNormCache<float> bn_;
  Tensor<float> e1_, dx1_, e4_, g_w_, g_gamma_, g_beta_;
};

// Global average pool + fully connected classifier + softmax cross-entropy, in float.
class FloatHead {
 public:
  FloatHead(std::string name, int64_t channels, int64_t classes);
  void Initialize(uint64_t seed, uint32_t index);
  // x [N][C][H][W] in float. Returns the mean loss; counts correct predictions.
  float Forward(const Tensor<float>& x, const uint16_t* labels, int64_t* correct);
  // Logits of the last Forward ([N][classes]).
  const Tensor<float>& logits() const { return logits_; }
  const Tensor<float>& Backward();  // dL/dx, [N][C][H][W]
  void Update(const StepContext& ctx);
  void Report(TensorSink& sink) const;
  void ReportState(TensorSink& sink) const;
  void LoadState(const std::string& tensor, const AnyTensor& value);

 private:
  std::string name_;
  int64_t channels_, classes_;
  Tensor<float> w_, b_, v_w_, v_b_;
  Shape x_shape_;
  Tensor<float> pooled_, logits_, dlogits_, dpooled_, dx_, g_w_, g_b_;
};

}  // namespace octet
