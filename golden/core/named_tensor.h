// Tensors of any element type the golden model produces, and the sink a training step
// reports them to (the trace writer, the replay checker, statistics collectors).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <variant>
#include <vector>

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

// Collects named tensors in the order they are put.
class CollectSink : public TensorSink {
 public:
  void Put(const std::string& name, const AnyTensor& tensor, int frac_bits) override {
    items.push_back({name, tensor, frac_bits});
  }
  std::vector<NamedTensor> items;
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

// Assigns value to the state tensor called `tensor` among `targets` of layer `owner`.
template <typename T>
void AssignByName(const std::string& owner, const std::string& tensor, const AnyTensor& value,
                  std::initializer_list<std::pair<const char*, Tensor<T>*>> targets) {
  for (const auto& [name, target] : targets) {
    if (tensor == name) return AssignChecked(owner + "/" + tensor, value, *target);
  }
  Fail("layer {}: unknown state tensor \"{}\"", owner, tensor);
}

}  // namespace octet
