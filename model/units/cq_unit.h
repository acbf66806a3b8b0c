// CQ unit: the weight gradient g_W is scaled by dr / R(g_W) and stochastically rounded
// with the counter-based random bits of (seed, step, layer, tensor, index) (paper eq. 6,
// docs/numerics.md "CQ"), after a max|x| pass for R.
#pragma once

#include "golden/net/quant_layer.h"
#include "model/core/layer_job.h"
#include "model/units/unit_interfaces.h"
#include "model/units/vector_unit.h"

namespace octet::model {

class CqUnit : public VectorUnit, public CqIf {
 public:
  using VectorUnit::VectorUnit;

  void Quantize(const LayerJob& job, const StepContext& ctx) override;  // g_W -> g_W_q
};

}  // namespace octet::model
