#include "golden/kernels/int_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

#include "golden/core/error.h"

namespace octet {
namespace {

// ---------------------------------------------------------------------------------------
// Packing. Bp holds B in k-pairs: Bp[kp][j][t] = B(2 kp + t, j), zero beyond k; j is
// padded to a multiple of kColumnTile. Ap holds A with k padded to an even count.

constexpr int64_t kColumnTile = 32;  // two 16-lane vectors of int32 outputs
constexpr int64_t kRowTile = 8;
// GEMMs with at most kPanelRows rows and at least kPanelMinPairs k-pairs take PanelVnni.
constexpr int64_t kPanelRows = 64;
constexpr int64_t kPanelMinPairs = 1024;

// Where a GEMM's C goes: row-major [m][n] int64, or, for a C whose rows run over
// (image, pixel), i = image * pix + q, straight into the NCHW tensor:
// out[(image * n + j) * pix + q] (int32 for the forward x1, int64 for the error e4), so no
// [P][n] intermediate and no transpose pass.
struct COut {
  int64_t* row_major = nullptr;
  const int64_t* column_of = nullptr;  // row-major only: C(i, j) goes to column column_of[j]
  int32_t* nchw32 = nullptr;
  int64_t* nchw64 = nullptr;
  int64_t pix = 1;
};

// The packed operands live in per-thread buffers that keep their storage from one GEMM to
// the next (GEMMs run on the calling thread's buffers; nested calls from a parallel loop
// each use their own thread's), so packing neither allocates nor zero-fills memory it
// overwrites: only the padding is written as zeros.
struct Packed {
  const int16_t* a = nullptr;  // A with k padded to 2 pairs: the caller's A when k is even
  const int16_t* b = nullptr;
  int64_t pairs = 0, n_padded = 0;
};

template <typename T>
T* ThreadBuffer(std::vector<T>& buffer, int64_t count) {
  if (static_cast<int64_t>(buffer.size()) < count) buffer.resize(count);
  return buffer.data();
}

// b: B as `layout` says; for kKN its rows (index k) are ldb elements apart and may be the
// unsigned bytes of a lowered activation (widened exactly to int16).
template <typename TB>
Packed Pack(int64_t m, int64_t n, int64_t k, const int16_t* a, const TB* b, BLayout layout, int64_t ldb) {
  thread_local std::vector<int16_t> a_buffer, b_buffer;
  Packed p;
  p.pairs = (k + 1) / 2;
  p.n_padded = (n + kColumnTile - 1) / kColumnTile * kColumnTile;
  const int64_t pairs = p.pairs, n_padded = p.n_padded;
  if (k % 2 == 0) {
    p.a = a;  // already in the padded layout
  } else {
    int16_t* a_padded = ThreadBuffer(a_buffer, m * pairs * 2);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < m; ++i) {
      std::copy_n(a + i * k, k, a_padded + i * pairs * 2);
      a_padded[i * pairs * 2 + k] = 0;  // the padding element of the last pair
    }
    p.a = a_padded;
  }
  int16_t* bp = ThreadBuffer(b_buffer, pairs * n_padded * 2);
  p.b = bp;
  if (layout == BLayout::kKN) {
#pragma omp parallel for schedule(static)
    for (int64_t kp = 0; kp < pairs; ++kp) {
      int16_t* dst = bp + kp * n_padded * 2;
      const TB* row0 = b + (2 * kp) * ldb;
      const TB* row1 = 2 * kp + 1 < k ? b + (2 * kp + 1) * ldb : nullptr;
      for (int64_t j = 0; j < n; ++j) {
        dst[2 * j] = static_cast<int16_t>(row0[j]);
        dst[2 * j + 1] = row1 ? static_cast<int16_t>(row1[j]) : int16_t{0};
      }
      std::fill(dst + 2 * n, dst + 2 * n_padded, int16_t{0});  // padding columns
    }
  } else {
    constexpr int64_t kBlock = 64;  // transpose in blocks of columns for locality
#pragma omp parallel for schedule(static)
    for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
      const int64_t j1 = std::min(n, j0 + kBlock);
      for (int64_t kk = 0; kk < k; ++kk) {
        int16_t* dst = bp + (kk / 2) * n_padded * 2 + (kk & 1);
        for (int64_t j = j0; j < j1; ++j) dst[2 * j] = b[j * k + kk];
      }
      if (k % 2 != 0) {  // the padding element of the last pair
        int16_t* dst = bp + (pairs - 1) * n_padded * 2 + 1;
        for (int64_t j = j0; j < j1; ++j) dst[2 * j] = 0;
      }
    }
    for (int64_t kp = 0; kp < pairs; ++kp)  // padding columns
      std::fill(bp + (kp * n_padded + n) * 2, bp + (kp + 1) * n_padded * 2, int16_t{0});
  }
  return p;
}

