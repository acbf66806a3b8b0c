// The DRAM port: one channel with a bandwidth in bytes per cycle and a fixed latency.
// Requests are served in order; a request occupies the channel for ceil(bytes / bandwidth)
// cycles and completes `latency` cycles after its last byte (the latency is pipelined, so
// back-to-back requests overlap it).
#pragma once

#include <cstdint>

#include <systemc>

#include "model/stats/step_stats.h"

namespace octet::model {

enum class DramDirection { kRead, kWrite };

class DramIf : public virtual sc_core::sc_interface {
 public:
  // Reserves the channel for a transfer issued now and returns the cycle (absolute) at
  // which it completes. The caller waits for it when it needs the data.
  virtual int64_t Transfer(int64_t bytes, DramDirection direction) = 0;
};

class Dram : public sc_core::sc_module, public DramIf {
 public:
  Dram(sc_core::sc_module_name name, StepStats& stats);

  // Snapshot of the configuration, taken at the start of each job.
  void Configure(double bytes_per_cycle, int64_t latency_cycles);
  int64_t Transfer(int64_t bytes, DramDirection direction) override;

 private:
  StepStats& stats_;
  double bytes_per_cycle_ = 1;
  int64_t latency_ = 0;
  int64_t free_at_ = 0;  // first cycle the channel is free
};

// The current simulation time in cycles (the model's clock period is 1 ns of SystemC time;
// the configured clock only converts cycles to seconds in reports).
int64_t NowCycles();
// Waits until absolute cycle `cycle` (no-op if it has passed).
void WaitUntilCycle(int64_t cycle);
void WaitCycles(int64_t cycles);

}  // namespace octet::model
