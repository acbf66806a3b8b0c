// The Verilated models come first: verilated.h takes SystemC mode (sc_time_stamp) when
// <systemc> was included before it, and array_driver.h includes it.
#include "Voctet_array_1x1.h"
#include "Voctet_array_32x32.h"
#include "Voctet_array_3x5.h"
#include "Voctet_array_4x4.h"
#include "Voctet_array_8x4.h"
#include "Voctet_array_8x8.h"
#include "verilated.h"

#include "rtl/harness/array_driver.h"
#include "rtl/harness/verilated_context.h"

#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>

#include "golden/core/error.h"
#include "model/array/array_timing.h"
#include "model/array/pe_operand.h"

namespace octet::rtl {
namespace {

using model::ArrayShape;
using model::Dataflow;
using model::FoldRequest;
using model::FoldResult;
using model::GemmShape;
using model::PeOperand;

// ---------------------------------------------------------------------------------------
// Port access. A Verilated port is CData/SData/IData/QData or VlWide<N> depending on its
// width; the driver composes each vector in 32-bit words and copies it in or out.

class PortBits {
 public:
  explicit PortBits(int bits) : words_(static_cast<size_t>((bits + 31) / 32), 0) {}
  void Clear() { std::fill(words_.begin(), words_.end(), 0u); }
  // Bits [lsb, lsb + width) = value, width <= 64.
  void Set(int lsb, int width, uint64_t value) {
    for (int done = 0; done < width;) {
      const int bit = lsb + done, word = bit / 32, offset = bit % 32, take = std::min(32 - offset, width - done);
      const uint32_t mask = take == 32 ? ~0u : ((1u << take) - 1u);
      words_[word] = (words_[word] & ~(mask << offset)) | (static_cast<uint32_t>(value >> done) & mask) << offset;
      done += take;
    }
  }
  uint64_t Get(int lsb, int width) const {
    uint64_t value = 0;
    for (int done = 0; done < width;) {
      const int bit = lsb + done, word = bit / 32, offset = bit % 32, take = std::min(32 - offset, width - done);
      const uint32_t mask = take == 32 ? ~0u : ((1u << take) - 1u);
      value |= static_cast<uint64_t>((words_[word] >> offset) & mask) << done;
      done += take;
    }
    return value;
  }

  template <typename T>
  void StoreTo(T& port) const {
    if constexpr (std::is_integral_v<T>) {
      uint64_t value = words_[0];
      if (words_.size() > 1) value |= static_cast<uint64_t>(words_[1]) << 32;
      port = static_cast<T>(value);
    } else {
      for (size_t i = 0; i < words_.size(); ++i) port.at(i) = words_[i];
    }
  }
  template <typename T>
  void LoadFrom(const T& port) {
    if constexpr (std::is_integral_v<T>) {
      const uint64_t value = static_cast<uint64_t>(port);
      words_[0] = static_cast<uint32_t>(value);
      if (words_.size() > 1) words_[1] = static_cast<uint32_t>(value >> 32);
    } else {
      for (size_t i = 0; i < words_.size(); ++i) words_[i] = port.at(i);
    }
  }

 private:
  std::vector<uint32_t> words_;
};

constexpr int kMagnitudeBits = 8;
constexpr int kShiftBits = 4;  // the PE's shift field: 0, 7 or 8 in practice
constexpr int kAccumulatorBits = model::kAccumulatorBits;
constexpr PeOperand kZeroOperand{};

// Sign-extends the 48-bit two's complement value of an output port.
int64_t SignExtend48(uint64_t raw) {
  const uint64_t sign = uint64_t{1} << (kAccumulatorBits - 1);
  return static_cast<int64_t>((raw ^ sign) - sign);
}

// ---------------------------------------------------------------------------------------
// One Verilated instance V of octet_systolic_array.

template <typename V>
class VerilatedArray final : public ArrayDriver {
 public:
  explicit VerilatedArray(ArrayShape shape)
      : ArrayDriver(shape),
        context_(NewVerilatedContext()),
        top_(std::make_unique<V>(context_.get(), "array")),
        rows_(static_cast<int>(shape.rows)),
        cols_(static_cast<int>(shape.cols)),
        ifmap_mag_(rows_ * kMagnitudeBits),
        ifmap_neg_(rows_),
        ifmap_shift_(rows_ * kShiftBits),
        filter_mag_(cols_ * kMagnitudeBits),
        filter_neg_(cols_),
        filter_shift_(cols_ * kShiftBits),
        out_valid_(cols_),
        out_value_(cols_ * kAccumulatorBits) {
    top_->clk_i = 0;
    Reset();
  }
  ~VerilatedArray() override { top_->final(); }