// Stores one tile's sums, tile[r][j] = C(i0 + r, j0 + j) for r < rows, j < cols.
template <typename T, int64_t kWidth>
void StoreTile(const COut& out, const T (&tile)[kRowTile][kWidth], int64_t i0, int64_t rows, int64_t j0,
               int64_t cols, int64_t n) {
  if (out.row_major != nullptr) {
    for (int64_t r = 0; r < rows; ++r) {
      int64_t* dst = out.row_major + (i0 + r) * n;
      if (out.column_of == nullptr) {
        std::copy_n(tile[r], cols, dst + j0);
      } else {
        for (int64_t j = 0; j < cols; ++j) dst[out.column_of[j0 + j]] = tile[r][j];
      }
    }
    return;
  }
  int64_t image = i0 / out.pix, q = i0 % out.pix;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t base = image * n * out.pix + q;
    if (out.nchw32 != nullptr) {
      // The forward x1: |x1| <= K * 127 * 255 < 2^31 (K bound checked when the network is
      // built), so the narrowing is exact.
      for (int64_t j = 0; j < cols; ++j) out.nchw32[base + (j0 + j) * out.pix] = static_cast<int32_t>(tile[r][j]);
    } else {
      for (int64_t j = 0; j < cols; ++j) out.nchw64[base + (j0 + j) * out.pix] = tile[r][j];
    }
    if (++q == out.pix) {
      q = 0;
      ++image;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Portable path: the same blocking, plain int32 loops (GCC vectorises the j loop).

__attribute__((target_clones("avx2", "default")))
void TileGeneric(const Packed& p, int64_t i0, int64_t rows, int64_t j0, int64_t n, const COut& c) {
  int64_t total[kRowTile][kColumnTile] = {};
  int32_t acc[kRowTile][kColumnTile];
  for (int64_t kp0 = 0; kp0 < p.pairs; kp0 += kPairBlock) {
    const int64_t kp1 = std::min(p.pairs, kp0 + kPairBlock);
    std::memset(acc, 0, sizeof(acc));
    for (int64_t kp = kp0; kp < kp1; ++kp) {
      const int16_t* bp = p.b + (kp * p.n_padded + j0) * 2;
      for (int64_t r = 0; r < rows; ++r) {
        const int32_t a0 = p.a[(i0 + r) * p.pairs * 2 + 2 * kp];
        const int32_t a1 = p.a[(i0 + r) * p.pairs * 2 + 2 * kp + 1];
        for (int64_t j = 0; j < kColumnTile; ++j) acc[r][j] += a0 * bp[2 * j] + a1 * bp[2 * j + 1];
      }
    }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < kColumnTile; ++j) total[r][j] += acc[r][j];
  }
  StoreTile(c, total, i0, rows, j0, std::min(kColumnTile, n - j0), n);
}

// The 8-bit forward tile without VNNI (the same int32 sums, see TileU8Vnni).
__attribute__((target_clones("avx2", "default")))
void TileU8Generic(const uint8_t* a, int64_t ld, const int8_t* bq, int64_t n_padded, int64_t i0, int64_t rows,
                   int64_t j0, int64_t n, const COut& c) {
  int32_t acc[kRowTile][kColumnTile] = {};
  for (int64_t kq = 0; kq < ld / 4; ++kq) {
    const int8_t* bp = bq + (kq * n_padded + j0) * 4;
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t* ap = a + (i0 + r) * ld + 4 * kq;
      for (int64_t j = 0; j < kColumnTile; ++j) {
        acc[r][j] += int32_t{ap[0]} * bp[4 * j] + int32_t{ap[1]} * bp[4 * j + 1] + int32_t{ap[2]} * bp[4 * j + 2] +
                     int32_t{ap[3]} * bp[4 * j + 3];
      }
    }
  }
  StoreTile(c, acc, i0, rows, j0, std::min(kColumnTile, n - j0), n);
}

