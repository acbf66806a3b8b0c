// OCTET_VECTOR_CLONES marks a hot element-wise loop kernel that GCC compiles twice: once for
// x86-64-v4 (AVX-512, where GCC vectorises the plain C++ loop with 512-bit registers) and once
// for the default target; the program picks the clone for the CPU at load time. Integer
// results cannot depend on the clone: both run the same C++ with the same integer semantics.
// Kernels so marked hold no OpenMP pragma (the parallel loop is in their caller).
//
// Kernels written with AVX-512 intrinsics instead (int_gemm.cpp, int_batchnorm.cpp) are picked
// at run time when the CPU has their features, unless OCTET_KERNELS=portable is set: then the
// portable kernels run, which is how the tests check that both give the same bits.
#pragma once

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#define OCTET_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "default")))
#else
#define OCTET_VECTOR_CLONES
#endif

namespace octet {

// True when OCTET_KERNELS=portable asks for the portable kernels only.
inline bool PortableKernelsForced() {
  static const bool forced = [] {
    const char* env = std::getenv("OCTET_KERNELS");
    return env != nullptr && std::strcmp(env, "portable") == 0;
  }();
  return forced;
}

}  // namespace octet
