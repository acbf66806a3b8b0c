// The error tensors of the integer datapath with their per-tensor exponent
// (docs/numerics.md, section 5): shared by the golden QuantLayer, its step tensors
// (QuantLayerTensors) and the SystemC model.
#pragma once

#include <cstdint>

#include "golden/core/tensor.h"

namespace octet {

// An error tensor of the integer datapath: value of element i = m[i] * 2^exp.
struct IntError {
  Tensor<int64_t> m;
  int exp = 0;
};

// An int8 error after E1 (e0, e1): value = v[i] * 2^exp.
struct Int8Error {
  Tensor<int8_t> v;
  int exp = 0;
};

}  // namespace octet
