#include "golden/net/quant_layer_tensors.h"

namespace octet {

void QuantLayerTensors::Report(TensorSink& sink, const std::string& layer, const Scheme& s, bool relu,
                               bool input_error) const {
  const std::string p = layer + "/";
  const int fa = s.frac_A(), fgc = s.frac_GC();
  sink.Put(p + "x0", x0, fa);
  sink.Put(p + "W_q", wq, s.frac_W());
  sink.Put(p + "x1", x1, s.frac_x1());
  sink.Put(p + "mu_q", mu_q, s.frac_mu());
  sink.Put(p + "sigma_q", sigma_q, s.frac_sigma());
  sink.Put(p + "x2", x2, s.frac_BN());
  sink.Put(p + "gamma_q", gamma_q, s.frac_gamma());
  sink.Put(p + "beta_q", beta_q, s.frac_beta());
  sink.Put(p + "x3", x3, s.frac_x3());
  if (relu) {
    sink.Put(p + "x4", x4, fa);
    sink.Put(p + "e0", e0.v, -e0.exp);
  }
  sink.Put(p + "e1", e1.v, -e1.exp);
  sink.Put(p + "e2", e2, -e2_exp);
  sink.Put(p + "dx1", dx1.m, -dx1.exp);
  sink.Put(p + "e3", e3, -e3_exp);
  // The 9-bit words decode (q::FlagDecode) to e3; same scale.
  if (s.e2_mode == E2Mode::kFlag) sink.Put(p + "e3_flag", e3_words, -e3_exp);
  if (input_error) sink.Put(p + "e4", e4.m, -e4.exp);
  sink.Put(p + "g_W", g_w.m, -g_w.exp);
  sink.Put(p + "g_W_q", g_w_q, fgc);
  sink.Put(p + "g_gamma", g_gamma.m, -g_gamma.exp);
  sink.Put(p + "g_gamma_q", g_gamma_q, fgc);
  sink.Put(p + "g_beta", g_beta.m, -g_beta.exp);
  sink.Put(p + "g_beta_q", g_beta_q, fgc);
  sink.Put(p + "Acc_W", acc_w_new, fgc);
  sink.Put(p + "Acc_gamma", acc_gamma_new, fgc);
  sink.Put(p + "Acc_beta", acc_beta_new, fgc);
  sink.Put(p + "lr", Tensor<int32_t>(Shape{}, static_cast<int32_t>(lr)), s.frac_lr());
  sink.Put(p + "dW", dw, s.frac_WU());
  sink.Put(p + "dgamma", dgamma, s.frac_WU());
  sink.Put(p + "dbeta", dbeta, s.frac_WU());
}

void QuantLayerTensors::ReportState(TensorSink& sink, const std::string& layer, const Scheme& s) const {
  const std::string p = layer + "/";
  sink.Put(p + "W", w, s.frac_WU());
  sink.Put(p + "gamma", gamma, s.frac_WU());
  sink.Put(p + "beta", beta, s.frac_WU());
  sink.Put(p + "Acc_q_W", acc_w, s.frac_Acc());
  sink.Put(p + "Acc_q_gamma", acc_gamma, s.frac_Acc());
  sink.Put(p + "Acc_q_beta", acc_beta, s.frac_Acc());
}

void QuantLayerTensors::ShapeState(const ConvGeometry& g) {
  w = Tensor<int32_t>({g.out_channels, g.in_channels, g.kernel, g.kernel});
  acc_w = Tensor<int32_t>(w.shape);
  for (Tensor<int32_t>* p : {&gamma, &beta, &acc_gamma, &acc_beta}) *p = Tensor<int32_t>({g.out_channels});
}

void QuantLayerTensors::LoadState(const std::string& layer, const std::string& tensor, const AnyTensor& value) {
  AssignByName<int32_t>(layer, tensor, value,
                        {{"W", &w}, {"gamma", &gamma}, {"beta", &beta}, {"Acc_q_W", &acc_w},
                         {"Acc_q_gamma", &acc_gamma}, {"Acc_q_beta", &acc_beta}});
}

}  // namespace octet
