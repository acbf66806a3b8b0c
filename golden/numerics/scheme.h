// A quantization scheme: the bit widths of every tensor of a training step and the
// optimizer constants. Loaded from a JSON scheme file (docs/numerics.md, "Scheme files");
// the built-in schemes are the files in golden/schemes/, embedded at build time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace octet {

enum class E2Mode {
  kShift,  // SQ(x, k_E2): plain shift quantization (k_E2 = 16, or 8 for the failing case)
  kFlag,   // 8-bit Flag QE2 stored as 9-bit words (flag, sign, 7-bit magnitude)
};

// A piecewise-constant schedule over training progress: value * factors[i] on the i-th
// phase; phase i starts at fraction milestones[i-1] of the total epochs.
struct Schedule {
  std::vector<double> factors{1.0};
  std::vector<double> milestones;  // size factors.size() - 1, increasing, in (0, 1)
  // Phase index for epoch `epoch` (0-based) of `total` epochs.
  int Phase(int epoch, int total) const;
};

struct Scheme {
  std::string name;
  bool quantized = true;  // false: every layer in float (the fp32 scheme)
  bool fp32_first = true;  // the stem conv-BN-ReLU stays in float (as in the paper)
  bool fp32_last = true;   // the classifier stays in float (as in the paper)

  // Bit widths k (Q(x, k) has k - 1 fractional bits).
  int k_W = 8, k_A = 8, k_E1 = 8, k_E2 = 8;
  E2Mode e2_mode = E2Mode::kFlag;
  int k_BN = 16, k_mu = 16, k_sigma = 16, k_gamma = 8, k_beta = 8;
  int k_GC = 15, k_Ggamma = 15, k_Gbeta = 15;
  int k_Mom = 3, k_Acc = 13, k_lr = 10, k_WU = 24;

  // Integer optimizer: Acc = Mom * Acc_q + G; W -= lr * Acc.
  double momentum = 0.25;
  double lr = 0.05;
  Schedule lr_schedule;
  std::vector<int> dr{128};  // CQ range per lr phase (powers of two)

  // Float optimizer (fp32 scheme, and the float first/last layers of quantized schemes):
  // SGD with momentum, v = momentum * v + g; w -= lr * v.
  double float_lr = 0.05;
  double float_momentum = 0.9;
  double float_bn_eps = 1e-5;

  // Derived fractional-bit counts.
  int frac_W() const { return k_W - 1; }
  int frac_A() const { return k_A - 1; }
  int frac_WU() const { return k_WU - 1; }
  int frac_GC() const { return k_GC - 1; }
  int frac_Acc() const { return k_Acc - 1; }
  int frac_Mom() const { return k_Mom - 1; }
  int frac_lr() const { return k_lr - 1; }
  int frac_BN() const { return k_BN - 1; }
  int frac_mu() const { return k_mu - 1; }
  int frac_sigma() const { return k_sigma - 1; }
  int frac_gamma() const { return k_gamma - 1; }
  int frac_beta() const { return k_beta - 1; }
  int frac_x1() const { return frac_W() + frac_A(); }
  int frac_x3() const { return frac_gamma() + frac_BN(); }

  // Quantized constants, checked by Validate().
  int64_t MomentumInt() const;          // Mom at frac_Mom bits
  int64_t LearningRateInt(int phase) const;  // clip(Q(lr * factor, k_lr), +-(2^(k_lr-1) - 1))
  int DynamicRange(int phase) const;    // dr for the phase (last entry repeats)
};

// Parses and validates a scheme from JSON text; `origin` names the file in errors.
Scheme ParseScheme(const std::string& json_text, const std::string& origin);
// A built-in name (fp32, wageubn16, wageubn8, wageubn8-noflag) or a path to a JSON file.
Scheme LoadScheme(const std::string& name_or_path);
std::vector<std::string> BuiltinSchemeNames();
// The JSON text of a scheme (all keys), for manifests and --dump.
std::string SchemeToJson(const Scheme& scheme);

}  // namespace octet
