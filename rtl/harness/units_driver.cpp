#include "rtl/harness/units_driver.h"

#include <deque>

#include "Voctet_bn_normalise.h"
#include "Voctet_cq.h"
#include "Voctet_e1_quantizer.h"
#include "Voctet_flag_decoder.h"
#include "Voctet_flag_encoder.h"
#include "Voctet_relu_qa.h"
#include "Voctet_update_unit.h"
#include "golden/core/error.h"
#include "golden/numerics/counter_rng.h"
#include "rtl/harness/verilated_context.h"
#include "verilated.h"

namespace octet::rtl {
namespace {

// The low `bits` bits of a signed value, as a port holds them (Verilator expects the bits
// above a port's width to be zero).
constexpr uint64_t LowBits(int64_t value, int bits) {
  return bits >= 64 ? static_cast<uint64_t>(value) : static_cast<uint64_t>(value) & ((uint64_t{1} << bits) - 1);
}

// One pseudo-random decision per (seed, cycle, lane): true one time in `one_in`.
bool Stall(uint64_t seed, int64_t cycle, uint64_t lane, uint64_t one_in) {
  return seed != 0 && Mix64(Mix64(seed ^ lane) ^ static_cast<uint64_t>(cycle)) % one_in == 0;
}

// Reset a clocked model: two edges with rst_ni low.
template <typename Model>
void Reset(Model& dut) {
  dut.rst_ni = 0;
  for (int i = 0; i < 2; ++i) {
    dut.clk_i = 0;
    dut.eval();
    dut.clk_i = 1;
    dut.eval();
  }
  dut.clk_i = 0;
  dut.rst_ni = 1;
  dut.eval();
}

}  // namespace

int64_t SignExtend(uint64_t value, int bits) {
  if (bits >= 64) return static_cast<int64_t>(value);
  const uint64_t sign = uint64_t{1} << (bits - 1);
  const uint64_t low = value & ((uint64_t{1} << bits) - 1);
  return static_cast<int64_t>((low ^ sign) - sign);
}

// ---------------------------------------------------------------------------------------

FlagEncoderDriver::FlagEncoderDriver()
    : context_(NewVerilatedContext()), dut_(std::make_unique<Voctet_flag_encoder>(context_.get(), "flag_encoder")) {}
FlagEncoderDriver::~FlagEncoderDriver() { dut_->final(); }

uint16_t FlagEncoderDriver::Run(const FlagEncoderIn& in) {
  dut_->m_i = static_cast<uint64_t>(in.m);
  dut_->t_i = static_cast<uint8_t>(LowBits(in.t, 8));
  dut_->eval();
  return static_cast<uint16_t>(dut_->word_o);
}

// ---------------------------------------------------------------------------------------

FlagDecoderDriver::FlagDecoderDriver()
    : context_(NewVerilatedContext()), dut_(std::make_unique<Voctet_flag_decoder>(context_.get(), "flag_decoder")) {}
FlagDecoderDriver::~FlagDecoderDriver() { dut_->final(); }

int16_t FlagDecoderDriver::Run(uint16_t word) {
  dut_->word_i = static_cast<uint16_t>(word & 0x1FF);
  dut_->eval();
  return static_cast<int16_t>(SignExtend(dut_->value_o, 16));
}

// ---------------------------------------------------------------------------------------

E1QuantizerDriver::E1QuantizerDriver()
    : context_(NewVerilatedContext()), dut_(std::make_unique<Voctet_e1_quantizer>(context_.get(), "e1_quantizer")) {}
E1QuantizerDriver::~E1QuantizerDriver() { dut_->final(); }

int8_t E1QuantizerDriver::Run(const E1QuantizerIn& in) {
  dut_->m_i = static_cast<uint64_t>(in.m);
  dut_->shift_i = static_cast<uint8_t>(LowBits(in.shift, 8));
  dut_->eval();
  return static_cast<int8_t>(SignExtend(dut_->e_o, 8));
}

// ---------------------------------------------------------------------------------------

ReluQaDriver::ReluQaDriver()
    : context_(NewVerilatedContext()), dut_(std::make_unique<Voctet_relu_qa>(context_.get(), "relu_qa")) {}
ReluQaDriver::~ReluQaDriver() { dut_->final(); }

ReluQaOut ReluQaDriver::Run(const ReluQaIn& in) {
  dut_->x2_i = static_cast<uint32_t>(LowBits(in.x2, 24));
  dut_->gamma_q_i = static_cast<uint16_t>(in.gamma_q);
  dut_->beta_q_i = static_cast<uint16_t>(in.beta_q);
  dut_->residual_i = static_cast<uint64_t>(in.residual);
  dut_->eval();
  return {static_cast<int64_t>(dut_->x3_o), static_cast<uint8_t>(dut_->x4_o), static_cast<uint8_t>(dut_->relu_pass_o)};
}

// ---------------------------------------------------------------------------------------

CqDriver::CqDriver() : context_(NewVerilatedContext()), dut_(std::make_unique<Voctet_cq>(context_.get(), "cq")) {
  dut_->valid_i = 0;
  Reset(*dut_);
}
CqDriver::~CqDriver() { dut_->final(); }

void CqDriver::Tick() {
  dut_->clk_i = 1;
  dut_->eval();
  dut_->clk_i = 0;
  ++cycles_;
}

std::vector<int16_t> CqDriver::Run(std::span<const CqIn> in, uint64_t bubble_seed) {
  std::vector<int16_t> out;
  out.reserve(in.size());
  std::deque<int64_t> issued;  // the cycle each element in flight was presented
  size_t next = 0;
  while (out.size() < in.size()) {
    const bool present = next < in.size() && !Stall(bubble_seed, cycles_, 1, 4);
    dut_->valid_i = present;
    if (present) {
      const CqIn& e = in[next];
      dut_->m_i = static_cast<uint64_t>(e.m);
      dut_->shift_i = static_cast<uint8_t>(LowBits(e.shift, 8));
      dut_->log2_dr_i = static_cast<uint8_t>(LowBits(e.log2_dr, 4));
      dut_->prefix_i = e.prefix;
      dut_->index_i = e.index;
    }
    dut_->eval();
    if (dut_->valid_o) {
      if (issued.empty() || cycles_ - issued.front() != kCqLatency) {
        Fail("octet_cq: valid_o at cycle {} without an element presented {} cycles before", cycles_, kCqLatency);
      }
      issued.pop_front();
      out.push_back(static_cast<int16_t>(SignExtend(dut_->g_o, 16)));
    } else if (!issued.empty() && cycles_ - issued.front() >= kCqLatency) {
      Fail("octet_cq: no valid_o at cycle {} for the element presented at cycle {}", cycles_, issued.front());
    }
    if (present) {
      issued.push_back(cycles_);
      ++next;
    }
    Tick();
  }
  return out;
}

// ---------------------------------------------------------------------------------------

UpdateUnitDriver::UpdateUnitDriver()
    : context_(NewVerilatedContext()), dut_(std::make_unique<Voctet_update_unit>(context_.get(), "update_unit")) {}
UpdateUnitDriver::~UpdateUnitDriver() { dut_->final(); }

UpdateOut UpdateUnitDriver::Run(const UpdateIn& in) {
  dut_->grad_i = static_cast<uint32_t>(in.grad);
  dut_->param_i = static_cast<uint32_t>(in.param);
  dut_->acc_q_i = static_cast<uint32_t>(in.acc_q);
  dut_->mom_i = static_cast<uint8_t>(LowBits(in.mom, 2));
  dut_->lr_i = static_cast<uint16_t>(LowBits(in.lr, 9));
  dut_->weight_i = in.weight ? 1 : 0;
  dut_->eval();
  return {static_cast<int32_t>(dut_->param_o), static_cast<int32_t>(dut_->acc_q_o), static_cast<int32_t>(dut_->acc_o),
          SignExtend(dut_->delta_o, 42)};
}

// ---------------------------------------------------------------------------------------

BnNormaliseDriver::BnNormaliseDriver()
    : context_(NewVerilatedContext()), dut_(std::make_unique<Voctet_bn_normalise>(context_.get(), "bn_normalise")) {
  dut_->in_valid_i = 0;
  dut_->out_ready_i = 0;
  Reset(*dut_);
}
BnNormaliseDriver::~BnNormaliseDriver() { dut_->final(); }

void BnNormaliseDriver::Tick() {
  dut_->clk_i = 1;
  dut_->eval();
  dut_->clk_i = 0;
  ++cycles_;
}

std::vector<int32_t> BnNormaliseDriver::Run(std::span<const BnNormaliseIn> in, uint64_t stall_seed) {
  std::vector<int32_t> out;
  out.reserve(in.size());
  size_t next = 0;
  int64_t accepted_at = -1;  // cycle of the accepting edge of the element in flight
  bool seen_valid = false;   // its result has been valid since
  const int64_t deadline = cycles_ + static_cast<int64_t>(in.size()) * (4 * kBnNormaliseLatency) + 100;
  while (out.size() < in.size()) {
    if (cycles_ > deadline) Fail("octet_bn_normalise: no result after {} cycles", cycles_);
    const bool offer = next < in.size() && !Stall(stall_seed, cycles_, 2, 3);
    const bool ready = !Stall(stall_seed, cycles_, 3, 3);
    dut_->in_valid_i = offer;
    dut_->out_ready_i = ready;
    if (offer) {
      dut_->x1_i = static_cast<uint32_t>(in[next].x1);
      dut_->mu_i = static_cast<uint32_t>(in[next].mu);
      dut_->sigma_i = static_cast<uint32_t>(in[next].sigma);
    }
    dut_->eval();
    if (dut_->out_valid_o) {
      if (accepted_at < 0) Fail("octet_bn_normalise: out_valid_o at cycle {} with no element in flight", cycles_);
      if (!seen_valid && cycles_ - accepted_at != kBnNormaliseLatency) {
        Fail("octet_bn_normalise: result valid {} cycles after the accepting edge, expected {}",
             cycles_ - accepted_at, kBnNormaliseLatency);
      }
      seen_valid = true;
    } else if (accepted_at >= 0 && cycles_ - accepted_at >= kBnNormaliseLatency) {
      Fail("octet_bn_normalise: no out_valid_o at cycle {} for the element accepted at cycle {}", cycles_, accepted_at);
    }
    const bool handover = dut_->out_valid_o && ready;
    if (handover) {
      out.push_back(static_cast<int32_t>(SignExtend(dut_->x2_o, 24)));
      accepted_at = -1;
      seen_valid = false;
    }
    if (offer && dut_->in_ready_o) {
      if (accepted_at >= 0) Fail("octet_bn_normalise: in_ready_o at cycle {} with an element in flight", cycles_);
      accepted_at = cycles_;
      ++next;
    }
    Tick();
  }
  return out;
}

}  // namespace octet::rtl
