#include "model/array/gemm_engine.h"

#include <algorithm>
#include <vector>

#include "golden/core/error.h"

namespace octet::model {
namespace {

// ---------------------------------------------------------------------------------------
// Operand encoding: every element of a view becomes one PE operand per digit pass. A
// dense view (row- or column-major) keeps its storage order, so encoding reads and
// writes memory in sequence; other strides are gathered into row-major planes.

// The operands of one GEMM side in PE form: one plane per digit pass.
struct PassOperands {
  int64_t rows = 0, cols = 0;
  int64_t row_stride = 0, col_stride = 0;  // of the planes
  int pass_count = 1;
  std::vector<PeOperand> planes[2];
  int max_shift = 0;          // largest shift of any digit
  int64_t max_magnitude = 0;  // largest |value| of an element (its digits together)

  const PeOperand* plane(int pass) const { return planes[std::min(pass, pass_count - 1)].data(); }
  const PeOperand& at(int pass, int64_t r, int64_t c) const { return plane(pass)[r * row_stride + c * col_stride]; }
};

// `encode(x, digits)` writes the kPasses digit operands of the stored element x.
template <int kPasses, typename T, typename EncodeDigits>
void EncodeElements(const OperandView& v, EncodeDigits encode, PassOperands& out) {
  const T* data = static_cast<const T*>(v.data);
  const bool dense = (v.row_stride == v.cols && v.col_stride == 1) || (v.row_stride == 1 && v.col_stride == v.rows);
  out.row_stride = dense ? v.row_stride : v.cols;
  out.col_stride = dense ? v.col_stride : 1;
  out.pass_count = kPasses;
  for (int p = 0; p < kPasses; ++p) out.planes[p].resize(static_cast<size_t>(v.rows * v.cols));
  PeOperand* planes[kPasses];
  for (int p = 0; p < kPasses; ++p) planes[p] = out.planes[p].data();
  // The inner loop runs along the dimension that is contiguous in the source.
  const bool rows_inner = v.row_stride < v.col_stride;
  const int64_t outer = rows_inner ? v.cols : v.rows, inner = rows_inner ? v.rows : v.cols;
  const int64_t outer_stride = rows_inner ? v.col_stride : v.row_stride, inner_stride = rows_inner ? v.row_stride : v.col_stride;
  const int64_t outer_out = rows_inner ? out.col_stride : out.row_stride, inner_out = rows_inner ? out.row_stride : out.col_stride;
  int max_shift = 0;
  int64_t max_magnitude = 0;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      PeOperand digits[kPasses];
      encode(data[o * outer_stride + i * inner_stride], digits);
      const int64_t at = o * outer_out + i * inner_out;
      int64_t magnitude = 0;
      for (int p = 0; p < kPasses; ++p) {
        // Field by field: a whole-struct copy of the 3-byte operand goes through the stack.
        planes[p][at].magnitude = digits[p].magnitude;
        planes[p][at].negative = digits[p].negative;
        planes[p][at].shift = digits[p].shift;
        max_shift = std::max<int>(max_shift, digits[p].shift);
        magnitude += int64_t{digits[p].magnitude} << digits[p].shift;
      }
      max_magnitude = std::max(max_magnitude, magnitude);
    }
  }
  out.max_shift = max_shift;
  out.max_magnitude = max_magnitude;
}

