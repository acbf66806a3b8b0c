#include "golden/kernels/float_layers.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "golden/core/error.h"
#include "golden/core/vector_clones.h"

namespace octet::fl {
namespace {

// Below this many elements (or multiply-adds, for the GEMMs) a layer is not worth waking
// the thread team; tiny layers (gradient checks) would otherwise be dominated by barriers.
// Whether a loop runs in parallel never changes its results.
constexpr int64_t kParallelMin = int64_t{1} << 15;

// ---------------------------------------------------------------------------------------
// GEMM: C[i][j] (+)= sum_l A(i, l) * B(l, j), with A(i, l) = a[i * a_rs + l * a_cs] (any
// strides, so a transposed A needs no copy; it is packed per tile anyway) and B row-major
// with unit column stride. Every C element is one sequential sum over l = 0..k-1, starting
// from its old value (accumulate) or from zero. Blocking over l stores the partial sum in C
// and reloads it, which is exact, so the result is bitwise that of the naive triple loop
// (this file is compiled with -ffp-contract=off: no fused multiply-adds in any clone).

// Register tile: kMr rows x kNr columns of accumulators = 8 SSE registers, the baseline
// x86-64 ISA the project is compiled for; the AVX-512 clone (vector_clones.h) runs the same
// lanes in wider registers. The unit-stride j loop is what GCC vectorizes.
constexpr int64_t kMr = 4;
template <typename Real>
constexpr int64_t kNr = 32 / sizeof(Real);
// Cache blocks: a kKc x kNc block of B (512 KiB in float) is reused from L2 by every row
// tile; a kMr x kKc slice of A (4 KiB) stays in L1 across the column tiles.
constexpr int64_t kKc = 256;
constexpr int64_t kNc = 512;

// One full kMr x kNr tile over l in [0, kc). A comes packed as a_pack[l][i] (kMr values
// per l), so the only strided stream is B's rows and GCC vectorizes the j loop cleanly.
template <typename Real>
inline void MicroKernel(int64_t kc, const Real* __restrict a_pack, const Real* __restrict b,
                        int64_t ldb, Real* __restrict c, int64_t ldc, bool load_c) {
  constexpr int64_t nr = kNr<Real>;
  Real acc[kMr][nr];
  for (int64_t i = 0; i < kMr; ++i) {
    for (int64_t j = 0; j < nr; ++j) acc[i][j] = load_c ? c[i * ldc + j] : Real(0);
  }
  for (int64_t l = 0; l < kc; ++l) {
    const Real* __restrict b_row = b + l * ldb;
    for (int64_t i = 0; i < kMr; ++i) {
      const Real a_il = a_pack[l * kMr + i];
      for (int64_t j = 0; j < nr; ++j) acc[i][j] += a_il * b_row[j];
    }
  }
  for (int64_t i = 0; i < kMr; ++i) {
    for (int64_t j = 0; j < nr; ++j) c[i * ldc + j] = acc[i][j];
  }
}

// Partial tiles at the matrix edges: the same per-element order. The columns of a row are
// independent sums, so they run side by side (a sum over l alone is bound by the latency
// of its additions).
template <typename Real>
void EdgeKernel(int64_t mr, int64_t nr, int64_t kc, const Real* a, int64_t a_rs, int64_t a_cs,
                const Real* b, int64_t ldb, Real* c, int64_t ldc, bool load_c) {
  constexpr int64_t max_nr = kNr<Real>;
  for (int64_t i = 0; i < mr; ++i) {
    Real acc[max_nr];
    for (int64_t j = 0; j < nr; ++j) acc[j] = load_c ? c[i * ldc + j] : Real(0);
    for (int64_t l = 0; l < kc; ++l) {
      const Real a_il = a[i * a_rs + l * a_cs];
      const Real* __restrict b_row = b + l * ldb;
      if (nr == max_nr) {
        for (int64_t j = 0; j < max_nr; ++j) acc[j] += a_il * b_row[j];
      } else {
        for (int64_t j = 0; j < nr; ++j) acc[j] += a_il * b_row[j];
      }
    }
    for (int64_t j = 0; j < nr; ++j) c[i * ldc + j] = acc[j];
  }
}

// Single-threaded blocked GEMM (callers parallelise over independent C blocks).
template <typename Real>
OCTET_VECTOR_CLONES void Gemm(int64_t m, int64_t n, int64_t k, const Real* a, int64_t a_rs, int64_t a_cs,
          const Real* b, int64_t ldb, Real* c, int64_t ldc, bool accumulate) {
  constexpr int64_t nr = kNr<Real>;
  if (k == 0 && !accumulate) {
    for (int64_t i = 0; i < m; ++i) std::fill_n(c + i * ldc, n, Real(0));
  }
  Real a_pack[kKc * kMr];
  for (int64_t j0 = 0; j0 < n; j0 += kNc) {
    const int64_t j_end = std::min(n, j0 + kNc);
    for (int64_t l0 = 0; l0 < k; l0 += kKc) {
      const int64_t kc = std::min(kKc, k - l0);
      const bool load_c = accumulate || l0 > 0;
      for (int64_t i0 = 0; i0 < m; i0 += kMr) {
        const int64_t mr = std::min(kMr, m - i0);
        const Real* a_tile = a + i0 * a_rs + l0 * a_cs;
        if (mr == kMr) {
          for (int64_t l = 0; l < kc; ++l) {
            for (int64_t i = 0; i < kMr; ++i) a_pack[l * kMr + i] = a_tile[i * a_rs + l * a_cs];
          }
        }
        for (int64_t j = j0; j < j_end; j += nr) {
          const int64_t cols = std::min(nr, j_end - j);
          const Real* b_tile = b + l0 * ldb + j;
          Real* c_tile = c + i0 * ldc + j;
          if (mr == kMr && cols == nr) {
            MicroKernel(kc, a_pack, b_tile, ldb, c_tile, ldc, load_c);
          } else {
            EdgeKernel(mr, cols, kc, a_tile, a_rs, a_cs, b_tile, ldb, c_tile, ldc, load_c);
          }
        }
      }
    }
  }
}

// GEMM split over row blocks (whole register tiles), one block per loop iteration.
template <typename Real>
void ParallelGemm(int64_t m, int64_t n, int64_t k, const Real* a, int64_t a_rs, int64_t a_cs,
                  const Real* b, int64_t ldb, Real* c, int64_t ldc, bool accumulate) {
  constexpr int64_t rows_per_block = 4 * kMr;
  const int64_t blocks = (m + rows_per_block - 1) / rows_per_block;
#pragma omp parallel for schedule(static) if (blocks > 1 && m * n * k >= kParallelMin)
  for (int64_t block = 0; block < blocks; ++block) {
    const int64_t i0 = block * rows_per_block;
    const int64_t rows = std::min(rows_per_block, m - i0);
    Gemm(rows, n, k, a + i0 * a_rs, a_rs, a_cs, b, ldb, c + i0 * ldc, ldc, accumulate);
  }
}

// ---------------------------------------------------------------------------------------
// Convolution lowering. k = (c * R + r) * S + s, q = oh * OW + ow within one image, so the
// batch-wide row index is p = n * OH * OW + q (conv_geometry.h).

void CheckConv(const ConvGeometry& g) {
  if (g.batch < 0 || g.in_channels < 1 || g.in_height < 1 || g.in_width < 1 ||
      g.out_channels < 1 || g.kernel < 1 || g.stride < 1 || g.pad < 0 ||
      g.in_height + 2 * g.pad < g.kernel || g.in_width + 2 * g.pad < g.kernel) {
    Fail("conv geometry N={} C={} H={} W={} K={} kernel={} stride={} pad={} is invalid",
         g.batch, g.in_channels, g.in_height, g.in_width, g.out_channels, g.kernel, g.stride,
         g.pad);
  }
}

// A 1x1, stride-1, unpadded conv is already lowered: the image [C][H*W] is col^T.
bool IsPointwise(const ConvGeometry& g) { return g.kernel == 1 && g.stride == 1 && g.pad == 0; }

// The outputs o in [lo, hi) whose input coordinate o * stride + offset lies in [0, size),
// where offset = kernel tap - pad. Outside that range the tap reads padding.
struct TapRange {
  int64_t lo, hi;
};
TapRange ValidOutputs(int64_t offset, int64_t size, int64_t stride, int64_t out_count) {
  // Smallest o with o * stride >= bound (bound may be negative).
  auto first_at_least = [stride](int64_t bound) {
    return bound <= 0 ? int64_t{0} : (bound + stride - 1) / stride;
  };
  const int64_t lo = std::min(out_count, first_at_least(-offset));
  const int64_t hi = std::max(lo, std::min(out_count, first_at_least(size - offset)));
  return {lo, hi};
}

// Rows k in [k0, k1) of col_t[k][q] for one image: the transpose of the documented
// col[p][k], so GEMMs over it run along q with unit stride.
template <typename Real>
void Im2Col(const ConvGeometry& g, const Real* x_n, int64_t k0, int64_t k1, Real* __restrict col_t) {
  const int64_t kr = g.kernel, h = g.in_height, w = g.in_width;
  const int64_t oh_count = g.out_height(), ow_count = g.out_width();
  for (int64_t k = k0; k < k1; ++k) {
    const int64_t c = k / (kr * kr), r = (k / kr) % kr, s = k % kr;
    const Real* __restrict plane = x_n + c * h * w;
    Real* __restrict row = col_t + (k - k0) * oh_count * ow_count;
    const TapRange valid_h = ValidOutputs(r - g.pad, h, g.stride, oh_count);
    const TapRange valid_w = ValidOutputs(s - g.pad, w, g.stride, ow_count);
    for (int64_t oh = 0; oh < oh_count; ++oh) {
      Real* __restrict out = row + oh * ow_count;
      if (oh < valid_h.lo || oh >= valid_h.hi) {
        std::fill_n(out, ow_count, Real(0));
        continue;
      }
      const Real* __restrict in = plane + (oh * g.stride + r - g.pad) * w;
      const int64_t shift = s - g.pad;
      for (int64_t ow = 0; ow < valid_w.lo; ++ow) out[ow] = Real(0);
      for (int64_t ow = valid_w.lo; ow < valid_w.hi; ++ow) out[ow] = in[ow * g.stride + shift];
      for (int64_t ow = valid_w.hi; ow < ow_count; ++ow) out[ow] = Real(0);
    }
  }
}

// dx_n = col2im(dcol_t): zeroed, then contributions added in increasing k, then q.
template <typename Real>
void Col2Im(const ConvGeometry& g, const Real* __restrict dcol_t, Real* __restrict dx_n) {
  const int64_t kr = g.kernel, h = g.in_height, w = g.in_width;
  const int64_t oh_count = g.out_height(), ow_count = g.out_width();
  std::fill_n(dx_n, g.in_channels * h * w, Real(0));
  for (int64_t k = 0; k < g.gemm_k(); ++k) {
    const int64_t c = k / (kr * kr), r = (k / kr) % kr, s = k % kr;
    const Real* __restrict row = dcol_t + k * oh_count * ow_count;
    const TapRange valid_h = ValidOutputs(r - g.pad, h, g.stride, oh_count);
    const TapRange valid_w = ValidOutputs(s - g.pad, w, g.stride, ow_count);
    for (int64_t oh = valid_h.lo; oh < valid_h.hi; ++oh) {
      Real* __restrict out = dx_n + (c * h + oh * g.stride + r - g.pad) * w;
      const Real* __restrict in = row + oh * ow_count;
      const int64_t shift = s - g.pad;
      for (int64_t ow = valid_w.lo; ow < valid_w.hi; ++ow) out[ow * g.stride + shift] += in[ow];
    }
  }
}

void CheckPool(const PoolGeometry& p) {
  if (p.batch < 0 || p.channels < 1 || p.in_height < 1 || p.in_width < 1 || p.kernel < 1 ||
      p.stride < 1 || p.pad < 0 || p.pad >= p.kernel || p.in_height + 2 * p.pad < p.kernel ||
      p.in_width + 2 * p.pad < p.kernel) {
    Fail("pool geometry N={} C={} H={} W={} kernel={} stride={} pad={} is invalid", p.batch,
         p.channels, p.in_height, p.in_width, p.kernel, p.stride, p.pad);
  }
}

}  // namespace

// -----------------------------------------------------------------------------------------
// Convolution

template <typename Real>
void Conv2dForward(const ConvGeometry& g, const Real* x, const Real* w, Real* y) {
  CheckConv(g);
  const int64_t q_count = g.out_height() * g.out_width();
  const int64_t k = g.gemm_k(), m = g.out_channels;
  const int64_t image = g.in_channels * g.in_height * g.in_width;
  const bool pointwise = IsPointwise(g);
  const bool parallel = g.batch > 1 && g.batch * m * q_count * k >= kParallelMin;
  // Images are independent: one image per iteration, each thread with its own col buffer.
#pragma omp parallel if (parallel)
  {
    std::vector<Real> col_t(pointwise ? 0 : k * q_count);
#pragma omp for schedule(static)
    for (int64_t n = 0; n < g.batch; ++n) {
      const Real* b = x + n * image;
      if (!pointwise) {
        Im2Col(g, b, 0, k, col_t.data());
        b = col_t.data();
      }
      // y_n[ko][q] = sum_k W[ko][k] col_t[k][q]
      Gemm(m, q_count, k, w, k, int64_t{1}, b, q_count, y + n * m * q_count, q_count, false);
    }
  }
}

template <typename Real>
void Conv2dBackward(const ConvGeometry& g, const Real* x, const Real* w, const Real* dy, Real* dx,
                    Real* dw) {
  CheckConv(g);
  const int64_t q_count = g.out_height() * g.out_width();
  const int64_t k = g.gemm_k(), m = g.out_channels;
  const int64_t image = g.in_channels * g.in_height * g.in_width;
  const bool parallel = g.batch * m * q_count * k >= kParallelMin;

  if (dx != nullptr) {
    // dcol_t[k][q] = sum_ko W[ko][k] dy_n[ko][q], then col2im; images are independent.
#pragma omp parallel if (parallel && g.batch > 1)
    {
      std::vector<Real> dcol_t(k * q_count);
#pragma omp for schedule(static)
      for (int64_t n = 0; n < g.batch; ++n) {
        Gemm(k, q_count, m, w, int64_t{1}, k, dy + n * m * q_count, q_count, dcol_t.data(),
             q_count, false);
        Col2Im(g, dcol_t.data(), dx + n * image);
      }
    }
  }

  // dW[ko][k] = sum_p dy[ko][p] col[p][k] reduces across images, so the threads split the
  // columns k of dW instead of the images, and each walks all images in order. Any split
  // gives the same bits: every element is one thread's sequential sum over p.
  if (g.batch == 0) std::fill_n(dw, g.weight_count(), Real(0));
#pragma omp parallel if (parallel)
  {
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t tiles = (k + kMr - 1) / kMr;  // split on register-tile boundaries
    const int64_t k0 = std::min(k, tiles * t / threads * kMr);
    const int64_t k1 = std::min(k, tiles * (t + 1) / threads * kMr);
    if (k1 > k0 && g.batch > 0) {
      // Computed transposed, dw_t[k][ko] = sum_q col_t[k][q] dy_t[q][ko], so that both
      // operands are unit-stride: the rows of col_t this thread owns and dy_n transposed.
      std::vector<Real> col_t((k1 - k0) * q_count), dy_t(q_count * m), dw_t((k1 - k0) * m);
      for (int64_t n = 0; n < g.batch; ++n) {
        Im2Col(g, x + n * image, k0, k1, col_t.data());
        const Real* dy_n = dy + n * m * q_count;
        for (int64_t q = 0; q < q_count; ++q) {
          for (int64_t ko = 0; ko < m; ++ko) dy_t[q * m + ko] = dy_n[ko * q_count + q];
        }
        Gemm(k1 - k0, m, q_count, col_t.data(), q_count, int64_t{1}, dy_t.data(), m, dw_t.data(),
             m, n > 0);
      }
      for (int64_t kk = k0; kk < k1; ++kk) {
        for (int64_t ko = 0; ko < m; ++ko) dw[ko * k + kk] = dw_t[(kk - k0) * m + ko];
      }
    }
  }
}

// -----------------------------------------------------------------------------------------
// Batch norm: channels are independent; each channel's sums run over (n, i) in order.
// A sequential float sum is bound by the latency of its additions, so the kernels below
// run the sums of kBnGroup channels side by side: independent chains, each in its own
// channel's order, so the bits are those of one channel at a time.

constexpr int64_t kBnGroup = 8;

// Channels [ch0, ch0 + G) of BatchNormForward.
template <typename Real, int64_t G>
OCTET_VECTOR_CLONES void BatchNormForwardGroup(int64_t n, int64_t c, int64_t hw, int64_t ch0, const Real* x, const Real* gamma,
                           const Real* beta, Real eps, Real* y, Real* x_hat, Real* mean_out, Real* inv_std_out) {
  const Real count = static_cast<Real>(n * hw);
  Real sum[G] = {}, mean[G], square_sum[G] = {}, inv_std[G];
  for (int64_t b = 0; b < n; ++b) {
    const Real* xp = x + (b * c + ch0) * hw;
    for (int64_t i = 0; i < hw; ++i) {
      for (int64_t j = 0; j < G; ++j) sum[j] += xp[j * hw + i];
    }
  }
  for (int64_t j = 0; j < G; ++j) mean[j] = sum[j] / count;
  // Two-pass variance: no cancellation when |mean| >> std.
  for (int64_t b = 0; b < n; ++b) {
    const Real* xp = x + (b * c + ch0) * hw;
    for (int64_t i = 0; i < hw; ++i) {
      for (int64_t j = 0; j < G; ++j) {
        const Real d = xp[j * hw + i] - mean[j];
        square_sum[j] += d * d;
      }
    }
  }
  for (int64_t j = 0; j < G; ++j) {
    inv_std[j] = Real(1) / std::sqrt(square_sum[j] / count + eps);
    mean_out[ch0 + j] = mean[j];
    inv_std_out[ch0 + j] = inv_std[j];
  }
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t j = 0; j < G; ++j) {
      const int64_t offset = (b * c + ch0 + j) * hw;
      const Real m = mean[j], is = inv_std[j], gm = gamma[ch0 + j], bt = beta[ch0 + j];
      for (int64_t i = 0; i < hw; ++i) {
        const Real xh = (x[offset + i] - m) * is;
        x_hat[offset + i] = xh;
        y[offset + i] = gm * xh + bt;
      }
    }
  }
}

