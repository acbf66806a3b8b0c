// Scale/offset, residual add, ReLU + Q_A: x3 = gamma_q * x2 + beta_q (+ residual), and for
// layers with ReLU x4 = Q_A(relu(x3)) with the ReLU mask for the backward pass, in one
// pass (docs/numerics.md, "x3" and "x4").
#pragma once

#include "model/core/layer_job.h"
#include "model/units/unit_interfaces.h"
#include "model/units/vector_unit.h"

namespace octet::model {

// The residual added to x3: the block input as an activation, or a shortcut's x3.
struct Residual {
  Stream stream;
  const Tensor<int64_t>* values = nullptr;  // data mode: at frac_x3 bits
};

class ActUnit : public VectorUnit, public ActIf {
 public:
  using VectorUnit::VectorUnit;

  // writes_x3: x3 is kept in DRAM (it is a residual of a later layer).
  void ScaleOffsetActivate(const LayerJob& job, const Residual* residual, bool writes_x3) override;
};

}  // namespace octet::model