  void Reset() override {
    DriveIdle();
    top_->dataflow_i = 0;
    top_->rst_ni = 0;
    top_->eval();
    Tick();
    top_->rst_ni = 1;
    top_->eval();
    mode_ = Dataflow::kWeightStationary;  // the mode register's reset value
  }

  FoldResult RunFold(const FoldRequest& request) override {
    model::CheckFoldRequest(shape_, request);
    const GemmShape& s = request.shape;
    const bool os = request.dataflow == Dataflow::kOutputStationary;
    FoldResult result;
    result.shape = s;
    result.values.assign(static_cast<size_t>(s.m * s.n), 0);
    result.valid_cycle.assign(static_cast<size_t>(s.m * s.n), -1);
    // Outputs of the whole (padded) array: OS one per PE, WS one per ifmap row and column.
    int64_t pending = (os ? shape_.rows : s.m) * shape_.cols;
    std::vector<int64_t> column_outputs(static_cast<size_t>(cols_), 0);
    if (request.dataflow != mode_) {
      // The mode register takes dataflow_i at the next edge: one idle cycle between folds.
      DriveIdle();
      top_->dataflow_i = os ? 1 : 0;
      Tick();
      mode_ = request.dataflow;
    }
    // Every fold ends within 2 (R + C + m + k) cycles; allow twice that (as the bench).
    const int64_t guard = 4 * (shape_.rows + shape_.cols + s.m + s.k) + 16;
    for (int64_t cycle = 0; cycle < guard; ++cycle) {
      DriveCycle(request, cycle);
      Tick();
      if (top_->overflow_o) {
        Reset();
        Fail("rtl array {} x {}: a 48-bit accumulator or partial sum left [-2^47, 2^47 - 1] in {} fold {} x {} x {}, "
             "cycle {}",
             shape_.rows, shape_.cols, DataflowName(request.dataflow), s.m, s.n, s.k, cycle);
      }
      out_valid_.LoadFrom(top_->out_valid_o);
      if (out_valid_.Get(0, std::min(cols_, 64)) == 0 && cols_ <= 64) continue;
      out_value_.LoadFrom(top_->out_value_o);
      for (int j = 0; j < cols_; ++j) {
        if (out_valid_.Get(j, 1) == 0) continue;
        // Each column's outputs leave in row order: OS rows 0..R-1, WS ifmap rows 0..M-1.
        const int64_t row = column_outputs[static_cast<size_t>(j)]++;
        if (row < s.m && j < s.n) {
          const size_t at = static_cast<size_t>(row * s.n + j);
          result.values[at] = SignExtend48(out_value_.Get(j * kAccumulatorBits, kAccumulatorBits));
          result.valid_cycle[at] = cycle;
        }
        --pending;
      }
      if (pending <= 0) {
        if (pending < 0) {
          Reset();
          Fail("rtl array {} x {}: more outputs than the fold has", shape_.rows, shape_.cols);
        }
        result.cycles = cycle + 1;
        DriveIdle();
        return result;
      }
    }
    Reset();
    Fail("rtl array {} x {}: fold {} x {} x {} still running after {} cycles", shape_.rows, shape_.cols, s.m, s.n, s.k,
         guard);
  }

 private:
  void Tick() {
    top_->clk_i = 0;
    top_->eval();
    top_->clk_i = 1;
    top_->eval();
    ++cycles_simulated_;
  }

