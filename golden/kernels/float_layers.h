// Floating-point reference layers (forward + backward), templated on Real = float or
// double. Used for the FP32 first/last layers of the quantized networks, for the whole
// network under the `fp32` scheme, and in double precision for the gradient check.
//
// Layout is NCHW; conv weights are [K_out][C][R][S]; all pointers are contiguous arrays.
// Outputs are overwritten, not accumulated, unless stated.
//
// Determinism: every output element is produced by exactly one thread, and every sum
// runs sequentially in a fixed index order, so results are bitwise identical for any
// OpenMP thread count. In particular a conv output (forward) or weight gradient is the
// plain sequential sum over its reduction index (k for the forward, p for dW), starting
// from zero, exactly as a naive triple loop would compute it.
#pragma once

#include <cstdint>
#include <vector>

#include "golden/core/conv_geometry.h"

namespace octet::fl {

// y[n][ko][oh][ow] = sum_k W[ko][k] * col[p][k], lowered by im2col in the order of
// conv_geometry.h. Throws Error on a degenerate geometry.
template <typename Real>
void Conv2dForward(const ConvGeometry& g, const Real* x, const Real* w, Real* y);

// Gradients of Conv2dForward. dx may be nullptr (first layer: no input gradient needed).
// dw is overwritten; dw[ko][k] sums over p = (n, oh, ow) in increasing order.
template <typename Real>
void Conv2dBackward(const ConvGeometry& g, const Real* x, const Real* w, const Real* dy, Real* dx,
                    Real* dw);

// What the BN backward needs from its forward: per-channel mean and 1/sqrt(var+eps), and
// the normalized input x_hat (same layout as x).
template <typename Real>
struct BatchNormCache {
  std::vector<Real> mean, inv_std, x_hat;
};

// Training-mode batch norm over (N, H*W) per channel, population variance (divide by
// M = n*hw, two-pass), x_hat = (x - mean) / sqrt(var + eps), y = gamma * x_hat + beta.
// x_hat is computed as (x - mean) * inv_std with inv_std = 1 / sqrt(var + eps).
template <typename Real>
void BatchNormForward(int64_t n, int64_t c, int64_t hw, const Real* x, const Real* gamma,
                      const Real* beta, Real eps, Real* y, BatchNormCache<Real>& cache);

// Full batch-statistics gradient: dxhat = dy * gamma,
// dx = inv_std / M * (M * dxhat - sum(dxhat) - x_hat * sum(dxhat * x_hat)),
// dgamma = sum(dy * x_hat), dbeta = sum(dy), sums per channel over (N, H*W).
template <typename Real>
void BatchNormBackward(int64_t n, int64_t c, int64_t hw, const Real* dy, const Real* gamma,
                       const BatchNormCache<Real>& cache, Real* dx, Real* dgamma, Real* dbeta);

// y = x > 0 ? x : 0.
template <typename Real>
void ReluForward(int64_t count, const Real* x, Real* y);

// dx = x > 0 ? dy : 0, where x is the ReLU input. dx may alias dy.
template <typename Real>
void ReluBackward(int64_t count, const Real* x, const Real* dy, Real* dx);

// Square-window pooling geometry (NCHW).
struct PoolGeometry {
  int64_t batch = 1, channels = 1, in_height = 1, in_width = 1, kernel = 1, stride = 1, pad = 0;
  int64_t out_height() const { return (in_height + 2 * pad - kernel) / stride + 1; }
  int64_t out_width() const { return (in_width + 2 * pad - kernel) / stride + 1; }
};

// Max pool, padding counts as -inf (the type's lowest value for integers, e.g. uint8_t)
// and is never chosen. argmax[o] is the flat input index (into x) of the chosen element,
// the first maximum in scan order (r, then s) on ties. Requires pad < kernel so every
// window holds at least one real element; throws Error otherwise.
template <typename T>
void MaxPoolForward(const PoolGeometry& p, const T* x, T* y, int64_t* argmax);

// dx is zeroed, then dx[argmax[o]] += dy[o] in output order. argmax must come from
// MaxPoolForward with the same geometry (each index stays within its own (n, c) plane).
template <typename Real>
void MaxPoolBackward(const PoolGeometry& p, const int64_t* argmax, const Real* dy, Real* dx);

// y[n][c] = (sum over the hw elements of plane (n, c)) / hw.
template <typename Real>
void GlobalAvgPoolForward(int64_t n, int64_t c, int64_t hw, const Real* x, Real* y);

// dx[n][c][i] = dy[n][c] / hw.
template <typename Real>
void GlobalAvgPoolBackward(int64_t n, int64_t c, int64_t hw, const Real* dy, Real* dx);

// y[b][o] = (sum_i w[o][i] * x[b][i]) + bias[o]; w is [out][in].
template <typename Real>
void LinearForward(int64_t batch, int64_t in, int64_t out, const Real* x, const Real* w,
                   const Real* bias, Real* y);

// dx[b][i] = sum_o dy[b][o] w[o][i] (dx may be nullptr), dw[o][i] = sum_b dy[b][o] x[b][i],
// dbias[o] = sum_b dy[b][o].
template <typename Real>
void LinearBackward(int64_t batch, int64_t in, int64_t out, const Real* x, const Real* w,
                    const Real* dy, Real* dx, Real* dw, Real* dbias);

// Mean cross-entropy over the batch with a numerically stable log-softmax. Writes
// dlogits = (softmax - onehot) / batch (skipped if dlogits is nullptr) and, if correct is
// non-null, the number of samples whose argmax (ties -> lowest index) equals the label.
// Returns the mean loss. Throws Error on a label >= classes.
template <typename Real>
Real SoftmaxCrossEntropy(int64_t batch, int64_t classes, const Real* logits,
                         const uint16_t* labels, Real* dlogits, int64_t* correct);

}  // namespace octet::fl
