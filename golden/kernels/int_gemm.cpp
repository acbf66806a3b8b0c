#include "golden/kernels/int_gemm.h"

#include <omp.h>

#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <type_traits>
#include <utility>

#include "golden/core/error.h"
#include "golden/core/vector_clones.h"

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

// Where a GEMM's C goes: row-major [m][n] int64 (column j at column_of[j] if given), or,
// for a C whose rows run over the pixels of a grid of images, straight into an NCHW tensor
// (int32 for the forward x1, int64 for the error e4): row i = (image, gi, gj) of a grid_h x
// grid_w grid, column j, lands at out[(image n + j) plane_pix + origin + step (gi plane_w +
// gj)], so no [P][n] intermediate and no transpose pass. The plain case is the grid equal to
// the plane (step 1, origin 0); the error's stride phases write every step-th pixel.
struct COut {
  int64_t* row_major = nullptr;
  const int64_t* column_of = nullptr;
  int32_t* nchw32 = nullptr;
  int64_t* nchw64 = nullptr;
  int64_t grid_w = 1, grid_pix = 1, plane_w = 1, plane_pix = 1, step = 1, origin = 0;
};

// The packed operands live in per-thread buffers that keep their storage from one GEMM to
// the next (GEMMs run on the calling thread's buffers; nested calls from a parallel loop
// each use their own thread's), so packing neither allocates nor zero-fills memory it
// overwrites: only the padding is written as zeros.
struct PackedB {
  const int16_t* b = nullptr;  // Bp[kp][j][t] = B(2 kp + t, j), zero beyond k and n
  int64_t pairs = 0, n_padded = 0;
};

template <typename T>
T* ThreadBuffer(std::vector<T>& buffer, int64_t count) {
  if (static_cast<int64_t>(buffer.size()) < count) buffer.resize(count);
  return buffer.data();
}

PackedB PackedShape(int64_t n, int64_t k) {
  PackedB p;
  p.pairs = (k + 1) / 2;
  p.n_padded = (n + kColumnTile - 1) / kColumnTile * kColumnTile;
  return p;
}

// A [m][k] with rows padded to whole pairs (2 pairs elements apart): A itself when k is even.
const int16_t* PadA(int64_t m, int64_t k, const int16_t* a) {
  if (k % 2 == 0) return a;
  thread_local std::vector<int16_t> a_buffer;
  const int64_t stride = k + 1;
  int16_t* a_padded = ThreadBuffer(a_buffer, m * stride);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < m; ++i) {
    std::copy_n(a + i * k, k, a_padded + i * stride);
    a_padded[i * stride + k] = 0;  // the padding element of the last pair
  }
  return a_padded;
}

// Packs k-pair kp of B from its two rows (row1 null beyond k): B(2 kp + t, j) = row_t[j],
// widened exactly to int16.
template <typename TB>
void PackPair(const TB* __restrict row0, const TB* __restrict row1, int64_t n, int64_t n_padded,
              int16_t* __restrict dst) {
  if (row1 != nullptr) {
    for (int64_t j = 0; j < n; ++j) {
      dst[2 * j] = static_cast<int16_t>(row0[j]);
      dst[2 * j + 1] = static_cast<int16_t>(row1[j]);
    }
  } else {
    for (int64_t j = 0; j < n; ++j) {
      dst[2 * j] = static_cast<int16_t>(row0[j]);
      dst[2 * j + 1] = 0;
    }
  }
  std::fill(dst + 2 * n, dst + 2 * n_padded, int16_t{0});  // padding columns
}

// b: B as `layout` says; for kKN its rows (index k) are ldb elements apart.
PackedB PackB(int64_t n, int64_t k, const int16_t* b, BLayout layout, int64_t ldb) {
  thread_local std::vector<int16_t> b_buffer;
  PackedB p = PackedShape(n, k);
  const int64_t pairs = p.pairs, n_padded = p.n_padded;
  int16_t* bp = ThreadBuffer(b_buffer, pairs * n_padded * 2);
  p.b = bp;
  if (layout == BLayout::kKN) {
#pragma omp parallel for schedule(static)
    for (int64_t kp = 0; kp < pairs; ++kp) {
      PackPair(b + (2 * kp) * ldb, 2 * kp + 1 < k ? b + (2 * kp + 1) * ldb : nullptr, n, n_padded,
               bp + kp * n_padded * 2);
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

// The A rows of one tile: k-group g (a k-pair of int16 or a k-quad of bytes) of row r starts
// at row[r] + offset[g]. A stored matrix has row[r] = its row i0 + r and offset[g] = g times
// the group size; an implicit lowering (no im2col) has row[r] at the window of lowered row
// i0 + r in a padded channels-last source and offset[g] at a tap and channel of that window.
// Rows past the tile's last repeat row 0 (computed, never stored).
template <typename T>
struct ARows {
  const T* row[kRowTile];
  const int64_t* offset;
};

// offset[g] = kGroup g for g < groups, in a table that this thread keeps.
template <int64_t kGroup>
const int64_t* StoredOffsets(int64_t groups) {
  thread_local std::vector<int64_t> table;
  for (auto g = static_cast<int64_t>(table.size()); g < groups; ++g) table.push_back(kGroup * g);
  return table.data();
}

// The tile rows [i0, i0 + rows) of a stored matrix (first = row i0, stride elements apart).
template <int64_t kGroup, typename T>
ARows<T> StoredRows(const T* first, int64_t stride, int64_t rows, int64_t groups) {
  ARows<T> a;
  for (int64_t r = 0; r < kRowTile; ++r) a.row[r] = first + (r < rows ? r : 0) * stride;
  a.offset = StoredOffsets<kGroup>(groups);
  return a;
}

bool UseVnni();

// GCC 12 warns that the cast intrinsics read an "uninitialized" upper half inside its own
// headers (a false positive: every vector is set before use).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

// One 8 x 8 block of a transpose into strided rows: dst[j * dst_stride + r] = src[r *
// src_stride + j] (r, j < 8), a tile's eight consecutive pixels of eight channels into the
// channels' planes, with unpacks and lane permutes instead of 64 scalar stores (the SSE2
// TransposeBlock8 below does the same for the lowering's 16- and 8-bit elements). int32:
// eight 256-bit rows.
__attribute__((target("avx2"))) inline void TransposeBlock8(const int32_t* src, int64_t src_stride, int32_t* dst,
                                                                int64_t dst_stride) {
  __m256i row[8], pair[8], quad[8];
  for (int r = 0; r < 8; ++r) row[r] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + r * src_stride));
  for (int r = 0; r < 8; r += 2) {  // pairs of rows interleaved: (r, r + 1) element by element
    pair[r] = _mm256_unpacklo_epi32(row[r], row[r + 1]);      // columns 0, 1 | 4, 5
    pair[r + 1] = _mm256_unpackhi_epi32(row[r], row[r + 1]);  // columns 2, 3 | 6, 7
  }
  for (int r = 0; r < 8; r += 4) {  // quads of rows: one column's four values per 128-bit half
    quad[r] = _mm256_unpacklo_epi64(pair[r], pair[r + 2]);          // column 0 | 4
    quad[r + 1] = _mm256_unpackhi_epi64(pair[r], pair[r + 2]);      // column 1 | 5
    quad[r + 2] = _mm256_unpacklo_epi64(pair[r + 1], pair[r + 3]);  // column 2 | 6
    quad[r + 3] = _mm256_unpackhi_epi64(pair[r + 1], pair[r + 3]);  // column 3 | 7
  }
  for (int j = 0; j < 4; ++j) {  // rows 0-3 from quad[j], rows 4-7 from quad[4 + j]
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + j * dst_stride),
                        _mm256_permute2x128_si256(quad[j], quad[4 + j], 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + (j + 4) * dst_stride),
                        _mm256_permute2x128_si256(quad[j], quad[4 + j], 0x31));
  }
}

