// BN unit: batch statistics, normalisation (forward) and the full batch-statistics
// gradient (backward), paper eq. 11-12, in the integer arithmetic of docs/numerics.md
// ("BN"). Each direction is two passes over the layer's output: statistics (sums), then
// the element-wise result.
#pragma once

#include "model/core/layer_job.h"
#include "model/units/unit_interfaces.h"
#include "model/units/vector_unit.h"

namespace octet::model {

class BnUnit : public VectorUnit, public BnIf {
 public:
  using VectorUnit::VectorUnit;

  // x1 -> mu_q, sigma_q, x2; and gamma_q, beta_q from the master gamma, beta.
  void Forward(const LayerJob& job) override;
  // e1, x2, gamma_q, sigma_q -> e2, dx1, g_gamma, g_beta.
  void Backward(const LayerJob& job) override;
};

}  // namespace octet::model
