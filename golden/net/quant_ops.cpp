#include "golden/net/quant_ops.h"

#include <cmath>
#include <vector>

#include "golden/numerics/fixed_point.h"
#include "golden/numerics/init.h"
#include "golden/numerics/quantizers.h"

namespace octet {

int64_t RequantizeMaster(const Scheme& s, int32_t p, int frac_out) {
  return fx::RoundHalfEvenShiftRight(p, s.frac_WU() - frac_out);
}

Tensor<int8_t> QuantizeWeights(const Scheme& s, const Tensor<int32_t>& w) {
  const int64_t bound = (int64_t{1} << s.frac_W()) - 1;
  Tensor<int8_t> wq(w.shape);
  for (int64_t i = 0; i < w.size(); ++i) {
    wq[i] = static_cast<int8_t>(fx::SaturateSymmetric(RequantizeMaster(s, w[i], s.frac_W()), bound));
  }
  return wq;
}

void QuantizeBnParameters(const Scheme& s, const Tensor<int32_t>& gamma, const Tensor<int32_t>& beta,
                          Tensor<int16_t>& gamma_q, Tensor<int16_t>& beta_q) {
  gamma_q = Tensor<int16_t>(gamma.shape);
  beta_q = Tensor<int16_t>(beta.shape);
  for (int64_t c = 0; c < gamma.size(); ++c) {
    gamma_q[c] = static_cast<int16_t>(fx::SaturateSigned(RequantizeMaster(s, gamma[c], s.frac_gamma()), 16));
    beta_q[c] = static_cast<int16_t>(fx::SaturateSigned(RequantizeMaster(s, beta[c], s.frac_beta()), 16));
  }
}

ActivatedElement ScaleOffsetActivateElement(const Scheme& s, int32_t x2, int16_t gamma_q, int16_t beta_q,
                                            int64_t residual) {
  const int beta_shift = s.frac_x3() - s.frac_beta();
  const int a_shift = s.frac_x3() - s.frac_A();
  const int64_t a_max = (int64_t{1} << s.k_A) - 1;
  const int64_t x3 = int64_t{gamma_q} * x2 + int64_t{beta_q} * (int64_t{1} << beta_shift) + residual;
  const int64_t a = fx::RoundHalfEvenShiftRight(x3, a_shift);
  return {x3, static_cast<uint8_t>(fx::Saturate(a, 0, a_max)), static_cast<uint8_t>(x3 > 0 && a <= a_max)};
}

void ScaleOffsetActivate(const Scheme& s, const BnShape& shape, const int32_t* x2, const int16_t* gamma_q,
                         const int16_t* beta_q, const int64_t* residual, int64_t* x3, uint8_t* x4, uint8_t* relu_pass) {
  const bool relu = x4 != nullptr;
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < shape.batch * shape.channels; ++nc) {
    const int64_t c = nc % shape.channels;
    for (int64_t i = nc * shape.pixels; i < (nc + 1) * shape.pixels; ++i) {
      const int64_t r = residual ? residual[i] : 0;
      const ActivatedElement e = ScaleOffsetActivateElement(s, x2[i], gamma_q[c], beta_q[c], r);
      x3[i] = e.x3;
      if (relu) {
        x4[i] = e.x4;
        relu_pass[i] = e.relu_pass;
      }
    }
  }
}

void ActivationAsResidual(const Scheme& s, std::span<const uint8_t> x, std::span<int64_t> residual) {
  const int shift = s.frac_x3() - s.frac_A();  // exact: frac_x3 >= frac_A (checked by QuantLayer)
  for (size_t i = 0; i < x.size(); ++i) residual[i] = int64_t{x[i]} << shift;
}

namespace {

template <typename Input, typename... ExpArg>
int QuantizeE1Impl(const Scheme& s, Input input, std::span<int8_t> out, ExpArg... exp) {
  std::vector<int16_t> wide(out.size());
  const int result_exp = q::ShiftQuantize(input, exp..., s.k_E1, std::span<int16_t>(wide));
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < wide.size(); ++i) out[i] = static_cast<int8_t>(wide[i]);  // |v| <= 127
  return result_exp;
}

}  // namespace

int QuantizeE1(const Scheme& s, std::span<const int64_t> m, int exp, std::span<int8_t> out) {
  return QuantizeE1Impl(s, m, out, exp);
}
int QuantizeE1(const Scheme& s, std::span<const float> x, std::span<int8_t> out) { return QuantizeE1Impl(s, x, out); }