  void SetLane(PortBits& mag, PortBits& neg, PortBits& shift, int lane, const PeOperand& op) {
    mag.Set(lane * kMagnitudeBits, kMagnitudeBits, op.magnitude);
    neg.Set(lane, 1, op.negative ? 1 : 0);
    shift.Set(lane * kShiftBits, kShiftBits, op.shift);
  }

  void StoreInputs() {
    ifmap_mag_.StoreTo(top_->ifmap_mag_i);
    ifmap_neg_.StoreTo(top_->ifmap_neg_i);
    ifmap_shift_.StoreTo(top_->ifmap_shift_i);
    filter_mag_.StoreTo(top_->filter_mag_i);
    filter_neg_.StoreTo(top_->filter_neg_i);
    filter_shift_.StoreTo(top_->filter_shift_i);
  }

  void DriveIdle() {
    for (PortBits* p : {&ifmap_mag_, &ifmap_neg_, &ifmap_shift_, &filter_mag_, &filter_neg_, &filter_shift_}) p->Clear();
    StoreInputs();
    top_->ifmap_valid_i = 0;
    top_->ifmap_last_i = 0;
    top_->filter_valid_i = 0;
  }

  // The edge vectors of fold cycle `cycle` (docs/rtl.md): unused lanes carry zero operands.
  void DriveCycle(const FoldRequest& r, int64_t cycle) {
    const GemmShape& s = r.shape;
    bool ifmap_valid = false, ifmap_last = false, filter_valid = false;
    for (PortBits* p : {&ifmap_mag_, &ifmap_neg_, &ifmap_shift_, &filter_mag_, &filter_neg_, &filter_shift_}) p->Clear();
    if (r.dataflow == Dataflow::kOutputStationary) {
      // Cycle k: ifmap column a[.][k] and filter row b[k][.].
      if (cycle < s.k) {
        const int64_t k = cycle;
        ifmap_valid = filter_valid = true;
        ifmap_last = k == s.k - 1;
        for (int i = 0; i < rows_; ++i)
          SetLane(ifmap_mag_, ifmap_neg_, ifmap_shift_, i, i < s.m ? r.ifmap[i * s.k + k] : kZeroOperand);
        for (int j = 0; j < cols_; ++j)
          SetLane(filter_mag_, filter_neg_, filter_shift_, j, j < s.n ? r.filter[k * s.n + j] : kZeroOperand);
      }
    } else {
      const int64_t preload = model::WsPreloadCycles(shape_);
      if (cycle < preload) {
        // Cycle c: filter row R-1-c (zero beyond the tile's k rows).
        const int64_t k = shape_.rows - 1 - cycle;
        filter_valid = true;
        for (int j = 0; j < cols_; ++j)
          SetLane(filter_mag_, filter_neg_, filter_shift_, j,
                  (k < s.k && j < s.n) ? r.filter[k * s.n + j] : kZeroOperand);
      } else if (cycle - preload < s.m) {
        // Cycle R + m: ifmap row a[m][.] (zero beyond the tile's k columns).
        const int64_t m = cycle - preload;
        ifmap_valid = true;
        for (int k = 0; k < rows_; ++k)
          SetLane(ifmap_mag_, ifmap_neg_, ifmap_shift_, k, k < s.k ? r.ifmap[m * s.k + k] : kZeroOperand);
      }
    }
    StoreInputs();
    top_->ifmap_valid_i = ifmap_valid;
    top_->ifmap_last_i = ifmap_last;
    top_->filter_valid_i = filter_valid;
  }

  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<V> top_;
  int rows_, cols_;
  PortBits ifmap_mag_, ifmap_neg_, ifmap_shift_;
  PortBits filter_mag_, filter_neg_, filter_shift_;
  PortBits out_valid_, out_value_;
  Dataflow mode_ = Dataflow::kWeightStationary;  // what the array's mode register holds
};

struct Instance {
  ArrayShape shape;
  std::unique_ptr<ArrayDriver> (*make)();
};

template <typename V, int64_t kRows, int64_t kCols>
std::unique_ptr<ArrayDriver> Make() {
  return std::make_unique<VerilatedArray<V>>(ArrayShape{kRows, kCols});
}

// One entry per octet_rtl_block of rtl/array/blocks.cmake.
const Instance kInstances[] = {
    {{1, 1}, Make<Voctet_array_1x1, 1, 1>},    {{3, 5}, Make<Voctet_array_3x5, 3, 5>},
    {{4, 4}, Make<Voctet_array_4x4, 4, 4>},    {{8, 4}, Make<Voctet_array_8x4, 8, 4>},
    {{8, 8}, Make<Voctet_array_8x8, 8, 8>},    {{32, 32}, Make<Voctet_array_32x32, 32, 32>},
};

// ---------------------------------------------------------------------------------------
// GEMM operands in PE form, one row-major plane per digit pass (as GemmEngine encodes them).

struct Planes {
  int64_t rows = 0, cols = 0;
  int passes = 1;
  std::vector<PeOperand> plane[2];
  int max_shift = 0;
  const PeOperand& at(int pass, int64_t r, int64_t c) const {
    return plane[std::min(pass, passes - 1)][static_cast<size_t>(r * cols + c)];
  }
};

template <typename T>
const T& Element(const model::OperandView& v, int64_t r, int64_t c) {
  return static_cast<const T*>(v.data)[r * v.row_stride + c * v.col_stride];
}

Planes Encode(const model::OperandView& v) {
  using model::OperandKind;
  if (v.data == nullptr || v.rows < 1 || v.cols < 1)
    Fail("{} operand of {} x {}: no data or a size below 1", model::OperandKindName(v.kind), v.rows, v.cols);
  Planes p;
  p.rows = v.rows;
  p.cols = v.cols;
  p.passes = model::OperandPasses(v.kind);
  for (int pass = 0; pass < p.passes; ++pass) p.plane[pass].resize(static_cast<size_t>(v.rows * v.cols));
  for (int64_t r = 0; r < v.rows; ++r) {
    for (int64_t c = 0; c < v.cols; ++c) {
      const size_t at = static_cast<size_t>(r * v.cols + c);
      switch (v.kind) {
        case OperandKind::kWeight: p.plane[0][at] = model::EncodeWeight(Element<int8_t>(v, r, c)); break;
        case OperandKind::kActivation: p.plane[0][at] = model::EncodeActivation(Element<uint8_t>(v, r, c)); break;
        case OperandKind::kFlagError: p.plane[0][at] = model::EncodeFlagWord(Element<uint16_t>(v, r, c)); break;
        case OperandKind::kShiftError8: p.plane[0][at] = model::EncodeShiftError8(Element<int16_t>(v, r, c)); break;
        case OperandKind::kShiftError16: {
          const model::ErrorDigits d = model::EncodeShiftError16(Element<int16_t>(v, r, c));
          p.plane[0][at] = d.high;
          p.plane[1][at] = d.low;
          break;
        }
        case OperandKind::kEncoded: p.plane[0][at] = Element<PeOperand>(v, r, c); break;
      }
    }
  }
  for (int pass = 0; pass < p.passes; ++pass) p.max_shift = std::max(p.max_shift, model::MaxShift(p.plane[pass]));
  return p;
}

}  // namespace

std::vector<ArrayShape> RtlArrayShapes() {
  std::vector<ArrayShape> shapes;
  for (const Instance& instance : kInstances) shapes.push_back(instance.shape);
  return shapes;
}

bool HasRtlArray(const ArrayShape& shape) {
  for (const Instance& instance : kInstances)
    if (instance.shape.rows == shape.rows && instance.shape.cols == shape.cols) return true;
  return false;
}

std::unique_ptr<ArrayDriver> MakeArrayDriver(const ArrayShape& shape) {
  for (const Instance& instance : kInstances)
    if (instance.shape.rows == shape.rows && instance.shape.cols == shape.cols) return instance.make();
  std::string sizes;
  for (const Instance& instance : kInstances)
    sizes += (sizes.empty() ? "" : ", ") + std::to_string(instance.shape.rows) + "x" + std::to_string(instance.shape.cols);
  Fail("no Verilated array of {} x {} PEs (built: {}; add one in rtl/array/blocks.cmake)", shape.rows, shape.cols,
       sizes);
}

RtlGemmBackend::RtlGemmBackend(ArrayShape array, Dataflow dataflow)
    : driver_(MakeArrayDriver(array)), dataflow_(dataflow) {}

model::GemmRun RtlGemmBackend::Run(const model::OperandView& ifmap, const model::OperandView& filter) {
  // GemmEngine::Run's checks, in its order.
  if (ifmap.cols != filter.rows)
    Fail("GEMM operands disagree: ifmap {} x {}, filter {} x {}", ifmap.rows, ifmap.cols, filter.rows, filter.cols);
  if (model::OperandPasses(ifmap.kind) > 1 && model::OperandPasses(filter.kind) > 1)
    Fail("GEMM of two 16-bit SQ operands: the array takes one two-digit operand at most");
  const GemmShape s{ifmap.rows, filter.cols, ifmap.cols};
  const Planes a = Encode(ifmap);
  const Planes b = Encode(filter);
  if (a.max_shift + b.max_shift > model::kMaxProductShift)
    Fail("GEMM of {} and {} operands shifts products by {}: the PE shifter takes {} at most",
         model::OperandKindName(ifmap.kind), model::OperandKindName(filter.kind), a.max_shift + b.max_shift,
         model::kMaxProductShift);
  const int passes = std::max(a.passes, b.passes);
  const ArrayShape& array = driver_->shape();

  model::GemmRun run = model::GemmEngine(array, dataflow_).Count(s, passes);
  run.output.assign(static_cast<size_t>(s.m * s.n), 0);
  int64_t cycles = 0, folds = 0;
  const bool os = dataflow_ == Dataflow::kOutputStationary;
  const int64_t spatial_rows = os ? s.m : s.k;
  FoldRequest request;
  request.dataflow = dataflow_;
  // Column folds outer, row folds inner, the digit passes of a tile back to back.
  for (int64_t n0 = 0; n0 < s.n; n0 += array.cols) {
    const int64_t n1 = std::min(s.n, n0 + array.cols);
    for (int64_t r0 = 0; r0 < spatial_rows; r0 += array.rows) {
      const int64_t r1 = std::min(spatial_rows, r0 + array.rows);
      const int64_t m0 = os ? r0 : 0, m1 = os ? r1 : s.m, k0 = os ? 0 : r0, k1 = os ? s.k : r1;
      for (int pass = 0; pass < passes; ++pass) {
        request.shape = {m1 - m0, n1 - n0, k1 - k0};
        request.ifmap.clear();
        request.filter.clear();
        for (int64_t i = m0; i < m1; ++i)
          for (int64_t k = k0; k < k1; ++k) request.ifmap.push_back(a.at(pass, i, k));
        for (int64_t k = k0; k < k1; ++k)
          for (int64_t j = n0; j < n1; ++j) request.filter.push_back(b.at(pass, k, j));
        const FoldResult fold = driver_->RunFold(request);
        // The output buffer adds every fold's sums (WS K-folds, digit passes) at 48 bits.
        for (int64_t i = m0; i < m1; ++i) {
          for (int64_t j = n0; j < n1; ++j) {
            int64_t& out = run.output[static_cast<size_t>(i * s.n + j)];
            out = model::AddToAccumulator(out, fold.values[static_cast<size_t>((i - m0) * (n1 - n0) + (j - n0))]);
          }
        }
        cycles += fold.cycles;
        ++folds;
      }
    }
  }
  if (folds != run.folds) Fail("rtl array: ran {} folds, the engine counts {}", folds, run.folds);
  run.cycles = cycles;
  run.utilisation = static_cast<double>(run.macs) / (static_cast<double>(cycles) * array.rows * array.cols);
  return run;
}

}  // namespace octet::rtl
