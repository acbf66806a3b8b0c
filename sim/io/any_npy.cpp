#include "sim/io/any_npy.h"

#include "golden/core/error.h"

namespace octet::npy {

void SaveAny(const std::string& path, const AnyTensor& tensor) {
  std::visit([&](const auto& t) { Save(path, t); }, tensor);
}

AnyTensor LoadAny(const std::string& path) {
  switch (ReadHeader(path).dtype) {
    case DType::kInt8: return Load<int8_t>(path);
    case DType::kUInt8: return Load<uint8_t>(path);
    case DType::kInt16: return Load<int16_t>(path);
    case DType::kUInt16: return Load<uint16_t>(path);
    case DType::kInt32: return Load<int32_t>(path);
    case DType::kInt64: return Load<int64_t>(path);
    case DType::kFloat32: return Load<float>(path);
    case DType::kFloat64: break;
  }
  Fail("{}: float64 tensors do not occur in Octet traces", path);
}

std::string DTypeName(const AnyTensor& tensor) {
  return std::visit([](const auto& t) { return NameOf(DTypeOf<typename std::decay_t<decltype(t)>::value_type>()); },
                    tensor);
}

const Shape& ShapeOf(const AnyTensor& tensor) {
  return std::visit([](const auto& t) -> const Shape& { return t.shape; }, tensor);
}

}  // namespace octet::npy
