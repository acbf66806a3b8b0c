// The RTL systolic array (rtl/array, docs/rtl.md "Array"), Verilated, against the models:
//   (a) the PE (Voctet_pe) against model::PeProduct and AddToAccumulator: random operand
//       pairs of every GEMM pairing, edge cases, the OS accumulate/complete/restart
//       sequence, the WS weight chain, overflow detection;
//   (b) folds on every Verilated array size, both dataflows, full and partial tiles, every
//       operand kind random and extreme: values against a plain int64 GEMM and golden
//       GemmInt16, valid cycles and fold lengths against the SystemC SystolicArray;
//   (c) whole GEMMs through the "rtl" backend against GemmEngine (outputs, cycles, folds);
//   (d) errors, and the 32 x 32 array's simulation speed.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "Voctet_pe.h"
#include "golden/core/error.h"
#include "golden/kernels/int_gemm.h"
#include "golden/numerics/quantizers.h"
#include "model/array/array_timing.h"
#include "model/array/gemm_backend.h"
#include "model/array/gemm_engine.h"
#include "model/array/pe_operand.h"
#include "model/array/systolic_array.h"
#include "rtl/harness/array_driver.h"
#include "rtl/harness/array_regression.h"
#include "rtl/harness/register.h"
#include "tests/common/operand_matrices.h"
#include "verilated.h"

namespace octet::rtl {
namespace {

using model::ArrayShape;
using model::Dataflow;
using model::FoldRequest;
using model::FoldResult;
using model::GemmShape;
using model::MatrixLayout;
using model::OperandKind;
using model::PeOperand;

constexpr Dataflow kDataflows[] = {Dataflow::kWeightStationary, Dataflow::kOutputStationary};

// ---------------------------------------------------------------------------------------
// SystemC reference benches, one per Verilated array size. A process elaborates its
// design before its first sc_start, so all benches are built before any test runs; they
// live until the process ends.

std::vector<model::SystolicArrayBench*>& Benches() {
  static std::vector<model::SystolicArrayBench*> benches;
  return benches;
}

class RtlArrayEnvironment : public testing::Environment {
 public:
  void SetUp() override {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
    RegisterRtlBackends();
    if (!Benches().empty()) return;
    for (const ArrayShape& shape : RtlArrayShapes()) {
      const std::string name = "rtl_ref_bench_" + std::to_string(shape.rows) + "x" + std::to_string(shape.cols);
      Benches().push_back(new model::SystolicArrayBench(name.c_str(), shape));
    }
  }
};
testing::Environment* const kEnvironment = testing::AddGlobalTestEnvironment(new RtlArrayEnvironment);

model::SystolicArrayBench& BenchFor(const ArrayShape& shape) {
  for (model::SystolicArrayBench* bench : Benches())
    if (bench->shape().rows == shape.rows && bench->shape().cols == shape.cols) return *bench;
  throw Error("no SystemC bench for this array shape");
}

// One driver per size, kept across tests (folds run back to back on it, as in hardware).
ArrayDriver& DriverFor(const ArrayShape& shape) {
  static std::vector<std::unique_ptr<ArrayDriver>> drivers;
  for (const auto& d : drivers)
    if (d->shape().rows == shape.rows && d->shape().cols == shape.cols) return *d;
  drivers.push_back(MakeArrayDriver(shape));
  return *drivers.back();
}

std::string ShapeName(const ArrayShape& s) { return std::to_string(s.rows) + "x" + std::to_string(s.cols); }

// ---------------------------------------------------------------------------------------
// Operands in their stored formats (as tests/model/array_test.cpp), from fixed seeds.

using model::test_operands::Fill;
using model::test_operands::GemmCase;
using model::test_operands::kGemmCases;
using model::test_operands::NaiveGemm;
using model::test_operands::RandomMatrix;
using model::test_operands::TestMatrix;

std::vector<int64_t> GoldenGemm(const GemmShape& s, const std::vector<int16_t>& a, const std::vector<int16_t>& b) {
  std::vector<int64_t> c(static_cast<size_t>(s.m * s.n), -1);
  GemmInt16(s.m, s.n, s.k, a.data(), b.data(), BLayout::kKN, c.data());
  return c;
}

// ---------------------------------------------------------------------------------------
// (a) The PE.

// The PE's Verilated model with a clock of its own.
class PeBench {
 public:
  PeBench() : context_(std::make_unique<VerilatedContext>()), pe_(std::make_unique<Voctet_pe>(context_.get(), "pe")) {
    pe_->clk_i = 0;
    pe_->rst_ni = 0;
    pe_->eval();
    Tick();
    pe_->rst_ni = 1;
    pe_->eval();
  }
  ~PeBench() { pe_->final(); }
  Voctet_pe* operator->() { return pe_.get(); }
  void Tick() {
    pe_->clk_i = 0;
    pe_->eval();
    pe_->clk_i = 1;
    pe_->eval();
  }
  void SetIfmap(const PeOperand& a, bool valid, bool last = false) {
    pe_->ifmap_valid_i = valid;
    pe_->ifmap_last_i = last;
    pe_->ifmap_mag_i = a.magnitude;
    pe_->ifmap_neg_i = a.negative;
    pe_->ifmap_shift_i = a.shift;
  }
  void SetFilter(const PeOperand& b, bool load) {
    pe_->filter_load_i = load;
    pe_->filter_mag_i = b.magnitude;
    pe_->filter_neg_i = b.negative;
    pe_->filter_shift_i = b.shift;
  }
  void SetPsum(int64_t psum) { pe_->psum_i = static_cast<uint64_t>(psum) & ((uint64_t{1} << 48) - 1); }
  int64_t acc() const {
    const uint64_t sign = uint64_t{1} << 47;
    return static_cast<int64_t>((pe_->acc_o ^ sign) - sign);
  }

