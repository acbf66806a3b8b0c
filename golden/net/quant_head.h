// The integer classifier (scheme fp32_last = false): global average pool and a fully
// connected layer in integer arithmetic, softmax cross-entropy on the logits in float.
// docs/numerics.md, section 7.1, defines each tensor.
#pragma once

#include <cstdint>
#include <string>

#include "golden/core/named_tensor.h"
#include "golden/core/tensor.h"
#include "golden/net/quant_layer.h"
#include "golden/numerics/scheme.h"

namespace octet {

// Extra fractional bits the average-pool backward keeps when it divides by H*W.
inline constexpr int kPoolBackwardExtraBits = 16;

class QuantHead {
 public:
  QuantHead(std::string name, int64_t channels, int64_t classes, uint32_t index, const Scheme& scheme);
  void Initialize(uint64_t seed);
  // x4 [N][C][H][W] activations of the last block. Returns the mean loss.
  float Forward(const Tensor<uint8_t>& x, const uint16_t* labels, int64_t* correct);
  // dL/dx4 of the last block, [N][C][H][W].
  const IntError& Backward(const StepContext& ctx);
  void Update(const StepContext& ctx);
  void Report(TensorSink& sink) const;
  void ReportState(TensorSink& sink) const;
  void LoadState(const std::string& tensor, const AnyTensor& value);

 private:
  std::string name_;
  int64_t channels_, classes_;
  uint32_t index_;
  const Scheme& s_;
  Tensor<int32_t> w_, b_, acc_w_, acc_b_;  // masters at frac_WU, accumulators at frac_Acc
  Shape x_shape_;
  Tensor<uint8_t> pooled_;
  Tensor<int8_t> wq_;
  Tensor<int16_t> bq_;
  Tensor<int32_t> x1_;  // logits at frac_W + frac_A bits
  Tensor<float> logits_, dlogits_;
  Tensor<int16_t> e3_;
  int e3_exp_ = 0;
  Tensor<uint16_t> e3_words_;
  IntError e4_, g_w_, g_b_, dx_;
  Tensor<int16_t> g_w_q_;
  Tensor<int32_t> g_b_q_, acc_w_new_, acc_b_new_;
  Tensor<int64_t> dw_, db_;
  int64_t lr_ = 0;
};

}  // namespace octet
