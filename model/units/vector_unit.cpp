#include "model/units/vector_unit.h"

#include <algorithm>

namespace octet::model {

namespace {
int64_t Bytes(int64_t bits) { return (bits + 7) / 8; }  // DRAM transfers are whole bytes
}  // namespace

void VectorUnit::Run(const Pass& pass) { RunAt(pass, throughput_); }

void VectorUnit::RunMaxAbs(const Stream& input) {
  RunAt(Pass{UnitId::kMaxAbs, input.elements, {input}, {}}, max_abs_throughput_);
}

void VectorUnit::RunAt(const Pass& pass, int64_t throughput) {
  const int64_t start = NowCycles();
  const int64_t compute = (pass.elements + throughput - 1) / throughput;
  int64_t dram_done = start;
  for (const Stream& s : pass.reads) {
    buffers[static_cast<int>(s.buffer)]->Read(s.total_bits());
    if (residency_.IsResident(s)) continue;
    buffers[static_cast<int>(s.buffer)]->Write(s.total_bits());  // filled from DRAM
    dram_done = std::max(dram_done, dram->Transfer(Bytes(s.total_bits()), DramDirection::kRead));
  }
  for (const Stream& s : pass.reads) residency_.Place(s, buffers[static_cast<int>(s.buffer)]->HalfCapacityBits());
  for (const Stream& s : pass.writes) {
    buffers[static_cast<int>(s.buffer)]->Write(s.total_bits());
    buffers[static_cast<int>(s.buffer)]->Read(s.total_bits());  // drained to DRAM
    dram_done = std::max(dram_done, dram->Transfer(Bytes(s.total_bits()), DramDirection::kWrite));
    residency_.Place(s, buffers[static_cast<int>(s.buffer)]->HalfCapacityBits());
  }
  const int64_t end = std::max(start + compute, dram_done);
  Counters& c = stats_.current();
  c.unit_elements[static_cast<int>(pass.unit)] += pass.elements;
  c.stall_cycles += end - (start + compute);
  WaitUntilCycle(end);
}

}  // namespace octet::model
