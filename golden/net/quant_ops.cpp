#include "golden/net/quant_ops.h"

#include <cmath>
#include <utility>

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
    ResizeForOverwrite(words, e3.shape);
    q::FlagEncode(Span(std::as_const(e3)), Span(words));
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

template <typename G>
void MomentumUpdate(const Scheme& s, int64_t lr, const Tensor<G>& grad, int64_t bound, Tensor<int32_t>& param,
                    Tensor<int32_t>& acc_q, Tensor<int32_t>& acc_out, Tensor<int64_t>& delta_out) {
  const int64_t mom = s.MomentumInt();
  acc_out = Tensor<int32_t>(grad.shape);
  delta_out = Tensor<int64_t>(grad.shape);
  for (int64_t i = 0; i < grad.size(); ++i) {
    const int64_t acc = fx::SaturateSymmetric(mom * acc_q[i] + grad[i], kInt32Max);
    const int64_t delta = lr * acc;
    param[i] = static_cast<int32_t>(fx::SaturateSymmetric(int64_t{param[i]} - delta, bound));
    acc_q[i] = static_cast<int32_t>(fx::RoundHalfEvenShiftRight(acc, s.frac_GC() - s.frac_Acc()));
    acc_out[i] = static_cast<int32_t>(acc);
    delta_out[i] = delta;
  }
}

template void MomentumUpdate<int16_t>(const Scheme&, int64_t, const Tensor<int16_t>&, int64_t, Tensor<int32_t>&,
                                      Tensor<int32_t>&, Tensor<int32_t>&, Tensor<int64_t>&);
template void MomentumUpdate<int32_t>(const Scheme&, int64_t, const Tensor<int32_t>&, int64_t, Tensor<int32_t>&,
                                      Tensor<int32_t>&, Tensor<int32_t>&, Tensor<int64_t>&);

}  // namespace octet