// The same for int64: eight 512-bit rows, pairs interleaved by 64-bit unpacks, then 128-bit
// lanes gathered by two rounds of vshufi64x2.
__attribute__((target("avx512f"))) inline void TransposeBlock8(const int64_t* src, int64_t src_stride, int64_t* dst,
                                                                   int64_t dst_stride) {
  __m512i row[8], pair[8], half[8];
  for (int r = 0; r < 8; ++r) row[r] = _mm512_loadu_si512(src + r * src_stride);
  for (int r = 0; r < 8; r += 2) {
    pair[r] = _mm512_unpacklo_epi64(row[r], row[r + 1]);      // columns 0 | 2 | 4 | 6 of rows r, r + 1
    pair[r + 1] = _mm512_unpackhi_epi64(row[r], row[r + 1]);  // columns 1 | 3 | 5 | 7
  }
  for (int h = 0; h < 2; ++h) {  // h = 0: even columns, 1: odd columns
    // Rows 0-3: lanes (c, c + 4) of rows 0-1 then of rows 2-3; likewise rows 4-7.
    half[4 * h] = _mm512_shuffle_i64x2(pair[h], pair[2 + h], 0x88);          // columns 0, 4 (+h)
    half[4 * h + 1] = _mm512_shuffle_i64x2(pair[h], pair[2 + h], 0xDD);      // columns 2, 6 (+h)
    half[4 * h + 2] = _mm512_shuffle_i64x2(pair[4 + h], pair[6 + h], 0x88);  // rows 4-7: columns 0, 4
    half[4 * h + 3] = _mm512_shuffle_i64x2(pair[4 + h], pair[6 + h], 0xDD);  // rows 4-7: columns 2, 6
    const int c0 = h, c2 = 2 + h;
    _mm512_storeu_si512(dst + c0 * dst_stride, _mm512_shuffle_i64x2(half[4 * h], half[4 * h + 2], 0x88));
    _mm512_storeu_si512(dst + (c0 + 4) * dst_stride, _mm512_shuffle_i64x2(half[4 * h], half[4 * h + 2], 0xDD));
    _mm512_storeu_si512(dst + c2 * dst_stride, _mm512_shuffle_i64x2(half[4 * h + 1], half[4 * h + 3], 0x88));
    _mm512_storeu_si512(dst + (c2 + 4) * dst_stride, _mm512_shuffle_i64x2(half[4 * h + 1], half[4 * h + 3], 0xDD));
  }
}

