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

#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

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

#if defined(__x86_64__) && defined(__GNUC__)
// Row kernels written with AVX-512 intrinsics (the features of x86-64-v4) carry this target;
// they run eight int64 lanes per step with a masked last step, where the plain loops that GCC
// vectorises run 64 elements per step and leave rows of 49 or 196 pixels mostly to their
// scalar remainders. Lane by lane they do the plain kernels' operations: the same bits.
#define OCTET_AVX512_ROWS __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))

// True when the AVX-512 row kernels may run: the CPU has their features and the portable
// kernels were not asked for.
inline bool UseAvx512Rows() {
  static const bool use = [] {
    if (PortableKernelsForced()) return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  }();
  return use;
}

// Rows shorter than this run mostly in the scalar remainder of a plain loop that GCC
// vectorises over 64 byte-sized elements per step.
inline constexpr int64_t kShortRow = 64;

// The lanes of the step at element i of a row of count elements.
OCTET_AVX512_ROWS inline __mmask8 LanesFrom(int64_t i, int64_t count) {
  return count - i >= 8 ? __mmask8{0xff} : static_cast<__mmask8>((1u << (count - i)) - 1);
}
#else
inline bool UseAvx512Rows() { return false; }
#endif

}  // namespace octet
