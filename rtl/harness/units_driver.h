// Drivers of the vector units' Verilated blocks (rtl/units; docs/rtl.md, "Vector units").
// Each driver owns one Verilated model and applies input vectors to it, returning the
// outputs in the golden model's types; the multi-cycle blocks' clock, reset and handshake
// are handled here. Shared by the regressions (block_regressions.h), tests/rtl and
// `octet regress`. A protocol violation (an output at the wrong cycle, a block that never
// answers) throws octet::Error naming the block and the cycle.
//
// The blocks are built with their default parameters, those of the wageubn8 scheme.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

class VerilatedContext;
class Voctet_flag_encoder;
class Voctet_flag_decoder;
class Voctet_e1_quantizer;
class Voctet_relu_qa;
class Voctet_cq;
class Voctet_update_unit;
class Voctet_bn_normalise;

namespace octet::rtl {

// The low `bits` bits of a port value as a two's-complement integer.
int64_t SignExtend(uint64_t value, int bits);

// Cycles of the clocked blocks at their default parameters (docs/rtl.md).
inline constexpr int kCqLatency = 2;           // valid_i to valid_o
inline constexpr int kBnNormaliseLatency = 26;  // accepting edge to out_valid_o (QBits + 1)

// ---------------------------------------------------------------------------------------
// octet_flag_encoder: q::FlagEncode(q::FlagQuantizeElement(m, t)). Combinational.
struct FlagEncoderIn {
  int64_t m = 0;
  int t = 0;  // [-128, 127]
};

class FlagEncoderDriver {
 public:
  FlagEncoderDriver();
  ~FlagEncoderDriver();
  uint16_t Run(const FlagEncoderIn& in);

 private:
  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Voctet_flag_encoder> dut_;
};

// ---------------------------------------------------------------------------------------
// octet_flag_decoder: q::FlagDecode(word) for a 9-bit word. Combinational.
class FlagDecoderDriver {
 public:
  FlagDecoderDriver();
  ~FlagDecoderDriver();
  int16_t Run(uint16_t word);

 private:
  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Voctet_flag_decoder> dut_;
};

// ---------------------------------------------------------------------------------------
// octet_e1_quantizer: q::ShiftQuantizeElement(m, shift, k_E1 = 8). Combinational.
struct E1QuantizerIn {
  int64_t m = 0;
  int shift = 0;  // [-128, 127]
};

class E1QuantizerDriver {
 public:
  E1QuantizerDriver();
  ~E1QuantizerDriver();
  int8_t Run(const E1QuantizerIn& in);

 private:
  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Voctet_e1_quantizer> dut_;
};

// ---------------------------------------------------------------------------------------
// octet_relu_qa: ScaleOffsetActivateElement. Combinational.
struct ReluQaIn {
  int32_t x2 = 0;  // 24-bit signed
  int16_t gamma_q = 0;
  int16_t beta_q = 0;
  int64_t residual = 0;  // |residual| < 2^62
};

struct ReluQaOut {
  int64_t x3 = 0;
  uint8_t x4 = 0;
  uint8_t relu_pass = 0;
};

class ReluQaDriver {
 public:
  ReluQaDriver();
  ~ReluQaDriver();
  ReluQaOut Run(const ReluQaIn& in);

 private:
  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Voctet_relu_qa> dut_;
};

// ---------------------------------------------------------------------------------------
// octet_cq: q::ConstantQuantizeElement(m, shift, 2^log2_dr, RandomBits32(prefix, index)).
// Pipelined: one element per cycle, kCqLatency cycles.
struct CqIn {
  int64_t m = 0;
  int shift = 0;    // [-128, 127]
  int log2_dr = 7;  // [0, 15]
  uint64_t prefix = 0;
  uint64_t index = 0;
};

class CqDriver {
 public:
  CqDriver();
  ~CqDriver();
  // Streams the inputs, one per cycle; with bubble_seed != 0, idle cycles (valid_i = 0) are
  // inserted at pseudo-random places. Checks that each output appears kCqLatency cycles
  // after its input and nowhere else.
  std::vector<int16_t> Run(std::span<const CqIn> in, uint64_t bubble_seed = 0);
  int64_t cycles() const { return cycles_; }

 private:
  void Tick();
  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Voctet_cq> dut_;
  int64_t cycles_ = 0;
};

// ---------------------------------------------------------------------------------------
// octet_update_unit: MomentumUpdateElement with bound = weight ? 2^23 - 1 : 2^31 - 1.
// Combinational.
struct UpdateIn {
  int32_t grad = 0;
  int32_t param = 0;
  int32_t acc_q = 0;
  int mom = 1;   // [0, 3]: Mom at 2 fractional bits
  int lr = 128;  // [0, 511]: lr at 9 fractional bits
  bool weight = true;
};

struct UpdateOut {
  int32_t param = 0;
  int32_t acc_q = 0;
  int32_t acc = 0;
  int64_t delta = 0;
};

class UpdateUnitDriver {
 public:
  UpdateUnitDriver();
  ~UpdateUnitDriver();
  UpdateOut Run(const UpdateIn& in);

 private:
  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Voctet_update_unit> dut_;
};

// ---------------------------------------------------------------------------------------
// octet_bn_normalise: BnNormaliser(scheme, mu, sigma)(x1). Multi-cycle, valid/ready on the
// input and the output.
struct BnNormaliseIn {
  int32_t x1 = 0;
  int32_t mu = 0;
  int32_t sigma = 1;  // >= 1
};

class BnNormaliseDriver {
 public:
  BnNormaliseDriver();
  ~BnNormaliseDriver();
  // Feeds the inputs through the handshake. With stall_seed != 0, in_valid_i and out_ready_i
  // drop at pseudo-random cycles. Checks that every result becomes valid
  // kBnNormaliseLatency cycles after its input was accepted.
  std::vector<int32_t> Run(std::span<const BnNormaliseIn> in, uint64_t stall_seed = 0);
  int64_t cycles() const { return cycles_; }

 private:
  void Tick();
  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Voctet_bn_normalise> dut_;
  int64_t cycles_ = 0;
};

}  // namespace octet::rtl
