// Drivers of the precision comparison's Verilated MACs (rtl/precision; docs/energy-area.md,
// "Precision comparison (Fig. 10)"): the floating-point FMA core on its own
// (combinational, any accumulator value) and the clocked PE of each precision (a token
// per cycle, the accumulator after the edge). The instances and their parameters are in
// rtl/precision/blocks.cmake.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "rtl/harness/fp_reference.h"

namespace octet::rtl {

enum class MacPrecision { kInt8, kInt16, kFp8, kFp16, kFp32 };

// The operand and accumulator widths and, for the floating-point ones, the formats of
// each precision's Verilated instance.
struct MacShape {
  std::string name;  // "int8", ..., "fp32"
  bool is_float = false;
  int op_bits = 8, acc_bits = 32;
  FpFormat op, acc;  // is_float only
};
MacShape MacShapeOf(MacPrecision precision);

// octet_fp_fma of a floating-point precision: sum = RNE(c + a * b). Combinational.
class FpFmaDriver {
 public:
  explicit FpFmaDriver(MacPrecision precision);  // kFp8, kFp16 or kFp32
  ~FpFmaDriver();
  uint64_t Run(uint64_t a, uint64_t b, uint64_t c);

  struct Model;

 private:
  std::unique_ptr<Model> model_;
};

// octet_mac_pe of a precision: Step applies one token at a clock edge and returns the
// accumulator register after it; the operands come out of a_o and b_o a cycle later.
class MacPeDriver {
 public:
  explicit MacPeDriver(MacPrecision precision);
  ~MacPeDriver();
  void Reset();
  uint64_t Step(bool valid, bool first, uint64_t a, uint64_t b);
  uint64_t a_out() const;
  uint64_t b_out() const;

  struct Model;

 private:
  std::unique_ptr<Model> model_;
};

}  // namespace octet::rtl