 private:
  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Voctet_pe> pe_;
};

// A random operand pair of one of the pairings the array sees (at most one shifted).
std::pair<PeOperand, PeOperand> RandomPair(std::mt19937_64& rng) {
  const uint64_t bits = rng();
  const int8_t w = static_cast<int8_t>(bits);
  const uint8_t act = static_cast<uint8_t>(bits >> 8);
  const uint16_t word = static_cast<uint16_t>((bits >> 16) & 0x1FF);
  const int16_t e16 = static_cast<int16_t>(bits >> 25);
  const int16_t e8 = static_cast<int8_t>(bits >> 41);
  const model::ErrorDigits digits = model::EncodeShiftError16(e16);
  const PeOperand digit = (bits >> 49) & 1 ? digits.high : digits.low;
  // Any magnitude and sign, shift 0, 7 or 8 on one side.
  const PeOperand raw_shifted{static_cast<uint8_t>(bits >> 50), ((bits >> 58) & 1) != 0,
                              static_cast<uint8_t>((bits >> 59) & 1 ? 8 : 7)};
  const PeOperand raw{static_cast<uint8_t>(bits >> 8), ((bits >> 60) & 1) != 0, 0};
  std::pair<PeOperand, PeOperand> pair;
  switch ((bits >> 61) % 8) {
    case 0: pair = {model::EncodeActivation(act), model::EncodeWeight(w)}; break;          // forward
    case 1: pair = {model::EncodeFlagWord(word), model::EncodeWeight(w)}; break;           // error, flag
    case 2: pair = {digit, model::EncodeWeight(w)}; break;                                 // error, SQ16
    case 3: pair = {model::EncodeShiftError8(e8), model::EncodeWeight(w)}; break;          // error, SQ8
    case 4: pair = {model::EncodeFlagWord(word), model::EncodeActivation(act)}; break;     // wgrad, flag
    case 5: pair = {digit, model::EncodeActivation(act)}; break;                           // wgrad, SQ16
    case 6: pair = {raw_shifted, raw}; break;
    default: pair = {raw, raw_shifted}; break;
  }
  return pair;
}

int64_t RandomPsum(std::mt19937_64& rng) {
  const uint64_t bits = rng();
  const int64_t near = static_cast<int64_t>(bits >> 39);  // < 2^25: within a product of the edges
  switch (bits & 3) {
    case 0: return static_cast<int64_t>(bits << 16) >> 16;  // anywhere in 48 bits
    case 1: return model::kAccumulatorMax - near;
    case 2: return model::kAccumulatorMin + near;
    default: return static_cast<int64_t>(bits << 32) >> 40;  // small, either sign
  }
}

// WS step: acc_o after the edge = AddToAccumulator(psum_i, PeProduct(ifmap_i, weight)),
// overflow_o (before the edge) exactly when that addition leaves 48 bits.
bool CheckWsStep(PeBench& pe, const PeOperand& a, const PeOperand& weight, int64_t psum, uint64_t& checked) {
  pe.SetIfmap(a, true);
  pe.SetPsum(psum);
  pe->eval();
  const int64_t sum = psum + model::PeProduct(a, weight);
  const bool overflows = sum > model::kAccumulatorMax || sum < model::kAccumulatorMin;
  EXPECT_EQ(pe->overflow_o != 0, overflows) << "psum " << psum << " product " << model::PeProduct(a, weight);
  if (overflows) {
    EXPECT_THROW(model::AddToAccumulator(psum, model::PeProduct(a, weight)), Error);
  } else {
    EXPECT_EQ(model::AddToAccumulator(psum, model::PeProduct(a, weight)), sum);
  }
  pe.Tick();
  if (!overflows) {
    EXPECT_EQ(pe.acc(), sum) << "a " << int{a.magnitude} << "/" << a.negative << "/" << int{a.shift} << " b "
                             << int{weight.magnitude} << "/" << weight.negative << "/" << int{weight.shift}
                             << " psum " << psum;
  }
  ++checked;
  return !testing::Test::HasFailure();
}

TEST(PeRtl, RandomPairsMatchPeProductAndAccumulator) {
  PeBench pe;
  pe->dataflow_i = 0;  // WS: psum_i + product, with the weight from the filter register
  std::mt19937_64 rng(101);
  uint64_t checked = 0;
  // Preload the first weight, then one pair per cycle: the weight for the next pair loads
  // while the current pair uses the held one (and sometimes the weight is held longer).
  auto [a, weight] = RandomPair(rng);
  pe.SetIfmap({}, false);
  pe.SetFilter(weight, true);
  pe.Tick();
  constexpr int kPairs = 200000;
  for (int i = 0; i < kPairs; ++i) {
    const auto [next_a, next_weight] = RandomPair(rng);
    const bool load = (rng() & 7) != 0;
    pe.SetFilter(next_weight, load);
    ASSERT_TRUE(CheckWsStep(pe, a, weight, RandomPsum(rng), checked)) << "pair " << i;
    a = next_a;
    if (load) weight = next_weight;
    if (((a.shift != 0) && (weight.shift != 0))) a.shift = 0;  // keep the pair legal
  }
  EXPECT_EQ(checked, static_cast<uint64_t>(kPairs));
}

TEST(PeRtl, EdgeCases) {
  PeBench pe;
  pe->dataflow_i = 0;
  const uint8_t magnitudes[] = {0, 1, 2, 127, 128, 129, 254, 255};
  const std::pair<uint8_t, uint8_t> shifts[] = {{0, 0}, {7, 0}, {0, 7}, {8, 0}, {0, 8}};
  uint64_t checked = 0;
  for (uint8_t ma : magnitudes) {
    for (uint8_t mb : magnitudes) {
      for (int signs = 0; signs < 4; ++signs) {
        for (const auto& [sa, sb] : shifts) {
          const PeOperand a{ma, (signs & 1) != 0, sa}, b{mb, (signs & 2) != 0, sb};
          pe.SetIfmap({}, false);
          pe.SetFilter(b, true);
          pe.Tick();
          pe.SetFilter({}, false);
          const int64_t p = model::PeProduct(a, b);
          const int64_t psums[] = {0, 1, -1, model::kAccumulatorMax, model::kAccumulatorMin,
                                   model::kAccumulatorMax - p, model::kAccumulatorMin - p,
                                   model::kAccumulatorMax - p + 1, model::kAccumulatorMin - p - 1};
          for (int64_t psum : psums) {
            if (psum > model::kAccumulatorMax || psum < model::kAccumulatorMin) continue;
            ASSERT_TRUE(CheckWsStep(pe, a, b, psum, checked));
          }
        }
      }
    }
  }
  // The largest shifted product, (255 * 255) << 8 < 2^24, both signs.
  EXPECT_EQ(model::PeProduct({255, false, 8}, {255, true, 0}), -(255 * 255 << 8));
  EXPECT_GE(checked, 8000u);
  // WS: no valid token, no partial sum.
  pe.SetIfmap({255, false, 0}, false);
  pe.SetPsum(12345);
  pe.Tick();
  EXPECT_EQ(pe.acc(), 0);
  EXPECT_EQ(pe->overflow_o, 0);
}

TEST(PeRtl, OutputStationaryAccumulatesCompletesAndRestarts) {
  PeBench pe;
  pe->dataflow_i = 1;
  pe->filter_load_i = 0;  // OS: the filter register loads every cycle regardless
  std::mt19937_64 rng(102);
  int64_t sum = 0;
  for (int sequence = 0; sequence < 3000; ++sequence) {
    const int length = 1 + static_cast<int>(rng() % 40);
    for (int step = 0; step < length; ++step) {
      auto [a, b] = RandomPair(rng);
      const bool last = step == length - 1;
      pe.SetIfmap(a, true, last);
      pe.SetFilter(b, false);
      pe.SetPsum(static_cast<int64_t>(rng()));  // unused in OS
      pe.Tick();
      sum = model::AddToAccumulator(sum, model::PeProduct(a, b));
      ASSERT_EQ(pe.acc(), sum);
      ASSERT_EQ(pe->done_o, last ? 1 : 0);
      ASSERT_EQ(pe->overflow_o, 0);
      // The tokens move on one cycle later.
      ASSERT_EQ(pe->ifmap_valid_o, 1);
      ASSERT_EQ(pe->ifmap_last_o, last ? 1 : 0);
      ASSERT_EQ(pe->ifmap_mag_o, a.magnitude);
      ASSERT_EQ(pe->ifmap_neg_o, a.negative ? 1 : 0);
      ASSERT_EQ(pe->ifmap_shift_o, a.shift);
      ASSERT_EQ(pe->filter_mag_o, b.magnitude);
      ASSERT_EQ(pe->filter_neg_o, b.negative ? 1 : 0);
      ASSERT_EQ(pe->filter_shift_o, b.shift);
    }
    sum = 0;  // the next output starts from zero
    // Idle cycles (or none: the next output's first product right after the last one).
    const int idle = static_cast<int>(rng() % 4);
    for (int i = 0; i < idle; ++i) {
      pe.SetIfmap({}, false);
      pe.Tick();
      ASSERT_EQ(pe.acc(), 0);
      ASSERT_EQ(pe->done_o, 0);
    }
  }
}

TEST(PeRtl, WeightChainShiftsOnlyWhenLoaded) {
  PeBench pe;
  pe->dataflow_i = 0;
  pe.SetIfmap({}, false);
  pe.SetFilter({77, true, 7}, true);
  pe.Tick();
  pe.SetFilter({5, false, 0}, false);
  for (int i = 0; i < 5; ++i) {
    pe.Tick();
    EXPECT_EQ(pe->filter_mag_o, 77);
    EXPECT_EQ(pe->filter_neg_o, 1);
    EXPECT_EQ(pe->filter_shift_o, 7);
  }
  pe.SetIfmap({3, false, 0}, true);
  pe.SetPsum(10);
  pe.Tick();
  EXPECT_EQ(pe.acc(), 10 - (3 * 77 << 7));
}

// ---------------------------------------------------------------------------------------
// (b) Folds against the SystemC array, a plain int64 GEMM and golden GemmInt16.

struct FoldKinds {
  OperandKind ifmap, filter;
};
// The pairings of the three GEMMs, a shifted filter, and 16-bit SQ digits on either side.
constexpr FoldKinds kFoldKinds[] = {
    {OperandKind::kActivation, OperandKind::kWeight},    {OperandKind::kFlagError, OperandKind::kWeight},
    {OperandKind::kShiftError16, OperandKind::kWeight},  {OperandKind::kShiftError8, OperandKind::kWeight},
    {OperandKind::kFlagError, OperandKind::kActivation}, {OperandKind::kShiftError16, OperandKind::kActivation},
    {OperandKind::kWeight, OperandKind::kFlagError},     {OperandKind::kActivation, OperandKind::kShiftError16},
};

struct FoldCounts {
  int64_t folds = 0, outputs = 0;
};

// Runs the tile's folds (both digit passes of a 16-bit SQ operand) on the RTL array and the
// SystemC array; checks every output's value and valid cycle and each fold's length, and
// the passes' sum against the plain and golden GEMMs.
void CheckTile(const ArrayShape& array, Dataflow df, const GemmShape& s, const FoldKinds& kinds, Fill fill,
               std::mt19937_64& rng, FoldCounts& counts) {
  const TestMatrix a = RandomMatrix(kinds.ifmap, s.m, s.k, MatrixLayout::kRowMajor, fill, rng);
  const TestMatrix b = RandomMatrix(kinds.filter, s.k, s.n, MatrixLayout::kRowMajor, fill, rng);
  const int passes = std::max(model::OperandPasses(kinds.ifmap), model::OperandPasses(kinds.filter));
  const int64_t t = model::MapGemm(df, s).temporal;
  const std::string where = std::string(DataflowName(df)) + " array " + ShapeName(array) + " fold m=" +
                            std::to_string(s.m) + " n=" + std::to_string(s.n) + " k=" + std::to_string(s.k) + " kinds " +
                            model::OperandKindName(kinds.ifmap) + " x " + model::OperandKindName(kinds.filter);
  std::vector<int64_t> total(static_cast<size_t>(s.m * s.n), 0);
  for (int pass = 0; pass < passes; ++pass) {
    FoldRequest request{df, s, {}, {}};
    for (int64_t i = 0; i < s.m; ++i)
      for (int64_t k = 0; k < s.k; ++k) request.ifmap.push_back(a.Encoded(i, k, pass));
    for (int64_t k = 0; k < s.k; ++k)
      for (int64_t j = 0; j < s.n; ++j) request.filter.push_back(b.Encoded(k, j, pass));
    const FoldResult rtl = DriverFor(array).RunFold(request);
    const FoldResult ref = BenchFor(array).RunFold(request);
    ASSERT_EQ(rtl.cycles, ref.cycles) << where << " pass " << pass;
    ASSERT_EQ(rtl.cycles, model::FoldCycles(df, array, t)) << where;
    for (int64_t i = 0; i < s.m; ++i) {
      for (int64_t j = 0; j < s.n; ++j) {
        const size_t at = static_cast<size_t>(i * s.n + j);
        int64_t plain = 0;
        for (int64_t k = 0; k < s.k; ++k) plain += request.ifmap[i * s.k + k].value() * request.filter[k * s.n + j].value();
        ASSERT_EQ(rtl.values[at], plain) << where << " pass " << pass << " output " << i << "," << j;
        ASSERT_EQ(rtl.values[at], ref.values[at]) << where << " pass " << pass << " output " << i << "," << j;
        ASSERT_EQ(rtl.valid_cycle[at], ref.valid_cycle[at]) << where << " pass " << pass << " output " << i << "," << j;
        ASSERT_EQ(rtl.valid_cycle[at], model::OutputValidCycle(df, array, t, i, j)) << where;
        total[at] += rtl.values[at];
      }
    }
    ++counts.folds;
    counts.outputs += s.m * s.n;
  }
  ASSERT_EQ(total, NaiveGemm(s, a.values, b.values)) << where;
  ASSERT_EQ(total, GoldenGemm(s, a.values, b.values)) << where;
}

TEST(ArrayRtl, EveryTileOfTheSmallArrays) {
  std::mt19937_64 rng(201);
  const int64_t streams[] = {1, 2, 3, 7, 40};
  FoldCounts counts;
  int variant = 0;
  for (const ArrayShape& array : RtlArrayShapes()) {
    if (array.rows * array.cols > 64) continue;
    for (Dataflow df : kDataflows) {
      for (int64_t rows = 1; rows <= array.rows; ++rows) {
        for (int64_t cols = 1; cols <= array.cols; ++cols) {
          for (int64_t t : streams) {
            const GemmShape s = df == Dataflow::kOutputStationary ? GemmShape{rows, cols, t} : GemmShape{t, cols, rows};
            const Fill fill = variant % 5 == 4 ? Fill::kExtreme : Fill::kRandom;
            const FoldKinds& kinds = kFoldKinds[variant % std::size(kFoldKinds)];
            ++variant;
            ASSERT_NO_FATAL_FAILURE(CheckTile(array, df, s, kinds, fill, rng, counts));
          }
        }
      }
    }
  }
  RecordProperty("folds", std::to_string(counts.folds));
  RecordProperty("outputs", std::to_string(counts.outputs));
  std::printf("small arrays: %lld folds, %lld outputs checked\n", static_cast<long long>(counts.folds),
              static_cast<long long>(counts.outputs));
}

TEST(ArrayRtl, EveryOperandKindRandomAndExtreme) {
  std::mt19937_64 rng(202);
  FoldCounts counts;
  for (const ArrayShape& array : RtlArrayShapes()) {
    for (Dataflow df : kDataflows) {
      const bool os = df == Dataflow::kOutputStationary;
      // Full tile, a partial tile and one output (or one reduction row).
      const std::pair<int64_t, int64_t> tiles[] = {
          {array.rows, array.cols}, {std::max<int64_t>(1, array.rows - 1), std::max<int64_t>(1, array.cols / 2)}, {1, 1}};
      for (const auto& [rows, cols] : tiles) {
        for (const FoldKinds& kinds : kFoldKinds) {
          for (Fill fill : {Fill::kRandom, Fill::kExtreme}) {
            const int64_t t = fill == Fill::kExtreme ? 33 : 9;
            const GemmShape s = os ? GemmShape{rows, cols, t} : GemmShape{t, cols, rows};
            ASSERT_NO_FATAL_FAILURE(CheckTile(array, df, s, kinds, fill, rng, counts));
          }
        }
      }
    }
  }
  std::printf("operand kinds: %lld folds, %lld outputs checked\n", static_cast<long long>(counts.folds),
              static_cast<long long>(counts.outputs));
}

TEST(ArrayRtl, PartialTilesOfTheLargeArrays) {
  std::mt19937_64 rng(203);
  FoldCounts counts;
  int variant = 0;
  for (const ArrayShape& array : RtlArrayShapes()) {
    if (array.rows * array.cols <= 64) continue;
    const std::pair<int64_t, int64_t> tiles[] = {{array.rows, array.cols},     {1, 1},
                                                 {array.rows, 1},              {1, array.cols},
                                                 {array.rows - 1, array.cols - 3 > 0 ? array.cols - 3 : 1},
                                                 {(array.rows + 1) / 2, (array.cols + 2) / 3}};
    for (Dataflow df : kDataflows) {
      for (const auto& [rows, cols] : tiles) {
        for (int64_t t : {1, 5, 64}) {
          const GemmShape s = df == Dataflow::kOutputStationary ? GemmShape{rows, cols, t} : GemmShape{t, cols, rows};
          const Fill fill = variant % 3 == 2 ? Fill::kExtreme : Fill::kRandom;
          const FoldKinds& kinds = kFoldKinds[variant % std::size(kFoldKinds)];
          ++variant;
          ASSERT_NO_FATAL_FAILURE(CheckTile(array, df, s, kinds, fill, rng, counts));
        }
      }
    }
  }
  std::printf("large arrays: %lld folds, %lld outputs checked\n", static_cast<long long>(counts.folds),
              static_cast<long long>(counts.outputs));
}

// Dataflows alternate fold by fold on one array without a reset.
TEST(ArrayRtl, DataflowsAlternateBackToBack) {
  std::mt19937_64 rng(204);
  FoldCounts counts;
  for (const ArrayShape& array : RtlArrayShapes()) {
    for (int i = 0; i < 12; ++i) {
      const Dataflow df = kDataflows[(i + rng()) % 2];
      const int64_t rows = 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(array.rows));
      const int64_t cols = 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(array.cols));
      const int64_t t = 1 + static_cast<int64_t>(rng() % 20);
      const GemmShape s = df == Dataflow::kOutputStationary ? GemmShape{rows, cols, t} : GemmShape{t, cols, rows};
      ASSERT_NO_FATAL_FAILURE(CheckTile(array, df, s, kFoldKinds[i % std::size(kFoldKinds)], Fill::kRandom, rng, counts));
    }
  }
}

