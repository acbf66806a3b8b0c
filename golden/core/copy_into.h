// CopyInto: dst = src into dst's storage, the copy split across the OpenMP threads. A
// training step keeps copies of its inputs (a layer's x0, a shortcut's e1) for the
// backward pass and the traces; as plain assignments they ran on the calling thread alone
// while the others waited.
#pragma once

#include <algorithm>
#include <cstdint>

#include "golden/core/tensor.h"

namespace octet {

template <typename T>
void CopyInto(const Tensor<T>& src, Tensor<T>& dst) {
  ResizeForOverwrite(dst, src.shape);  // every element written below
  constexpr int64_t kChunk = 1 << 16;  // elements per task
  const int64_t chunks = (src.size() + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    const int64_t i0 = chunk * kChunk;
    std::copy_n(src.ptr() + i0, std::min(kChunk, src.size() - i0), dst.ptr() + i0);
  }
}

}  // namespace octet