#pragma GCC diagnostic pop

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
  int64_t image = i0 / out.grid_pix, q = i0 % out.grid_pix;
  if (out.step == 1 && out.plane_w == out.grid_w && q + rows <= out.grid_pix) {
    // The rows are consecutive pixels of one image's planes (no phase gaps): each column
    // goes to one run of `rows` elements of its channel's plane.
    const int64_t base = image * n * out.plane_pix + out.origin + q;
    if constexpr (std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t>) {
      T* planes = nullptr;  // the output planes when their elements are the tile's type
      if constexpr (std::is_same_v<T, int32_t>) {
        planes = out.nchw32;
      } else {
        planes = out.nchw64;
      }
      if (planes != nullptr && rows == 8 && cols % 8 == 0 && UseVnni()) {  // a full tile
        for (int64_t j = 0; j < cols; j += 8) {
          TransposeBlock8(&tile[0][j], kWidth, planes + base + (j0 + j) * out.plane_pix, out.plane_pix);
        }
        return;
      }
    }
    for (int64_t j = 0; j < cols; ++j) {
      if (out.nchw32 != nullptr) {
        int32_t* dst = out.nchw32 + base + (j0 + j) * out.plane_pix;
        for (int64_t r = 0; r < rows; ++r) dst[r] = static_cast<int32_t>(tile[r][j]);  // exact: see below
      } else {
        int64_t* dst = out.nchw64 + base + (j0 + j) * out.plane_pix;
        for (int64_t r = 0; r < rows; ++r) dst[r] = tile[r][j];
      }
    }
    return;
  }
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t gi = q / out.grid_w, gj = q % out.grid_w;
    const int64_t base = image * n * out.plane_pix + out.origin + out.step * (gi * out.plane_w + gj);
    if (out.nchw32 != nullptr) {
      // The forward x1: |x1| <= K * 127 * 255 < 2^31 (K bound checked when the network is
      // built), so the narrowing is exact.
      for (int64_t j = 0; j < cols; ++j) out.nchw32[base + (j0 + j) * out.plane_pix] = static_cast<int32_t>(tile[r][j]);
    } else {
      for (int64_t j = 0; j < cols; ++j) out.nchw64[base + (j0 + j) * out.plane_pix] = tile[r][j];
    }
    if (++q == out.grid_pix) {
      q = 0;
      ++image;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Portable path: the same blocking, plain int32 loops (GCC vectorises the j loop).

// a: row i0 of A, rows a_stride elements apart.
__attribute__((target_clones("avx2", "default")))
void TileGeneric(const PackedB& p, const ARows<int16_t>& a, int64_t i0, int64_t rows, int64_t j0, int64_t n,
                 const COut& c) {
  int64_t total[kRowTile][kColumnTile] = {};
  int32_t acc[kRowTile][kColumnTile];
  for (int64_t kp0 = 0; kp0 < p.pairs; kp0 += kPairBlock) {
    const int64_t kp1 = std::min(p.pairs, kp0 + kPairBlock);
    std::memset(acc, 0, sizeof(acc));
    for (int64_t kp = kp0; kp < kp1; ++kp) {
      const int16_t* bp = p.b + (kp * p.n_padded + j0) * 2;
      for (int64_t r = 0; r < rows; ++r) {
        const int32_t a0 = a.row[r][a.offset[kp]];
        const int32_t a1 = a.row[r][a.offset[kp] + 1];
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
void TileU8Generic(const ARows<uint8_t>& a, int64_t quads, const int8_t* bq, int64_t n_padded, int64_t i0,
                   int64_t rows, int64_t j0, int64_t n, const COut& c) {
  int32_t acc[kRowTile][kColumnTile] = {};
  for (int64_t kq = 0; kq < quads; ++kq) {
    const int8_t* bp = bq + (kq * n_padded + j0) * 4;
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t* ap = a.row[r] + a.offset[kq];
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

// acc + the group products of a (bytes unsigned, or int16 pairs) and b (bytes signed, or
// int16 pairs) in each int32 lane: _mm512_dpbusd_epi32 / _mm512_dpwssd_epi32 as one
// instruction of inline asm. GCC 12 wraps those intrinsics' accumulators in register copies
// (three vmovdqa per vpdpwssd in these tiles, seen in the disassembly), which left the tiles
// at about half the VNNI rate; the asm form keeps each accumulator in one register.
template <bool kBytes>
__attribute__((target("avx512f,avx512vnni"))) inline __m512i DotAccumulate(__m512i acc, __m512i a, __m512i b) {
  if constexpr (kBytes) {
    asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "vm"(b));
  } else {
    asm("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(a), "vm"(b));
  }
  return acc;
}

// One k-group step of a VNNI tile: B's group row for the tile's columns (NV vectors of 64
// bytes from b), and each row's A group (a k-pair of int16 or a k-quad of bytes: 4 bytes at
// a.row[r] + offset) broadcast to every lane; vpdpbusd (bytes, kBytes) or vpdpwssd (int16)
// adds the group's products into each int32 lane.
template <int NV, bool kBytes, typename T>
__attribute__((target("avx512f,avx512bw,avx512vnni")))
inline void AccumulateGroup(__m512i (&acc)[kRowTile][NV], const ARows<T>& a, int64_t offset, const void* b) {
  __m512i bv[NV];
  for (int h = 0; h < NV; ++h) bv[h] = _mm512_loadu_si512(static_cast<const char*>(b) + 64 * h);
  for (int64_t r = 0; r < kRowTile; ++r) {
    int32_t group;
    std::memcpy(&group, a.row[r] + offset, sizeof(group));
    const __m512i av = _mm512_set1_epi32(group);
    for (int h = 0; h < NV; ++h) {
      acc[r][h] = DotAccumulate<kBytes>(acc[r][h], av, bv[h]);
    }
  }
}

// NV = number of 16-column vectors per tile (1 for narrow C, else 2).
template <int NV>
__attribute__((target("avx512f,avx512bw,avx512vnni")))
void TileVnni(const PackedB& p, const ARows<int16_t>& a, int64_t i0, int64_t rows, int64_t j0, int64_t n,
              const COut& c) {
  __m512i total[kRowTile][2 * NV];  // int64 sums: 16 NV columns = 2 NV vectors of 8
  for (int64_t r = 0; r < kRowTile; ++r)
    for (int v = 0; v < 2 * NV; ++v) total[r][v] = _mm512_setzero_si512();
  for (int64_t kp0 = 0; kp0 < p.pairs; kp0 += kPairBlock) {
    const int64_t kp1 = std::min(p.pairs, kp0 + kPairBlock);
    __m512i acc[kRowTile][NV];
    for (int64_t r = 0; r < kRowTile; ++r)
      for (int h = 0; h < NV; ++h) acc[r][h] = _mm512_setzero_si512();
    for (int64_t kp = kp0; kp < kp1; ++kp) {
      AccumulateGroup<NV, false>(acc, a, a.offset[kp], p.b + (kp * p.n_padded + j0) * 2);
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
// from memory; here one call takes one column tile (32 columns) of a range of the
// reduction and runs every row tile on each kPairBlock-pair block of B while that block
// (16 KB) is in L1. The lanes and their int32 blocks are the same as TileVnni's (at most
// kPairBlock pairs per int32 lane: exact); the int64 sums of the ranges are added
// afterwards (AddPanelSums), exact in any order.
// b: B's packed rows from the range's first pair (n_padded columns each); a: A's rows from
// the same pair, a_stride elements apart; sums [m][32] (int64, zeroed by the caller):
// column j0 + v of row i is sums[i * 32 + v].
__attribute__((target("avx512f,avx512bw,avx512vnni")))
void PanelVnni(const int16_t* b, int64_t n_padded, const int16_t* a, int64_t a_stride, int64_t m, int64_t pairs,
               int64_t j0, int64_t* sums) {
  for (int64_t kp0 = 0; kp0 < pairs; kp0 += kPairBlock) {
    const int64_t kp1 = std::min(pairs, kp0 + kPairBlock);
    for (int64_t i0 = 0; i0 < m; i0 += kRowTile) {
      const int64_t rows = std::min(kRowTile, m - i0);
      __m512i acc[kRowTile][2];
      const int16_t* a_row[kRowTile];  // rows beyond `rows` repeat row i0 (unused)
      for (int64_t r = 0; r < kRowTile; ++r) {
        acc[r][0] = acc[r][1] = _mm512_setzero_si512();
        a_row[r] = a + (i0 + (r < rows ? r : 0)) * a_stride;
      }
      for (int64_t kp = kp0; kp < kp1; ++kp) {
        const int16_t* bp = b + (kp * n_padded + j0) * 2;
        const __m512i b0 = _mm512_loadu_si512(bp), b1 = _mm512_loadu_si512(bp + 32);
        for (int64_t r = 0; r < kRowTile; ++r) {
          int32_t pair;
          std::memcpy(&pair, a_row[r] + 2 * kp, sizeof(pair));
          const __m512i av = _mm512_set1_epi32(pair);
          acc[r][0] = DotAccumulate<false>(acc[r][0], av, b0);
          acc[r][1] = DotAccumulate<false>(acc[r][1], av, b1);
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

// The panel path's result: C(i, j) = the sum over the reduction ranges of their sums
// (sums [range][tile_j][m][32], as PanelVnni leaves them), stored row-major.
void AddPanelSums(const int64_t* sums, int64_t ranges, int64_t tiles_j, int64_t m, int64_t n, const COut& c) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const int64_t tj = j / kColumnTile, v = j % kColumnTile;
      int64_t total = 0;
      for (int64_t range = 0; range < ranges; ++range) {
        total += sums[((range * tiles_j + tj) * m + i) * kColumnTile + v];
      }
      c.row_major[i * n + (c.column_of != nullptr ? c.column_of[j] : j)] = total;
    }
  }
}

// The panel path: C [m][n] = A [m][2 pairs] (padded, see PadA) * B, B's packed rows (pairs
// of `shape`) given block by block: block_of(kp0, kp1) returns pairs [kp0, kp1) (at most
// kPairBlock of them) packed as in PackedB, from a packed B or packed on the fly into the
// calling thread's buffer. The reduction splits into ranges, four per thread, each one task
// that runs the panel of every column tile on each of its blocks while the block is in
// cache; then the ranges' exact int64 sums are added (any split gives the same bits).
template <typename BlockOf>
void RunPanels(const PackedB& shape, const int16_t* a, int64_t m, int64_t n, const COut& c, const BlockOf& block_of) {
  const int64_t tiles_j = shape.n_padded / kColumnTile;
  const int64_t ranges = std::min<int64_t>(shape.pairs, 4 * omp_get_max_threads());
  thread_local std::vector<int64_t> sums_buffer;
  const int64_t range_sums = tiles_j * m * kColumnTile;
  int64_t* sums = ThreadBuffer(sums_buffer, ranges * range_sums);
#pragma omp parallel for schedule(static)
  for (int64_t range = 0; range < ranges; ++range) {
    std::fill_n(sums + range * range_sums, range_sums, int64_t{0});  // by the task that adds to them
    const int64_t kp_begin = range * shape.pairs / ranges, kp_end = (range + 1) * shape.pairs / ranges;
    for (int64_t kp0 = kp_begin; kp0 < kp_end; kp0 += kPairBlock) {
      const int64_t kp1 = std::min(kp_end, kp0 + kPairBlock);
      const int16_t* block = block_of(kp0, kp1);
      for (int64_t tj = 0; tj < tiles_j; ++tj) {
        PanelVnni(block, shape.n_padded, a + 2 * kp0, shape.pairs * 2, m, kp1 - kp0, tj * kColumnTile,
                  sums + (range * tiles_j + tj) * m * kColumnTile);
      }
    }
  }
  AddPanelSums(sums, ranges, tiles_j, m, n, c);
}

// Forward path with 8-bit operands: x1 = W_q x0 multiplies unsigned activations (0..255)
// by signed weights (-127..127). vpdpbusd adds four such products to an int32 lane; it
// widens each product and only an int32 overflow could wrap it (unlike vpdpbusds and
// pmaddubsw, nothing saturates). Every partial sum of x1 is at most K * 255 * 127 < 2^31
// in magnitude for K <= 8192 (checked when the network is built, docs/numerics.md), so the
// int32 lanes hold the whole reduction exactly: no blocks, no widening.
// A = the lowered x0 (stored or implicit, see ARows), `quads` k-quads per row; B = W_q packed
// in quads along k, Bq[kq][j][t] = W_q[j][4 kq + t], zero beyond K and n.
template <int NV>
__attribute__((target("avx512f,avx512bw,avx512vnni")))
void TileU8Vnni(const ARows<uint8_t>& a, int64_t quads, const int8_t* bq, int64_t n_padded, int64_t i0, int64_t rows,
                int64_t j0, int64_t n, const COut& c) {
  __m512i acc[kRowTile][NV];
  for (int64_t r = 0; r < kRowTile; ++r)
    for (int h = 0; h < NV; ++h) acc[r][h] = _mm512_setzero_si512();
  for (int64_t kq = 0; kq < quads; ++kq) {
    AccumulateGroup<NV, true>(acc, a, a.offset[kq], bq + (kq * n_padded + j0) * 4);
  }
  alignas(64) int32_t out[kRowTile][16 * NV];
  for (int64_t r = 0; r < rows; ++r) {
    for (int h = 0; h < NV; ++h) _mm512_store_si512(out[r] + 16 * h, acc[r][h]);
  }
  StoreTile(c, out, i0, rows, j0, std::min<int64_t>(16 * NV, n - j0), n);
}

#pragma GCC diagnostic pop

bool UseVnni() {
  // OCTET_KERNELS=portable forces the portable path (golden/core/vector_clones.h).
  static const bool use = [] {
    if (PortableKernelsForced()) return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
  }();
  return use;
}

// A GEMM of m rows over `pairs` k-pairs takes the panel path (PanelVnni).
bool UsePanel(int64_t m, int64_t pairs) { return UseVnni() && m <= kPanelRows && pairs >= kPanelMinPairs; }

// ---------------------------------------------------------------------------------------
// Lowering helpers.

// The integer kernels lower channels-last: the lowered column index is
// k' = (r S + s) C + c (channel fastest) instead of the weight's k = (c R + r) S + s. All
// three GEMMs are exact integer sums, so this reordering of the reduction changes no bit
// (docs/numerics.md, section 10); it makes the channels of each tap contiguous in memory.
// Sources are stored padded, with zeros around each image wide enough for every tap of
// every window, so lowering needs no bound checks; when the channels of a tap fill whole
// k-groups (pairs of int16, quads of bytes) the GEMM tiles read their A operand straight
// from the padded source (ARows), without an im2col copy.

// The weight index k = (c R + r) S + s of lowered column k' = (r S + s) C + c.
inline int64_t WeightIndexOfLowered(const ConvGeometry& g, int64_t k_lowered) {
  const int64_t c = k_lowered % g.in_channels, tap = k_lowered / g.in_channels;
  return c * g.kernel * g.kernel + tap;
}

// One 8 x 8 block of a transpose: dst[q][c] = src[c * ld_src + q] for q, c < 8, row q of
// the destination at dst[q], with SSE2 unpacks (the baseline ISA), for 16-bit and 8-bit
// elements.
inline void TransposeBlock8(const int16_t* src, int64_t ld_src, int16_t* const (&dst)[8]) {
  __m128i r[8], t[8], u[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i * ld_src));
  for (int i = 0; i < 4; ++i) {  // t: pairs of rows interleaved by element
    t[2 * i] = _mm_unpacklo_epi16(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm_unpackhi_epi16(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 2; ++i) {  // u: columns (0 1, 2 3, 4 5, 6 7) of four rows
    u[4 * i] = _mm_unpacklo_epi32(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm_unpackhi_epi32(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm_unpacklo_epi32(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm_unpackhi_epi32(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int i = 0; i < 4; ++i) {  // column 2i and 2i + 1 of all eight rows
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst[2 * i]), _mm_unpacklo_epi64(u[i], u[4 + i]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst[2 * i + 1]), _mm_unpackhi_epi64(u[i], u[4 + i]));
  }
}

inline void TransposeBlock8(const uint8_t* src, int64_t ld_src, uint8_t* const (&dst)[8]) {
  __m128i r[8], a[4], b[4];
  for (int i = 0; i < 8; ++i) r[i] = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + i * ld_src));
  for (int i = 0; i < 4; ++i) a[i] = _mm_unpacklo_epi8(r[2 * i], r[2 * i + 1]);  // rows 2i, 2i+1 interleaved
  b[0] = _mm_unpacklo_epi16(a[0], a[1]);  // columns 0-3 of rows 0-3
  b[1] = _mm_unpackhi_epi16(a[0], a[1]);  // columns 4-7 of rows 0-3
  b[2] = _mm_unpacklo_epi16(a[2], a[3]);  // columns 0-3 of rows 4-7
  b[3] = _mm_unpackhi_epi16(a[2], a[3]);
  for (int i = 0; i < 2; ++i) {
    const __m128i lo = _mm_unpacklo_epi32(b[i], b[i + 2]), hi = _mm_unpackhi_epi32(b[i], b[i + 2]);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(dst[4 * i]), lo);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(dst[4 * i + 1]), _mm_unpackhi_epi64(lo, lo));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(dst[4 * i + 2]), hi);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(dst[4 * i + 3]), _mm_unpackhi_epi64(hi, hi));
  }
}

// A padded channels-last tensor: [N][hp][wp][channels], image pixel (h, w) at (h + top,
// w + left), zeros around it.
template <typename T>
struct PaddedSource {
  const T* data = nullptr;
  int64_t channels = 1, hp = 1, wp = 1, top = 0, left = 0;
};

// Which input pixels the lowered rows read: row p = (image, oh, ow) of an out_h x out_w grid
// per image takes taps (t, u) < (taps_h, taps_w) at input pixel (oh step + origin_h + t,
// ow step + origin_w + u), all channels of each tap in order (k' = (t taps_w + u) channels
// + c); pixels outside the image read as 0.
struct Window {
  int64_t channels = 1, in_h = 1, in_w = 1;
  int64_t out_h = 1, out_w = 1;
  int64_t step = 1, origin_h = 0, origin_w = 0;
  int64_t taps_h = 1, taps_w = 1;
  int64_t k() const { return taps_h * taps_w * channels; }
  // The zeros a source needs around the image for every tap: above, below, left, right.
  int64_t pad_top() const { return std::max<int64_t>(0, -origin_h); }
  int64_t pad_bottom() const { return std::max<int64_t>(0, (out_h - 1) * step + origin_h + taps_h - in_h); }
  int64_t pad_left() const { return std::max<int64_t>(0, -origin_w); }
  int64_t pad_right() const { return std::max<int64_t>(0, (out_w - 1) * step + origin_w + taps_w - in_w); }
};

// The window of conv g's lowering (its forward and weight gradient).
Window ConvWindow(const ConvGeometry& g) {
  return Window{g.in_channels, g.in_height, g.in_width, g.out_height(), g.out_width(), g.stride, -g.pad, -g.pad,
                g.kernel, g.kernel};
}

// in [N][C][H][W] into out, padded channels-last with the given margins (out must hold
// N hp wp C elements): 8 x 8 block transposes, scalar edges, zeroed margins.
template <typename T>
PaddedSource<T> ToChannelsLast(int64_t batch, int64_t channels, int64_t height, int64_t width, const T* in,
                               int64_t top, int64_t bottom, int64_t left, int64_t right, T* out) {
  const PaddedSource<T> source{out, channels, height + top + bottom, width + left + right, top, left};
  const int64_t pix = height * width, q_blocks = (pix + 7) / 8, row = source.wp * channels;
  // Pixel q of image n in the padded layout: one division per block of eight pixels.
  const auto pixels = [&](int64_t n, int64_t q0, int64_t count, T* (&dst)[8]) {
    int64_t h = q0 / width, w = q0 % width;
    for (int64_t i = 0; i < count; ++i) {
      dst[i] = out + ((n * source.hp + h + top) * source.wp + w + left) * channels;
      if (++w == width) {
        w = 0;
        ++h;
      }
    }
  };
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t qb = 0; qb < q_blocks; ++qb) {
      if (qb == 0) {  // the image's margins, with its first block
        T* image = out + n * source.hp * row;
        std::fill_n(image, top * row, T{0});
        std::fill_n(image + (top + height) * row, bottom * row, T{0});
        for (int64_t h = top; h < top + height; ++h) {
          std::fill_n(image + h * row, left * channels, T{0});
          std::fill_n(image + h * row + (left + width) * channels, right * channels, T{0});
        }
      }
      const T* src = in + n * channels * pix;
      const int64_t q0 = qb * 8, q1 = std::min(pix, q0 + 8);
      T* dst[8];
      pixels(n, q0, q1 - q0, dst);
      int64_t c = 0;
      if (q1 - q0 == 8) {
        for (; c + 8 <= channels; c += 8) {
          T* const block[8] = {dst[0] + c, dst[1] + c, dst[2] + c, dst[3] + c,
                               dst[4] + c, dst[5] + c, dst[6] + c, dst[7] + c};
          TransposeBlock8(src + c * pix + q0, pix, block);
        }
      }
      for (; c < channels; ++c) {
        for (int64_t q = q0; q < q1; ++q) dst[q - q0][c] = src[c * pix + q];
      }
    }
  }
  return source;
}

// A lowered row's position in a padded source: its window's first tap.
template <typename T>
struct WindowCursor {
  const Window& w;
  const PaddedSource<T>& x;
  int64_t image, oh, ow;
  WindowCursor(const Window& window, const PaddedSource<T>& source, int64_t p)
      : w(window), x(source), image(p / (w.out_h * w.out_w)), oh(p % (w.out_h * w.out_w) / w.out_w), ow(p % w.out_w) {}
  const T* Start() const {
    return x.data + ((image * x.hp + oh * w.step + w.origin_h + x.top) * x.wp + ow * w.step + w.origin_w + x.left) *
                        x.channels;
  }
  void Next() {  // the next row's (image, oh, ow), without a division
    if (++ow == w.out_w) {
      ow = 0;
      if (++oh == w.out_h) {
        oh = 0;
        ++image;
      }
    }
  }
};

// offset[g] of k-group g (kGroup lowered columns) within a window of padded source x, for
// x's channels a multiple of kGroup: tap (t, u), channel c at (t wp + u) channels + c.
template <int64_t kGroup, typename T>
std::vector<int64_t> WindowOffsets(const Window& w, const PaddedSource<T>& x) {
  std::vector<int64_t> offset(w.k() / kGroup);
  for (int64_t g = 0; g < static_cast<int64_t>(offset.size()); ++g) {
    const int64_t k = kGroup * g, c = k % w.channels, tap = k / w.channels;
    offset[g] = (tap / w.taps_w * x.wp + tap % w.taps_w) * w.channels + c;
  }
  return offset;
}

// The tile rows [i0, i0 + rows) of an implicit lowering: each row at its window.
template <typename T>
ARows<T> WindowRows(const Window& w, const PaddedSource<T>& x, int64_t i0, int64_t rows, const int64_t* offset) {
  ARows<T> a;
  WindowCursor<T> cursor(w, x, i0);
  for (int64_t r = 0; r < rows; ++r, cursor.Next()) a.row[r] = cursor.Start();
  for (int64_t r = rows; r < kRowTile; ++r) a.row[r] = a.row[0];
  a.offset = offset;
  return a;
}

// Lowered rows [p0, p1) of window w from padded source x into col (row p at col + (p - p0)
// ld, ld >= K, the elements beyond K set to 0): the im2col for channel counts that do not
// fill whole k-groups. Serial: callers run it inside their own parallel loop.
template <typename T>
void Im2ColRows(const Window& w, const PaddedSource<T>& x, int64_t p0, int64_t p1, T* col, int64_t ld) {
  const int64_t run = w.taps_w * w.channels, kk = w.k();
  WindowCursor<T> cursor(w, x, p0);
  for (int64_t p = p0; p < p1; ++p, cursor.Next()) {
    T* row = col + (p - p0) * ld;
    const T* start = cursor.Start();
    for (int64_t t = 0; t < w.taps_h; ++t) std::memcpy(row + t * run, start + t * x.wp * w.channels, run * sizeof(T));
    std::fill(row + kk, row + ld, T{0});
  }
}

// Lowered rows are made or addressed in chunks of kChunkRows (a multiple of kRowTile) that
// stay in the thread's cache.
constexpr int64_t kChunkRows = 128;

// e3 [N][K_out][pix] -> [K_out][N * pix].
const int16_t* ChannelMajor(const ConvGeometry& g, const int16_t* e3) {
  const int64_t pix = g.out_height() * g.out_width();
  thread_local std::vector<int16_t> buffer;
  int16_t* out = ThreadBuffer(buffer, g.out_channels * g.gemm_n());  // every element written below
#pragma omp parallel for schedule(static)
  for (int64_t ko = 0; ko < g.out_channels; ++ko) {
    for (int64_t n = 0; n < g.batch; ++n) {
      std::copy_n(e3 + (n * g.out_channels + ko) * pix, pix, out + ko * g.gemm_n() + n * pix);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// GEMM drivers.

// The column width of the int16 and 8-bit tiles: one vector per row for a narrow C.
int64_t TileWidth(bool vnni, int64_t n) { return vnni && n <= 16 ? 16 : kColumnTile; }

// The int16 tile of rows [i0, i0 + rows) and columns from j0.
void Int16Tile(const PackedB& p, const ARows<int16_t>& a, int64_t i0, int64_t rows, int64_t j0, int64_t width,
               int64_t n, const COut& c) {
  if (!UseVnni()) {
    TileGeneric(p, a, i0, rows, j0, n, c);
  } else if (width == 16) {
    TileVnni<1>(p, a, i0, rows, j0, n, c);
  } else {
    TileVnni<2>(p, a, i0, rows, j0, n, c);
  }
}

// The 8-bit tile (see TileU8Vnni) of rows [i0, i0 + rows).
void U8Tile(const ARows<uint8_t>& a, int64_t quads, const int8_t* bq, int64_t n_padded, int64_t i0, int64_t rows,
            int64_t j0, int64_t width, int64_t n, const COut& c) {
  if (!UseVnni()) {
    TileU8Generic(a, quads, bq, n_padded, i0, rows, j0, n, c);
  } else if (width == 16) {
    TileU8Vnni<1>(a, quads, bq, n_padded, i0, rows, j0, n, c);
  } else {
    TileU8Vnni<2>(a, quads, bq, n_padded, i0, rows, j0, n, c);
  }
}

// C [m][n] = A [m][2 pairs] (padded, see PadA) * B (packed): the panel path for a short,
// deep GEMM, else tiles.
void MultiplyPacked(const PackedB& p, const int16_t* a, int64_t m, int64_t n, const COut& c) {
  if (UsePanel(m, p.pairs) && c.row_major != nullptr) {  // short, deep GEMM
    RunPanels(p, a, m, n, c, [&](int64_t kp0, int64_t) { return p.b + kp0 * p.n_padded * 2; });
    return;
  }
  const int64_t width = TileWidth(UseVnni(), n), a_stride = p.pairs * 2;
  const int64_t tiles_i = (m + kRowTile - 1) / kRowTile, tiles_j = (n + width - 1) / width;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t tj = 0; tj < tiles_j; ++tj) {
    for (int64_t ti = 0; ti < tiles_i; ++ti) {
      const int64_t i0 = ti * kRowTile, rows = std::min(kRowTile, m - i0);
      Int16Tile(p, StoredRows<2>(a + i0 * a_stride, a_stride, rows, p.pairs), i0, rows, tj * width, width, n, c);
    }
  }
}

// C [rows][n] = lowered(window w of padded source x) * B, int16 or bytes: implicit tiles when
// the channels fill whole k-groups of kGroup, else chunks of lowered rows made in this
// thread's cache. `tile(a, i0, rows, j0)` runs one tile.
template <int64_t kGroup, typename T, typename Tile>
void LoweredGemm(const Window& w, const PaddedSource<T>& x, int64_t rows, int64_t groups, int64_t n, int64_t width,
                 Tile&& tile) {
  const int64_t chunks = (rows + kChunkRows - 1) / kChunkRows;
  const bool implicit = w.channels % kGroup == 0;
  const std::vector<int64_t> offset = implicit ? WindowOffsets<kGroup>(w, x) : std::vector<int64_t>();
  const int64_t ld = groups * kGroup;
#pragma omp parallel for schedule(static)
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    const int64_t p0 = chunk * kChunkRows, p1 = std::min(rows, p0 + kChunkRows);
    T* col = nullptr;
    if (!implicit) {
      thread_local std::vector<T> col_buffer;  // keeps its storage: every element written
      col = ThreadBuffer(col_buffer, kChunkRows * ld);
      Im2ColRows(w, x, p0, p1, col, ld);
    }
    for (int64_t j0 = 0; j0 < n; j0 += width) {
      for (int64_t i0 = p0; i0 < p1; i0 += kRowTile) {
        const int64_t tile_rows = std::min(kRowTile, p1 - i0);
        tile(implicit ? WindowRows(w, x, i0, tile_rows, offset.data())
                      : StoredRows<kGroup>(col + (i0 - p0) * ld, ld, tile_rows, groups),
             i0, tile_rows, j0);
      }
    }
  }
}

// Pairs [kp0, kp1) of the weight gradient's B, packed (k-pairs along the pixels p) from the
// lowered rows of window w of padded source x (`rows` rows in all), widened exactly to
// int16: B(p, k') = lowered(p)[k'], pair kp at dst + (kp - kp0) n_padded 2.
void PackLoweredPairs(const Window& w, const PaddedSource<uint8_t>& x, int64_t rows, int64_t kp0, int64_t kp1,
                      int64_t n_padded, int16_t* dst) {
  const int64_t kk = w.k(), run = w.taps_w * w.channels;
  WindowCursor<uint8_t> cursor(w, x, 2 * kp0);
  for (int64_t kp = kp0; kp < kp1; ++kp) {
    // Row 2 kp's window, then row 2 kp + 1's (none past the last row): tap row t of each
    // is one run of taps_w * channels bytes.
    const uint8_t* start0 = cursor.Start();
    cursor.Next();
    const uint8_t* start1 = 2 * kp + 1 < rows ? cursor.Start() : nullptr;
    cursor.Next();
    int16_t* pair = dst + (kp - kp0) * n_padded * 2;
    for (int64_t t = 0; t < w.taps_h; ++t) {
      const int64_t at = t * x.wp * w.channels;
      PackPair(start0 + at, start1 != nullptr ? start1 + at : nullptr, run, run, pair + 2 * t * run);
    }
    std::fill(pair + 2 * kk, pair + 2 * n_padded, int16_t{0});  // padding columns
  }
}

// The weight gradient's whole packed B (for the tile path).
PackedB PackLowered(const Window& w, const PaddedSource<uint8_t>& x, int64_t rows) {
  thread_local std::vector<int16_t> b_buffer;
  PackedB p = PackedShape(w.k(), rows);
  int16_t* bp = ThreadBuffer(b_buffer, p.pairs * p.n_padded * 2);
  p.b = bp;
  constexpr int64_t kChunkPairs = kChunkRows / 2;
  const int64_t chunks = (p.pairs + kChunkPairs - 1) / kChunkPairs;
#pragma omp parallel for schedule(static)
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    const int64_t kp0 = chunk * kChunkPairs, kp1 = std::min(p.pairs, kp0 + kChunkPairs);
    PackLoweredPairs(w, x, rows, kp0, kp1, p.n_padded, bp + kp0 * p.n_padded * 2);
  }
  return p;
}

// The weight gradient on the panel path with B packed on the fly: g_W [m][n] = A [m][rows]
// B [rows][n], B the lowered x, each block packed into the thread's buffer (at most 128
// pairs of n_padded int16 pairs: 80 KB for block 1 of the small ResNet, in L2), so the
// whole packed B (16 MB for that layer) never goes to memory.
void WeightGradPanels(const Window& w, const PaddedSource<uint8_t>& x, int64_t rows, const int16_t* a, int64_t m,
                      int64_t n, const COut& c) {
  const PackedB shape = PackedShape(n, rows);
  RunPanels(shape, a, m, n, c, [&](int64_t kp0, int64_t kp1) {
    thread_local std::vector<int16_t> block_buffer;
    int16_t* block = ThreadBuffer(block_buffer, kPairBlock * shape.n_padded * 2);
    PackLoweredPairs(w, x, rows, kp0, kp1, shape.n_padded, block);
    return static_cast<const int16_t*>(block);
  });
}

}  // namespace

void GemmInt16(int64_t m, int64_t n, int64_t k, const int16_t* a, const int16_t* b, BLayout layout, int64_t* c) {
  if (m == 0 || n == 0) return;
  const PackedB p = PackB(n, k, b, layout, layout == BLayout::kKN ? n : k);
  MultiplyPacked(p, PadA(m, k, a), m, n, COut{.row_major = c});
}

void ChannelsLastInput::Assign(const ConvGeometry& g, const uint8_t* x0) {
  const Window w = ConvWindow(g);
  hp = g.in_height + w.pad_top() + w.pad_bottom();
  wp = g.in_width + w.pad_left() + w.pad_right();
  top = w.pad_top();
  left = w.pad_left();
  hwc.resize(g.batch * hp * wp * g.in_channels);
  ToChannelsLast(g.batch, g.in_channels, g.in_height, g.in_width, x0, w.pad_top(), w.pad_bottom(), w.pad_left(),
                 w.pad_right(), hwc.data());
}

namespace {

PaddedSource<uint8_t> SourceOf(const ConvGeometry& g, const ChannelsLastInput& input) {
  return PaddedSource<uint8_t>{input.hwc.data(), g.in_channels, input.hp, input.wp, input.top, input.left};
}

}  // namespace

void ConvForwardInt(const ConvGeometry& g, const uint8_t* x0, const int8_t* wq, int32_t* x1, ChannelsLastInput* keep) {
  const int64_t kk = g.gemm_k(), pn = g.gemm_n(), ko_n = g.out_channels;
  // The int32 lanes are exact while K * 255 * 127 < 2^31 (the layers check K <= 8192).
  if (kk * 255 * 127 > INT32_MAX) Fail("forward GEMM: reduction length {} exceeds the int32 bound of x1", kk);
  ChannelsLastInput local;
  ChannelsLastInput& input = keep ? *keep : local;
  input.Assign(g, x0);
  // C^T [P][K_out] = col [P][K'] * W^T: the large lowered input is the broadcast operand,
  // the small weight matrix the packed one (quads along k', zero-padded).
  const int64_t quads = (kk + 3) / 4;
  const int64_t n_padded = (ko_n + kColumnTile - 1) / kColumnTile * kColumnTile;
  std::vector<int8_t> bq(quads * n_padded * 4, 0);
  for (int64_t j = 0; j < ko_n; ++j) {
    for (int64_t k = 0; k < kk; ++k) bq[((k / 4) * n_padded + j) * 4 + k % 4] = wq[j * kk + WeightIndexOfLowered(g, k)];
  }
  // C^T rows run over (image, pixel): the tiles write x1 [N][K_out][OH][OW] directly.
  const int64_t pix = g.out_height() * g.out_width();
  const COut c{.nchw32 = x1, .grid_w = g.out_width(), .grid_pix = pix, .plane_w = g.out_width(), .plane_pix = pix};
  const int64_t width = TileWidth(UseVnni(), ko_n);
  LoweredGemm<4>(ConvWindow(g), SourceOf(g, input), pn, quads, ko_n, width,
                 [&](const ARows<uint8_t>& a, int64_t i0, int64_t rows, int64_t j0) {
                   U8Tile(a, quads, bq.data(), n_padded, i0, rows, j0, width, ko_n, c);
                 });
}

void ConvErrorInt(const ConvGeometry& g, const int8_t* wq, const int16_t* e3, int64_t* e4) {
  // e4[n][c][h][w] = sum_{ko,r,s} W[ko][c][r][s] e3[n][ko][oh][ow] over the taps with
  // h = oh stride - pad + r (w likewise). The pixels of e4 fall into stride x stride phases
  // (h mod stride, w mod stride); in phase (ph, pw) exactly the taps r = ph + pad (mod
  // stride) reach row h = ph + stride i, from e3 row oh = i + (ph + pad - r) / stride. So
  // each phase is a stride-1 correlation of e3 with its own taps: lowered rows over the
  // phase's pixels (i, j), taps in order of increasing e3 offset (decreasing r), written
  // to every stride-th pixel of e4. A stride-1 conv is one phase; nothing is multiplied
  // by an inserted zero and no col2im sums overlapping windows.
  const int64_t ko_n = g.out_channels, channels = g.in_channels, rs = g.kernel * g.kernel;
  const int64_t oh_n = g.out_height(), ow_n = g.out_width(), plane = g.in_height * g.in_width;
  // The taps of phase `ph` along one axis: the largest such r, and how many (stride apart).
  const auto phase_taps = [&](int64_t ph) {
    int64_t r_max = -1, count = 0;
    for (int64_t r = g.kernel - 1; r >= 0; --r) {
      if (((ph + g.pad - r) % g.stride + g.stride) % g.stride != 0) continue;
      if (r_max < 0) r_max = r;
      ++count;
    }
    return std::pair<int64_t, int64_t>{r_max, count};
  };
  // The windows of the phases that some tap reaches (others are zero), and the margins of
  // zeros e3 needs for all of them.
  struct Phase {
    int64_t ph, pw, r_max, s_max;
    Window w;
  };
  std::vector<Phase> phases;
  std::vector<char> reached(g.stride * g.stride, 0);  // phase (ph, pw) at ph stride + pw
  int64_t top = 0, bottom = 0, left = 0, right = 0;
  for (int64_t ph = 0; ph < g.stride; ++ph) {
    for (int64_t pw = 0; pw < g.stride; ++pw) {
      const int64_t grid_h = (g.in_height - ph + g.stride - 1) / g.stride;
      const int64_t grid_w = (g.in_width - pw + g.stride - 1) / g.stride;
      if (grid_h <= 0 || grid_w <= 0) continue;
      const auto [r_max, taps_h] = phase_taps(ph);
      const auto [s_max, taps_w] = phase_taps(pw);
      if (taps_h == 0 || taps_w == 0) continue;  // no tap reaches these pixels: e4 is 0 there
      reached[ph * g.stride + pw] = 1;
      // Lowered row (image, i, j), tap (t, u) reads e3 pixel (i + (ph + pad - r_max) / stride
      // + t, likewise j) at r = r_max - t stride, s = s_max - u stride.
      const Window w{ko_n, oh_n, ow_n, grid_h, grid_w, 1, (ph + g.pad - r_max) / g.stride,
                     (pw + g.pad - s_max) / g.stride, taps_h, taps_w};
      phases.push_back({ph, pw, r_max, s_max, w});
      top = std::max(top, w.pad_top());
      bottom = std::max(bottom, w.pad_bottom());
      left = std::max(left, w.pad_left());
      right = std::max(right, w.pad_right());
    }
  }
  if (std::find(reached.begin(), reached.end(), 0) != reached.end()) {
    // The pixels of the phases no tap reaches are 0, set in one pass over e4.
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t nc = 0; nc < g.batch * channels; ++nc) {
      for (int64_t h = 0; h < g.in_height; ++h) {
        int64_t* row = e4 + nc * plane + h * g.in_width;
        const char* phase_row = reached.data() + (h % g.stride) * g.stride;
        for (int64_t pw = 0; pw < g.stride; ++pw) {
          if (phase_row[pw] != 0) continue;
          for (int64_t w = pw; w < g.in_width; w += g.stride) row[w] = 0;
        }
      }
    }
  }
  thread_local std::vector<int16_t> hwc_buffer;  // keeps its storage: every element written
  int16_t* hwc = ThreadBuffer(hwc_buffer, g.batch * (oh_n + top + bottom) * (ow_n + left + right) * ko_n);
  const PaddedSource<int16_t> x = ToChannelsLast(g.batch, ko_n, oh_n, ow_n, e3, top, bottom, left, right, hwc);
  for (const Phase& phase : phases) {
    const Window& w = phase.w;
    // w_t [C][(t taps_w + u) K_out + ko] = W[ko][c][r][s], the B operand ([n][k] layout).
    const int64_t kk = w.k();
    std::vector<int16_t> w_t(channels * kk);
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t t = 0; t < w.taps_h; ++t) {
        for (int64_t u = 0; u < w.taps_w; ++u) {
          const int64_t r = phase.r_max - t * g.stride, s = phase.s_max - u * g.stride;
          for (int64_t ko = 0; ko < ko_n; ++ko) {
            w_t[c * kk + (t * w.taps_w + u) * ko_n + ko] = wq[(ko * channels + c) * rs + r * g.kernel + s];
          }
        }
      }
    }
    const PackedB p = PackB(channels, kk, w_t.data(), BLayout::kNK, kk);
    const COut c{.nchw64 = e4, .grid_w = w.out_w, .grid_pix = w.out_h * w.out_w, .plane_w = g.in_width,
                 .plane_pix = plane, .step = g.stride, .origin = phase.ph * g.in_width + phase.pw};
    const int64_t width = TileWidth(UseVnni(), channels);
    LoweredGemm<2>(w, x, g.batch * w.out_h * w.out_w, p.pairs, channels, width,
                   [&](const ARows<int16_t>& a, int64_t i0, int64_t rows, int64_t j0) {
                     Int16Tile(p, a, i0, rows, j0, width, channels, c);
                   });
  }
}

void ConvWeightGradInt(const ConvGeometry& g, const int16_t* e3, const uint8_t* x0, int64_t* g_w,
                       const ChannelsLastInput* input) {
  const int64_t kk = g.gemm_k(), pn = g.gemm_n();
  ChannelsLastInput local;
  if (input == nullptr) {
    local.Assign(g, x0);
    input = &local;
  }
  const int16_t* e3_cm = ChannelMajor(g, e3);  // [K_out][P], in this thread's buffer
  // g_W [K_out][K] = e3 [K_out][P] * col [P][K']: the reduction runs over p; column k' of the
  // product is weight index k of g_W.
  std::vector<int64_t> column_of(kk);
  for (int64_t k = 0; k < kk; ++k) column_of[k] = WeightIndexOfLowered(g, k);
  const COut c{.row_major = g_w, .column_of = column_of.data()};
  const int16_t* a = PadA(g.out_channels, pn, e3_cm);
  if (UsePanel(g.out_channels, (pn + 1) / 2)) {
    WeightGradPanels(ConvWindow(g), SourceOf(g, *input), pn, a, g.out_channels, kk, c);
    return;
  }
  MultiplyPacked(PackLowered(ConvWindow(g), SourceOf(g, *input), pn), a, g.out_channels, kk, c);
}

}  // namespace octet