// ---------------------------------------------------------------------------------------
// (c) Whole GEMMs through the "rtl" backend against GemmEngine.

void CheckGemm(const ArrayShape& array, const GemmCase& c, const GemmShape& s, Fill fill, std::mt19937_64& rng,
               int64_t& gemms) {
  const TestMatrix a = RandomMatrix(c.ifmap, s.m, s.k, c.ifmap_layout, fill, rng);
  const TestMatrix b = RandomMatrix(c.filter, s.k, s.n, c.filter_layout, fill, rng);
  const std::vector<int64_t> golden = GoldenGemm(s, a.values, b.values);
  for (Dataflow df : kDataflows) {
    const std::string where = std::string(c.name) + " " + DataflowName(df) + " " + std::to_string(s.m) + "x" +
                              std::to_string(s.n) + "x" + std::to_string(s.k) + " on " + ShapeName(array);
    const std::unique_ptr<model::GemmBackend> rtl = model::MakeGemmBackend("rtl", array, df);
    const model::GemmRun got = rtl->Run(a.view(), b.view());
    const model::GemmRun want = model::GemmEngine(array, df).Run(a.view(), b.view());
    ASSERT_EQ(got.output, want.output) << where;
    ASSERT_EQ(got.output, golden) << where;
    ASSERT_EQ(got.cycles, want.cycles) << where;
    ASSERT_EQ(got.cycles, model::ComputeArrayTiming(array, df, s, static_cast<int>(want.passes)).total_cycles) << where;
    ASSERT_EQ(got.folds, want.folds) << where;
    ASSERT_EQ(got.passes, want.passes) << where;
    ASSERT_EQ(got.macs, want.macs) << where;
    ASSERT_DOUBLE_EQ(got.utilisation, want.utilisation) << where;
    ASSERT_DOUBLE_EQ(got.mapping_efficiency, want.mapping_efficiency) << where;
    ++gemms;
  }
}

