// The fixed-point momentum and update unit (paper eq. 19-22): holds the master weights
// (k_WU = 24 bits) and momentum accumulators (k_Acc = 13 bits), quantizes W to W_q for the
// forward pass (Q_W), the BN parameter gradients to k_G bits, and applies
// Acc = Mom * Acc_q + G, W -= lr * Acc (exact), then Acc_q = Q(Acc, k_Acc).
#pragma once

#include "golden/net/quant_layer.h"
#include "model/core/layer_job.h"
#include "model/units/unit_interfaces.h"
#include "model/units/vector_unit.h"

namespace octet::model {

class UpdateUnit : public VectorUnit, public UpdateIf {
 public:
  using VectorUnit::VectorUnit;

  void QuantizeWeights(const LayerJob& job) override;          // W -> W_q
  void QuantizeBnGradients(const LayerJob& job) override;      // g_gamma, g_beta -> Q(., k_G)
  void Update(const LayerJob& job, int64_t lr) override;       // W, gamma, beta and their Acc
};

}  // namespace octet::model
