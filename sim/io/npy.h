// NumPy .npy files (format 1.0 written; 1.0, 2.0 and 3.0 read) for C-order arrays of
// the eight element types Octet uses. Every failure throws octet::Error with one line
// naming the file and the problem.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

#include "golden/core/tensor.h"

namespace octet::npy {

enum class DType { kInt8, kUInt8, kInt16, kUInt16, kInt32, kInt64, kFloat32, kFloat64 };

std::string DescrOf(DType dtype);  // "|i1", "<i4", "<f8", ...
std::string NameOf(DType dtype);   // "int8", "int32", "float64", ...

template <typename T>
constexpr DType DTypeOf() {
  if constexpr (std::is_same_v<T, int8_t>) return DType::kInt8;
  else if constexpr (std::is_same_v<T, uint8_t>) return DType::kUInt8;
  else if constexpr (std::is_same_v<T, int16_t>) return DType::kInt16;
  else if constexpr (std::is_same_v<T, uint16_t>) return DType::kUInt16;
  else if constexpr (std::is_same_v<T, int32_t>) return DType::kInt32;
  else if constexpr (std::is_same_v<T, int64_t>) return DType::kInt64;
  else if constexpr (std::is_same_v<T, float>) return DType::kFloat32;
  else if constexpr (std::is_same_v<T, double>) return DType::kFloat64;
  else static_assert(sizeof(T) == 0, "no .npy dtype for this element type");
}

struct Header {
  DType dtype;
  Shape shape;
};

// Validates magic, version, header dict, dtype, C order and shape, and that the file
// is exactly header + payload bytes long.
Header ReadHeader(const std::string& path);

// The file's dtype must equal T exactly (no conversions).
template <typename T>
Tensor<T> Load(const std::string& path);
template <typename T>
Tensor<T> Load(const std::string& path, const Shape& expected_shape);

// Writes path + ".tmp" and renames it over path, so readers never see a partial file.
// Shape () (a scalar) is allowed.
template <typename T>
void Save(const std::string& path, const Tensor<T>& t);

}  // namespace octet::npy
