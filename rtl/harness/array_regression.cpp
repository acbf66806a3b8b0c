#include "rtl/harness/array_regression.h"

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "golden/core/error.h"
#include "rtl/harness/array_driver.h"
#include "rtl/harness/draws.h"

namespace octet::rtl {

namespace {

using model::Dataflow;
using model::FoldRequest;
using model::FoldResult;
using model::OperandKind;
using model::PeOperand;

// One stored operand of `kind` encoded for the PE: any stored value, or (1 in 8) the
// largest magnitude of the format. A 16-bit SQ error is one of its two digits (pass 0 or
// 1), as the array sees it in that pass.
PeOperand RandomOperand(Draws& d, OperandKind kind, bool extreme, int digit) {
  const bool negative = d.OneIn(2);
  switch (kind) {
    case OperandKind::kWeight:
      return model::EncodeWeight(extreme ? (negative ? int8_t{-128} : int8_t{127}) : static_cast<int8_t>(d.Next()));
    case OperandKind::kActivation:
      return model::EncodeActivation(extreme ? uint8_t{255} : static_cast<uint8_t>(d.Next()));
    case OperandKind::kFlagError:  // every 9-bit word, the never-produced flag-1 magnitude-0 ones too
      return model::EncodeFlagWord(extreme ? (negative ? uint16_t{0x1FF} : uint16_t{0x17F})
                                           : static_cast<uint16_t>(d.Next() & 0x1FF));
    case OperandKind::kShiftError8:
      return model::EncodeShiftError8(extreme ? (negative ? int16_t{-128} : int16_t{127})
                                              : static_cast<int16_t>(static_cast<int8_t>(d.Next())));
    case OperandKind::kShiftError16: {
      const auto e = extreme ? (negative ? int16_t{-32768} : int16_t{32767}) : static_cast<int16_t>(d.Next());
      const model::ErrorDigits digits = model::EncodeShiftError16(e);
      return digit == 0 ? digits.high : digits.low;
    }
    case OperandKind::kEncoded:
      break;
  }
  Fail("array regression: no random operands of kind {}", model::OperandKindName(kind));
}

// The operand pairings of the layers' GEMMs (architecture.md): forward x0 * W_q, error
// e3 * W_q, weight gradient e3^T * x0, with every error format; shifts add to at most 8.
struct Pairing {
  OperandKind ifmap, filter;
};
constexpr Pairing kPairings[] = {
    {OperandKind::kActivation, OperandKind::kWeight},   {OperandKind::kFlagError, OperandKind::kWeight},
    {OperandKind::kShiftError8, OperandKind::kWeight},  {OperandKind::kShiftError16, OperandKind::kWeight},
    {OperandKind::kFlagError, OperandKind::kActivation}, {OperandKind::kShiftError8, OperandKind::kActivation},
    {OperandKind::kShiftError16, OperandKind::kActivation},
};

// Fold f: a dataflow, a tile that fits (the streamed dimension up to three array lengths,
// full tiles one time in four), a pairing and the operands.
FoldRequest RandomFold(uint64_t seed, const model::ArrayShape& array, int64_t fold) {
  Draws d(seed, 0x4100 + static_cast<uint64_t>(array.rows * 4096 + array.cols), fold);
  FoldRequest request;
  request.dataflow = d.OneIn(2) ? Dataflow::kOutputStationary : Dataflow::kWeightStationary;
  const bool full = d.OneIn(4);
  const int64_t rows = full ? array.rows : d.Range(1, array.rows);
  const int64_t cols = full ? array.cols : d.Range(1, array.cols);
  const int64_t streamed = d.Range(1, 3 * std::max(array.rows, array.cols));
  // OS: m x n outputs in the PEs, k streamed; WS: k x n weights held, m streamed.
  request.shape = request.dataflow == Dataflow::kOutputStationary ? model::GemmShape{rows, cols, streamed}
                                                                  : model::GemmShape{streamed, cols, rows};
  const Pairing pairing = kPairings[d.Range(0, std::size(kPairings) - 1)];
  const int digit = static_cast<int>(d.Range(0, 1));
  const bool extreme = d.OneIn(8);
  const auto& s = request.shape;
  request.ifmap.resize(static_cast<size_t>(s.m * s.k));
  request.filter.resize(static_cast<size_t>(s.k * s.n));
  for (PeOperand& a : request.ifmap) a = RandomOperand(d, pairing.ifmap, extreme, digit);
  for (PeOperand& b : request.filter) b = RandomOperand(d, pairing.filter, extreme, digit);
  return request;
}

// The golden fold: exact int64 sums of the operands' values (no PE arithmetic involved).
std::vector<int64_t> ExactProduct(const FoldRequest& r) {
  const auto& s = r.shape;
  std::vector<int64_t> c(static_cast<size_t>(s.m * s.n), 0);
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t k = 0; k < s.k; ++k)
      for (int64_t j = 0; j < s.n; ++j) c[i * s.n + j] += r.ifmap[i * s.k + k].value() * r.filter[k * s.n + j].value();
  return c;
}

}  // namespace

BlockResult RunArrayRegression(model::SystolicArrayBench& reference, uint64_t seed, int64_t vectors,
                               const RegressionOptions& options) {
  const model::ArrayShape& shape = reference.shape();
  const std::string name = fmt::format("array_{}x{}", shape.rows, shape.cols);
  std::unique_ptr<ArrayDriver> rtl = MakeArrayDriver(shape);
  MismatchRecorder recorder;
  int64_t outputs = 0;
  for (int64_t fold = 0; fold == 0 || outputs < vectors; ++fold) {
    const FoldRequest request = RandomFold(seed, shape, fold);
    const auto& s = request.shape;
    const int64_t count = s.m * s.n;
    const auto describe = [&] {
      return fmt::format("fold {} {} {}x{}x{}", fold, model::DataflowName(request.dataflow), s.m, s.n, s.k);
    };
    FoldResult got, systemc;
    try {
      got = rtl->RunFold(request);
      systemc = reference.RunFold(request);
    } catch (const Error& e) {
      recorder.Record(count, fmt::format("{}: {}", describe(), e.what()));
      outputs += count;
      continue;
    }
    const std::vector<int64_t> golden = ExactProduct(request);
    for (int64_t o = 0; o < count; ++o, ++outputs) {
      MismatchRecorder::Fields expected = {
          {"value", golden[o]}, {"valid_cycle", systemc.valid_cycle[o]}, {"fold_cycles", systemc.cycles}};
      if (options.corrupt_every > 0 && outputs % options.corrupt_every == 0) expected[0].second ^= 1;
      recorder.Compare(outputs, expected, {{"value", got.values[o]}, {"valid_cycle", got.valid_cycle[o]}, {"fold_cycles", got.cycles}},
                       [&] { return fmt::format("{} output ({}, {})", describe(), o / s.n, o % s.n); });
    }
  }
  return {name, outputs, recorder.failures(), recorder.first_mismatch()};
}

}  // namespace octet::rtl
