#include "model/memory/dram.h"

#include <algorithm>
#include <cmath>

namespace octet::model {

namespace {
const sc_core::sc_time kCycle(1, sc_core::SC_NS);
}

int64_t NowCycles() { return static_cast<int64_t>(sc_core::sc_time_stamp() / kCycle); }

void WaitUntilCycle(int64_t cycle) {
  const int64_t now = NowCycles();
  if (cycle > now) sc_core::wait(kCycle * static_cast<double>(cycle - now));
}

void WaitCycles(int64_t cycles) {
  if (cycles > 0) sc_core::wait(kCycle * static_cast<double>(cycles));
}

Dram::Dram(sc_core::sc_module_name name, StepStats& stats) : sc_module(name), stats_(stats) {}

void Dram::Configure(double bytes_per_cycle, int64_t latency_cycles) {
  bytes_per_cycle_ = bytes_per_cycle;
  latency_ = latency_cycles;
}

int64_t Dram::Transfer(int64_t bytes, DramDirection direction) {
  if (bytes <= 0) return NowCycles();
  Counters& c = stats_.current();
  (direction == DramDirection::kRead ? c.dram_read_bytes : c.dram_write_bytes) += bytes;
  const int64_t start = std::max(NowCycles(), free_at_);
  const auto busy = static_cast<int64_t>(std::ceil(static_cast<double>(bytes) / bytes_per_cycle_));
  free_at_ = start + busy;
  return free_at_ + latency_;
}

}  // namespace octet::model
