// Quantized batch normalisation (paper eq. 11-12) forward and its full batch-statistics
// backward, in integer arithmetic. Formulas, containers and bounds: docs/numerics.md,
// section "BN".
#pragma once

#include <cstdint>

#include "golden/numerics/fixed_point.h"
#include "golden/numerics/scheme.h"

namespace octet {

// Extra fractional bits the BN backward unit keeps in dL/dx1 before E2 quantizes it.
inline constexpr int kBnBackwardExtraBits = 16;

struct BnShape {
  int64_t batch = 1, channels = 1, pixels = 1;  // pixels = H * W
  int64_t count() const { return batch * pixels; }  // elements per channel
};

// x1 [N][C][pixels] at frac_x1 -> mu_q, sigma_q [C] (sigma_q includes eps = 1 LSB) and
// x2 = Q((x1 - mu_q) / sigma_q, k_BN), saturated to (k_BN + 8)-bit signed.
void IntBatchNormForward(const Scheme& s, const BnShape& shape, const int32_t* x1, int32_t* mu_q, int32_t* sigma_q,
                         int32_t* x2);

// The normalise step of IntBatchNormForward for one channel with statistics mu_q, sigma_q
// (sigma_q >= 1), element by element:
//   x2 = RHE((x1 - mu_q) * 2^(f_BN + f_sigma - F) / sigma_q), F = max(f_x1, f_mu),
//   saturated to (k_BN + 8)-bit signed. Shared with the RTL unit (rtl/units/octet_bn_normalise.sv).
class BnNormaliser {
 public:
  BnNormaliser(const Scheme& s, int32_t mu_q, int32_t sigma_q);
  int32_t operator()(int32_t x1) const;

 private:
  int64_t mu_;
  int x1_shift_, mu_shift_, out_shift_, x2_bits_;
  fx::RoundHalfEvenDivider divide_;
};

// Backward from e1 (int8, exponent e1_exp):
//   e2 = e1 * gamma_q                                (int32, exponent e1_exp - frac_gamma)
//   dx1 = (e2 - mean(e2) - x2 * mean(e2 * x2)) / sigma_q, rounded once (RHE) to the
//         exponent e2_exp - kBnBackwardExtraBits, saturated to int64
//   g_gamma = sum(e1 * x2), g_beta = sum(e1) per channel, exact (int64)
// Returns the exponent of dx1; writes the exponents of g_gamma and g_beta, and max |dx1| (as
// an unsigned magnitude) if max_dx1 is given: E2 then needs no pass of its own for it.
int IntBatchNormBackward(const Scheme& s, const BnShape& shape, const int8_t* e1, int e1_exp, const int16_t* gamma_q,
                         const int32_t* x2, const int32_t* sigma_q, int32_t* e2, int64_t* dx1, int64_t* g_gamma,
                         int64_t* g_beta, int* g_gamma_exp, int* g_beta_exp, uint64_t* max_dx1 = nullptr);

}  // namespace octet
