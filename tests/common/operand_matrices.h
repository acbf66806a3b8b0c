// Random GEMM operands of every stored format, for the tests of the array at each level
// (GemmEngine, the cycle-stepped SystemC array, the Verilated RTL array): the stored
// elements, their decoded values and PE encodings, and a naive int64 GEMM reference.
// Values come from std::mt19937_64 with fixed seeds (test code only).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "golden/core/error.h"
#include "golden/numerics/quantizers.h"
#include "model/array/gemm_engine.h"
#include "model/array/pe_operand.h"

namespace octet::model::test_operands {

enum class Fill { kRandom, kExtreme };

// A matrix of one stored format and its decoded values (row-major, for the references).
struct TestMatrix {
  OperandKind kind = OperandKind::kWeight;
  int64_t rows = 0, cols = 0;
  MatrixLayout layout = MatrixLayout::kRowMajor;
  std::vector<int8_t> weights;
  std::vector<uint8_t> activations;
  std::vector<uint16_t> flag_words;
  std::vector<int16_t> errors;  // SQ errors, 8 or 16 bits
  std::vector<int16_t> values;  // decoded, [r][c]

  OperandView view() const {
    switch (kind) {
      case OperandKind::kWeight: return WeightMatrix(weights.data(), rows, cols, layout);
      case OperandKind::kActivation: return ActivationMatrix(activations.data(), rows, cols, layout);
      case OperandKind::kFlagError: return FlagErrorMatrix(flag_words.data(), rows, cols, layout);
      case OperandKind::kShiftError8: return ShiftErrorMatrix(errors.data(), 8, rows, cols, layout);
      case OperandKind::kShiftError16: return ShiftErrorMatrix(errors.data(), 16, rows, cols, layout);
      case OperandKind::kEncoded: break;
    }
    throw Error("no test view for encoded operands");
  }
  // The PE operands of element (r, c) for digit pass `pass`.
  PeOperand Encoded(int64_t r, int64_t c, int pass) const {
    const size_t at = static_cast<size_t>(layout == MatrixLayout::kRowMajor ? r * cols + c : c * rows + r);
    switch (kind) {
      case OperandKind::kWeight: return EncodeWeight(weights[at]);
      case OperandKind::kActivation: return EncodeActivation(activations[at]);
      case OperandKind::kFlagError: return EncodeFlagWord(flag_words[at]);
      case OperandKind::kShiftError8: return EncodeShiftError8(errors[at]);
      case OperandKind::kShiftError16: {
        const ErrorDigits d = EncodeShiftError16(errors[at]);
        return pass == 0 ? d.high : d.low;
      }
      case OperandKind::kEncoded: break;
    }
    throw Error("no test encoding for encoded operands");
  }
};

// One stored element of `kind` and its value; kExtreme picks the largest magnitudes.
inline void RandomElement(OperandKind kind, Fill fill, std::mt19937_64& rng, TestMatrix& m, size_t at, int16_t& value) {
  const uint64_t bits = rng();
  const bool negative = (bits >> 40) & 1;
  switch (kind) {
    case OperandKind::kWeight: {
      const int8_t w = fill == Fill::kExtreme ? (negative ? int8_t{-128} : int8_t{127}) : static_cast<int8_t>(bits);
      m.weights[at] = w;
      value = w;
      break;
    }
    case OperandKind::kActivation: {
      const uint8_t a = fill == Fill::kExtreme ? uint8_t{255} : static_cast<uint8_t>(bits);
      m.activations[at] = a;
      value = a;
      break;
    }
    case OperandKind::kFlagError: {
      // Any 9-bit word, including the never-produced flag-1 magnitude-0 words.
      const uint16_t word = fill == Fill::kExtreme ? static_cast<uint16_t>(negative ? 0x1FF : 0x17F)
                                                   : static_cast<uint16_t>(bits & 0x1FF);
      m.flag_words[at] = word;
      value = q::FlagDecode(word);
      break;
    }
    case OperandKind::kShiftError8: {
      const int16_t e = fill == Fill::kExtreme ? (negative ? int16_t{-128} : int16_t{127})
                                               : static_cast<int16_t>(static_cast<int8_t>(bits));
      m.errors[at] = e;
      value = e;
      break;
    }
    case OperandKind::kShiftError16: {
      const int16_t e = fill == Fill::kExtreme ? (negative ? int16_t{-32768} : int16_t{32767}) : static_cast<int16_t>(bits);
      m.errors[at] = e;
      value = e;
      break;
    }
    case OperandKind::kEncoded: throw Error("no random encoded operands");
  }
}

inline TestMatrix RandomMatrix(OperandKind kind, int64_t rows, int64_t cols, MatrixLayout layout, Fill fill,
                        std::mt19937_64& rng) {
  TestMatrix m;
  m.kind = kind;
  m.rows = rows;
  m.cols = cols;
  m.layout = layout;
  const size_t size = static_cast<size_t>(rows * cols);
  m.weights.resize(size);
  m.activations.resize(size);
  m.flag_words.resize(size);
  m.errors.resize(size);
  m.values.resize(size);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const size_t at = static_cast<size_t>(layout == MatrixLayout::kRowMajor ? r * cols + c : c * rows + r);
      RandomElement(kind, fill, rng, m, at, m.values[static_cast<size_t>(r * cols + c)]);
    }
  }
  return m;
}

inline std::vector<int64_t> NaiveGemm(const GemmShape& s, const std::vector<int16_t>& a, const std::vector<int16_t>& b) {
  std::vector<int64_t> c(static_cast<size_t>(s.m * s.n), 0);
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j)
      for (int64_t k = 0; k < s.k; ++k) c[i * s.n + j] += int64_t{a[i * s.k + k]} * b[k * s.n + j];
  return c;
}

struct GemmCase {
  OperandKind ifmap, filter;
  MatrixLayout ifmap_layout, filter_layout;
  const char* name;
};

// The three GEMMs of a training step with the layouts the lowering stores them in
// (docs/numerics.md, section 10): forward col x W^T, error e3^T x W, wgrad e3 x col.
constexpr GemmCase kGemmCases[] = {
    {OperandKind::kActivation, OperandKind::kWeight, MatrixLayout::kRowMajor, MatrixLayout::kColumnMajor, "forward"},
    {OperandKind::kFlagError, OperandKind::kWeight, MatrixLayout::kColumnMajor, MatrixLayout::kRowMajor, "error flag"},
    {OperandKind::kShiftError16, OperandKind::kWeight, MatrixLayout::kColumnMajor, MatrixLayout::kRowMajor, "error SQ16"},
    {OperandKind::kShiftError8, OperandKind::kWeight, MatrixLayout::kColumnMajor, MatrixLayout::kRowMajor, "error SQ8"},
    {OperandKind::kFlagError, OperandKind::kActivation, MatrixLayout::kRowMajor, MatrixLayout::kRowMajor, "wgrad flag"},
    {OperandKind::kShiftError16, OperandKind::kActivation, MatrixLayout::kRowMajor, MatrixLayout::kRowMajor, "wgrad SQ16"},
};

}  // namespace octet::model::test_operands