template <typename Real>
void BatchNormForward(int64_t n, int64_t c, int64_t hw, const Real* x, const Real* gamma,
                      const Real* beta, Real eps, Real* y, BatchNormCache<Real>& cache) {
  if (n * hw < 1) Fail("batch norm over an empty batch (n={}, hw={})", n, hw);
  cache.mean.assign(c, Real(0));
  cache.inv_std.assign(c, Real(0));
  cache.x_hat.resize(n * c * hw);
  const int64_t groups = (c + kBnGroup - 1) / kBnGroup;
#pragma omp parallel for schedule(static) if (n * c * hw >= kParallelMin)
  for (int64_t group = 0; group < groups; ++group) {
    const int64_t ch0 = group * kBnGroup;
    if (ch0 + kBnGroup <= c) {
      BatchNormForwardGroup<Real, kBnGroup>(n, c, hw, ch0, x, gamma, beta, eps, y, cache.x_hat.data(),
                                            cache.mean.data(), cache.inv_std.data());
    } else {
      for (int64_t ch = ch0; ch < c; ++ch) {
        BatchNormForwardGroup<Real, 1>(n, c, hw, ch, x, gamma, beta, eps, y, cache.x_hat.data(), cache.mean.data(),
                                       cache.inv_std.data());
      }
    }
  }
}