TEST(ArrayRtl, GemmsThroughTheRtlBackendEqualTheEngine) {
  std::mt19937_64 rng(301);
  const GemmShape shapes[] = {{1, 1, 1}, {5, 7, 3}, {9, 3, 17}, {11, 10, 9}, {13, 1, 5}, {33, 31, 65}};
  int64_t gemms = 0;
  for (const ArrayShape& array : RtlArrayShapes()) {
    if (array.rows * array.cols > 64) continue;
    for (const GemmCase& c : kGemmCases)
      for (const GemmShape& s : shapes)
        for (Fill fill : {Fill::kRandom, Fill::kExtreme}) ASSERT_NO_FATAL_FAILURE(CheckGemm(array, c, s, fill, rng, gemms));
  }
  std::printf("%lld GEMMs (with both dataflows counted) equal the engine\n", static_cast<long long>(gemms));
}

TEST(ArrayRtl, GemmsOnTheDefaultArray) {
  std::mt19937_64 rng(302);
  const ArrayShape array{32, 32};
  const GemmShape shapes[] = {{64, 64, 64}, {40, 70, 33}, {7, 129, 2}, {100, 37, 50}};
  int64_t gemms = 0;
  for (const GemmCase& c : kGemmCases)
    for (const GemmShape& s : shapes) ASSERT_NO_FATAL_FAILURE(CheckGemm(array, c, s, Fill::kRandom, rng, gemms));
  ASSERT_NO_FATAL_FAILURE(CheckGemm(array, kGemmCases[5], {33, 65, 40}, Fill::kExtreme, rng, gemms));
}

