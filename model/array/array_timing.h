// Compute-bound timing of the systolic array: SCALE-Sim's closed form per fold and in
// total, and the per-output schedule that produces it (when each operand reaches each PE
// and when each output becomes valid). The cycle-stepped SystolicArray follows this
// schedule register by register; GemmEngine counts cycles with it; the closed form is
// what SCALE-Sim reports (its "Total Cycles" is our total minus one: the index of the
// last cycle). docs/architecture.md, "Systolic array".
#pragma once

#include <cstdint>

#include "model/core/gemm_shape.h"

namespace octet::model {

// R rows x C columns of PEs.
struct ArrayShape {
  int64_t rows = 32;  // R
  int64_t cols = 32;  // C
};

// SCALE-Sim's mapping: spatial_rows x spatial_cols of work are laid over the PEs in
// R x C tiles (folds); `temporal` steps stream through each fold.
//   OS: Sr = M, Sc = N, T = K (each PE owns one output).
//   WS: Sr = K, Sc = N, T = M (each PE holds one filter element).
struct ArrayMapping {
  int64_t spatial_rows = 0;  // Sr
  int64_t spatial_cols = 0;  // Sc
  int64_t temporal = 0;      // T
};
ArrayMapping MapGemm(Dataflow dataflow, const GemmShape& shape);

// Cycles of one fold, closed form: OS R + C + T - 2; WS 2R + C + T - 2 (R cycles of
// filter preload). A partial fold (tile smaller than the array) takes the same time: the
// unused PEs compute on zero padding.
int64_t FoldCycles(Dataflow dataflow, const ArrayShape& array, int64_t temporal);

struct ArrayTiming {
  int64_t row_folds = 0;        // ceil(Sr / R)
  int64_t col_folds = 0;        // ceil(Sc / C)
  int64_t passes = 1;           // 2 when an operand is a 16-bit SQ error (two digits)
  int64_t folds = 0;            // row_folds * col_folds * passes, run back to back
  int64_t cycles_per_fold = 0;  // FoldCycles
  int64_t total_cycles = 0;     // folds * cycles_per_fold
  int64_t macs = 0;             // M * N * K (each digit pass is not counted again)
  double utilisation = 0;       // macs / (total_cycles * R * C)
  double mapping_efficiency = 0;  // mean over folds of used PEs / (R * C) = Sr Sc / (row_folds col_folds R C)
};
// Throws octet::Error for non-positive sizes or passes outside {1, 2}.
ArrayTiming ComputeArrayTiming(const ArrayShape& array, Dataflow dataflow, const GemmShape& shape, int passes = 1);

// ---------------------------------------------------------------------------------------
// Per-output schedule of one fold; cycles count from the fold's first cycle (0).
//
// OS: ifmap row i enters the left edge of array row i skewed by i cycles, filter column j
// enters the top of array column j skewed by j; both move one PE per cycle, so PE(i,j)
// receives a[i][k] and b[k][j] together at cycle k + i + j and holds output (i,j) complete
// after its last product. Outputs drain through shadow registers during the next fold.
inline int64_t OsOperandCycle(int64_t i, int64_t j, int64_t k) { return k + i + j; }
inline int64_t OsOutputValidCycle(int64_t temporal, int64_t i, int64_t j) {
  return OsOperandCycle(i, j, temporal - 1);
}

// WS: cycles 0..R-1 preload the filter tile, one array row per cycle: filter row R-1-c
// enters the top at cycle c and every loaded row shifts down one row per cycle, so after
// cycle R-1 PE(k,j) holds b[k][j]. Then a[m][k] enters PE(k,0) at cycle R + m + k and moves
// right one column per cycle; the partial sum of output (m,j) moves down column j, one row
// per cycle, gaining one product per PE, and leaves PE(R-1,j) complete.
inline int64_t WsPreloadCycles(const ArrayShape& array) { return array.rows; }
inline int64_t WsIfmapCycle(const ArrayShape& array, int64_t m, int64_t k, int64_t j) {
  return WsPreloadCycles(array) + m + k + j;
}
inline int64_t WsOutputValidCycle(const ArrayShape& array, int64_t m, int64_t j) {
  return WsIfmapCycle(array, m, array.rows - 1, j);
}

// Valid cycle of output (row, col) of a fold's output tile: OS (i, j) with i < R, j < C;
// WS (m, j) with m < T, j < C.
int64_t OutputValidCycle(Dataflow dataflow, const ArrayShape& array, int64_t temporal, int64_t row, int64_t col);
// The fold's last cycle: the valid cycle of its last output over the whole array,
// padding included (OS: output (R-1, C-1), T+R+C-3; WS: output (T-1, C-1), 2R+C+T-3).
int64_t FoldLastCycle(Dataflow dataflow, const ArrayShape& array, int64_t temporal);

}  // namespace octet::model