// Channels [ch0, ch0 + G) of BatchNormBackward.
template <typename Real, int64_t G>
OCTET_VECTOR_CLONES void BatchNormBackwardGroup(int64_t n, int64_t c, int64_t hw, int64_t ch0, const Real* dy, const Real* gamma,
                            const BatchNormCache<Real>& cache, Real* dx, Real* dgamma, Real* dbeta) {
  const Real count = static_cast<Real>(n * hw);
  const Real* x_hat = cache.x_hat.data();
  Real sum_dy[G] = {}, sum_dy_xhat[G] = {}, sum_dxhat[G] = {}, sum_dxhat_xhat[G] = {};
  for (int64_t b = 0; b < n; ++b) {
    const int64_t offset = (b * c + ch0) * hw;
    for (int64_t i = 0; i < hw; ++i) {
      for (int64_t j = 0; j < G; ++j) {
        const Real d = dy[offset + j * hw + i], xh = x_hat[offset + j * hw + i];
        const Real dxhat = d * gamma[ch0 + j];
        sum_dy[j] += d;
        sum_dy_xhat[j] += d * xh;
        sum_dxhat[j] += dxhat;
        sum_dxhat_xhat[j] += dxhat * xh;
      }
    }
  }
  for (int64_t j = 0; j < G; ++j) {
    dgamma[ch0 + j] = sum_dy_xhat[j];
    dbeta[ch0 + j] = sum_dy[j];
  }
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t j = 0; j < G; ++j) {
      const int64_t offset = (b * c + ch0 + j) * hw;
      const Real scale = cache.inv_std[ch0 + j] / count, gm = gamma[ch0 + j];
      const Real s_dxhat = sum_dxhat[j], s_dxhat_xhat = sum_dxhat_xhat[j];
      for (int64_t i = 0; i < hw; ++i) {
        const Real dxhat = dy[offset + i] * gm;
        dx[offset + i] = scale * (count * dxhat - s_dxhat - x_hat[offset + i] * s_dxhat_xhat);
      }
    }
  }
}