// ---------------------------------------------------------------------------------------
// AVX-512 VNNI path. vpdpwssd adds the two products of a broadcast k-pair of A with a
// k-pair of B into each int32 lane (wrapping, never reached: see the header).

// GCC 12 warns that the cast intrinsics read an "uninitialized" upper half inside its own
// headers (a false positive: every vector is set before use).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// NV = number of 16-column vectors per tile (1 for narrow C, else 2).
template <int NV>
__attribute__((target("avx512f,avx512bw,avx512vnni")))
void TileVnni(const Packed& p, int64_t i0, int64_t rows, int64_t j0, int64_t n, const COut& c) {
  __m512i total[kRowTile][2 * NV];  // int64 sums: 16 NV columns = 2 NV vectors of 8
  for (int64_t r = 0; r < kRowTile; ++r)
    for (int v = 0; v < 2 * NV; ++v) total[r][v] = _mm512_setzero_si512();
  const int64_t a_stride = p.pairs * 2;
  for (int64_t kp0 = 0; kp0 < p.pairs; kp0 += kPairBlock) {
    const int64_t kp1 = std::min(p.pairs, kp0 + kPairBlock);
    __m512i acc[kRowTile][NV];
    for (int64_t r = 0; r < kRowTile; ++r)
      for (int h = 0; h < NV; ++h) acc[r][h] = _mm512_setzero_si512();
    for (int64_t kp = kp0; kp < kp1; ++kp) {
      const int16_t* bp = p.b + (kp * p.n_padded + j0) * 2;
      __m512i bv[NV];
      for (int h = 0; h < NV; ++h) bv[h] = _mm512_loadu_si512(bp + 32 * h);
      const int16_t* ap = p.a + i0 * a_stride + 2 * kp;
      for (int64_t r = 0; r < kRowTile; ++r) {  // rows beyond `rows` repeat row i0 (unused)
        int32_t pair;
        std::memcpy(&pair, ap + (r < rows ? r : 0) * a_stride, sizeof(pair));
        const __m512i av = _mm512_set1_epi32(pair);
        for (int h = 0; h < NV; ++h) acc[r][h] = _mm512_dpwssd_epi32(acc[r][h], av, bv[h]);
      }
    }
    for (int64_t r = 0; r < kRowTile; ++r) {
      for (int h = 0; h < NV; ++h) {
        total[r][2 * h] = _mm512_add_epi64(total[r][2 * h], _mm512_cvtepi32_epi64(_mm512_castsi512_si256(acc[r][h])));
        total[r][2 * h + 1] =
            _mm512_add_epi64(total[r][2 * h + 1], _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(acc[r][h], 1)));
      }
    }
  }
  // The packed B interleaves pairs, so lane l of acc[r][h] is column j0 + 16 h + l.
  alignas(64) int64_t out[kRowTile][16 * NV];
  for (int64_t r = 0; r < rows; ++r) {
    for (int v = 0; v < 2 * NV; ++v) _mm512_store_si512(out[r] + 8 * v, total[r][v]);
  }
  StoreTile(c, out, i0, rows, j0, std::min<int64_t>(16 * NV, n - j0), n);
}

