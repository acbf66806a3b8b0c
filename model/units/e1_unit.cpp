#include "model/units/e1_unit.h"

#include "golden/net/quant_ops.h"

namespace octet::model {

void E1Unit::AddErrors(const Stream& a, const Stream& b, const Stream& sum, const IntError* a_values,
                       const IntError* b_values, IntError* out) {
  if (a_values != nullptr) *out = octet::AddErrors(*a_values, *b_values);
  Run(Pass{UnitId::kE1, sum.elements, {a, b}, {sum}});
}

void E1Unit::Quantize(const LayerJob& j, const OutputError& error) {
  if (j.data()) {
    QuantLayerTensors& t = *j.tensors;
    t.e0.v = Tensor<int8_t>(t.x3.shape);
    t.e0.exp = error.host ? QuantizeE1(*j.scheme, Span(*error.host), Span(t.e0.v))
                          : QuantizeE1(*j.scheme, Span(error.values->m), error.values->exp, Span(t.e0.v));
    t.e1.v = Tensor<int8_t>(t.x3.shape);
    t.e1.exp = t.e0.exp;
    ApplyActivationMask(Span(t.relu_pass), Span(t.e0.v), Span(t.e1.v));
  }
  RunMaxAbs(error.stream);
  const Stream mask{j.Tensor("relu_pass"), BufferId::kError, j.outputs(), j.bits.mask};
  Run(Pass{UnitId::kE1, j.outputs(), {error.stream, mask}, {{j.Tensor("e1"), BufferId::kError, j.outputs(), j.bits.e1}}});
}

}  // namespace octet::model