// ---------------------------------------------------------------------------------------
// (d) Errors and speed.

TEST(ArrayRtl, ShapesWithoutAnInstanceFailCleanly) {
  try {
    model::MakeGemmBackend("rtl", {5, 5}, Dataflow::kWeightStationary);
    FAIL() << "no error for a 5 x 5 array";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("5 x 5"), std::string::npos) << what;
    EXPECT_NE(what.find("32x32"), std::string::npos) << what;
  }
  EXPECT_THROW(MakeArrayDriver({32, 16}), Error);
  EXPECT_FALSE(HasRtlArray({2, 2}));
  EXPECT_TRUE(HasRtlArray({32, 32}));
  bool listed = false;
  for (const auto& [name, description] : model::GemmBackends()) listed |= name == "rtl";
  EXPECT_TRUE(listed);
}

TEST(ArrayRtl, RejectsWhatTheSystemCArrayRejects) {
  ArrayDriver& driver = DriverFor({4, 4});
  const auto fold = [](Dataflow df, GemmShape s) {
    FoldRequest r{df, s, std::vector<PeOperand>(static_cast<size_t>(s.m * s.k), PeOperand{3, false, 0}),
                  std::vector<PeOperand>(static_cast<size_t>(s.k * s.n), PeOperand{5, true, 0})};
    return r;
  };
  EXPECT_THROW(driver.RunFold(fold(Dataflow::kOutputStationary, {5, 4, 3})), Error);
  EXPECT_THROW(driver.RunFold(fold(Dataflow::kWeightStationary, {3, 4, 5})), Error);
  EXPECT_THROW(driver.RunFold(fold(Dataflow::kWeightStationary, {3, 5, 4})), Error);
  FoldRequest short_filter = fold(Dataflow::kWeightStationary, {3, 4, 4});
  short_filter.filter.pop_back();
  EXPECT_THROW(driver.RunFold(short_filter), Error);
  FoldRequest two_shifts = fold(Dataflow::kOutputStationary, {2, 2, 2});
  two_shifts.ifmap[0].shift = 7;
  two_shifts.filter[3].shift = 7;
  EXPECT_THROW(driver.RunFold(two_shifts), Error);
  // Still in step afterwards.
  const FoldResult ok = driver.RunFold(fold(Dataflow::kOutputStationary, {4, 4, 6}));
  EXPECT_EQ(ok.values, std::vector<int64_t>(16, -90));
  EXPECT_EQ(ok.cycles, model::FoldCycles(Dataflow::kOutputStationary, {4, 4}, 6));
}