// Panel path for a short, deep GEMM (few rows m, long reduction: the weight gradient,
// m = K_out, k = N OH OW). The row tiles of TileVnni would each stream the whole packed B
// from memory; here one task takes one column tile (32 columns) and one segment of the
// reduction, and runs every row tile on each kPairBlock-pair block of B while that block
// (8 KB) is in L1, so B is read from memory once. The lanes and their int32 blocks are the
// same as TileVnni's (at most kPairBlock pairs per int32 lane: exact); the int64 sums of
// the segments are added afterwards, exact in any order.
__attribute__((target("avx512f,avx512bw,avx512vnni")))
void PanelVnni(const Packed& p, int64_t m, int64_t kp_begin, int64_t kp_end, int64_t j0, int64_t* sums) {
  // sums [m][32] (int64), zeroed by the caller; column j0 + v of row i is sums[i * 32 + v].
  const int64_t a_stride = p.pairs * 2;
  for (int64_t kp0 = kp_begin; kp0 < kp_end; kp0 += kPairBlock) {
    const int64_t kp1 = std::min(kp_end, kp0 + kPairBlock);
    for (int64_t i0 = 0; i0 < m; i0 += kRowTile) {
      const int64_t rows = std::min(kRowTile, m - i0);
      __m512i acc[kRowTile][2];
      for (int64_t r = 0; r < kRowTile; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
      for (int64_t kp = kp0; kp < kp1; ++kp) {
        const int16_t* bp = p.b + (kp * p.n_padded + j0) * 2;
        const __m512i b0 = _mm512_loadu_si512(bp), b1 = _mm512_loadu_si512(bp + 32);
        const int16_t* ap = p.a + i0 * a_stride + 2 * kp;
        for (int64_t r = 0; r < kRowTile; ++r) {  // rows beyond `rows` repeat row i0 (unused)
          int32_t pair;
          std::memcpy(&pair, ap + (r < rows ? r : 0) * a_stride, sizeof(pair));
          const __m512i av = _mm512_set1_epi32(pair);
          acc[r][0] = _mm512_dpwssd_epi32(acc[r][0], av, b0);
          acc[r][1] = _mm512_dpwssd_epi32(acc[r][1], av, b1);
        }
      }
      for (int64_t r = 0; r < rows; ++r) {
        int64_t* row = sums + (i0 + r) * 32;
        for (int h = 0; h < 2; ++h) {
          const __m512i lo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(acc[r][h]));
          const __m512i hi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(acc[r][h], 1));
          _mm512_storeu_si512(row + 16 * h, _mm512_add_epi64(_mm512_loadu_si512(row + 16 * h), lo));
          _mm512_storeu_si512(row + 16 * h + 8, _mm512_add_epi64(_mm512_loadu_si512(row + 16 * h + 8), hi));
        }
      }
    }
  }
}

// Forward path with 8-bit operands: x1 = W_q x0 multiplies unsigned activations (0..255)
// by signed weights (-127..127). vpdpbusd adds four such products to an int32 lane; it
// widens each product and only an int32 overflow could wrap it (unlike vpdpbusds and
// pmaddubsw, nothing saturates). Every partial sum of x1 is at most K * 255 * 127 < 2^31
// in magnitude for K <= 8192 (checked when the network is built, docs/numerics.md), so the
// int32 lanes hold the whole reduction exactly: no blocks, no widening.
// A = the lowered x0, [P][ld] bytes (ld = K rounded up to 4, zero beyond K); B = W_q packed
// in quads along k, Bq[kq][j][t] = W_q[j][4 kq + t], zero beyond K and beyond n.
template <int NV>
__attribute__((target("avx512f,avx512bw,avx512vnni")))
void TileU8Vnni(const uint8_t* a, int64_t ld, const int8_t* bq, int64_t n_padded, int64_t i0, int64_t rows, int64_t j0,
                int64_t n, const COut& c) {
  __m512i acc[kRowTile][NV];
  for (int64_t r = 0; r < kRowTile; ++r)
    for (int h = 0; h < NV; ++h) acc[r][h] = _mm512_setzero_si512();
  const int64_t quads = ld / 4;
  for (int64_t kq = 0; kq < quads; ++kq) {
    const int8_t* bp = bq + (kq * n_padded + j0) * 4;
    __m512i bv[NV];
    for (int h = 0; h < NV; ++h) bv[h] = _mm512_loadu_si512(bp + 64 * h);
    const uint8_t* ap = a + i0 * ld + 4 * kq;
    for (int64_t r = 0; r < kRowTile; ++r) {  // rows beyond `rows` repeat row i0 (unused)
      int32_t quad;
      std::memcpy(&quad, ap + (r < rows ? r : 0) * ld, sizeof(quad));
      const __m512i av = _mm512_set1_epi32(quad);
      for (int h = 0; h < NV; ++h) acc[r][h] = _mm512_dpbusd_epi32(acc[r][h], av, bv[h]);
    }
  }
  alignas(64) int32_t out[kRowTile][16 * NV];
  for (int64_t r = 0; r < rows; ++r) {
    for (int h = 0; h < NV; ++h) _mm512_store_si512(out[r] + 16 * h, acc[r][h]);
  }
  StoreTile(c, out, i0, rows, j0, std::min<int64_t>(16 * NV, n - j0), n);
}