template <typename Real>
void BatchNormBackward(int64_t n, int64_t c, int64_t hw, const Real* dy, const Real* gamma,
                       const BatchNormCache<Real>& cache, Real* dx, Real* dgamma, Real* dbeta) {
  const int64_t groups = (c + kBnGroup - 1) / kBnGroup;
#pragma omp parallel for schedule(static) if (n * c * hw >= kParallelMin)
  for (int64_t group = 0; group < groups; ++group) {
    const int64_t ch0 = group * kBnGroup;
    if (ch0 + kBnGroup <= c) {
      BatchNormBackwardGroup<Real, kBnGroup>(n, c, hw, ch0, dy, gamma, cache, dx, dgamma, dbeta);
    } else {
      for (int64_t ch = ch0; ch < c; ++ch) BatchNormBackwardGroup<Real, 1>(n, c, hw, ch, dy, gamma, cache, dx, dgamma, dbeta);
    }
  }
}

// -----------------------------------------------------------------------------------------
// ReLU

template <typename Real>
void ReluForward(int64_t count, const Real* x, Real* y) {
#pragma omp parallel for schedule(static) if (count >= kParallelMin)
  for (int64_t i = 0; i < count; ++i) y[i] = x[i] > Real(0) ? x[i] : Real(0);
}