TEST(ArrayRtl, AccumulatorOverflowIsAnError) {
  // (255 * 255) << 8 per product: K = 8454531 equal products leave 48 bits (as in the
  // engine's test), K - 1 end exactly below 2^47. An OS fold on the 1 x 1 array.
  const int64_t k = 8454531;
  ArrayDriver& driver = DriverFor({1, 1});
  for (int64_t length : {k, k - 1}) {
    const FoldRequest r{Dataflow::kOutputStationary, {1, 1, length},
                        std::vector<PeOperand>(static_cast<size_t>(length), PeOperand{255, false, 8}),
                        std::vector<PeOperand>(static_cast<size_t>(length), PeOperand{255, false, 0})};
    if (length == k) {
      try {
        driver.RunFold(r);
        FAIL() << "no overflow reported";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("48-bit"), std::string::npos) << e.what();
      }
    } else {
      EXPECT_EQ(driver.RunFold(r).values[0], (k - 1) * 16646400);
    }
  }
  // The array works after the error (the driver reset it).
  const FoldResult ok =
      driver.RunFold({Dataflow::kWeightStationary, {2, 1, 1}, {{2, false, 0}, {3, true, 0}}, {{7, false, 7}}});
  EXPECT_EQ(ok.values, (std::vector<int64_t>{2 * 7 * 128, -3 * 7 * 128}));
}