#pragma GCC diagnostic pop

bool UseVnni() {
  // OCTET_GEMM=generic forces the portable path (the tests check both paths).
  static const bool use = [] {
    const char* env = std::getenv("OCTET_GEMM");
    if (env != nullptr && std::strcmp(env, "generic") == 0) return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
  }();
  return use;
}

// ---------------------------------------------------------------------------------------
// Lowering helpers.

// The integer kernels lower channels-last: the lowered column index is
// k' = (r S + s) C + c (channel fastest) instead of the weight's k = (c R + r) S + s. All
// three GEMMs are exact integer sums, so this reordering of the reduction changes no bit
// (docs/numerics.md, section 10); it lets each kernel row r of a lowered row be one
// contiguous copy of S C elements instead of S C single-element copies.

// The weight index k = (c R + r) S + s of lowered column k' = (r S + s) C + c.
inline int64_t WeightIndexOfLowered(const ConvGeometry& g, int64_t k_lowered) {
  const int64_t c = k_lowered % g.in_channels, tap = k_lowered / g.in_channels;
  return c * g.kernel * g.kernel + tap;
}

// out[n][h][w][c] = in[n][c][h][w].
template <typename T>
void ToChannelsLast(int64_t batch, int64_t channels, int64_t height, int64_t width, const T* in, T* out) {
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t h = 0; h < height; ++h) {
      T* dst = out + (n * height + h) * width * channels;
      const T* src = in + (n * channels * height + h) * width;
      for (int64_t c = 0; c < channels; ++c) {
        const T* line = src + c * height * width;
        for (int64_t w = 0; w < width; ++w) dst[w * channels + c] = line[w];
      }
    }
  }
}

// im2col in [p][k'] order from a channels-last input x [N][H][W][C], rows ld >= K elements
// apart (the elements beyond K are set to 0); padding reads as 0.
template <typename T>
void Im2Col(const ConvGeometry& g, const T* x, T* col, int64_t ld) {
  const int64_t oh_n = g.out_height(), ow_n = g.out_width(), kk = g.gemm_k();
  const int64_t channels = g.in_channels, kernel = g.kernel, height = g.in_height, width = g.in_width;
  const int64_t run = kernel * channels;  // one kernel row of a lowered row
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t oh = 0; oh < oh_n; ++oh) {
      const int64_t ih0 = oh * g.stride - g.pad;
      for (int64_t ow = 0; ow < ow_n; ++ow) {
        T* row = col + ((n * oh_n + oh) * ow_n + ow) * ld;
        const int64_t iw0 = ow * g.stride - g.pad;
        // Taps s in [s_lo, s_hi) read inside the image's width; the rest are padding.
        const int64_t s_lo = std::clamp<int64_t>(-iw0, 0, kernel);
        const int64_t s_hi = std::clamp<int64_t>(width - iw0, s_lo, kernel);
        for (int64_t r = 0; r < kernel; ++r, row += run) {
          const int64_t ih = ih0 + r;
          if (ih < 0 || ih >= height) {
            std::fill_n(row, run, T{0});
            continue;
          }
          std::fill_n(row, s_lo * channels, T{0});
          if (s_hi > s_lo) {
            const T* src = x + ((n * height + ih) * width + iw0 + s_lo) * channels;
            std::memcpy(row + s_lo * channels, src, (s_hi - s_lo) * channels * sizeof(T));
          }
          std::fill(row + s_hi * channels, row + run, T{0});
        }
        std::fill(row, row + (ld - kk), T{0});  // none when K is a multiple of 4
      }
    }
  }
}

