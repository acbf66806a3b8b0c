#include "model/units/act_unit.h"

#include "golden/net/quant_ops.h"

namespace octet::model {

void ActUnit::ScaleOffsetActivate(const LayerJob& j, const Residual* residual, bool writes_x3) {
  const StorageBits& b = j.bits;
  if (j.data()) {
    QuantLayerTensors& t = *j.tensors;
    t.x3 = Tensor<int64_t>(t.x2.shape);
    if (j.relu) {
      t.x4 = Tensor<uint8_t>(t.x2.shape);
      t.relu_pass = Tensor<uint8_t>(t.x2.shape);
    }
    octet::ScaleOffsetActivate(*j.scheme, j.bn(), t.x2.ptr(), t.gamma_q.ptr(), t.beta_q.ptr(),
                               residual ? residual->values->ptr() : nullptr, t.x3.ptr(),
                               j.relu ? t.x4.ptr() : nullptr, j.relu ? t.relu_pass.ptr() : nullptr);
  }
  Pass pass{UnitId::kAct, j.outputs(), {{j.Tensor("x2"), BufferId::kOutput, j.outputs(), b.x2}}, {}};
  if (residual) pass.reads.push_back(residual->stream);
  if (j.relu) {
    pass.writes.push_back({j.Tensor("x4"), BufferId::kActivation, j.outputs(), b.activation});
    pass.writes.push_back({j.Tensor("relu_pass"), BufferId::kError, j.outputs(), b.mask});
  }
  if (writes_x3) pass.writes.push_back({j.Tensor("x3"), BufferId::kOutput, j.outputs(), b.x3});
  Run(pass);
}

}  // namespace octet::model
