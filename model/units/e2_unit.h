// E2 unit: quantizes dL/dx1 to e3 after a max|x| pass for R: the 8-bit Flag QE2 encoder
// (9-bit words: flag, sign, 7-bit magnitude, Sc = R/128; paper eq. 16) or SQ(., k_E2)
// (docs/numerics.md 3.3, 3.4).
#pragma once

#include "model/core/layer_job.h"
#include "model/units/unit_interfaces.h"
#include "model/units/vector_unit.h"

namespace octet::model {

class E2Unit : public VectorUnit, public E2If {
 public:
  using VectorUnit::VectorUnit;

  void Quantize(const LayerJob& job) override;  // dx1 -> e3 (and e3_words in flag mode)
};

}  // namespace octet::model
