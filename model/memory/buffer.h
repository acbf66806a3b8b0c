// An on-chip SRAM buffer (activation, weight, error or output). Double-buffered: the
// configured capacity is split in two halves, one filled from DRAM while the array or a
// unit works from the other. It counts reads and writes in bits (the error buffer holds
// 9-bit flag words, so traffic is counted in bits, not bytes). SRAM bandwidth is sized
// to the array and never stalls it.
#pragma once

#include <cstdint>

#include <systemc>

#include "model/stats/step_stats.h"

namespace octet::model {

class BufferIf : public virtual sc_core::sc_interface {
 public:
  virtual void Read(int64_t bits) = 0;
  virtual void Write(int64_t bits) = 0;
  // Capacity of one half, in bits: the largest tile that can be resident while the next
  // one is loaded.
  virtual int64_t HalfCapacityBits() const = 0;
};

class Buffer : public sc_core::sc_module, public BufferIf {
 public:
  Buffer(sc_core::sc_module_name name, BufferId id, StepStats& stats);

  void Configure(int64_t capacity_kib) { capacity_bits_ = capacity_kib * 1024 * 8; }
  void Read(int64_t bits) override { stats_.current().buffer_read_bits[static_cast<int>(id_)] += bits; }
  void Write(int64_t bits) override { stats_.current().buffer_write_bits[static_cast<int>(id_)] += bits; }
  int64_t HalfCapacityBits() const override { return capacity_bits_ / 2; }

 private:
  BufferId id_;
  StepStats& stats_;
  int64_t capacity_bits_ = 0;
};

}  // namespace octet::model
