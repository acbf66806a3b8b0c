// .npy I/O for AnyTensor (the variant of element types the golden model produces).
#pragma once

#include <string>

#include "golden/core/named_tensor.h"
#include "sim/io/npy.h"

namespace octet::npy {

void SaveAny(const std::string& path, const AnyTensor& tensor);
// Loads whatever dtype the file holds (float64 is not an AnyTensor type: error).
AnyTensor LoadAny(const std::string& path);
// "int8", "uint16", ... of the variant's element type.
std::string DTypeName(const AnyTensor& tensor);
const Shape& ShapeOf(const AnyTensor& tensor);

}  // namespace octet::npy