// The lowered x0 of conv g: x0 [N][C][H][W] made channels-last, then im2col'd into `out`.
void LowerInput(const ConvGeometry& g, const uint8_t* x0, LoweredInput& out) {
  thread_local std::vector<uint8_t> hwc_buffer;  // keeps its storage: every element written
  uint8_t* hwc = ThreadBuffer(hwc_buffer, g.input_count());
  ToChannelsLast(g.batch, g.in_channels, g.in_height, g.in_width, x0, hwc);
  out.ld = (g.gemm_k() + 3) / 4 * 4;
  if (static_cast<int64_t>(out.col.size()) < g.gemm_n() * out.ld) out.col.resize(g.gemm_n() * out.ld);
  Im2Col(g, hwc, out.col.data(), out.ld);
}

// The outputs o in [0, count) with 0 <= o stride - offset < size: [lo, hi).
std::pair<int64_t, int64_t> InsideRange(int64_t offset, int64_t size, int64_t stride, int64_t count) {
  int64_t lo = 0;
  while (lo < count && lo * stride - offset < 0) ++lo;
  int64_t hi = count;
  while (hi > lo && (hi - 1) * stride - offset >= size) --hi;
  return {lo, hi};
}

// e3 [N][K_out][pix] -> [K_out][N * pix].
std::vector<int16_t> ChannelMajor(const ConvGeometry& g, const int16_t* e3) {
  const int64_t pix = g.out_height() * g.out_width();
  std::vector<int16_t> out(g.out_channels * g.gemm_n());
#pragma omp parallel for schedule(static)
  for (int64_t ko = 0; ko < g.out_channels; ++ko) {
    for (int64_t n = 0; n < g.batch; ++n) {
      std::copy_n(e3 + (n * g.out_channels + ko) * pix, pix, out.data() + ko * g.gemm_n() + n * pix);
    }
  }
  return out;
}

template <typename TB = int16_t>
void Gemm(int64_t m, int64_t n, int64_t k, const int16_t* a, const TB* b, BLayout layout, const COut& c,
          int64_t ldb = -1) {
  if (m == 0 || n == 0) return;
  const Packed p = Pack(m, n, k, a, b, layout, ldb < 0 ? n : ldb);
  const int64_t tiles_i = (m + kRowTile - 1) / kRowTile;
  const bool vnni = UseVnni();
  if (vnni && m <= kPanelRows && p.pairs >= kPanelMinPairs && c.row_major != nullptr) {
    // Short, deep GEMM: PanelVnni over (column tile, reduction segment) tasks, at least
    // 8 of them so that the threads share the work evenly; then the segments' sums.
    const int64_t tiles_j = p.n_padded / kColumnTile;
    const int64_t blocks = (p.pairs + kPairBlock - 1) / kPairBlock;
    const int64_t segments = std::min(blocks, (8 + tiles_j - 1) / tiles_j);
    const int64_t blocks_per_segment = (blocks + segments - 1) / segments;
    thread_local std::vector<int64_t> sums_buffer;
    int64_t* sums = ThreadBuffer(sums_buffer, segments * tiles_j * m * kColumnTile);
    std::fill_n(sums, segments * tiles_j * m * kColumnTile, int64_t{0});
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t seg = 0; seg < segments; ++seg) {
      for (int64_t tj = 0; tj < tiles_j; ++tj) {
        const int64_t kp_begin = std::min(p.pairs, seg * blocks_per_segment * kPairBlock);
        const int64_t kp_end = std::min(p.pairs, (seg + 1) * blocks_per_segment * kPairBlock);
        PanelVnni(p, m, kp_begin, kp_end, tj * kColumnTile, sums + (seg * tiles_j + tj) * m * kColumnTile);
      }
    }
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        const int64_t tj = j / kColumnTile, v = j % kColumnTile;
        int64_t total = 0;
        for (int64_t seg = 0; seg < segments; ++seg) total += sums[((seg * tiles_j + tj) * m + i) * kColumnTile + v];
        c.row_major[i * n + (c.column_of != nullptr ? c.column_of[j] : j)] = total;
      }
    }
    return;
  }
  const int64_t width = vnni && n <= 16 ? 16 : kColumnTile;  // narrow C: one vector per row
  const int64_t tiles_j = (n + width - 1) / width;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t tj = 0; tj < tiles_j; ++tj) {
    for (int64_t ti = 0; ti < tiles_i; ++ti) {
      const int64_t i0 = ti * kRowTile, rows = std::min(kRowTile, m - i0), j0 = tj * width;
      if (!vnni) {
        TileGeneric(p, i0, rows, j0, n, c);
      } else if (width == 16) {
        TileVnni<1>(p, i0, rows, j0, n, c);
      } else {
        TileVnni<2>(p, i0, rows, j0, n, c);
      }
    }
  }
}

}  // namespace

