#include "model/units/update_unit.h"

#include "golden/net/quant_ops.h"

namespace octet::model {

void UpdateUnit::QuantizeWeights(const LayerJob& j) {
  if (j.data()) j.tensors->wq = octet::QuantizeWeights(*j.scheme, j.tensors->w);
  Run(Pass{UnitId::kUpdate, j.weights(), {{j.Tensor("W"), BufferId::kWeight, j.weights(), j.bits.master}},
           {{j.Tensor("W_q"), BufferId::kWeight, j.weights(), j.bits.weight_q}}});
}

void UpdateUnit::QuantizeBnGradients(const LayerJob& j) {
  if (j.data()) {
    QuantLayerTensors& t = *j.tensors;
    t.g_gamma_q = QuantizeParameterGradient(*j.scheme, t.g_gamma.m, t.g_gamma.exp);
    t.g_beta_q = QuantizeParameterGradient(*j.scheme, t.g_beta.m, t.g_beta.exp);
  }
  const int64_t n = 2 * j.channels();
  Run(Pass{UnitId::kUpdate, n, {{j.Tensor("g_gamma,g_beta"), BufferId::kOutput, n, j.bits.wide_error}},
           {{j.Tensor("g_gamma_q,g_beta_q"), BufferId::kWeight, n, j.bits.grad_q}}});
}

void UpdateUnit::Update(const LayerJob& j, int64_t lr) {
  if (j.data()) {
    QuantLayerTensors& t = *j.tensors;
    const Scheme& s = *j.scheme;
    t.lr = lr;
    MomentumUpdate(s, lr, t.g_w_q, MasterWeightBound(s), t.w, t.acc_w, t.acc_w_new, t.dw);
    MomentumUpdate(s, lr, t.g_gamma_q, kInt32Max, t.gamma, t.acc_gamma, t.acc_gamma_new, t.dgamma);
    MomentumUpdate(s, lr, t.g_beta_q, kInt32Max, t.beta, t.acc_beta, t.acc_beta_new, t.dbeta);
  }
  const int64_t n = j.weights() + 2 * j.channels();
  const StorageBits& b = j.bits;
  Run(Pass{UnitId::kUpdate, n,
           {{j.Tensor("grad_q"), BufferId::kWeight, n, b.grad_q},
            {j.Tensor("Acc_q"), BufferId::kWeight, n, b.acc},
            {j.Tensor("master"), BufferId::kWeight, n, b.master}},
           {{j.Tensor("Acc_q"), BufferId::kWeight, n, b.acc}, {j.Tensor("master"), BufferId::kWeight, n, b.master}}});
}

}  // namespace octet::model
