#include "rtl/harness/precision_driver.h"

#include "Voctet_fp_fma_fp16.h"
#include "Voctet_fp_fma_fp32.h"
#include "Voctet_fp_fma_fp8.h"
#include "Voctet_mac_pe_fp16.h"
#include "Voctet_mac_pe_fp32.h"
#include "Voctet_mac_pe_fp8.h"
#include "Voctet_mac_pe_int16.h"
#include "Voctet_mac_pe_int8.h"
#include "golden/core/error.h"
#include "rtl/harness/verilated_context.h"
#include "verilated.h"

namespace octet::rtl {
namespace {

uint64_t Mask(int bits) { return bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1; }

}  // namespace

MacShape MacShapeOf(MacPrecision p) {
  switch (p) {
    case MacPrecision::kInt8: return {"int8", false, 8, 32, {}, {}};
    case MacPrecision::kInt16: return {"int16", false, 16, 48, {}, {}};
    case MacPrecision::kFp8: return {"fp8", true, 8, 16, kFp8E5M2, kFp16Acc};
    case MacPrecision::kFp16: return {"fp16", true, 16, 32, kFp16, kFp32};
    case MacPrecision::kFp32: return {"fp32", true, 32, 32, kFp32, kFp32};
  }
  Fail("unknown MAC precision {}", static_cast<int>(p));
}

// ---- The FMA core: one Verilated class per format, behind one interface.

struct FpFmaDriver::Model {
  virtual ~Model() = default;
  virtual uint64_t Run(uint64_t a, uint64_t b, uint64_t c) = 0;
};

namespace {

template <typename V>
struct FmaModel final : FpFmaDriver::Model {
  std::unique_ptr<VerilatedContext> context = NewVerilatedContext();
  std::unique_ptr<V> model = std::make_unique<V>(context.get());
  V& dut = *model;
  MacShape shape;
  explicit FmaModel(const MacShape& s) : shape(s) {}
  uint64_t Run(uint64_t a, uint64_t b, uint64_t c) override {
    dut.a_i = a & Mask(shape.op_bits);
    dut.b_i = b & Mask(shape.op_bits);
    dut.c_i = c & Mask(shape.acc_bits);
    dut.eval();
    return dut.sum_o;
  }
};

}  // namespace

FpFmaDriver::FpFmaDriver(MacPrecision p) {
  const MacShape s = MacShapeOf(p);
  switch (p) {
    case MacPrecision::kFp8: model_ = std::make_unique<FmaModel<Voctet_fp_fma_fp8>>(s); break;
    case MacPrecision::kFp16: model_ = std::make_unique<FmaModel<Voctet_fp_fma_fp16>>(s); break;
    case MacPrecision::kFp32: model_ = std::make_unique<FmaModel<Voctet_fp_fma_fp32>>(s); break;
    default: Fail("octet_fp_fma: {} is not a floating-point precision", s.name);
  }
}
FpFmaDriver::~FpFmaDriver() = default;
uint64_t FpFmaDriver::Run(uint64_t a, uint64_t b, uint64_t c) { return model_->Run(a, b, c); }

// ---- The clocked PE.

struct MacPeDriver::Model {
  virtual ~Model() = default;
  virtual void Reset() = 0;
  virtual uint64_t Step(bool valid, bool first, uint64_t a, uint64_t b) = 0;
  virtual uint64_t AOut() const = 0;
  virtual uint64_t BOut() const = 0;
};

namespace {

template <typename V>
struct PeModel final : MacPeDriver::Model {
  std::unique_ptr<VerilatedContext> context = NewVerilatedContext();
  std::unique_ptr<V> model = std::make_unique<V>(context.get());
  V& dut = *model;
  MacShape shape;
  explicit PeModel(const MacShape& s) : shape(s) { Reset(); }
  void Edge() {
    dut.clk_i = 1;
    dut.eval();
    dut.clk_i = 0;
    dut.eval();
  }
  void Reset() override {
    dut.valid_i = 0;
    dut.first_i = 0;
    dut.a_i = 0;
    dut.b_i = 0;
    dut.clk_i = 0;
    dut.rst_ni = 0;
    dut.eval();
    Edge();
    dut.rst_ni = 1;
    dut.eval();
  }
  uint64_t Step(bool valid, bool first, uint64_t a, uint64_t b) override {
    dut.valid_i = valid;
    dut.first_i = first;
    dut.a_i = a & Mask(shape.op_bits);
    dut.b_i = b & Mask(shape.op_bits);
    dut.eval();
    Edge();
    return dut.acc_o;
  }
  uint64_t AOut() const override { return dut.a_o; }
  uint64_t BOut() const override { return dut.b_o; }
};

}  // namespace

MacPeDriver::MacPeDriver(MacPrecision p) {
  const MacShape s = MacShapeOf(p);
  switch (p) {
    case MacPrecision::kInt8: model_ = std::make_unique<PeModel<Voctet_mac_pe_int8>>(s); break;
    case MacPrecision::kInt16: model_ = std::make_unique<PeModel<Voctet_mac_pe_int16>>(s); break;
    case MacPrecision::kFp8: model_ = std::make_unique<PeModel<Voctet_mac_pe_fp8>>(s); break;
    case MacPrecision::kFp16: model_ = std::make_unique<PeModel<Voctet_mac_pe_fp16>>(s); break;
    case MacPrecision::kFp32: model_ = std::make_unique<PeModel<Voctet_mac_pe_fp32>>(s); break;
  }
}
MacPeDriver::~MacPeDriver() = default;
void MacPeDriver::Reset() { model_->Reset(); }
uint64_t MacPeDriver::Step(bool valid, bool first, uint64_t a, uint64_t b) { return model_->Step(valid, first, a, b); }
uint64_t MacPeDriver::a_out() const { return model_->AOut(); }
uint64_t MacPeDriver::b_out() const { return model_->BOut(); }

}  // namespace octet::rtl
