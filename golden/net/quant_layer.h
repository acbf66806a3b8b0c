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
#include "golden/net/int_error.h"
#include "golden/net/quant_layer_tensors.h"
#include "golden/numerics/scheme.h"

namespace octet {

// a + b exactly, aligned to the finer exponent (left shifts and the sum saturate to
// int64; docs/numerics.md, "Error sums").
IntError AddErrors(const IntError& a, const IntError& b);
IntError AddErrors(const IntError& a, const Int8Error& b);  // b widened exactly, no int64 copy
// The same into sum's storage (kept by the caller from step to step).
void AddErrors(const IntError& a, const IntError& b, IntError& sum);
void AddErrors(const IntError& a, const Int8Error& b, IntError& sum);
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
  // Forward with an identity shortcut: identity (the block input, frac_A bits) is added to
  // x3 as AsResidual(identity) would be, without the int64 copy.
  void ForwardWithIdentity(const Tensor<uint8_t>& x0, const Tensor<uint8_t>& identity);
  const Tensor<uint8_t>& x4() const { return t_.x4; }
  const Tensor<int64_t>& x3() const { return t_.x3; }

  // Backward from dL/dx4 (layers with ReLU): e0 = E1(error), e1 = e0 * ReLU mask.
  const Int8Error& BackwardFromOutput(const IntError& error, const StepContext& ctx);
  const Int8Error& BackwardFromOutput(const Tensor<float>& error, const StepContext& ctx);
  // Backward from e1 directly (layers without ReLU share the e1 of the add they feed).
  void BackwardFromE1(const Int8Error& e1, const StepContext& ctx);
  const IntError& e4() const { return t_.e4; }

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
  void Forward(const Tensor<uint8_t>& x0, const Tensor<int64_t>* residual, const Tensor<uint8_t>* identity);

  QuantLayerConfig config_;
  const Scheme& s_;
  // Parameters, optimizer state and every named tensor of the last step.
  QuantLayerTensors t_;
  ChannelsLastInput x0_channels_last_;  // channels-last x0, reused by the weight gradient
};

}  // namespace octet
