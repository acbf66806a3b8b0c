#include "model/array/systolic_array.h"

#include <algorithm>
#include <string>
#include <utility>

#include "golden/core/error.h"

namespace octet::model {
namespace {

constexpr PeOperand kZeroOperand{};  // what a padded PE row or column receives

}  // namespace

int MaxShift(const std::vector<PeOperand>& operands) {
  int shift = 0;
  for (const PeOperand& op : operands) shift = std::max<int>(shift, op.shift);
  return shift;
}

void CheckFoldRequest(const ArrayShape& array, const FoldRequest& r) {
  const GemmShape& s = r.shape;
  if (s.m < 1 || s.n < 1 || s.k < 1) Fail("fold {} x {} x {}: every size must be at least 1", s.m, s.n, s.k);
  const bool os = r.dataflow == Dataflow::kOutputStationary;
  const int64_t spatial_rows = os ? s.m : s.k;
  if (spatial_rows > array.rows || s.n > array.cols)
    Fail("{} fold {} x {} x {} does not fit a {} x {} array", DataflowName(r.dataflow), s.m, s.n, s.k, array.rows,
         array.cols);
  if (static_cast<int64_t>(r.ifmap.size()) != s.m * s.k || static_cast<int64_t>(r.filter.size()) != s.k * s.n)
    Fail("fold {} x {} x {}: {} ifmap and {} filter operands given", s.m, s.n, s.k, r.ifmap.size(), r.filter.size());
  if (MaxShift(r.ifmap) + MaxShift(r.filter) > kMaxProductShift)
    Fail("fold operands shift by up to {} + {}: the PE shifter takes {} at most", MaxShift(r.ifmap),
         MaxShift(r.filter), kMaxProductShift);
}

SystolicArray::SystolicArray(sc_core::sc_module_name name, ArrayShape shape)
    : sc_core::sc_module(name), clock("clock"), shape_(shape) {
  if (shape.rows < 1 || shape.cols < 1) Fail("array of {} x {} PEs: both sizes must be at least 1", shape.rows, shape.cols);
  const size_t pes = static_cast<size_t>(shape.rows * shape.cols);
  ifmap_q_.resize(pes);
  filter_q_.resize(pes);
  accumulator_q_.resize(pes);
  psum_q_.resize(pes);
  ifmap_d_ = ifmap_q_;
  filter_d_ = filter_q_;
  accumulator_d_ = accumulator_q_;
  psum_d_ = psum_q_;
  column_outputs_.resize(static_cast<size_t>(shape.cols));
  SC_METHOD(Step);
  sensitive << clock.pos();
  dont_initialize();
}

void SystolicArray::StartFold(FoldRequest request) {
  if (busy_) Fail("array {}: a fold is still running", name());
  CheckFoldRequest(shape_, request);
  request_ = std::move(request);
  const GemmShape& s = request_.shape;
  result_ = FoldResult{};
  result_.shape = s;
  result_.values.assign(static_cast<size_t>(s.m * s.n), 0);
  result_.valid_cycle.assign(static_cast<size_t>(s.m * s.n), -1);
  // A new fold starts from cleared registers (the previous fold's outputs have left).
  std::fill(ifmap_q_.begin(), ifmap_q_.end(), OperandToken{});
  std::fill(filter_q_.begin(), filter_q_.end(), OperandToken{});
  std::fill(accumulator_q_.begin(), accumulator_q_.end(), 0);
  std::fill(psum_q_.begin(), psum_q_.end(), PartialSum{});
  std::fill(column_outputs_.begin(), column_outputs_.end(), 0);
  const bool os = request_.dataflow == Dataflow::kOutputStationary;
  outputs_pending_ = (os ? shape_.rows : s.m) * shape_.cols;
  cycle_ = 0;
  error_.clear();
  busy_ = true;
}

SystolicArray::OperandToken SystolicArray::IfmapEdge(int64_t row) const {
  const GemmShape& s = request_.shape;
  OperandToken t;
  if (request_.dataflow == Dataflow::kOutputStationary) {
    // Array row i streams ifmap row i over k, delayed by i cycles.
    const int64_t k = cycle_ - row;
    if (k < 0 || k >= s.k) return t;
    t.operand = row < s.m ? request_.ifmap[row * s.k + k] : kZeroOperand;
    t.valid = true;
    t.last = k == s.k - 1;
  } else {
    // Array row k streams ifmap column k over m, after the preload and delayed by k cycles.
    const int64_t m = cycle_ - WsPreloadCycles(shape_) - row;
    if (m < 0 || m >= s.m) return t;
    t.operand = row < s.k ? request_.ifmap[m * s.k + row] : kZeroOperand;
    t.valid = true;  // the partial sum, not a control bit, marks a WS output complete
  }
  return t;
}

SystolicArray::OperandToken SystolicArray::FilterEdge(int64_t col) const {
  const GemmShape& s = request_.shape;
  OperandToken t;
  int64_t k = 0;
  if (request_.dataflow == Dataflow::kOutputStationary) {
    k = cycle_ - col;  // array column j streams filter column j over k, delayed by j cycles
    if (k < 0 || k >= s.k) return t;
    t.last = k == s.k - 1;
  } else {
    k = shape_.rows - 1 - cycle_;  // preload: bottom row first, so row r ends in PE row r
    if (k < 0) return t;
  }
  t.operand = (k < s.k && col < s.n) ? request_.filter[k * s.n + col] : kZeroOperand;
  t.valid = true;
  return t;
}

void SystolicArray::CompleteOutput(int64_t row, int64_t col, int64_t value) {
  const GemmShape& s = request_.shape;
  if (row < s.m && col < s.n) {
    result_.values[row * s.n + col] = value;
    result_.valid_cycle[row * s.n + col] = cycle_;
  }
  --outputs_pending_;
}

void SystolicArray::StepOutputStationary() {
  for (int64_t i = 0; i < shape_.rows; ++i) {
    for (int64_t j = 0; j < shape_.cols; ++j) {
      const int64_t pe = Index(i, j);
      const OperandToken a = j == 0 ? IfmapEdge(i) : ifmap_q_[Index(i, j - 1)];
      const OperandToken b = i == 0 ? FilterEdge(j) : filter_q_[Index(i - 1, j)];
      if (a.valid != b.valid || a.last != b.last)
        Fail("array {}: operands out of step at PE ({}, {}), cycle {}", name(), i, j, cycle_);
      int64_t accumulator = accumulator_q_[pe];
      if (a.valid) {
        accumulator = AddToAccumulator(accumulator, PeProduct(a.operand, b.operand));
        if (a.last) {
          // The sum moves to the PE's shadow register and drains during the next fold;
          // the accumulator starts the next output from zero.
          CompleteOutput(i, j, accumulator);
          accumulator = 0;
        }
      }
      accumulator_d_[pe] = accumulator;
      ifmap_d_[pe] = a;
      filter_d_[pe] = b;
    }
  }
}

void SystolicArray::StepWeightStationary() {
  const bool preloading = cycle_ < WsPreloadCycles(shape_);
  for (int64_t k = 0; k < shape_.rows; ++k) {
    for (int64_t j = 0; j < shape_.cols; ++j) {
      const int64_t pe = Index(k, j);
      // The filter chain shifts down during the preload and holds afterwards.
      filter_d_[pe] = preloading ? (k == 0 ? FilterEdge(j) : filter_q_[Index(k - 1, j)]) : filter_q_[pe];
      const OperandToken a = j == 0 ? IfmapEdge(k) : ifmap_q_[Index(k, j - 1)];
      const PartialSum in = k == 0 ? PartialSum{0, a.valid} : psum_q_[Index(k - 1, j)];
      if (a.valid != in.valid) Fail("array {}: ifmap and partial sum out of step at PE ({}, {}), cycle {}", name(), k, j, cycle_);
      if (a.valid && !filter_q_[pe].valid) Fail("array {}: PE ({}, {}) computes before its weight is loaded", name(), k, j);
      PartialSum out;
      if (a.valid) out = {AddToAccumulator(in.value, PeProduct(a.operand, filter_q_[pe].operand)), true};
      psum_d_[pe] = out;
      ifmap_d_[pe] = a;
    }
  }
  // The bottom row's partial sums leave the array complete, in ifmap row order.
  for (int64_t j = 0; j < shape_.cols; ++j) {
    const PartialSum& out = psum_d_[Index(shape_.rows - 1, j)];
    if (out.valid) CompleteOutput(column_outputs_[j]++, j, out.value);
  }
}

void SystolicArray::Step() {
  if (!busy_) return;
  try {
    StepRegisters();
  } catch (const Error& e) {
    error_ = e.what();
    busy_ = false;
    sc_core::sc_pause();
  }
}

void SystolicArray::StepRegisters() {
  if (request_.dataflow == Dataflow::kOutputStationary) {
    StepOutputStationary();
  } else {
    StepWeightStationary();
  }
  std::swap(ifmap_q_, ifmap_d_);
  std::swap(filter_q_, filter_d_);
  std::swap(accumulator_q_, accumulator_d_);
  std::swap(psum_q_, psum_d_);
  if (outputs_pending_ == 0) {
    result_.cycles = cycle_ + 1;
    busy_ = false;
    sc_core::sc_pause();  // hand control back to the caller of sc_start
    return;
  }
  ++cycle_;
}

SystolicArrayBench::SystolicArrayBench(sc_core::sc_module_name name, ArrayShape shape)
    : sc_core::sc_module(name), clock_("clock"), array_("array", shape) {
  array_.clock(clock_);
  SC_THREAD(DriveClock);
}

void SystolicArrayBench::DriveClock() {
  const sc_core::sc_time half_period(kClockPeriodNs / 2, sc_core::SC_NS);
  while (true) {
    while (!array_.busy()) wait(fold_started_);
    clock_.write(true);  // the array steps on this rising edge
    wait(half_period);
    clock_.write(false);
    wait(half_period);
  }
}

FoldResult SystolicArrayBench::RunFold(FoldRequest request) {
  const GemmShape s = request.shape;
  array_.StartFold(std::move(request));
  fold_started_.notify(sc_core::SC_ZERO_TIME);
  // Every fold ends within 2 (R + C + m + k) cycles; allow twice that before giving up.
  const int64_t guard = 4 * (shape().rows + shape().cols + s.m + s.k) + 16;
  sc_core::sc_start(sc_core::sc_time(static_cast<double>(guard) * kClockPeriodNs, sc_core::SC_NS));
  if (!array_.error().empty()) Fail("{}", array_.error());
  if (array_.busy()) Fail("array {}: fold {} x {} x {} still running after {} cycles", array_.name(), s.m, s.n, s.k, guard);
  return array_.result();
}

}  // namespace octet::model