template <typename Real>
void ReluBackward(int64_t count, const Real* x, const Real* dy, Real* dx) {
#pragma omp parallel for schedule(static) if (count >= kParallelMin)
  for (int64_t i = 0; i < count; ++i) {
    const Real d = dy[i];  // read unconditionally, so GCC turns the select into vector code
    dx[i] = x[i] > Real(0) ? d : Real(0);
  }
}

// -----------------------------------------------------------------------------------------
// Max pool: (n, c) planes are independent.

template <typename T>
void MaxPoolForward(const PoolGeometry& p, const T* x, T* y, int64_t* argmax) {
  CheckPool(p);
  const int64_t h = p.in_height, w = p.in_width;
  const int64_t oh_count = p.out_height(), ow_count = p.out_width();
  const int64_t planes = p.batch * p.channels;
#pragma omp parallel for schedule(static) if (planes * h * w >= kParallelMin)
  for (int64_t plane = 0; plane < planes; ++plane) {
    const int64_t in_base = plane * h * w;
    for (int64_t oh = 0; oh < oh_count; ++oh) {
      for (int64_t ow = 0; ow < ow_count; ++ow) {
        // Padding is -inf: it never wins, so only real elements are scanned; the first
        // one is taken unconditionally (it may equal the type's lowest value).
        T best{};
        int64_t best_index = -1;
        for (int64_t r = 0; r < p.kernel; ++r) {
          const int64_t ih = oh * p.stride - p.pad + r;
          if (ih < 0 || ih >= h) continue;
          for (int64_t s = 0; s < p.kernel; ++s) {
            const int64_t iw = ow * p.stride - p.pad + s;
            if (iw < 0 || iw >= w) continue;
            const int64_t index = in_base + ih * w + iw;
            if (best_index < 0 || x[index] > best) {
              best = x[index];
              best_index = index;
            }
          }
        }
        const int64_t out = (plane * oh_count + oh) * ow_count + ow;
        y[out] = best;
        argmax[out] = best_index;
      }
    }
  }
}

