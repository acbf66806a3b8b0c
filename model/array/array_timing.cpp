#include "model/array/array_timing.h"

#include "golden/core/error.h"

namespace octet::model {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

void CheckArray(const ArrayShape& array) {
  if (array.rows < 1 || array.cols < 1) Fail("array of {} x {} PEs: both sizes must be at least 1", array.rows, array.cols);
}

}  // namespace

ArrayMapping MapGemm(Dataflow dataflow, const GemmShape& shape) {
  if (shape.m < 1 || shape.n < 1 || shape.k < 1) Fail("GEMM {} x {} x {}: every size must be at least 1", shape.m, shape.n, shape.k);
  if (dataflow == Dataflow::kOutputStationary) return {shape.m, shape.n, shape.k};
  return {shape.k, shape.n, shape.m};
}

int64_t FoldCycles(Dataflow dataflow, const ArrayShape& array, int64_t temporal) {
  CheckArray(array);
  if (temporal < 1) Fail("a fold streams {} steps: at least 1 is needed", temporal);
  const int64_t r = array.rows, c = array.cols, t = temporal;
  return dataflow == Dataflow::kOutputStationary ? r + c + t - 2 : 2 * r + c + t - 2;
}

ArrayTiming ComputeArrayTiming(const ArrayShape& array, Dataflow dataflow, const GemmShape& shape, int passes) {
  CheckArray(array);
  if (passes != 1 && passes != 2) Fail("{} passes per fold: 1 or 2 expected", passes);
  const ArrayMapping map = MapGemm(dataflow, shape);
  ArrayTiming t;
  t.row_folds = CeilDiv(map.spatial_rows, array.rows);
  t.col_folds = CeilDiv(map.spatial_cols, array.cols);
  t.passes = passes;
  t.folds = t.row_folds * t.col_folds * passes;
  t.cycles_per_fold = FoldCycles(dataflow, array, map.temporal);
  t.total_cycles = t.folds * t.cycles_per_fold;
  t.macs = shape.macs();
  const double pes = static_cast<double>(array.rows * array.cols);
  t.utilisation = static_cast<double>(t.macs) / (static_cast<double>(t.total_cycles) * pes);
  t.mapping_efficiency = static_cast<double>(map.spatial_rows * map.spatial_cols) /
                         (static_cast<double>(t.row_folds * t.col_folds) * pes);
  return t;
}

int64_t OutputValidCycle(Dataflow dataflow, const ArrayShape& array, int64_t temporal, int64_t row, int64_t col) {
  return dataflow == Dataflow::kOutputStationary ? OsOutputValidCycle(temporal, row, col)
                                                 : WsOutputValidCycle(array, row, col);
}

int64_t FoldLastCycle(Dataflow dataflow, const ArrayShape& array, int64_t temporal) {
  // Valid cycles grow with both indices, so the last output is the bottom-right one.
  const int64_t last_row = dataflow == Dataflow::kOutputStationary ? array.rows - 1 : temporal - 1;
  return OutputValidCycle(dataflow, array, temporal, last_row, array.cols - 1);
}

}  // namespace octet::model
