// The cycle-stepped systolic array: R x C PEs whose registers are stepped on every rising
// clock edge (operand registers moving right and down, accumulators or partial sums
// moving down), running one fold of either dataflow. It is the reference for the RTL
// array: for every output it records the value and the cycle at which the value became
// valid, as produced by the moving data, not by the formulas of array_timing.h (the tests
// check that the two agree). GemmEngine computes whole GEMMs fast with the same arithmetic.
#pragma once

#include <string>
#include <systemc>
#include <vector>

#include "model/array/array_timing.h"
#include "model/array/pe_operand.h"
#include "model/core/gemm_shape.h"

namespace octet::model {

// One fold: a GEMM whose spatial sizes fit the array.
//   OS: m <= R, n <= C, any k (k is streamed).  WS: k <= R, n <= C, any m (m is streamed).
// Rows and columns of the array beyond the tile compute on zeros (padding).
struct FoldRequest {
  Dataflow dataflow = Dataflow::kWeightStationary;
  GemmShape shape;
  std::vector<PeOperand> ifmap;   // A, m x k, row-major
  std::vector<PeOperand> filter;  // B, k x n, row-major
};

struct FoldResult {
  GemmShape shape;
  std::vector<int64_t> values;       // m x n sums of this fold (WS: partial sums over its k rows)
  std::vector<int64_t> valid_cycle;  // m x n: fold cycle at which each output became valid
  int64_t cycles = 0;                // last valid cycle over the whole array, padding included, + 1
};

// The largest operand shift of a fold's operands (0, 7 or 8).
int MaxShift(const std::vector<PeOperand>& operands);
// Throws octet::Error when a fold request does not fit `array` or its operands: sizes below
// 1, a tile larger than the array, operand counts that disagree with the shape, or shifts
// beyond the PE shifter. The SystemC array and the RTL array driver both check with it.
void CheckFoldRequest(const ArrayShape& array, const FoldRequest& request);

class SystolicArray : public sc_core::sc_module {
 public:
  sc_core::sc_in<bool> clock;

  SC_HAS_PROCESS(SystolicArray);
  SystolicArray(sc_core::sc_module_name name, ArrayShape shape);

  // Loads a fold; its cycle 0 is the next rising clock edge. At the end of the fold the
  // array calls sc_pause(), so sc_start returns to the caller. Throws octet::Error when
  // the tile does not fit, the operand counts do not match the shape, or the operands'
  // shifts together exceed the PE's shifter (kMaxProductShift).
  void StartFold(FoldRequest request);
  bool busy() const { return busy_; }
  const FoldResult& result() const { return result_; }  // complete once !busy() with no error
  // Why the fold stopped early (an accumulator overflow or an internal inconsistency),
  // or empty. An error inside a SystemC process would reach sc_start as an sc_report and
  // leave the kernel unusable; the array stops the fold and keeps the message instead.
  const std::string& error() const { return error_; }
  const ArrayShape& shape() const { return shape_; }

 private:
  // An operand register and the control bits that travel with it.
  struct OperandToken {
    PeOperand operand;
    bool valid = false;
    bool last = false;  // OS: the last step of the reduction (the output is complete)
  };
  struct PartialSum {
    int64_t value = 0;
    bool valid = false;
  };

  void Step();  // SC_METHOD: one clock cycle of every PE
  void StepRegisters();
  void StepOutputStationary();
  void StepWeightStationary();
  // What the feeders put on the array's edges in the current cycle (skewed streams).
  OperandToken IfmapEdge(int64_t row) const;
  OperandToken FilterEdge(int64_t col) const;  // OS streaming, WS preload
  void CompleteOutput(int64_t row, int64_t col, int64_t value);
  int64_t Index(int64_t row, int64_t col) const { return row * shape_.cols + col; }

  ArrayShape shape_;
  // Registers, one per PE, as _q (this cycle) / _d (next cycle) pairs. `ifmap` moves right,
  // `filter` moves down (OS stream; WS preload, then held as the stationary weights).
  std::vector<OperandToken> ifmap_q_, ifmap_d_;
  std::vector<OperandToken> filter_q_, filter_d_;
  std::vector<int64_t> accumulator_q_, accumulator_d_;  // OS
  std::vector<PartialSum> psum_q_, psum_d_;             // WS, moving down

  FoldRequest request_;
  FoldResult result_;
  bool busy_ = false;
  std::string error_;
  int64_t cycle_ = 0;              // fold cycle of the current clock edge
  int64_t outputs_pending_ = 0;    // outputs of the whole (padded) array still to complete
  std::vector<int64_t> column_outputs_;  // WS: outputs that left each column so far
};

// One array with a clock of its own, for running folds one at a time through the SystemC
// kernel. The clock is gated: it ticks only while a fold runs, so an idle bench leaves no
// pending activity and does not keep anyone's sc_start() from returning. SystemC
// elaborates a design only before the first sc_start of a process, so construct every
// bench a process needs before running any fold.
class SystolicArrayBench : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(SystolicArrayBench);
  SystolicArrayBench(sc_core::sc_module_name name, ArrayShape shape);
  // Starts the fold and runs the kernel until the array pauses it at the end of the fold.
  // Throws octet::Error for a rejected request, an overflow, or a fold still running
  // after a generous bound (a hang guard, not the schedule).
  FoldResult RunFold(FoldRequest request);
  const ArrayShape& shape() const { return array_.shape(); }

  static constexpr double kClockPeriodNs = 1.0;

 private:
  void DriveClock();  // SC_THREAD: one period per cycle while the array is busy

  sc_core::sc_signal<bool> clock_;
  sc_core::sc_event fold_started_;
  SystolicArray array_;
};

}  // namespace octet::model
