#include "model/units/e2_unit.h"

#include "golden/net/quant_ops.h"

namespace octet::model {

void E2Unit::Quantize(const LayerJob& j) {
  if (j.data()) {
    QuantLayerTensors& t = *j.tensors;
    t.e3 = Tensor<int16_t>(t.dx1.m.shape);
    t.e3_exp = QuantizeE2(*j.scheme, Span(t.dx1.m), t.dx1.exp, t.e3, t.e3_words);
  }
  const Stream dx1{j.Tensor("dx1"), BufferId::kOutput, j.outputs(), j.bits.wide_error};
  RunMaxAbs(dx1);
  Run(Pass{UnitId::kE2, j.outputs(), {dx1}, {{j.Tensor("e3"), BufferId::kError, j.outputs(), j.bits.e3}}});
}

}  // namespace octet::model