void ApplyActivationMask(std::span<const uint8_t> pass, std::span<const int8_t> e0, std::span<int8_t> e1) {
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < pass.size(); ++i) e1[i] = pass[i] ? e0[i] : 0;
}

void InitializeWeights(const Scheme& s, uint64_t seed, uint32_t layer, int64_t fan_in, Tensor<int32_t>& w) {
  const double stddev = 1.0 / std::sqrt(static_cast<double>(fan_in));
  const uint64_t prefix = RandomStream{seed, 0, layer, static_cast<uint32_t>(InitStreamId::kWeights)}.Prefix();
  for (int64_t i = 0; i < w.size(); ++i) {
    const double value = stddev * TruncatedStandardNormal(prefix, i);
    w[i] = static_cast<int32_t>(fx::SaturateSymmetric(fx::RoundHalfEvenScale(value, s.frac_WU()), MasterWeightBound(s)));
  }
}

namespace {

template <typename Quantize>
int QuantizeE2Impl(const Scheme& s, Quantize&& quantize, Tensor<int16_t>& e3, Tensor<uint16_t>& words) {
  const int exp = quantize(Span(e3));
  if (s.e2_mode == E2Mode::kFlag) {
    words = Tensor<uint16_t>(e3.shape);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < e3.size(); ++i) words[i] = q::FlagEncode(e3[i]);
  } else {
    words = Tensor<uint16_t>();
  }
  return exp;
}

}  // namespace

int QuantizeE2(const Scheme& s, std::span<const int64_t> m, int exp, Tensor<int16_t>& e3, Tensor<uint16_t>& words) {
  return QuantizeE2Impl(
      s,
      [&](std::span<int16_t> out) {
        return s.e2_mode == E2Mode::kFlag ? q::FlagQuantize(m, exp, out) : q::ShiftQuantize(m, exp, s.k_E2, out);
      },
      e3, words);
}

int QuantizeE2(const Scheme& s, std::span<const float> x, Tensor<int16_t>& e3, Tensor<uint16_t>& words) {
  return QuantizeE2Impl(
      s,
      [&](std::span<int16_t> out) {
        return s.e2_mode == E2Mode::kFlag ? q::FlagQuantize(x, out) : q::ShiftQuantize(x, s.k_E2, out);
      },
      e3, words);
}

Tensor<int32_t> QuantizeParameterGradient(const Scheme& s, const Tensor<int64_t>& m, int exp) {
  Tensor<int32_t> out(m.shape);
  for (int64_t i = 0; i < m.size(); ++i) {
    out[i] = static_cast<int32_t>(fx::SaturateSymmetric(fx::RoundHalfEvenScale(m[i], exp + s.frac_GC()), kInt32Max));
  }
  return out;
}

MomentumStep MomentumUpdateElement(const Scheme& s, int64_t mom, int64_t lr, int64_t grad, int64_t bound,
                                   int32_t& param, int32_t& acc_q) {
  const int64_t acc = fx::SaturateSymmetric(mom * acc_q + grad, kInt32Max);
  const int64_t delta = lr * acc;
  param = static_cast<int32_t>(fx::SaturateSymmetric(int64_t{param} - delta, bound));
  acc_q = static_cast<int32_t>(fx::RoundHalfEvenShiftRight(acc, s.frac_GC() - s.frac_Acc()));
  return {static_cast<int32_t>(acc), delta};
}

template <typename G>
void MomentumUpdate(const Scheme& s, int64_t lr, const Tensor<G>& grad, int64_t bound, Tensor<int32_t>& param,
                    Tensor<int32_t>& acc_q, Tensor<int32_t>& acc_out, Tensor<int64_t>& delta_out) {
  const int64_t mom = s.MomentumInt();
  acc_out = Tensor<int32_t>(grad.shape);
  delta_out = Tensor<int64_t>(grad.shape);
  for (int64_t i = 0; i < grad.size(); ++i) {
    const MomentumStep step = MomentumUpdateElement(s, mom, lr, grad[i], bound, param[i], acc_q[i]);
    acc_out[i] = step.acc;
    delta_out[i] = step.delta;
  }
}

template void MomentumUpdate<int16_t>(const Scheme&, int64_t, const Tensor<int16_t>&, int64_t, Tensor<int32_t>&,
                                      Tensor<int32_t>&, Tensor<int32_t>&, Tensor<int64_t>&);
template void MomentumUpdate<int32_t>(const Scheme&, int64_t, const Tensor<int32_t>&, int64_t, Tensor<int32_t>&,
                                      Tensor<int32_t>&, Tensor<int32_t>&, Tensor<int64_t>&);

}  // namespace octet