template <typename Real>
void MaxPoolBackward(const PoolGeometry& p, const int64_t* argmax, const Real* dy, Real* dx) {
  CheckPool(p);
  const int64_t in_plane = p.in_height * p.in_width;
  const int64_t out_plane = p.out_height() * p.out_width();
  const int64_t planes = p.batch * p.channels;
#pragma omp parallel for schedule(static) if (planes * in_plane >= kParallelMin)
  for (int64_t plane = 0; plane < planes; ++plane) {
    std::fill_n(dx + plane * in_plane, in_plane, Real(0));
    for (int64_t o = plane * out_plane; o < (plane + 1) * out_plane; ++o) dx[argmax[o]] += dy[o];
  }
}

// -----------------------------------------------------------------------------------------
// Global average pool

template <typename Real>
void GlobalAvgPoolForward(int64_t n, int64_t c, int64_t hw, const Real* x, Real* y) {
#pragma omp parallel for schedule(static) if (n * c * hw >= kParallelMin)
  for (int64_t plane = 0; plane < n * c; ++plane) {
    Real sum = 0;
    for (int64_t i = 0; i < hw; ++i) sum += x[plane * hw + i];
    y[plane] = sum / static_cast<Real>(hw);
  }
}

template <typename Real>
void GlobalAvgPoolBackward(int64_t n, int64_t c, int64_t hw, const Real* dy, Real* dx) {
#pragma omp parallel for schedule(static) if (n * c * hw >= kParallelMin)
  for (int64_t plane = 0; plane < n * c; ++plane) {
    const Real d = dy[plane] / static_cast<Real>(hw);
    std::fill_n(dx + plane * hw, hw, d);
  }
}

