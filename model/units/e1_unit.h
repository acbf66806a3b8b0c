// E1 unit: the error arriving at a layer's output (a sum of the errors of the layers it
// feeds, or the host classifier's float error) is shift-quantized to k_E1 bits (paper
// eq. 15) after a max|x| pass for R, and masked by dx4/dx3 in the same pass. It also adds
// the two error streams that meet at a block input.
#pragma once

#include "golden/net/quant_layer.h"
#include "model/core/layer_job.h"
#include "model/units/unit_interfaces.h"
#include "model/units/vector_unit.h"

namespace octet::model {

// The error at a layer's output: an integer error or the host's float error.
struct OutputError {
  Stream stream;
  const IntError* values = nullptr;       // data mode, integer
  const Tensor<float>* host = nullptr;    // data mode, from the host
};

class E1Unit : public VectorUnit, public E1If {
 public:
  using VectorUnit::VectorUnit;

  // sum = a + b, exact (golden AddErrors), written as `sum` (data mode: into *out).
  void AddErrors(const Stream& a, const Stream& b, const Stream& sum, const IntError* a_values,
                 const IntError* b_values, IntError* out) override;
  // e0 = E1(error), e1 = e0 * mask.
  void Quantize(const LayerJob& job, const OutputError& error) override;
};

}  // namespace octet::model
