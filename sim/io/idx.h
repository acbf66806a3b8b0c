// IDX files (the MNIST format of LeCun et al.), gzip-compressed or plain, and the
// Fashion-MNIST data set built from them. Every failure throws octet::Error with one
// line naming the file and the problem.
#pragma once

#include <cstdint>
#include <string>

#include "golden/core/tensor.h"

namespace octet::idx {

// Reads an unsigned-byte IDX file (type code 0x08); the shape comes from its header.
Tensor<uint8_t> LoadUInt8(const std::string& path);

struct Dataset {
  Tensor<uint8_t> images;  // [N, 1, H, W]
  Tensor<uint8_t> labels;  // [N], each 0..9
};

struct FashionMnist {
  Dataset train, test;
};

inline const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Loads {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] from dir.
FashionMnist LoadFashionMnist(const std::string& dir = kFashionMnistDir);

}  // namespace octet::idx
