#include "model/stats/step_stats.h"

#include "golden/core/error.h"

namespace octet::model {

const char* PhaseName(Phase phase) {
  static constexpr const char* kNames[kPhaseCount] = {"forward", "bn", "quantize", "error", "weight_grad", "update"};
  return kNames[static_cast<int>(phase)];
}

const char* BufferName(BufferId id) {
  static constexpr const char* kNames[kBufferCount] = {"act", "weight", "error", "output"};
  return kNames[static_cast<int>(id)];
}

const char* UnitName(UnitId id) {
  static constexpr const char* kNames[kUnitCount] = {"max_abs", "bn", "act", "e1", "e2", "cq", "update"};
  return kNames[static_cast<int>(id)];
}

Counters& Counters::operator+=(const Counters& o) {
  cycles += o.cycles;
  stall_cycles += o.stall_cycles;
  macs += o.macs;
  pe_macs += o.pe_macs;
  flag_macs += o.flag_macs;
  array_cycles += o.array_cycles;
  for (int b = 0; b < kBufferCount; ++b) {
    buffer_read_bits[b] += o.buffer_read_bits[b];
    buffer_write_bits[b] += o.buffer_write_bits[b];
  }
  dram_read_bytes += o.dram_read_bytes;
  dram_write_bytes += o.dram_write_bytes;
  for (int u = 0; u < kUnitCount; ++u) unit_elements[u] += o.unit_elements[u];
  return *this;
}

Counters LayerStats::Total() const {
  Counters total;
  for (const Counters& c : phases) total += c;
  return total;
}

void StepStats::Close(int64_t now) {
  if (layer_ >= 0) current().cycles += now - opened_at_;
  opened_at_ = now;
}

void StepStats::Open(const std::string& layer, Phase phase, int64_t now) {
  Close(now);
  if (layer_ < 0 || layers_[layer_].name != layer) {
    layer_ = -1;
    for (size_t i = 0; i < layers_.size(); ++i) {
      if (layers_[i].name == layer) layer_ = static_cast<int>(i);
    }
    if (layer_ < 0) {
      layers_.push_back(LayerStats{layer, {}});
      layer_ = static_cast<int>(layers_.size()) - 1;
    }
  }
  phase_ = phase;
}

Counters& StepStats::current() {
  if (layer_ < 0) Fail("model: a unit ran before the controller opened a layer");
  return layers_[layer_].phases[static_cast<int>(phase_)];
}

Counters StepStats::Total() const {
  Counters total;
  for (const LayerStats& l : layers_) total += l.Total();
  return total;
}

}  // namespace octet::model