TEST(ArrayRtl, SpeedOfTheDefaultArray) {
  std::mt19937_64 rng(401);
  ArrayDriver& driver = DriverFor({32, 32});
  for (Dataflow df : kDataflows) {
    const GemmShape s = df == Dataflow::kOutputStationary ? GemmShape{32, 32, 4000} : GemmShape{4000, 32, 32};
    const TestMatrix a = RandomMatrix(OperandKind::kActivation, s.m, s.k, MatrixLayout::kRowMajor, Fill::kRandom, rng);
    const TestMatrix b = RandomMatrix(OperandKind::kWeight, s.k, s.n, MatrixLayout::kRowMajor, Fill::kRandom, rng);
    FoldRequest request{df, s, {}, {}};
    for (int64_t i = 0; i < s.m; ++i)
      for (int64_t k = 0; k < s.k; ++k) request.ifmap.push_back(a.Encoded(i, k, 0));
    for (int64_t k = 0; k < s.k; ++k)
      for (int64_t j = 0; j < s.n; ++j) request.filter.push_back(b.Encoded(k, j, 0));
    const int64_t before = driver.cycles_simulated();
    const auto start = std::chrono::steady_clock::now();
    const std::clock_t cpu_start = std::clock();
    const FoldResult result = driver.RunFold(request);
    const double cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const int64_t cycles = driver.cycles_simulated() - before;
    EXPECT_LE(cycles - result.cycles, 1);  // plus the idle edge that loads a new dataflow
    EXPECT_EQ(result.values, NaiveGemm(s, a.values, b.values));
    // Wall clock, and this thread's CPU time (what an unloaded core gives).
    const double rate = static_cast<double>(cycles) / seconds, cpu_rate = static_cast<double>(cycles) / cpu_seconds;
    std::printf("32x32 %s: %lld cycles in %.3f s (%.3f s CPU): %.0f cycles/s wall, %.0f cycles/s CPU (%.3g MAC/s)\n",
                DataflowName(df), static_cast<long long>(cycles), seconds, cpu_seconds, rate, cpu_rate, cpu_rate * 1024);
    RecordProperty(std::string("cycles_per_cpu_second_") + DataflowName(df), std::to_string(static_cast<int64_t>(cpu_rate)));
  }
}

