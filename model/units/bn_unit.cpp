#include "model/units/bn_unit.h"

#include "golden/kernels/int_batchnorm.h"
#include "golden/net/quant_ops.h"

namespace octet::model {

void BnUnit::Forward(const LayerJob& j) {
  const StorageBits& b = j.bits;
  const Stream x1{j.Tensor("x1"), BufferId::kOutput, j.outputs(), b.x1};
  const Stream x2{j.Tensor("x2"), BufferId::kOutput, j.outputs(), b.x2};
  const Stream params{j.Tensor("gamma,beta"), BufferId::kWeight, 2 * j.channels(), b.master};
  if (j.data()) {
    QuantLayerTensors& t = *j.tensors;
    t.mu_q = Tensor<int32_t>({j.channels()});
    t.sigma_q = Tensor<int32_t>({j.channels()});
    t.x2 = Tensor<int32_t>(t.x1.shape);
    IntBatchNormForward(*j.scheme, j.bn(), t.x1.ptr(), t.mu_q.ptr(), t.sigma_q.ptr(), t.x2.ptr());
    QuantizeBnParameters(*j.scheme, t.gamma, t.beta, t.gamma_q, t.beta_q);
  }
  Run(Pass{UnitId::kBn, j.outputs(), {x1, params}, {}});  // statistics: sums of x1 and x1^2
  Run(Pass{UnitId::kBn, j.outputs(), {x1}, {x2}});        // normalise
}

void BnUnit::Backward(const LayerJob& j) {
  const StorageBits& b = j.bits;
  const Stream e1{j.Tensor("e1"), BufferId::kError, j.outputs(), b.e1};
  const Stream x2{j.Tensor("x2"), BufferId::kOutput, j.outputs(), b.x2};
  const Stream dx1{j.Tensor("dx1"), BufferId::kOutput, j.outputs(), b.wide_error};
  if (j.data()) {
    QuantLayerTensors& t = *j.tensors;
    const int64_t c = j.channels();
    t.e2 = Tensor<int32_t>(t.x2.shape);
    t.dx1.m = Tensor<int64_t>(t.x2.shape);
    t.g_gamma.m = Tensor<int64_t>({c});
    t.g_beta.m = Tensor<int64_t>({c});
    t.dx1.exp = IntBatchNormBackward(*j.scheme, j.bn(), t.e1.v.ptr(), t.e1.exp, t.gamma_q.ptr(), t.x2.ptr(),
                                     t.sigma_q.ptr(), t.e2.ptr(), t.dx1.m.ptr(), t.g_gamma.m.ptr(), t.g_beta.m.ptr(),
                                     &t.g_gamma.exp, &t.g_beta.exp);
    t.e2_exp = t.e1.exp - j.scheme->frac_gamma();
  }
  Run(Pass{UnitId::kBn, j.outputs(), {e1, x2}, {}});     // sums of e2 and e2 * x2 per channel
  Run(Pass{UnitId::kBn, j.outputs(), {e1, x2}, {dx1}});  // dx1
}

}  // namespace octet::model
