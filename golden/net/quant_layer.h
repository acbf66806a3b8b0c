// One quantized layer of WAGEUBN (paper Fig. 1, 2, 5): conv -> BN -> [+ residual] ->
// [ReLU -> Q_A], its backward pass (E1, ReLU mask, BN backward, E2, error GEMM,
// weight-gradient GEMM, CQ, BN parameter gradients) and its momentum update. All
// arithmetic is integer; docs/numerics.md names each tensor's container and rounding.
#pragma once

#include <cstdint>
#include <string>

#include "golden/core/conv_geometry.h"
#include "golden/core/named_tensor.h"
#include "golden/core/tensor.h"
#include "golden/kernels/int_gemm.h"
#include "golden/numerics/scheme.h"

namespace octet {

// An error tensor of the integer datapath: value of element i = m[i] * 2^exp.
struct IntError {
  Tensor<int64_t> m;
  int exp = 0;
};

// An int8 error after E1 (e0, e1): value = v[i] * 2^exp.
struct Int8Error {
  Tensor<int8_t> v;
  int exp = 0;
};

// a + b exactly, aligned to the finer exponent (left shifts and the sum saturate to
// int64; docs/numerics.md, "Error sums").
IntError AddErrors(const IntError& a, const IntError& b);
IntError ToIntError(const Int8Error& e);

struct QuantLayerConfig {
  std::string name;  // e.g. "block2.conv1"
  ConvGeometry geometry;
  bool relu = true;               // false for the shortcut conv and a block's second conv before the add
  bool input_error = true;        // compute e4 (false for the first layer of the network)
  uint32_t index = 0;             // layer index in the network (random stream id)
};

// Step-wide inputs of the update: quantized learning rate and CQ range for this step.
struct StepContext {
  uint64_t seed = 0;
  uint64_t step = 0;
  int64_t lr = 0;  // integer layers: learning rate at frac_lr bits
  int dr = 128;    // integer layers: CQ range
  float float_lr = 0;        // float layers: SGD learning rate
  float float_momentum = 0;  // float layers: SGD momentum
};

// Per-layer count of e3 elements kept non-zero by the plain 8-bit E2 (SQ(., 8)) and by
// the 8-bit Flag QE2 on the same dL/dx1 (paper Fig. 9). Collected when enabled.
struct E3Coverage {
  bool enabled = false;
  int64_t total = 0, nonzero_shift8 = 0, nonzero_flag8 = 0;
};

class QuantLayer {
 public:
  QuantLayer(QuantLayerConfig config, const Scheme& scheme);

  const QuantLayerConfig& config() const { return config_; }

  // Parameter initialisation (paper eq. 8): W' from a truncated normal with stddev
  // 1/sqrt(fan_in), W = clip(Q(W', k_WU), +-(1 - 2^-(k_WU-1))); gamma = 1, beta = 0.
  void Initialize(uint64_t seed);

  // Forward. residual, if given, is added to x3 (same shape, frac_x3 bits).
  void Forward(const Tensor<uint8_t>& x0, const Tensor<int64_t>* residual);
  const Tensor<uint8_t>& x4() const { return x4_; }
  const Tensor<int64_t>& x3() const { return x3_; }

  // Backward from dL/dx4 (layers with ReLU): e0 = E1(error), e1 = e0 * ReLU mask.
  const Int8Error& BackwardFromOutput(const IntError& error, const StepContext& ctx);
  const Int8Error& BackwardFromOutput(const Tensor<float>& error, const StepContext& ctx);
  // Backward from e1 directly (layers without ReLU share the e1 of the add they feed).
  void BackwardFromE1(const Int8Error& e1, const StepContext& ctx);
  const IntError& e4() const { return e4_; }

  // Momentum and weight update of W, gamma, beta (paper eq. 19-22).
  void Update(const StepContext& ctx);

  // Reports every named tensor of the last step to sink as "<name>/<tensor>".
  void Report(TensorSink& sink) const;
  // Parameters and optimizer state ("<name>/W", "<name>/Acc_W", ...), for checkpoints and
  // the before/after state of a trace. Load replaces them (shapes must match).
  void ReportState(TensorSink& sink) const;
  void LoadState(const std::string& tensor, const AnyTensor& value);

  int64_t weight_count() const { return config_.geometry.weight_count(); }
  void SetBatch(int64_t batch) { config_.geometry.batch = batch; }
  // The block input x (activation at frac_A bits) as a residual at frac_x3 bits.
  Tensor<int64_t> AsResidual(const Tensor<uint8_t>& x) const;

  E3Coverage coverage;

 private:
  void Backward(const StepContext& ctx);

  QuantLayerConfig config_;
  const Scheme& s_;

  // State: master copies at frac_WU bits, momentum accumulators at frac_Acc bits.
  Tensor<int32_t> w_, gamma_, beta_;
  Tensor<int32_t> acc_w_, acc_gamma_, acc_beta_;

  // Forward tensors of the last step.
  Tensor<uint8_t> x0_;
  LoweredInput x0_lowered_;  // im2col of x0, reused by the weight gradient
  Tensor<int8_t> wq_;
  Tensor<int32_t> x1_, mu_q_, sigma_q_, x2_;
  Tensor<int16_t> gamma_q_, beta_q_;
  Tensor<int64_t> x3_;
  Tensor<uint8_t> x4_;
  Tensor<uint8_t> relu_pass_;  // dx4/dx3 (0 or 1), recorded with x4
  // Backward tensors of the last step.
  Int8Error e0_, e1_;
  Tensor<int32_t> e2_;
  int e2_exp_ = 0;
  IntError dx1_;
  Tensor<int16_t> e3_;
  int e3_exp_ = 0;
  Tensor<uint16_t> e3_words_;  // flag mode only
  IntError e4_;
  IntError g_w_, g_gamma_, g_beta_;
  Tensor<int16_t> g_w_q_;
  Tensor<int32_t> g_gamma_q_, g_beta_q_;
  // Update tensors of the last step.
  Tensor<int32_t> acc_w_new_, acc_gamma_new_, acc_beta_new_;  // Acc before Q_Acc, frac_GC bits
  Tensor<int64_t> dw_, dgamma_, dbeta_;                       // lr * Acc, frac_WU bits
  int64_t lr_ = 0;
};

}  // namespace octet
