// Operations shared by the integer layers (QuantLayer, QuantHead): weight quantization
// and initialisation, E2 with its flag words, CQ of a weight gradient, Q of the BN
// parameter gradients, and the fixed-point momentum/update unit. docs/numerics.md.
#pragma once

#include <cstdint>
#include <span>

#include "golden/core/tensor.h"
#include "golden/kernels/int_batchnorm.h"
#include "golden/numerics/scheme.h"

namespace octet {

template <typename T>
std::span<const T> Span(const Tensor<T>& t) {
  return {t.data.data(), t.data.size()};
}
template <typename T>
std::span<T> Span(Tensor<T>& t) {
  return {t.data.data(), t.data.size()};
}

// Q(p, k) of a master value p held at frac_WU bits, to frac_out bits (RHE).
int64_t RequantizeMaster(const Scheme& s, int32_t p, int frac_out);

// W_q = clip(Q(W, k_W), +-(1 - 2^-(k_W-1))) (paper eq. 9).
Tensor<int8_t> QuantizeWeights(const Scheme& s, const Tensor<int32_t>& w);

// Paper eq. 8: W' truncated normal, stddev 1/sqrt(fan_in), W = clip(Q(W', k_WU)).
void InitializeWeights(const Scheme& s, uint64_t seed, uint32_t layer, int64_t fan_in, Tensor<int32_t>& w);

// e3 = Q_E2(x) (flag or shift mode); words gets the 9-bit flag words (flag mode) or is
// emptied. Returns the exponent of e3. Integer (m, exp) or float input.
int QuantizeE2(const Scheme& s, std::span<const int64_t> m, int exp, Tensor<int16_t>& e3, Tensor<uint16_t>& words);
// The same with max |m| known (from IntBatchNormBackward).
int QuantizeE2(const Scheme& s, std::span<const int64_t> m, int exp, uint64_t max_abs, Tensor<int16_t>& e3,
               Tensor<uint16_t>& words);
int QuantizeE2(const Scheme& s, std::span<const float> x, Tensor<int16_t>& e3, Tensor<uint16_t>& words);

// Q(g, k_G) of an exact gradient (value m * 2^exp) to frac_GC bits, saturated to int32.
Tensor<int32_t> QuantizeParameterGradient(const Scheme& s, const Tensor<int64_t>& m, int exp);

// One parameter tensor's momentum step (paper eq. 19-22), element-wise:
//   Acc    = Mom * Acc_q + G            (frac_Mom + frac_Acc = frac_GC bits, exact)
//   dP     = lr * Acc                   (frac_lr + frac_GC = frac_WU bits, exact)
//   P      = saturate(P - dP, bound)    (update first ...)
//   Acc_q  = Q(Acc, k_Acc)              (... then quantize the accumulator; RHE)
// acc_out and delta_out receive Acc and dP for the trace.
template <typename G>
void MomentumUpdate(const Scheme& s, int64_t lr, const Tensor<G>& grad, int64_t bound, Tensor<int32_t>& param,
                    Tensor<int32_t>& acc_q, Tensor<int32_t>& acc_out, Tensor<int64_t>& delta_out);

// One element of MomentumUpdate with mom = s.MomentumInt(): updates param and acc_q in place
// and returns Acc and dP. Shared with the RTL update unit (rtl/units/octet_update_unit.sv).
struct MomentumStep {
  int32_t acc;
  int64_t delta;
};
MomentumStep MomentumUpdateElement(const Scheme& s, int64_t mom, int64_t lr, int64_t grad, int64_t bound,
                                   int32_t& param, int32_t& acc_q);

// gamma_q = Q(gamma, k_gamma), beta_q = Q(beta, k_beta) of the master copies, saturated
// to int16.
void QuantizeBnParameters(const Scheme& s, const Tensor<int32_t>& gamma, const Tensor<int32_t>& beta,
                          Tensor<int16_t>& gamma_q, Tensor<int16_t>& beta_q);

// x3 = gamma_q * x2 + beta_q (+ residual), exact at frac_x3 bits, and for layers with
// ReLU in the same pass: x4 = Q_A(relu(x3)) (RHE to frac_A bits, clipped to
// [0, 2^k_A - 1], unsigned container) and the ReLU mask of the backward pass,
// dx4/dx3 = 1 where 0 < x3 and the activation is not saturated, else 0.
// residual, x4 and relu_pass may be null (no residual; no ReLU). identity, if given instead
// of residual, is an identity shortcut x (activation at frac_A bits): the residual is then
// x << (frac_x3 - frac_A), as ActivationAsResidual makes it, without the int64 copy.
void ScaleOffsetActivate(const Scheme& s, const BnShape& shape, const int32_t* x2, const int16_t* gamma_q,
                         const int16_t* beta_q, const int64_t* residual, int64_t* x3, uint8_t* x4, uint8_t* relu_pass,
                         const uint8_t* identity = nullptr);

// One element of ScaleOffsetActivate: x3, and x4 and the mask as a layer with ReLU has them.
// Shared with the RTL activation unit (rtl/units/octet_relu_qa.sv).
struct ActivatedElement {
  int64_t x3;
  uint8_t x4;
  uint8_t relu_pass;
};
ActivatedElement ScaleOffsetActivateElement(const Scheme& s, int32_t x2, int16_t gamma_q, int16_t beta_q,
                                            int64_t residual);

// The block input x (activation at frac_A bits) as a residual at frac_x3 bits (exact).
void ActivationAsResidual(const Scheme& s, std::span<const uint8_t> x, std::span<int64_t> residual);

// E1 = SQ(error, k_E1) into an int8 container (k_E1 <= 8, so |value| <= 127). Returns the
// exponent of the result. Integer (m, exp) or float input.
int QuantizeE1(const Scheme& s, std::span<const int64_t> m, int exp, std::span<int8_t> out);
int QuantizeE1(const Scheme& s, std::span<const float> x, std::span<int8_t> out);

// e1 = e0 * dx4/dx3, with the mask recorded by the forward pass.
void ApplyActivationMask(std::span<const uint8_t> pass, std::span<const int8_t> e0, std::span<int8_t> e1);

inline constexpr int64_t kInt32Max = 2147483647;
// The saturation bound of master weights: +-(1 - 2^-(k_WU-1)).
inline int64_t MasterWeightBound(const Scheme& s) { return (int64_t{1} << s.frac_WU()) - 1; }

}  // namespace octet
