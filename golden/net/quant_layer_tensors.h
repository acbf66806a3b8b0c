// Every named tensor of one quantized layer's training step (docs/numerics.md, section
// "Tensors of a layer"), with the names and fractional bits under which a trace records
// them. The golden QuantLayer and the SystemC model's controller both fill one of these,
// so both report exactly the same set of tensors.
#pragma once

#include <cstdint>
#include <string>

#include "golden/core/conv_geometry.h"
#include "golden/core/named_tensor.h"
#include "golden/core/tensor.h"
#include "golden/net/int_error.h"
#include "golden/numerics/scheme.h"

namespace octet {

struct QuantLayerTensors {
  // State: master copies at frac_WU bits, momentum accumulators at frac_Acc bits.
  Tensor<int32_t> w, gamma, beta;
  Tensor<int32_t> acc_w, acc_gamma, acc_beta;
  // Forward.
  Tensor<uint8_t> x0;
  Tensor<int8_t> wq;
  Tensor<int32_t> x1, mu_q, sigma_q, x2;
  Tensor<int16_t> gamma_q, beta_q;
  Tensor<int64_t> x3;
  Tensor<uint8_t> x4;
  Tensor<uint8_t> relu_pass;  // dx4/dx3 (0 or 1), recorded with x4
  // Backward; a tensor's value is m[i] * 2^exp.
  Int8Error e0, e1;
  Tensor<int32_t> e2;
  int e2_exp = 0;
  IntError dx1;
  Tensor<int16_t> e3;
  int e3_exp = 0;
  Tensor<uint16_t> e3_words;  // flag mode only
  IntError e4, g_w, g_gamma, g_beta;
  Tensor<int16_t> g_w_q;
  Tensor<int32_t> g_gamma_q, g_beta_q;
  // Update: Acc before Q_Acc (frac_GC bits) and lr * Acc (frac_WU bits).
  Tensor<int32_t> acc_w_new, acc_gamma_new, acc_beta_new;
  Tensor<int64_t> dw, dgamma, dbeta;
  int64_t lr = 0;

  // The step's tensors as "<layer>/<tensor>". relu: the layer has E1 and x4; input_error:
  // it computes e4.
  void Report(TensorSink& sink, const std::string& layer, const Scheme& s, bool relu, bool input_error) const;
  // Parameters and optimizer state ("<layer>/W", "<layer>/Acc_q_W", ...).
  void ReportState(TensorSink& sink, const std::string& layer, const Scheme& s) const;
  // Allocates the state tensors (zeros) for a layer of geometry g, ready for LoadState.
  void ShapeState(const ConvGeometry& g);
  // Replaces the state tensor `tensor` ("W", "Acc_q_W", ...) after checking type and shape.
  void LoadState(const std::string& layer, const std::string& tensor, const AnyTensor& value);
};

}  // namespace octet
