#include "model/units/cq_unit.h"

#include "golden/net/quant_ops.h"
#include "golden/numerics/counter_rng.h"
#include "golden/numerics/quantizers.h"

namespace octet::model {

void CqUnit::Quantize(const LayerJob& j, const StepContext& ctx) {
  if (j.data()) {
    QuantLayerTensors& t = *j.tensors;
    t.g_w_q = Tensor<int16_t>(t.g_w.m.shape);
    const RandomStream stream{ctx.seed, ctx.step, j.index, static_cast<uint32_t>(RandomTensorId::kWeightGradient)};
    q::ConstantQuantize(Span(t.g_w.m), t.g_w.exp, ctx.dr, stream, Span(t.g_w_q));
  }
  const Stream g_w{j.Tensor("g_W"), BufferId::kOutput, j.weights(), j.bits.psum};
  RunMaxAbs(g_w);
  Run(Pass{UnitId::kCq, j.weights(), {g_w}, {{j.Tensor("g_W_q"), BufferId::kWeight, j.weights(), j.bits.grad_q}}});
}

}  // namespace octet::model