// -----------------------------------------------------------------------------------------
// Linear

template <typename Real>
void LinearForward(int64_t batch, int64_t in, int64_t out, const Real* x, const Real* w,
                   const Real* bias, Real* y) {
  // The GEMM wants B with unit column stride, so multiply by a transposed copy of w.
  std::vector<Real> w_t(in * out);
  for (int64_t o = 0; o < out; ++o) {
    for (int64_t i = 0; i < in; ++i) w_t[i * out + o] = w[o * in + i];
  }
  ParallelGemm(batch, out, in, x, in, int64_t{1}, w_t.data(), out, y, out, false);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t o = 0; o < out; ++o) y[b * out + o] += bias[o];
  }
}

template <typename Real>
void LinearBackward(int64_t batch, int64_t in, int64_t out, const Real* x, const Real* w,
                    const Real* dy, Real* dx, Real* dw, Real* dbias) {
  if (dx != nullptr) ParallelGemm(batch, in, out, dy, out, int64_t{1}, w, in, dx, in, false);
  ParallelGemm(out, in, batch, dy, int64_t{1}, out, x, in, dw, in, false);
  for (int64_t o = 0; o < out; ++o) {
    Real sum = 0;
    for (int64_t b = 0; b < batch; ++b) sum += dy[b * out + o];
    dbias[o] = sum;
  }
}

