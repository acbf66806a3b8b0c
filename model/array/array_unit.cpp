#include "model/array/array_unit.h"

#include <algorithm>
#include <vector>

#include "golden/core/error.h"

namespace octet::model {

namespace {
int64_t Bytes(int64_t bits) { return (bits + 7) / 8; }

// DRAM -> buffer bits of an operand tile: a lowered operand (stored_elements set) whose
// stored tensor fits the buffer half is fetched whole with the first fold and lowered on
// chip; otherwise every fold fetches its tile.
int64_t Fill(const Stream& s, int64_t tile_bits, int64_t half_bits, bool first_fold) {
  if (s.stored_elements == 0 || s.stored_bits() > half_bits) return tile_bits;
  return first_fold ? s.stored_bits() : 0;
}

// Buffer -> DRAM bits of a result tile: a result stored differently (col2im) is written
// whole after the last fold.
int64_t Store(const Stream& s, int64_t tile_bits, bool last_fold) {
  if (s.stored_elements == 0) return tile_bits;
  return last_fold ? s.stored_bits() : 0;
}
}  // namespace

// The DRAM and buffer traffic of one fold, in bits.
struct ArrayUnit::FoldTraffic {
  int64_t dram_load = 0;    // operands (and spilled partial sums) read before the fold
  int64_t dram_store = 0;   // results (and spilled partial sums) written after it
  int64_t ifmap_read = 0, filter_read = 0;       // array reads from the operand buffers
  int64_t ifmap_fill = 0, filter_fill = 0;       // DRAM -> operand buffers
  int64_t psum_read = 0, psum_write = 0;         // output buffer accesses
};

ArrayUnit::ArrayUnit(sc_core::sc_module_name name, StepStats& stats, Residency& residency)
    : sc_module(name), stats_(stats), residency_(residency) {}

void ArrayUnit::Configure(ArrayShape array, Dataflow dataflow, const std::string& backend) {
  array_ = array;
  dataflow_ = dataflow;
  backend_ = MakeGemmBackend(backend, array, dataflow);
}

// Fold order: column folds outermost, then row folds, then digit passes (docs/architecture.md,
// "Tiling and DRAM"). WS: a fold holds a K-slice x N-slice filter tile and streams all M
// ifmap rows; partial sums of the K-slices add up in the output buffer. OS: a fold owns an
// M-slice x N-slice of outputs and streams the whole reduction K.
ArrayUnit::FoldTraffic ArrayUnit::FoldLoads(const GemmJob& j, int64_t row, int64_t col, int64_t pass) const {
  const ArrayMapping map = MapGemm(dataflow_, j.shape);
  const int64_t sr = std::min(array_.rows, map.spatial_rows - row * array_.rows);
  const int64_t sc = std::min(array_.cols, map.spatial_cols - col * array_.cols);
  const int64_t t = map.temporal;
  const int ifmap_bits = j.ifmap.bits / j.passes;  // one digit per pass
  const int64_t ifmap_half = buffers[static_cast<int>(j.ifmap.buffer)]->HalfCapacityBits();
  const int64_t filter_half = buffers[static_cast<int>(j.filter.buffer)]->HalfCapacityBits();
  const int64_t out_half = buffers[static_cast<int>(BufferId::kOutput)]->HalfCapacityBits();
  const bool ifmap_resident = residency_.IsResident(j.ifmap);
  const bool filter_resident = residency_.IsResident(j.filter);
  const bool ifmap_fits = j.ifmap.stored_bits() <= ifmap_half;
  const bool first_pass = pass == 0, last_pass = pass == j.passes - 1;
  const int64_t row_folds = (map.spatial_rows + array_.rows - 1) / array_.rows;
  const bool first_fold = row == 0 && col == 0 && first_pass;
  const bool last_fold = row == row_folds - 1 && col == (map.spatial_cols + array_.cols - 1) / array_.cols - 1 && last_pass;
  FoldTraffic f;
  if (dataflow_ == Dataflow::kWeightStationary) {
    // Filter tile sr x sc (K x N), preloaded every fold; loaded from DRAM once.
    f.filter_read = sr * sc * j.filter.bits;
    if (first_pass && !filter_resident) f.filter_fill = Fill(j.filter, f.filter_read, filter_half, first_fold);
    // Ifmap slice t x sr (M x K-slice), one digit per pass; from DRAM unless the whole
    // ifmap stays on chip after the first column fold.
    f.ifmap_read = t * sr * ifmap_bits;
    if (!ifmap_resident && !(ifmap_fits && col > 0)) f.ifmap_fill = Fill(j.ifmap, f.ifmap_read, ifmap_half, first_fold);
    // Partial sums t x sc at accumulator width; spilled when they do not fit.
    const int64_t psum = t * sc * kAccumulatorBits;
    const bool first = row == 0 && first_pass, last = row == row_folds - 1 && last_pass;
    f.psum_write = psum;
    if (!first) f.psum_read = psum;
    const bool spill = t * array_.cols * kAccumulatorBits > out_half;
    if (spill && !first) f.dram_load += psum;
    if (spill && !last) f.dram_store += psum;
    if (last) f.dram_store += Store(j.output, t * sc * j.output.bits, last_fold);
  } else {
    // Ifmap tile sr x t (M-slice x K), reused across column folds when the whole ifmap fits.
    f.ifmap_read = sr * t * ifmap_bits;
    if (!ifmap_resident && !(ifmap_fits && col > 0)) f.ifmap_fill = Fill(j.ifmap, f.ifmap_read, ifmap_half, first_fold);
    // Filter tile t x sc (K x N-slice), reused across row folds when it fits its half.
    f.filter_read = t * sc * j.filter.bits;
    const bool tile_fits = t * array_.cols * j.filter.bits <= filter_half;
    if (!filter_resident && (!tile_fits || (row == 0 && first_pass)))
      f.filter_fill = Fill(j.filter, f.filter_read, filter_half, first_fold);
    // Outputs stay in the PEs across digit passes and drain once.
    if (last_pass) {
      f.psum_write = sr * sc * kAccumulatorBits;
      f.dram_store += Store(j.output, sr * sc * j.output.bits, last_fold);
    }
  }
  f.dram_load += f.ifmap_fill + f.filter_fill;
  return f;
}

GemmRun ArrayUnit::Run(const GemmJob& j) {
  GemmRun run = j.ifmap_view ? backend_->Run(*j.ifmap_view, *j.filter_view)
                             : GemmEngine(array_, dataflow_).Count(j.shape, j.passes);
  if (run.passes != j.passes) Fail("array: the job declares {} passes, the operands need {}", j.passes, run.passes);

  const ArrayMapping map = MapGemm(dataflow_, j.shape);
  const int64_t row_folds = (map.spatial_rows + array_.rows - 1) / array_.rows;
  const int64_t col_folds = (map.spatial_cols + array_.cols - 1) / array_.cols;
  const int64_t fold_cycles = FoldCycles(dataflow_, array_, map.temporal);
  const int64_t fold_count = row_folds * col_folds * j.passes;
  if (run.cycles != fold_count * fold_cycles)
    Fail("array: the backend ran {} folds in {} cycles, the closed form needs {}", fold_count, run.cycles,
         fold_count * fold_cycles);
  const int64_t start = NowCycles();
  Counters& c = stats_.current();
  BufferIf& ifmap_buffer = *buffers[static_cast<int>(j.ifmap.buffer)].operator->();
  BufferIf& filter_buffer = *buffers[static_cast<int>(j.filter.buffer)].operator->();
  BufferIf& out_buffer = *buffers[static_cast<int>(BufferId::kOutput)].operator->();

  // Fold f may start when fold f-1 has finished and its operands (loaded while fold f-1
  // computed) have arrived.
  std::vector<FoldTraffic> folds;
  folds.reserve(static_cast<size_t>(row_folds * col_folds * j.passes));
  for (int64_t col = 0; col < col_folds; ++col)
    for (int64_t row = 0; row < row_folds; ++row)
      for (int64_t pass = 0; pass < j.passes; ++pass) folds.push_back(FoldLoads(j, row, col, pass));
  int64_t next_ready = dram->Transfer(Bytes(folds.front().dram_load), DramDirection::kRead);
  int64_t stores_done = start;
  for (size_t f = 0; f < folds.size(); ++f) {
    const FoldTraffic& t = folds[f];
    const int64_t before = NowCycles();
    WaitUntilCycle(next_ready);
    c.stall_cycles += NowCycles() - before;
    if (f + 1 < folds.size()) next_ready = dram->Transfer(Bytes(folds[f + 1].dram_load), DramDirection::kRead);
    ifmap_buffer.Write(t.ifmap_fill);
    filter_buffer.Write(t.filter_fill);
    ifmap_buffer.Read(t.ifmap_read);
    filter_buffer.Read(t.filter_read);
    out_buffer.Read(t.psum_read);
    out_buffer.Write(t.psum_write);
    WaitCycles(fold_cycles);
    c.array_cycles += fold_cycles;
    if (t.dram_store > 0) {
      out_buffer.Read(t.dram_store);
      stores_done = dram->Transfer(Bytes(t.dram_store), DramDirection::kWrite);
    }
  }
  // The result is complete when its last store has reached DRAM.
  const int64_t before = NowCycles();
  WaitUntilCycle(stores_done);
  c.stall_cycles += NowCycles() - before;
  c.macs += run.macs;
  c.pe_macs += run.macs * j.passes;
  if (j.flag_operand) c.flag_macs += run.macs * j.passes;
  residency_.Place(j.ifmap, ifmap_buffer.HalfCapacityBits());
  residency_.Place(j.filter, filter_buffer.HalfCapacityBits());
  residency_.Place(j.output, out_buffer.HalfCapacityBits());
  run.cycles = NowCycles() - start;
  return run;
}

}  // namespace octet::model
