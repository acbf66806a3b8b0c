// The fast array: whole GEMMs fold by fold with the PE's arithmetic, for running entire
// networks (a ResNet-18 training step is about 5.5e9 MACs). The results are the exact
// integer sums the cycle-stepped SystolicArray produces, and the cycle count follows the
// per-output schedule of array_timing.h; only the per-register movement is skipped.
//
// Operands are read from their stored formats (OperandView) and encoded once into the
// PE operand form (pe_operand.h); the inner loop is the PE step on those operands:
// magnitude * magnitude, shift, sign, add.
#pragma once

#include <cstdint>
#include <vector>

#include "model/array/array_timing.h"
#include "model/array/pe_operand.h"
#include "model/core/gemm_shape.h"

namespace octet::model {

enum class MatrixLayout {
  kRowMajor,     // element (r, c) at r * cols + c
  kColumnMajor,  // element (r, c) at c * rows + r (a transposed row-major matrix)
};

// A matrix operand in its stored format: element (r, c) is data[r * row_stride + c * col_stride],
// of the C++ type the kind names (int8_t, uint8_t, uint16_t, int16_t or PeOperand).
struct OperandView {
  OperandKind kind = OperandKind::kEncoded;
  const void* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t row_stride = 0;
  int64_t col_stride = 0;
};
OperandView WeightMatrix(const int8_t* data, int64_t rows, int64_t cols, MatrixLayout layout = MatrixLayout::kRowMajor);
OperandView ActivationMatrix(const uint8_t* data, int64_t rows, int64_t cols,
                             MatrixLayout layout = MatrixLayout::kRowMajor);
OperandView FlagErrorMatrix(const uint16_t* data, int64_t rows, int64_t cols,
                            MatrixLayout layout = MatrixLayout::kRowMajor);
// bits = 8 (SQ(e, 8), one pass) or 16 (SQ(e, 16), two digit passes).
OperandView ShiftErrorMatrix(const int16_t* data, int bits, int64_t rows, int64_t cols,
                             MatrixLayout layout = MatrixLayout::kRowMajor);
OperandView EncodedMatrix(const PeOperand* data, int64_t rows, int64_t cols,
                          MatrixLayout layout = MatrixLayout::kRowMajor);

struct GemmRun {
  GemmShape shape;
  int64_t passes = 1;  // 2 when an operand is a 16-bit SQ error
  int64_t folds = 0;   // including the digit passes
  int64_t cycles = 0;  // end of the last output of the last fold, folds back to back
  int64_t macs = 0;    // M * N * K
  double utilisation = 0;
  double mapping_efficiency = 0;
  std::vector<int64_t> output;  // M x N row-major, exact; empty from Count()
};

class GemmEngine {
 public:
  // Throws octet::Error for an array with a size below 1.
  GemmEngine(ArrayShape array, Dataflow dataflow);

  // C = A * B for the ifmap A (M x K) and the filter B (K x N). Throws octet::Error when
  // the shapes disagree, an operand is outside its format, both operands are 16-bit SQ
  // errors or shifted beyond the PE shifter, or a 48-bit accumulator or output-buffer
  // sum would leave its range.
  GemmRun Run(const OperandView& ifmap, const OperandView& filter) const;
  // The same counts without values.
  GemmRun Count(const GemmShape& shape, int passes = 1) const;

  const ArrayShape& array() const { return array_; }
  Dataflow dataflow() const { return dataflow_; }

 private:
  ArrayShape array_;
  Dataflow dataflow_;
};

}  // namespace octet::model