void GemmInt16(int64_t m, int64_t n, int64_t k, const int16_t* a, const int16_t* b, BLayout layout, int64_t* c) {
  Gemm(m, n, k, a, b, layout, COut{.row_major = c});
}

void ConvForwardInt(const ConvGeometry& g, const uint8_t* x0, const int8_t* wq, int32_t* x1, LoweredInput* keep) {
  const int64_t kk = g.gemm_k(), pn = g.gemm_n(), ko_n = g.out_channels;
  // The int32 lanes are exact while K * 255 * 127 < 2^31 (the layers check K <= 8192).
  if (kk * 255 * 127 > INT32_MAX) Fail("forward GEMM: reduction length {} exceeds the int32 bound of x1", kk);
  LoweredInput local;
  LoweredInput& lowered = keep ? *keep : local;
  LowerInput(g, x0, lowered);
  // C^T [P][K_out] = col [P][K] * W^T: the large lowered input is the broadcast operand,
  // the small weight matrix the packed one (quads along k', zero-padded).
  const int64_t n_padded = (ko_n + kColumnTile - 1) / kColumnTile * kColumnTile, quads = lowered.ld / 4;
  std::vector<int8_t> bq(quads * n_padded * 4, 0);
  for (int64_t j = 0; j < ko_n; ++j) {
    for (int64_t k = 0; k < kk; ++k) bq[((k / 4) * n_padded + j) * 4 + k % 4] = wq[j * kk + WeightIndexOfLowered(g, k)];
  }
  // C^T rows run over (image, pixel): the tiles write x1 [N][K_out][OH][OW] directly.
  const COut c{.nchw32 = x1, .pix = g.out_height() * g.out_width()};
  const bool vnni = UseVnni();
  const int64_t width = vnni && ko_n <= 16 ? 16 : kColumnTile;  // narrow C: one vector per row
  const int64_t tiles_i = (pn + kRowTile - 1) / kRowTile, tiles_j = (ko_n + width - 1) / width;
  const uint8_t* a = lowered.col.data();
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t tj = 0; tj < tiles_j; ++tj) {
    for (int64_t ti = 0; ti < tiles_i; ++ti) {
      const int64_t i0 = ti * kRowTile, rows = std::min(kRowTile, pn - i0), j0 = tj * width;
      if (!vnni) {
        TileU8Generic(a, lowered.ld, bq.data(), n_padded, i0, rows, j0, ko_n, c);
      } else if (width == 16) {
        TileU8Vnni<1>(a, lowered.ld, bq.data(), n_padded, i0, rows, j0, ko_n, c);
      } else {
        TileU8Vnni<2>(a, lowered.ld, bq.data(), n_padded, i0, rows, j0, ko_n, c);
      }
    }
  }
}

