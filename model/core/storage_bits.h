// The width in bits of every tensor as the accelerator stores it in its buffers and in
// DRAM (docs/architecture.md, "Storage widths"). Narrow tensors take the scheme's bit
// widths; wide intermediates keep the golden model's container so no value is lost.
#pragma once

#include "golden/numerics/scheme.h"
#include "model/array/pe_operand.h"  // kAccumulatorBits

namespace octet::model {



struct StorageBits {
  int activation;    // x0, x4: k_A (unsigned)
  int mask = 1;      // ReLU pass mask dx4/dx3
  int weight_q;      // W_q: k_W
  int master;        // W, gamma, beta: k_WU
  int acc;           // Acc_q: k_Acc
  int grad_q;        // g_W_q, g_gamma_q, g_beta_q: k_GC
  int x1 = 32;       // forward GEMM result (< 2^28, int32 container)
  int x2 = 32;       // BN output (k_BN + 8 bits saturated, int32 container)
  int x3 = 64;       // exact scale/offset/residual sum (int64 container)
  int e1;            // e0, e1: k_E1
  int wide_error = 64;  // dx1 and error sums (int64 container)
  int host_error = 32;  // float32 error from the host's classifier
  int e3;            // 9 (flag words), else k_E2
  int psum = kAccumulatorBits;  // e4 and g_W leave the array at accumulator width

  static StorageBits For(const Scheme& s) {
    StorageBits b{};
    b.activation = s.k_A;
    b.weight_q = s.k_W;
    b.master = s.k_WU;
    b.acc = s.k_Acc;
    b.grad_q = s.k_GC;
    b.e1 = s.k_E1;
    b.e3 = s.e2_mode == E2Mode::kFlag ? 9 : s.k_E2;
    return b;
  }
};

}  // namespace octet::model