PassOperands Encode(const OperandView& v) {
  if (v.data == nullptr || v.rows < 1 || v.cols < 1)
    Fail("{} operand of {} x {}: no data or a size below 1", OperandKindName(v.kind), v.rows, v.cols);
  PassOperands out;
  out.rows = v.rows;
  out.cols = v.cols;
  switch (v.kind) {
    case OperandKind::kWeight:
      EncodeElements<1, int8_t>(v, [](int8_t w, PeOperand* d) { d[0] = EncodeWeight(w); }, out);
      break;
    case OperandKind::kActivation:
      EncodeElements<1, uint8_t>(v, [](uint8_t a, PeOperand* d) { d[0] = EncodeActivation(a); }, out);
      break;
    case OperandKind::kFlagError:
      EncodeElements<1, uint16_t>(v, [](uint16_t word, PeOperand* d) { d[0] = EncodeFlagWord(word); }, out);
      break;
    case OperandKind::kShiftError8:
      EncodeElements<1, int16_t>(v, [](int16_t e, PeOperand* d) { d[0] = EncodeShiftError8(e); }, out);
      break;
    case OperandKind::kShiftError16:
      EncodeElements<2, int16_t>(v, [](int16_t e, PeOperand* d) {
        const ErrorDigits digits = EncodeShiftError16(e);
        d[0] = digits.high;
        d[1] = digits.low;
      }, out);
      break;
    case OperandKind::kEncoded:
      EncodeElements<1, PeOperand>(v, [](const PeOperand& op, PeOperand* d) { d[0] = op; }, out);
      break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Folds, in the order the array runs them: column folds outer, row folds inner (as
// SCALE-Sim), the digit passes of a tile back to back. A fold computes the outputs
// [m0, m1) x [n0, n1) over the reduction rows [k0, k1):
//   OS: m-range of R rows, all of k;  WS: all of m, k-range of R rows.

struct FoldTile {
  int64_t m0, m1, k0, k1, n0, n1;
};

template <typename Visit>
void ForEachFold(Dataflow dataflow, const ArrayShape& array, const GemmShape& s, Visit visit) {
  const bool os = dataflow == Dataflow::kOutputStationary;
  const int64_t spatial_rows = os ? s.m : s.k;
  for (int64_t n0 = 0; n0 < s.n; n0 += array.cols) {
    const int64_t n1 = std::min(s.n, n0 + array.cols);
    for (int64_t r0 = 0; r0 < spatial_rows; r0 += array.rows) {
      const int64_t r1 = std::min(spatial_rows, r0 + array.rows);
      visit(os ? FoldTile{r0, r1, 0, s.k, n0, n1} : FoldTile{0, s.m, r0, r1, n0, n1});
    }
  }
}

// ---------------------------------------------------------------------------------------
// Checked path: the hardware's order of additions with every 48-bit sum range-checked.
// Used when the operands' magnitudes do not prove the whole GEMM within range.

void RunFoldChecked(const FoldTile& f, const PassOperands& a, const PassOperands& b, int pass, int64_t n,
                    int64_t* out) {
  for (int64_t i = f.m0; i < f.m1; ++i) {
    for (int64_t j = f.n0; j < f.n1; ++j) {
      int64_t sum = 0;  // OS: the PE accumulator; WS: the partial sum moving down column j
      for (int64_t k = f.k0; k < f.k1; ++k) sum = AddToAccumulator(sum, PeProduct(a.at(pass, i, k), b.at(pass, k, j)));
      out[i * n + j] = AddToAccumulator(out[i * n + j], sum);  // the output buffer
    }
  }
}

// ---------------------------------------------------------------------------------------
// Fast path: the same PE products, 4 output rows x 32 output columns at a time. Products
// are summed in int32 lanes for at most kProductBlock steps (|product| < 2^24, so a lane
// stays below 128 * 2^24 = 2^31), then widened into int64. With the whole GEMM proved
// within 48 bits (GemmEngine::Run), every order of these exact additions gives the accumulator's
// and the output buffer's values.

constexpr int64_t kRowTile = 4;
constexpr int64_t kColumnTile = 32;
constexpr int64_t kProductBlock = 128;
constexpr int64_t kLaneRows = 512;  // reduction rows of packed filter lanes (192 KiB)

// Filter columns [n0, n0 + 32) for reduction rows [k0, k1) in lane form, [k - k0][lane];
// lanes beyond the fold's columns hold zero operands.
struct FilterLanes {
  std::vector<int32_t> magnitude, negative_mask, shift;  // negative_mask: 0 or -1
  void Pack(const PassOperands& b, int pass, int64_t k0, int64_t k1, int64_t n0, int64_t n1) {
    const size_t size = static_cast<size_t>(kLaneRows * kColumnTile);
    magnitude.resize(size);
    negative_mask.resize(size);
    shift.resize(size);
    for (int64_t k = k0; k < k1; ++k) {
      for (int64_t j = 0; j < kColumnTile; ++j) {
        const PeOperand op = n0 + j < n1 ? b.at(pass, k, n0 + j) : PeOperand{};
        const size_t lane = static_cast<size_t>((k - k0) * kColumnTile + j);
        magnitude[lane] = op.magnitude;
        negative_mask[lane] = op.negative ? -1 : 0;
        shift[lane] = op.shift;
      }
    }
  }
};

// sums[r][j] = sum over k in [k0, k1) of PeProduct(a[r][k], lanes[k][j]) for r < 4, where
// a[r][k] = rows[r][k * k_stride] (the ifmap plane's row r).
template <bool kIfmapShifts, bool kFilterShifts>
inline __attribute__((always_inline)) void ReduceTileBody(const PeOperand* const rows[kRowTile], int64_t k_stride,
                                                          int64_t k0, int64_t k1, const FilterLanes& lanes,
                                                          int64_t sums[kRowTile][kColumnTile]) {
  for (int64_t r = 0; r < kRowTile; ++r)
    for (int64_t j = 0; j < kColumnTile; ++j) sums[r][j] = 0;
  for (int64_t b0 = k0; b0 < k1; b0 += kProductBlock) {
    const int64_t b1 = std::min(k1, b0 + kProductBlock);
    int32_t acc[kRowTile][kColumnTile] = {};
    for (int64_t k = b0; k < b1; ++k) {
      const int32_t* mag_b = lanes.magnitude.data() + (k - k0) * kColumnTile;
      const int32_t* neg_b = lanes.negative_mask.data() + (k - k0) * kColumnTile;
      const int32_t* shift_b = lanes.shift.data() + (k - k0) * kColumnTile;
      for (int64_t r = 0; r < kRowTile; ++r) {
        const PeOperand a = rows[r][k * k_stride];
        const uint32_t mag_a = a.magnitude;
        const int32_t neg_a = a.negative ? -1 : 0;
        const uint32_t shift_a = a.shift;
        for (int64_t j = 0; j < kColumnTile; ++j) {
          uint32_t product = mag_a * static_cast<uint32_t>(mag_b[j]);  // the 8 x 8 multiplier
          if constexpr (kFilterShifts) {
            product <<= shift_a + static_cast<uint32_t>(shift_b[j]);
          } else if constexpr (kIfmapShifts) {
            product <<= shift_a;
          }
          const int32_t negate = neg_a ^ neg_b[j];  // -1 when the signs differ
          acc[r][j] += (static_cast<int32_t>(product) ^ negate) - negate;  // conditional negation
        }
      }
    }
    for (int64_t r = 0; r < kRowTile; ++r)
      for (int64_t j = 0; j < kColumnTile; ++j) sums[r][j] += acc[r][j];
  }
}

using ReduceTileFn = void (*)(const PeOperand* const[kRowTile], int64_t, int64_t, int64_t, const FilterLanes&,
                              int64_t[kRowTile][kColumnTile]);

#define OCTET_REDUCE_TILE(NAME, IFMAP_SHIFTS, FILTER_SHIFTS)                                              \
  __attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) void NAME(                               \
      const PeOperand* const rows[kRowTile], int64_t k_stride, int64_t k0, int64_t k1,                   \
      const FilterLanes& lanes, int64_t sums[kRowTile][kColumnTile]) {                                    \
    ReduceTileBody<IFMAP_SHIFTS, FILTER_SHIFTS>(rows, k_stride, k0, k1, lanes, sums);                     \
  }
OCTET_REDUCE_TILE(ReduceTileUnshifted, false, false)
OCTET_REDUCE_TILE(ReduceTileIfmapShifts, true, false)
OCTET_REDUCE_TILE(ReduceTileAnyShifts, true, true)
#undef OCTET_REDUCE_TILE

ReduceTileFn PickReduceTile(bool ifmap_shifts, bool filter_shifts) {
  if (filter_shifts) return ReduceTileAnyShifts;
  return ifmap_shifts ? ReduceTileIfmapShifts : ReduceTileUnshifted;
}

// The fold's outputs in columns [n0, n0 + 32), added into the output buffer `out`. The
// filter columns are packed kLaneRows reduction rows at a time (an OS fold streams all
// of K, which can be millions of rows in a weight gradient).
void RunFoldFast(const FoldTile& f, const PassOperands& a, const PassOperands& b, int pass, int64_t n0,
                 ReduceTileFn reduce, FilterLanes& lanes, int64_t* out) {
  const int64_t n = b.cols;
  int64_t sums[kRowTile][kColumnTile];
  const int64_t cols = std::min(kColumnTile, f.n1 - n0);
  for (int64_t k0 = f.k0; k0 < f.k1; k0 += kLaneRows) {
    const int64_t k1 = std::min(f.k1, k0 + kLaneRows);
    lanes.Pack(b, pass, k0, k1, n0, f.n1);
    for (int64_t m0 = f.m0; m0 < f.m1; m0 += kRowTile) {
      const int64_t rows_here = std::min(kRowTile, f.m1 - m0);
      const PeOperand* rows[kRowTile];  // rows past the fold's end repeat its last row (unused)
      for (int64_t r = 0; r < kRowTile; ++r) rows[r] = &a.at(pass, m0 + std::min(r, rows_here - 1), 0);
      reduce(rows, a.col_stride, k0, k1, lanes, sums);
      for (int64_t r = 0; r < rows_here; ++r)
        for (int64_t j = 0; j < cols; ++j) out[(m0 + r) * n + n0 + j] += sums[r][j];
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------

namespace {

OperandView MakeView(OperandKind kind, const void* data, int64_t rows, int64_t cols, MatrixLayout layout) {
  const bool row_major = layout == MatrixLayout::kRowMajor;
  return {kind, data, rows, cols, row_major ? cols : 1, row_major ? 1 : rows};
}

}  // namespace

OperandView WeightMatrix(const int8_t* data, int64_t rows, int64_t cols, MatrixLayout layout) {
  return MakeView(OperandKind::kWeight, data, rows, cols, layout);
}
OperandView ActivationMatrix(const uint8_t* data, int64_t rows, int64_t cols, MatrixLayout layout) {
  return MakeView(OperandKind::kActivation, data, rows, cols, layout);
}
OperandView FlagErrorMatrix(const uint16_t* data, int64_t rows, int64_t cols, MatrixLayout layout) {
  return MakeView(OperandKind::kFlagError, data, rows, cols, layout);
}
OperandView ShiftErrorMatrix(const int16_t* data, int bits, int64_t rows, int64_t cols, MatrixLayout layout) {
  if (bits != 8 && bits != 16) Fail("SQ error operand of {} bits: 8 or 16 expected", bits);
  return MakeView(bits == 8 ? OperandKind::kShiftError8 : OperandKind::kShiftError16, data, rows, cols, layout);
}
OperandView EncodedMatrix(const PeOperand* data, int64_t rows, int64_t cols, MatrixLayout layout) {
  return MakeView(OperandKind::kEncoded, data, rows, cols, layout);
}

GemmEngine::GemmEngine(ArrayShape array, Dataflow dataflow) : array_(array), dataflow_(dataflow) {
  if (array.rows < 1 || array.cols < 1) Fail("array of {} x {} PEs: both sizes must be at least 1", array.rows, array.cols);
}

GemmRun GemmEngine::Count(const GemmShape& shape, int passes) const {
  const ArrayTiming timing = ComputeArrayTiming(array_, dataflow_, shape, passes);
  GemmRun run;
  run.shape = shape;
  run.passes = passes;
  run.folds = timing.folds;
  // Each fold ends with its last output (FoldLastCycle) and the next fold starts on the
  // following cycle; every fold of a GEMM streams the same T, so all folds last as long.
  run.cycles = run.folds * (FoldLastCycle(dataflow_, array_, MapGemm(dataflow_, shape).temporal) + 1);
  run.macs = timing.macs;
  run.utilisation = static_cast<double>(run.macs) / (static_cast<double>(run.cycles) * array_.rows * array_.cols);
  run.mapping_efficiency = timing.mapping_efficiency;
  return run;
}

GemmRun GemmEngine::Run(const OperandView& ifmap, const OperandView& filter) const {
  if (ifmap.cols != filter.rows)
    Fail("GEMM operands disagree: ifmap {} x {}, filter {} x {}", ifmap.rows, ifmap.cols, filter.rows, filter.cols);
  if (OperandPasses(ifmap.kind) > 1 && OperandPasses(filter.kind) > 1)
    Fail("GEMM of two 16-bit SQ operands: the array takes one two-digit operand at most");
  const GemmShape s{ifmap.rows, filter.cols, ifmap.cols};
  const PassOperands a = Encode(ifmap);
  const PassOperands b = Encode(filter);
  if (a.max_shift + b.max_shift > kMaxProductShift)
    Fail("GEMM of {} and {} operands shifts products by {}: the PE shifter takes {} at most", OperandKindName(ifmap.kind),
         OperandKindName(filter.kind), a.max_shift + b.max_shift, kMaxProductShift);
  const int passes = std::max(a.pass_count, b.pass_count);
  GemmRun run = Count(s, passes);
  run.output.assign(static_cast<size_t>(s.m * s.n), 0);
  int64_t* out = run.output.data();

  // Every partial sum, of a PE, a column or the output buffer, is at most
  // K * max|a| * max|b| in magnitude (pe_operand.h): within 48 bits, no check is needed.
  const __int128 bound = static_cast<__int128>(s.k) * a.max_magnitude * b.max_magnitude;
  if (bound > kAccumulatorMax) {
    ForEachFold(dataflow_, array_, s, [&](const FoldTile& f) {
      for (int p = 0; p < passes; ++p) RunFoldChecked(f, a, b, p, s.n, out);
    });
    return run;
  }

  const ReduceTileFn reduce = PickReduceTile(a.max_shift > 0, b.max_shift > 0);
  FilterLanes lanes;
  ForEachFold(dataflow_, array_, s, [&](const FoldTile& f) {
    for (int p = 0; p < passes; ++p) {
      for (int64_t n0 = f.n0; n0 < f.n1; n0 += kColumnTile)
        RunFoldFast(f, a, b, p, n0, reduce, lanes, out);
    }
  });
  return run;
}

}  // namespace octet::model
