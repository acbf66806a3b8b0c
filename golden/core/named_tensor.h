// Tensors of any element type the golden model produces, and the sink a training step
// reports them to (the trace writer, the replay checker, statistics collectors).
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "golden/core/tensor.h"

namespace octet {

using AnyTensor = std::variant<Tensor<int8_t>, Tensor<uint8_t>, Tensor<int16_t>, Tensor<uint16_t>, Tensor<int32_t>,
                               Tensor<int64_t>, Tensor<float>>;

// A named tensor: "<layer>/<tensor>", e.g. "block1.conv2/e3". The value of element i is
// data[i] * 2^-frac_bits for integer tensors (frac_bits may be negative); float tensors
// have frac_bits 0.
struct NamedTensor {
  std::string name;
  AnyTensor tensor;
  int frac_bits = 0;
};

class TensorSink {
 public:
  virtual ~TensorSink() = default;
  virtual void Put(const std::string& name, const AnyTensor& tensor, int frac_bits) = 0;
};

}  // namespace octet

#include "golden/core/error.h"

namespace octet {

// Replaces target with value after checking element type and shape; `what` names the
// tensor in the error ("layer stem/W").
template <typename T>
void AssignChecked(const std::string& what, const AnyTensor& value, Tensor<T>& target) {
  const auto* typed = std::get_if<Tensor<T>>(&value);
  if (typed == nullptr) Fail("{}: wrong element type", what);
  if (typed->shape != target.shape)
    Fail("{}: shape {}, expected {}", what, ShapeString(typed->shape), ShapeString(target.shape));
  target = *typed;
}

}  // namespace octet
