// The systolic array (model/array): the PE's operand form and arithmetic against plain
// integer products and q::FlagDecode; the cycle-stepped SystemC fold against the
// per-output schedule and SCALE-Sim's closed form; the fast GemmEngine against a naive
// int64 triple loop, golden GemmInt16 and the cycle-stepped array; cycle counts against
// the closed form; and 48-bit overflow detection.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "golden/core/error.h"
#include "golden/kernels/int_gemm.h"
#include "golden/numerics/quantizers.h"
#include "model/array/array_timing.h"
#include "model/array/gemm_engine.h"
#include "model/array/pe_operand.h"
#include "model/array/systolic_array.h"
#include "tests/common/operand_matrices.h"

namespace octet::model {
namespace {

constexpr Dataflow kDataflows[] = {Dataflow::kWeightStationary, Dataflow::kOutputStationary};

// ---------------------------------------------------------------------------------------
// SystemC benches. A process elaborates its design once, before the first sc_start, so
// every array the tests use is built here, before any test runs (also when all tests run
// in one process). The benches are never deleted: SystemC objects live as long as the
// simulation context, which lives until the process ends.

constexpr ArrayShape kBenchShapes[] = {{1, 1}, {3, 5}, {4, 4}, {4, 8}, {8, 4}, {8, 8}};

std::vector<SystolicArrayBench*>& Benches() {
  static std::vector<SystolicArrayBench*> benches;
  return benches;
}

class SystolicBenchEnvironment : public testing::Environment {
 public:
  void SetUp() override {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
    if (!Benches().empty()) return;
    for (const ArrayShape& shape : kBenchShapes) {
      const std::string name = "array_bench_" + std::to_string(shape.rows) + "x" + std::to_string(shape.cols);
      Benches().push_back(new SystolicArrayBench(name.c_str(), shape));
    }
  }
};
testing::Environment* const kBenchEnvironment = testing::AddGlobalTestEnvironment(new SystolicBenchEnvironment);

SystolicArrayBench& BenchFor(const ArrayShape& shape) {
  for (SystolicArrayBench* bench : Benches())
    if (bench->shape().rows == shape.rows && bench->shape().cols == shape.cols) return *bench;
  throw Error("no bench for this array shape");
}

// ---------------------------------------------------------------------------------------
// Random operands: std::mt19937_64 with fixed seeds; values taken from its bits.

using namespace test_operands;  // TestMatrix, RandomMatrix, NaiveGemm (tests/common)

// ---------------------------------------------------------------------------------------
// (a) PE operand form and arithmetic.

TEST(PeOperand, WeightsActivationsAndEightBitErrors) {
  for (int w = -128; w <= 127; ++w) {
    const PeOperand op = EncodeWeight(static_cast<int8_t>(w));
    EXPECT_EQ(op.value(), w);
    EXPECT_EQ(op.magnitude, std::abs(w));
    EXPECT_EQ(op.negative, w < 0);
    EXPECT_EQ(op.shift, 0);
    EXPECT_EQ(EncodeShiftError8(static_cast<int16_t>(w)), op);
  }
  for (int a = 0; a <= 255; ++a) EXPECT_EQ(EncodeActivation(static_cast<uint8_t>(a)), (PeOperand{static_cast<uint8_t>(a), false, 0}));
  EXPECT_THROW(EncodeShiftError8(128), Error);
  EXPECT_THROW(EncodeShiftError8(-129), Error);
}

TEST(PeOperand, FlagWordsDecodeAsFlagDecode) {
  for (uint16_t word = 0; word < 512; ++word) {
    const PeOperand op = EncodeFlagWord(word);
    EXPECT_EQ(op.value(), q::FlagDecode(word)) << "word " << word;
    EXPECT_EQ(op.shift, (word & 0x100) ? kFlagShift : 0);
    EXPECT_EQ(op.magnitude, word & 0x7F);
  }
  // Every value the flag quantizer stores survives encode, then PE form.
  for (int v = -16256; v <= 16256; ++v) {
    if (std::abs(v) >= 128 && std::abs(v) % 128 != 0) continue;  // not a flag value
    EXPECT_EQ(EncodeFlagWord(q::FlagEncode(static_cast<int16_t>(v))).value(), v);
  }
  EXPECT_THROW(EncodeFlagWord(512), Error);
  EXPECT_THROW(EncodeFlagWord(0xFFFF), Error);
}

TEST(PeOperand, SixteenBitErrorsSplitIntoTwoDigits) {
  for (int e = -32768; e <= 32767; ++e) {
    const ErrorDigits d = EncodeShiftError16(static_cast<int16_t>(e));
    ASSERT_EQ(d.high.value() + d.low.value(), e);
    ASSERT_EQ(d.high.shift, kDigitShift);
    ASSERT_EQ(d.low.shift, 0);
    ASSERT_EQ(d.high.negative, e < 0);
    ASSERT_EQ(d.low.negative, e < 0);
  }
  EXPECT_EQ(EncodeShiftError16(-32768).high, (PeOperand{128, true, 8}));
  EXPECT_EQ(EncodeShiftError16(-32768).low, (PeOperand{0, true, 0}));
  EXPECT_EQ(EncodeShiftError16(32767).high, (PeOperand{127, false, 8}));
  EXPECT_EQ(EncodeShiftError16(32767).low, (PeOperand{255, false, 0}));
}

TEST(PeOperand, ProductsEqualIntegerProducts) {
  // Exhaustive over every weight, activation and flag word pairing of the three GEMMs.
  for (int w = -128; w <= 127; ++w) {
    const PeOperand wop = EncodeWeight(static_cast<int8_t>(w));
    for (int a = 0; a <= 255; ++a) ASSERT_EQ(PeProduct(wop, EncodeActivation(static_cast<uint8_t>(a))), w * a);
    for (uint16_t word = 0; word < 512; ++word) ASSERT_EQ(PeProduct(EncodeFlagWord(word), wop), q::FlagDecode(word) * w);
  }
  for (uint16_t word = 0; word < 512; ++word)
    for (int a = 0; a <= 255; ++a)
      ASSERT_EQ(PeProduct(EncodeFlagWord(word), EncodeActivation(static_cast<uint8_t>(a))), q::FlagDecode(word) * a);
  // 16-bit SQ errors: the two digit products add up to the product.
  std::mt19937_64 rng(11);
  for (int i = 0; i < 200000; ++i) {
    const uint64_t bits = rng();
    const int16_t e = static_cast<int16_t>(bits);
    const int8_t w = static_cast<int8_t>(bits >> 16);
    const uint8_t a = static_cast<uint8_t>(bits >> 24);
    const ErrorDigits d = EncodeShiftError16(e);
    ASSERT_EQ(int64_t{PeProduct(d.high, EncodeWeight(w))} + PeProduct(d.low, EncodeWeight(w)), int64_t{e} * w);
    ASSERT_EQ(int64_t{PeProduct(d.high, EncodeActivation(a))} + PeProduct(d.low, EncodeActivation(a)), int64_t{e} * a);
  }
}

TEST(PeOperand, EdgeProducts) {
  EXPECT_EQ(PeProduct(EncodeWeight(-128), EncodeActivation(255)), -32640);
  EXPECT_EQ(PeProduct(EncodeWeight(-128), EncodeWeight(-128)), 16384);
  EXPECT_EQ(PeProduct(EncodeFlagWord(0x1FF), EncodeWeight(-128)), 127 * 128 * 128);  // -16256 * -128
  EXPECT_EQ(PeProduct(EncodeFlagWord(0x17F), EncodeActivation(255)), 127 * 128 * 255);
  // Flag-1 words with magnitude 0, either sign, are zero.
  EXPECT_EQ(PeProduct(EncodeFlagWord(0x100), EncodeWeight(-128)), 0);
  EXPECT_EQ(PeProduct(EncodeFlagWord(0x180), EncodeActivation(255)), 0);
  const ErrorDigits most_negative = EncodeShiftError16(-32768);
  EXPECT_EQ(PeProduct(most_negative.high, EncodeActivation(255)) + PeProduct(most_negative.low, EncodeActivation(255)),
            -32768 * 255);
  // The largest shifted product the multiplier and shifter can make: (255 * 255) << 8 < 2^24.
  EXPECT_EQ(PeProduct({255, false, 8}, {255, true, 0}), -(255 * 255 << 8));
}

// (e) The 48-bit accumulator.
TEST(PeOperand, AccumulatorRangeIsChecked) {
  EXPECT_EQ(AddToAccumulator(kAccumulatorMax - 5, 5), kAccumulatorMax);
  EXPECT_EQ(AddToAccumulator(kAccumulatorMin + 3, -3), kAccumulatorMin);
  EXPECT_EQ(AddToAccumulator(kAccumulatorMax, kAccumulatorMin), -1);
  EXPECT_THROW(AddToAccumulator(kAccumulatorMax, 1), Error);
  EXPECT_THROW(AddToAccumulator(kAccumulatorMin, -1), Error);
  EXPECT_THROW(AddToAccumulator(kAccumulatorMax - 100, (255 * 255) << 8), Error);
  EXPECT_EQ(kAccumulatorMax, (int64_t{1} << 47) - 1);
}

// ---------------------------------------------------------------------------------------
// Closed-form timing against hand-computed SCALE-Sim figures.

TEST(ArrayTiming, ClosedFormMatchesScaleSim) {
  const ArrayTiming os = ComputeArrayTiming({32, 32}, Dataflow::kOutputStationary, {64, 64, 64});
  EXPECT_EQ(os.folds, 4);
  EXPECT_EQ(os.cycles_per_fold, 32 + 32 + 64 - 2);
  EXPECT_EQ(os.total_cycles, 4 * 126);
  const ArrayTiming ws = ComputeArrayTiming({32, 32}, Dataflow::kWeightStationary, {64, 64, 64});
  EXPECT_EQ(ws.cycles_per_fold, 64 + 32 + 64 - 2);
  EXPECT_EQ(ws.total_cycles, 4 * 158);
  EXPECT_DOUBLE_EQ(ws.utilisation, 64.0 * 64 * 64 / (632.0 * 1024));
  // M = 40 rows, N = 40 columns on 32 x 32 (OS): 4 folds, 1600 of 4096 PE slots used.
  const ArrayTiming partial = ComputeArrayTiming({32, 32}, Dataflow::kOutputStationary, {40, 40, 7});
  EXPECT_EQ(partial.folds, 4);
  EXPECT_DOUBLE_EQ(partial.mapping_efficiency, 1600.0 / 4096);
  // WS maps K onto the rows: K = 100 on 32 rows is 4 row folds, N = 10 one column fold.
  const ArrayTiming two_pass = ComputeArrayTiming({32, 32}, Dataflow::kWeightStationary, {5, 10, 100}, 2);
  EXPECT_EQ(two_pass.row_folds, 4);
  EXPECT_EQ(two_pass.col_folds, 1);
  EXPECT_EQ(two_pass.folds, 8);
  EXPECT_EQ(two_pass.total_cycles, 8 * (64 + 32 + 5 - 2));
  EXPECT_THROW(ComputeArrayTiming({0, 4}, Dataflow::kWeightStationary, {1, 1, 1}), Error);
  EXPECT_THROW(ComputeArrayTiming({4, 4}, Dataflow::kWeightStationary, {0, 1, 1}), Error);
  EXPECT_THROW(ComputeArrayTiming({4, 4}, Dataflow::kWeightStationary, {1, 1, 1}, 3), Error);
}

TEST(ArrayTiming, ScheduleEndsWhereTheClosedFormDoes) {
  for (int64_t r = 1; r <= 9; ++r)
    for (int64_t c = 1; c <= 9; ++c)
      for (int64_t t = 1; t <= 40; ++t)
        for (Dataflow df : kDataflows) ASSERT_EQ(FoldLastCycle(df, {r, c}, t) + 1, FoldCycles(df, {r, c}, t));
}

// ---------------------------------------------------------------------------------------
// (b) The cycle-stepped fold against the schedule and the closed form.

// The operand kinds of a fold by its index: the pairings of the three GEMMs, with and
// without shifted operands (the last is one digit pass of a 16-bit SQ error).
struct FoldKinds {
  OperandKind ifmap, filter;
};
constexpr FoldKinds kFoldKinds[] = {{OperandKind::kActivation, OperandKind::kWeight},
                                    {OperandKind::kFlagError, OperandKind::kWeight},
                                    {OperandKind::kFlagError, OperandKind::kActivation},
                                    {OperandKind::kShiftError16, OperandKind::kActivation}};

FoldRequest RandomFold(Dataflow df, const GemmShape& s, int variant, std::mt19937_64& rng) {
  const auto [a_kind, b_kind] = kFoldKinds[variant % 4];
  const Fill fill = variant % 5 == 4 ? Fill::kExtreme : Fill::kRandom;
  const TestMatrix a = RandomMatrix(a_kind, s.m, s.k, MatrixLayout::kRowMajor, fill, rng);
  const TestMatrix b = RandomMatrix(b_kind, s.k, s.n, MatrixLayout::kRowMajor, fill, rng);
  FoldRequest request{df, s, {}, {}};
  const int pass = (variant / 4) % 2;  // hi or lo digit of a 16-bit error
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t k = 0; k < s.k; ++k) request.ifmap.push_back(a.Encoded(i, k, pass));
  for (int64_t k = 0; k < s.k; ++k)
    for (int64_t j = 0; j < s.n; ++j) request.filter.push_back(b.Encoded(k, j, 0));
  return request;
}

// Runs one fold and checks every output's value and valid cycle, and the fold's length.
void CheckFold(SystolicArrayBench& bench, const FoldRequest& request) {
  const GemmShape& s = request.shape;
  const ArrayShape& array = bench.shape();
  const FoldResult result = bench.RunFold(request);
  const int64_t t = MapGemm(request.dataflow, s).temporal;
  const std::string where = std::string(DataflowName(request.dataflow)) + " array " + std::to_string(array.rows) +
                            "x" + std::to_string(array.cols) + " fold m=" + std::to_string(s.m) +
                            " n=" + std::to_string(s.n) + " k=" + std::to_string(s.k);
  ASSERT_EQ(result.cycles, FoldCycles(request.dataflow, array, t)) << where;
  ASSERT_EQ(result.cycles, FoldLastCycle(request.dataflow, array, t) + 1) << where;
  for (int64_t i = 0; i < s.m; ++i) {
    for (int64_t j = 0; j < s.n; ++j) {
      int64_t expected = 0;
      for (int64_t k = 0; k < s.k; ++k) expected += request.ifmap[i * s.k + k].value() * request.filter[k * s.n + j].value();
      ASSERT_EQ(result.values[i * s.n + j], expected) << where << " output " << i << "," << j;
      ASSERT_EQ(result.valid_cycle[i * s.n + j], OutputValidCycle(request.dataflow, array, t, i, j))
          << where << " output " << i << "," << j;
    }
  }
}

TEST(SystolicArray, EveryTileSizeAgainstTheSchedule) {
  std::mt19937_64 rng(21);
  const int64_t streams[] = {1, 2, 3, 7, 40};
  int variant = 0;
  for (const ArrayShape& array : kBenchShapes) {
    SystolicArrayBench& bench = BenchFor(array);
    for (Dataflow df : kDataflows) {
      for (int64_t rows = 1; rows <= array.rows; ++rows) {
        for (int64_t cols = 1; cols <= array.cols; ++cols) {
          for (int64_t t : streams) {
            const GemmShape s = df == Dataflow::kOutputStationary ? GemmShape{rows, cols, t} : GemmShape{t, cols, rows};
            ASSERT_NO_FATAL_FAILURE(CheckFold(bench, RandomFold(df, s, variant++, rng)));
          }
        }
      }
    }
  }
}

TEST(SystolicArray, EveryStreamLengthAgainstTheSchedule) {
  std::mt19937_64 rng(22);
  int variant = 0;
  for (const ArrayShape& array : {ArrayShape{4, 8}, ArrayShape{8, 4}, ArrayShape{3, 5}}) {
    SystolicArrayBench& bench = BenchFor(array);
    for (Dataflow df : kDataflows) {
      // The full tile, one row and one column short, and 1 x 1.
      const std::pair<int64_t, int64_t> tiles[] = {
          {array.rows, array.cols}, {std::max<int64_t>(1, array.rows - 1), std::max<int64_t>(1, array.cols - 1)}, {1, 1}};
      for (int64_t t = 1; t <= 40; ++t) {
        for (const auto& [rows, cols] : tiles) {
          const GemmShape s = df == Dataflow::kOutputStationary ? GemmShape{rows, cols, t} : GemmShape{t, cols, rows};
          ASSERT_NO_FATAL_FAILURE(CheckFold(bench, RandomFold(df, s, variant++, rng)));
        }
      }
    }
  }
}

TEST(SystolicArray, RejectsWhatDoesNotFit) {
  SystolicArrayBench& bench = BenchFor({4, 4});
  std::mt19937_64 rng(23);
  EXPECT_THROW(bench.RunFold(RandomFold(Dataflow::kOutputStationary, {5, 4, 3}, 0, rng)), Error);
  EXPECT_THROW(bench.RunFold(RandomFold(Dataflow::kWeightStationary, {3, 4, 5}, 0, rng)), Error);
  EXPECT_THROW(bench.RunFold(RandomFold(Dataflow::kWeightStationary, {3, 5, 4}, 0, rng)), Error);
  FoldRequest short_filter = RandomFold(Dataflow::kWeightStationary, {3, 4, 4}, 0, rng);
  short_filter.filter.pop_back();
  EXPECT_THROW(bench.RunFold(short_filter), Error);
  FoldRequest two_shifts = RandomFold(Dataflow::kOutputStationary, {2, 2, 2}, 0, rng);
  two_shifts.ifmap[0].shift = 7;
  two_shifts.filter[0].shift = 7;
  EXPECT_THROW(bench.RunFold(two_shifts), Error);
  // The bench still works after rejected requests.
  ASSERT_NO_FATAL_FAILURE(CheckFold(bench, RandomFold(Dataflow::kOutputStationary, {4, 4, 6}, 1, rng)));
}

// ---------------------------------------------------------------------------------------
// (c) GemmEngine values.

constexpr GemmShape kGemmShapes[] = {{1, 1, 1},   {5, 7, 3},    {4, 8, 8},    {9, 3, 17},  {33, 31, 65},
                                     {64, 64, 64}, {100, 37, 300}, {7, 129, 2}, {3, 2, 513}, {40, 40, 40}};
constexpr ArrayShape kEngineArrays[] = {{1, 1}, {3, 5}, {4, 4}, {8, 4}, {32, 32}, {16, 64}};

TEST(GemmEngine, ValuesMatchNaiveAndGolden) {
  std::mt19937_64 rng(31);
  for (const GemmCase& c : kGemmCases) {
    for (const GemmShape& s : kGemmShapes) {
      for (Fill fill : {Fill::kRandom, Fill::kExtreme}) {
        const TestMatrix a = RandomMatrix(c.ifmap, s.m, s.k, c.ifmap_layout, fill, rng);
        const TestMatrix b = RandomMatrix(c.filter, s.k, s.n, c.filter_layout, fill, rng);
        const std::vector<int64_t> naive = NaiveGemm(s, a.values, b.values);
        std::vector<int64_t> golden(naive.size(), -1);
        GemmInt16(s.m, s.n, s.k, a.values.data(), b.values.data(), BLayout::kKN, golden.data());
        ASSERT_EQ(golden, naive) << c.name;
        for (const ArrayShape& array : kEngineArrays) {
          for (Dataflow df : kDataflows) {
            const GemmRun run = GemmEngine(array, df).Run(a.view(), b.view());
            ASSERT_EQ(run.output, naive) << c.name << " " << DataflowName(df) << " " << s.m << "x" << s.n << "x" << s.k
                                         << " on " << array.rows << "x" << array.cols;
            ASSERT_EQ(run.passes, OperandPasses(c.ifmap));
          }
        }
      }
    }
  }
}

TEST(GemmEngine, EncodedOperandsAndFilterShifts) {
  // Shifted operands on the filter side, and PeOperand input, take the same arithmetic.
  std::mt19937_64 rng(32);
  const GemmShape s{37, 45, 150};
  std::vector<PeOperand> a(s.m * s.k), b(s.k * s.n);
  std::vector<int16_t> av(a.size()), bv(b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = EncodeWeight(static_cast<int8_t>(rng()));
    av[i] = static_cast<int16_t>(a[i].value());
  }
  for (size_t i = 0; i < b.size(); ++i) {
    b[i] = EncodeFlagWord(static_cast<uint16_t>(rng() & 0x1FF));
    bv[i] = static_cast<int16_t>(b[i].value());
  }
  const std::vector<int64_t> naive = NaiveGemm(s, av, bv);
  for (Dataflow df : kDataflows) {
    const GemmRun run = GemmEngine({8, 8}, df).Run(EncodedMatrix(a.data(), s.m, s.k), EncodedMatrix(b.data(), s.k, s.n));
    EXPECT_EQ(run.output, naive) << DataflowName(df);
  }
}

TEST(GemmEngine, RejectsBadOperands) {
  const GemmEngine engine({4, 4}, Dataflow::kWeightStationary);
  std::vector<uint16_t> words(16, 0x1FF);
  std::vector<int16_t> errors(16, 1);
  std::vector<int8_t> weights(16, 1);
  // Shapes disagree.
  EXPECT_THROW(engine.Run(FlagErrorMatrix(words.data(), 4, 4), WeightMatrix(weights.data(), 2, 8)), Error);
  // Flag x flag shifts by 14; SQ16 x SQ16 needs four passes.
  EXPECT_THROW(engine.Run(FlagErrorMatrix(words.data(), 4, 4), FlagErrorMatrix(words.data(), 4, 4)), Error);
  EXPECT_THROW(engine.Run(ShiftErrorMatrix(errors.data(), 16, 4, 4), ShiftErrorMatrix(errors.data(), 16, 4, 4)), Error);
  // Values outside the format.
  words[5] = 0x200;
  EXPECT_THROW(engine.Run(FlagErrorMatrix(words.data(), 4, 4), WeightMatrix(weights.data(), 4, 4)), Error);
  errors[3] = 300;
  EXPECT_THROW(engine.Run(ShiftErrorMatrix(errors.data(), 8, 4, 4), WeightMatrix(weights.data(), 4, 4)), Error);
  EXPECT_THROW(ShiftErrorMatrix(errors.data(), 12, 4, 4), Error);
  EXPECT_THROW(GemmEngine({4, 0}, Dataflow::kOutputStationary), Error);
}

// The engine against the cycle-stepped array: the GEMM run fold by fold on the SystemC
// bench (column folds outer, row folds inner, digit passes innermost), fold results
// added in a 64-bit buffer, fold cycles summed.
TEST(GemmEngine, MatchesTheCycleSteppedArrayFoldByFold) {
  std::mt19937_64 rng(33);
  const GemmShape shapes[] = {{11, 10, 9}, {4, 4, 4}, {1, 9, 13}, {13, 1, 5}};
  for (const ArrayShape& array : {ArrayShape{4, 4}, ArrayShape{3, 5}, ArrayShape{8, 4}}) {
    SystolicArrayBench& bench = BenchFor(array);
    for (const GemmShape& s : shapes) {
      for (const GemmCase& c : {kGemmCases[0], kGemmCases[2], kGemmCases[4]}) {
        const TestMatrix a = RandomMatrix(c.ifmap, s.m, s.k, c.ifmap_layout, Fill::kRandom, rng);
        const TestMatrix b = RandomMatrix(c.filter, s.k, s.n, c.filter_layout, Fill::kRandom, rng);
        const int passes = OperandPasses(c.ifmap);
        for (Dataflow df : kDataflows) {
          const bool os = df == Dataflow::kOutputStationary;
          std::vector<int64_t> buffer(s.m * s.n, 0);
          int64_t cycles = 0;
          const int64_t spatial_rows = os ? s.m : s.k;
          for (int64_t n0 = 0; n0 < s.n; n0 += array.cols) {
            for (int64_t r0 = 0; r0 < spatial_rows; r0 += array.rows) {
              for (int pass = 0; pass < passes; ++pass) {
                const int64_t n1 = std::min(s.n, n0 + array.cols), r1 = std::min(spatial_rows, r0 + array.rows);
                const int64_t m0 = os ? r0 : 0, m1 = os ? r1 : s.m, k0 = os ? 0 : r0, k1 = os ? s.k : r1;
                FoldRequest request{df, {m1 - m0, n1 - n0, k1 - k0}, {}, {}};
                for (int64_t i = m0; i < m1; ++i)
                  for (int64_t k = k0; k < k1; ++k) request.ifmap.push_back(a.Encoded(i, k, pass));
                for (int64_t k = k0; k < k1; ++k)
                  for (int64_t j = n0; j < n1; ++j) request.filter.push_back(b.Encoded(k, j, 0));
                const FoldResult fold = bench.RunFold(request);
                for (int64_t i = m0; i < m1; ++i)
                  for (int64_t j = n0; j < n1; ++j) buffer[i * s.n + j] += fold.values[(i - m0) * (n1 - n0) + (j - n0)];
                cycles += fold.cycles;
              }
            }
          }
          const GemmRun run = GemmEngine(array, df).Run(a.view(), b.view());
          ASSERT_EQ(run.output, buffer) << c.name << " " << DataflowName(df);
          ASSERT_EQ(run.cycles, cycles) << c.name << " " << DataflowName(df);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// (d) Cycle counts.

TEST(GemmEngine, CyclesEqualTheClosedForm) {
  for (int64_t r : {1, 3, 4, 8, 32}) {
    for (int64_t c : {1, 4, 5, 8, 32}) {
      for (int64_t m : {1, 2, 7, 32, 33, 100}) {
        for (int64_t n : {1, 3, 8, 31, 64}) {
          for (int64_t k : {1, 5, 32, 40, 577}) {
            for (Dataflow df : kDataflows) {
              for (int passes : {1, 2}) {
                const GemmRun run = GemmEngine({r, c}, df).Count({m, n, k}, passes);
                const ArrayTiming t = ComputeArrayTiming({r, c}, df, {m, n, k}, passes);
                ASSERT_EQ(run.cycles, t.total_cycles);
                ASSERT_EQ(run.folds, t.folds);
                ASSERT_EQ(run.macs, m * n * k);
                ASSERT_DOUBLE_EQ(run.utilisation, t.utilisation);
                ASSERT_DOUBLE_EQ(run.mapping_efficiency, t.mapping_efficiency);
              }
            }
          }
        }
      }
    }
  }
}

TEST(GemmEngine, ShapeOnlyCountsEqualDataCounts) {
  std::mt19937_64 rng(41);
  for (const GemmCase& c : kGemmCases) {
    for (const GemmShape& s : kGemmShapes) {
      const TestMatrix a = RandomMatrix(c.ifmap, s.m, s.k, c.ifmap_layout, Fill::kRandom, rng);
      const TestMatrix b = RandomMatrix(c.filter, s.k, s.n, c.filter_layout, Fill::kRandom, rng);
      for (Dataflow df : kDataflows) {
        const GemmEngine engine({8, 4}, df);
        const GemmRun data = engine.Run(a.view(), b.view());
        const GemmRun shape = engine.Count(s, OperandPasses(c.ifmap));
        EXPECT_TRUE(shape.output.empty());
        EXPECT_EQ(data.cycles, shape.cycles);
        EXPECT_EQ(data.folds, shape.folds);
        EXPECT_EQ(data.passes, shape.passes);
        EXPECT_EQ(data.macs, shape.macs);
        EXPECT_DOUBLE_EQ(data.utilisation, shape.utilisation);
        EXPECT_DOUBLE_EQ(data.mapping_efficiency, shape.mapping_efficiency);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// (e) Overflow of the 48-bit accumulator and output buffer.

TEST(GemmEngine, AccumulatorOverflowIsAnError) {
  // (255 * 255) << 8 per product (the largest the PE makes): 2^47 / 16646400 = 8454530.9,
  // so K = 8454531 equal products leave the range. OS overflows in the PE accumulator,
  // WS in a column's partial sum or the output buffer; both throw.
  const int64_t k = 8454531;
  const std::vector<PeOperand> a(k, PeOperand{255, false, 8});
  const std::vector<uint8_t> b(k, 255);
  for (Dataflow df : kDataflows) {
    const GemmEngine engine({32, 32}, df);
    EXPECT_THROW(engine.Run(EncodedMatrix(a.data(), 1, k), ActivationMatrix(b.data(), k, 1)), Error) << DataflowName(df);
    // One product fewer ends exactly below 2^47: exact, no error.
    const GemmRun fits = engine.Run(EncodedMatrix(a.data(), 1, k - 1), ActivationMatrix(b.data(), k - 1, 1));
    EXPECT_EQ(fits.output[0], (k - 1) * 16646400);
  }
  // Too large a bound but alternating signs: the checked path still gives the exact sum.
  std::vector<PeOperand> alternating = a;
  for (size_t i = 1; i < alternating.size(); i += 2) alternating[i].negative = true;
  for (Dataflow df : kDataflows) {
    const GemmRun run =
        GemmEngine({32, 32}, df).Run(EncodedMatrix(alternating.data(), 1, k), ActivationMatrix(b.data(), k, 1));
    EXPECT_EQ(run.output[0], 16646400);
  }
  try {
    GemmEngine({4, 4}, Dataflow::kOutputStationary).Run(EncodedMatrix(a.data(), 1, k), ActivationMatrix(b.data(), k, 1));
    FAIL() << "no overflow reported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("overflow"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace octet::model
