// A dense row-major (C-order) tensor: shape plus a flat vector. Layout of activations
// is NCHW everywhere in Octet; weights of a conv are [K_out][C_in][R][S].
#pragma once

#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace octet {

using Shape = std::vector<int64_t>;

inline int64_t NumElements(const Shape& shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
}

inline std::string ShapeString(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

template <typename T>
struct Tensor {
  using value_type = T;
  Shape shape;
  std::vector<T> data;

  Tensor() = default;
  explicit Tensor(Shape s, T fill = T{}) : shape(std::move(s)), data(NumElements(shape), fill) {}
  Tensor(Shape s, std::vector<T> d) : shape(std::move(s)), data(std::move(d)) {}

  int64_t size() const { return static_cast<int64_t>(data.size()); }
  T* ptr() { return data.data(); }
  const T* ptr() const { return data.data(); }
  T& operator[](int64_t i) { return data[i]; }
  const T& operator[](int64_t i) const { return data[i]; }
  int64_t dim(int i) const { return shape.at(i); }
  bool operator==(const Tensor&) const = default;
};

// Gives t the shape `shape`, keeping its storage: no allocation and no zero-fill when the
// element count is unchanged (the usual case from one training step to the next). Element
// values are then left over from before: only for outputs the caller overwrites entirely.
template <typename T>
void ResizeForOverwrite(Tensor<T>& t, const Shape& shape) {
  t.shape = shape;
  t.data.resize(NumElements(shape));
}

}  // namespace octet