// -----------------------------------------------------------------------------------------
// Softmax cross-entropy

template <typename Real>
Real SoftmaxCrossEntropy(int64_t batch, int64_t classes, const Real* logits,
                         const uint16_t* labels, Real* dlogits, int64_t* correct) {
  for (int64_t b = 0; b < batch; ++b) {
    if (labels[b] >= classes) Fail("label {} of sample {} is not below {} classes", labels[b], b, classes);
  }
  std::vector<Real> losses(batch);
  std::vector<uint8_t> hits(batch);
#pragma omp parallel for schedule(static) if (batch * classes >= kParallelMin)
  for (int64_t b = 0; b < batch; ++b) {
    const Real* row = logits + b * classes;
    int64_t best = 0;
    for (int64_t j = 1; j < classes; ++j) {
      if (row[j] > row[best]) best = j;
    }
    // log-softmax relative to the max: exp never overflows, the sum is >= 1.
    const Real max = row[best];
    Real sum = 0;
    for (int64_t j = 0; j < classes; ++j) sum += std::exp(row[j] - max);
    losses[b] = std::log(sum) - (row[labels[b]] - max);
    hits[b] = best == labels[b];
    if (dlogits != nullptr) {
      Real* d = dlogits + b * classes;
      for (int64_t j = 0; j < classes; ++j) {
        const Real prob = std::exp(row[j] - max) / sum;
        d[j] = (prob - (j == labels[b] ? Real(1) : Real(0))) / static_cast<Real>(batch);
      }
    }
  }
  Real loss_sum = 0;
  int64_t hit_count = 0;
  for (int64_t b = 0; b < batch; ++b) {
    loss_sum += losses[b];
    hit_count += hits[b];
  }
  if (correct != nullptr) *correct = hit_count;
  return batch > 0 ? loss_sum / static_cast<Real>(batch) : Real(0);
}

// -----------------------------------------------------------------------------------------
// Explicit instantiations

#define OCTET_FL_INSTANTIATE(Real)                                                              \
  template void Conv2dForward<Real>(const ConvGeometry&, const Real*, const Real*, Real*);       \
  template void Conv2dBackward<Real>(const ConvGeometry&, const Real*, const Real*, const Real*, \
                                     Real*, Real*);                                             \
  template void BatchNormForward<Real>(int64_t, int64_t, int64_t, const Real*, const Real*,      \
                                       const Real*, Real, Real*, BatchNormCache<Real>&);         \
  template void BatchNormBackward<Real>(int64_t, int64_t, int64_t, const Real*, const Real*,     \
                                        const BatchNormCache<Real>&, Real*, Real*, Real*);       \
  template void ReluForward<Real>(int64_t, const Real*, Real*);                                  \
  template void ReluBackward<Real>(int64_t, const Real*, const Real*, Real*);                    \
  template void MaxPoolForward<Real>(const PoolGeometry&, const Real*, Real*, int64_t*);         \
  template void MaxPoolBackward<Real>(const PoolGeometry&, const int64_t*, const Real*, Real*);  \
  template void GlobalAvgPoolForward<Real>(int64_t, int64_t, int64_t, const Real*, Real*);       \
  template void GlobalAvgPoolBackward<Real>(int64_t, int64_t, int64_t, const Real*, Real*);      \
  template void LinearForward<Real>(int64_t, int64_t, int64_t, const Real*, const Real*,         \
                                    const Real*, Real*);                                        \
  template void LinearBackward<Real>(int64_t, int64_t, int64_t, const Real*, const Real*,        \
                                     const Real*, Real*, Real*, Real*);                          \
  template Real SoftmaxCrossEntropy<Real>(int64_t, int64_t, const Real*, const uint16_t*, Real*, \
                                          int64_t*);

OCTET_FL_INSTANTIATE(float)
OCTET_FL_INSTANTIATE(double)
#undef OCTET_FL_INSTANTIATE

template void MaxPoolForward<uint8_t>(const PoolGeometry&, const uint8_t*, uint8_t*, int64_t*);

}  // namespace octet::fl