void ConvErrorInt(const ConvGeometry& g, const int8_t* wq, const int16_t* e3, int64_t* e4) {
  const int64_t kk = g.gemm_k(), ko_n = g.out_channels, rs = g.kernel * g.kernel;
  if (g.stride == 1 && 2 * g.pad == g.kernel - 1) {
    // Same-size stride-1 conv: the input gradient is itself a conv of e3 with the
    // weights transposed (C <-> K_out) and rotated by 180 degrees, same padding.
    // e4[n][c][h][w] = sum_{ko,r,s} W[ko][c][r][s] e3[n][ko][h + pad - r][w + pad - s].
    const ConvGeometry t{g.batch, ko_n, g.out_height(), g.out_width(), g.in_channels, g.kernel, 1, g.pad};
    // w_t [C][(r S + s) K_out + ko] = W[ko][c][R-1-r][S-1-s]: t's lowered order, rotated.
    std::vector<int16_t> w_t(g.in_channels * ko_n * rs);
    for (int64_t ko = 0; ko < ko_n; ++ko)
      for (int64_t c = 0; c < g.in_channels; ++c)
        for (int64_t q = 0; q < rs; ++q) w_t[(c * rs + (rs - 1 - q)) * ko_n + ko] = wq[(ko * g.in_channels + c) * rs + q];
    thread_local std::vector<int16_t> hwc_buffer, col_buffer;  // keep their storage: every element written
    int16_t* hwc = ThreadBuffer(hwc_buffer, t.input_count());
    ToChannelsLast(t.batch, t.in_channels, t.in_height, t.in_width, e3, hwc);
    int16_t* col = ThreadBuffer(col_buffer, t.gemm_n() * t.gemm_k());
    Im2Col(t, hwc, col, t.gemm_k());
    Gemm(t.gemm_n(), g.in_channels, t.gemm_k(), col, w_t.data(), BLayout::kNK,
         COut{.nchw64 = e4, .pix = g.in_height * g.in_width});
    return;
  }
  // General case, one image at a time (images in parallel): dcol^T [K][pix] = W_q^T e3_n,
  // with e3_n = e3 of image n, already [K_out][pix]; then col2im into the planes of image n.
  // The image's dcol stays in this thread's cache, and only this thread writes image n.
  const int64_t oh_n = g.out_height(), ow_n = g.out_width(), pix = oh_n * ow_n;
  const int64_t image_size = g.in_channels * g.in_height * g.in_width;
  std::vector<int16_t> w_t(kk * ko_n);
  for (int64_t ko = 0; ko < ko_n; ++ko)
    for (int64_t k = 0; k < kk; ++k) w_t[k * ko_n + ko] = wq[ko * kk + k];
#pragma omp parallel
  {
    const auto dcol_t = std::make_unique_for_overwrite<int64_t[]>(kk * pix);  // every element written
#pragma omp for schedule(static)
    for (int64_t n = 0; n < g.batch; ++n) {
      GemmInt16(kk, pix, ko_n, w_t.data(), e3 + n * ko_n * pix, BLayout::kKN, dcol_t.get());  // serial: nested
      int64_t* image = e4 + n * image_size;
      std::fill_n(image, image_size, 0);
      for (int64_t c = 0; c < g.in_channels; ++c) {
        int64_t* plane = image + c * g.in_height * g.in_width;
        for (int64_t r = 0; r < g.kernel; ++r) {
          for (int64_t s = 0; s < g.kernel; ++s) {
            const int64_t* row = dcol_t.get() + ((c * g.kernel + r) * g.kernel + s) * pix;
            // Outputs whose input position ih = oh stride - pad + r (iw likewise) is inside.
            const auto [oh_lo, oh_hi] = InsideRange(g.pad - r, g.in_height, g.stride, oh_n);
            const auto [ow_lo, ow_hi] = InsideRange(g.pad - s, g.in_width, g.stride, ow_n);
            for (int64_t oh = oh_lo; oh < oh_hi; ++oh) {
              int64_t* dst = plane + (oh * g.stride - g.pad + r) * g.in_width - g.pad + s;
              const int64_t* src = row + oh * ow_n;
              for (int64_t ow = ow_lo; ow < ow_hi; ++ow) dst[ow * g.stride] += src[ow];
            }
          }
        }
      }
    }
  }
}

void ConvWeightGradInt(const ConvGeometry& g, const int16_t* e3, const uint8_t* x0, int64_t* g_w,
                       const LoweredInput* lowered) {
  const int64_t kk = g.gemm_k(), pn = g.gemm_n();
  LoweredInput local;
  if (lowered == nullptr) {
    LowerInput(g, x0, local);
    lowered = &local;
  }
  const std::vector<int16_t> e3_cm = ChannelMajor(g, e3);  // [K_out][P]
  // g_W [K_out][K] = e3 [K_out][P] * col [P][K']: the reduction runs over p; packing widens
  // the lowered bytes to int16; column k' of the product is weight index k of g_W.
  std::vector<int64_t> column_of(kk);
  for (int64_t k = 0; k < kk; ++k) column_of[k] = WeightIndexOfLowered(g, k);
  Gemm(g.out_channels, kk, pn, e3_cm.data(), lowered->col.data(), BLayout::kKN,
       COut{.row_major = g_w, .column_of = column_of.data()}, lowered->ld);
}

}  // namespace octet
