// The common part of every vector unit: a streaming engine that processes `throughput`
// elements per cycle, fed from and drained to the on-chip buffers, which are filled from
// and written back to DRAM in the background (double buffering). A pass over n elements
// takes max(ceil(n / throughput), DRAM time of its transfers) cycles; the excess over the
// compute time is counted as stall. A tensor still resident in its buffer half from the
// previous pass is read without DRAM traffic (docs/architecture.md, "Vector units").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <systemc>

#include "model/memory/buffer.h"
#include "model/memory/dram.h"
#include "model/stats/step_stats.h"

namespace octet::model {

// One tensor a pass reads or writes: where it lives on chip and its width in bits.
struct Stream {
  std::string tensor;  // "<layer>/<name>", the key of buffer residency
  BufferId buffer = BufferId::kOutput;
  int64_t elements = 0;
  int bits = 8;
  // Elements as stored in DRAM when they differ from the array's view (0: the same): a
  // conv's x0 is read lowered (im2col) by the activation buffer's address generator but
  // stored once; the error GEMM's rows are added into e4 (col2im) before the write-back.
  int64_t stored_elements = 0;
  int64_t total_bits() const { return elements * bits; }
  int64_t stored_bits() const { return (stored_elements > 0 ? stored_elements : elements) * bits; }
};

struct Pass {
  UnitId unit = UnitId::kBn;
  int64_t elements = 0;  // elements the unit processes
  std::vector<Stream> reads;
  std::vector<Stream> writes;
};

// Which tensor occupies each buffer's working half (per accelerator, shared by the units
// and the array).
class Residency {
 public:
  bool IsResident(const Stream& s) const { return resident_[static_cast<int>(s.buffer)] == s.tensor; }
  void Place(const Stream& s, int64_t half_capacity_bits) {
    resident_[static_cast<int>(s.buffer)] = s.stored_bits() <= half_capacity_bits ? s.tensor : std::string();
  }
  void Clear() {
    for (auto& r : resident_) r.clear();
  }

 private:
  std::string resident_[kBufferCount];
};

class VectorUnit : public sc_core::sc_module {
 public:
  sc_core::sc_port<DramIf> dram;
  sc_core::sc_port<BufferIf> buffers[kBufferCount];

  VectorUnit(sc_core::sc_module_name name, StepStats& stats, Residency& residency)
      : sc_module(name), stats_(stats), residency_(residency) {}

  // Throughputs in elements per cycle, snapshotted at the start of each job.
  void Configure(int64_t throughput, int64_t max_abs_throughput) {
    throughput_ = throughput;
    max_abs_throughput_ = max_abs_throughput;
  }

 protected:
  // Runs the timing and the counting of one pass (the caller computes the values).
  void Run(const Pass& pass);
  // The max|x| pass that precedes a shift quantizer: reads `input`, no output.
  void RunMaxAbs(const Stream& input);

  StepStats& stats_;
  Residency& residency_;
  int64_t throughput_ = 1;
  int64_t max_abs_throughput_ = 1;

 private:
  void RunAt(const Pass& pass, int64_t throughput);
};

}  // namespace octet::model