// ---------------------------------------------------------------------------------------
// The random array regression of `octet regress` (rtl/harness/array_regression.h).

TEST(ArrayRtlRegression, RandomFoldsMatchGoldenAndSystemCOnEverySize) {
  for (const ArrayShape& shape : RtlArrayShapes()) {
    const BlockResult r = RunArrayRegression(BenchFor(shape), 11, 2000);
    EXPECT_EQ(r.block, "array_" + ShapeName(shape));
    EXPECT_GE(r.vectors, 2000);
    EXPECT_EQ(r.failures, 0) << r.first_mismatch;
  }
}

// Every 31st expected value corrupted by one LSB: exactly those outputs are reported, the
// first being output 0 of fold 0; and the same seed gives the same report.
TEST(ArrayRtlRegression, ReportsEveryCorruptedExpectationReproducibly) {
  RegressionOptions options;
  options.corrupt_every = 31;
  const BlockResult a = RunArrayRegression(BenchFor({4, 4}), 5, 1000, options);
  EXPECT_EQ(a.failures, (a.vectors + 30) / 31);
  EXPECT_EQ(a.first_mismatch.rfind("vector 0 {fold 0 ", 0), 0u) << a.first_mismatch;
  const BlockResult b = RunArrayRegression(BenchFor({4, 4}), 5, 1000, options);
  EXPECT_EQ(a.vectors, b.vectors);
  EXPECT_EQ(a.first_mismatch, b.first_mismatch);
}

}  // namespace
}  // namespace octet::rtl
