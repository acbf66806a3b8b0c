#include "sim/report/energy_model.h"

namespace octet::report {

using model::BufferId;
using model::UnitId;

const char* EnergyComponentName(EnergyComponent c) {
  static constexpr const char* kNames[kEnergyComponentCount] = {
      "mac",        "flag_mac",      "max_abs",      "bn",           "act",           "e1",   "e2",     "cq",
      "update",     "act_buffer",    "weight_buffer", "error_buffer", "output_buffer", "dram", "leakage"};
  return kNames[static_cast<int>(c)];
}

const char* EnergyComponentGroup(EnergyComponent c) {
  if (c <= EnergyComponent::kFlagMac) return "array";
  if (c <= EnergyComponent::kUpdate) return "vector units";
  if (c <= EnergyComponent::kOutputBuffer) return "buffers";
  if (c == EnergyComponent::kDram) return "DRAM";
  return "leakage";
}

double EnergyBreakdown::Total() const {
  double total = 0;
  for (double x : pj) total += x;
  return total;
}

EnergyBreakdown& EnergyBreakdown::operator+=(const EnergyBreakdown& other) {
  for (int i = 0; i < kEnergyComponentCount; ++i) pj[i] += other.pj[i];
  return *this;
}

EnergyModel::EnergyModel(const TechTable& tech, const model::ArchConfig& config, double area_mm2)
    : clock_hz_(config.clock_mhz * 1e6) {
  ActionEnergies& a = actions_;
  a.mac_pj = tech.ActionPj("mac");
  a.flag_mac_pj = tech.ActionPj("flag_mac");
  // UnitId order: max_abs, bn, act, e1, e2, cq, update (the update phase's recipe).
  const char* unit_actions[model::kUnitCount] = {"max_abs", "bn", "act", "e1", "e2", "cq", "update"};
  for (int u = 0; u < model::kUnitCount; ++u) a.unit_element_pj[u] = tech.ActionPj(unit_actions[u]);
  a.update_quantize_pj = tech.ActionPj("update_quantize");
  // An access goes to one half of a double-buffered buffer: that half is the SRAM priced.
  const int64_t kib[model::kBufferCount] = {config.act_buffer_kib, config.weight_buffer_kib, config.error_buffer_kib,
                                            config.output_buffer_kib};
  for (int b = 0; b < model::kBufferCount; ++b) {
    a.buffer_read_pj_per_bit[b] = tech.SramReadPjPerBit(static_cast<double>(kib[b]) / 2);
    a.buffer_write_pj_per_bit[b] = a.buffer_read_pj_per_bit[b] * tech.sram_write_to_read.value;
  }
  a.dram_pj_per_byte = tech.dram_pj_per_byte.value;
  models_leakage_ = tech.leakage_mw_per_mm2.has_value() && area_mm2 > 0;
  if (models_leakage_) a.leakage_w = tech.leakage_mw_per_mm2->value * 1e-3 * area_mm2;
}

EnergyBreakdown EnergyModel::Energy(const model::Counters& c, model::Phase phase) const {
  const ActionEnergies& a = actions_;
  EnergyBreakdown e;
  e[EnergyComponent::kMac] = static_cast<double>(c.pe_macs - c.flag_macs) * a.mac_pj;
  e[EnergyComponent::kFlagMac] = static_cast<double>(c.flag_macs) * a.flag_mac_pj;
  for (int u = 0; u < model::kUnitCount; ++u) {
    double pj = a.unit_element_pj[u];
    if (u == static_cast<int>(UnitId::kUpdate) && phase != model::Phase::kUpdate) pj = a.update_quantize_pj;
    e.pj[static_cast<int>(EnergyComponent::kMaxAbs) + u] = static_cast<double>(c.unit_elements[u]) * pj;
  }
  for (int b = 0; b < model::kBufferCount; ++b)
    e.pj[static_cast<int>(EnergyComponent::kActBuffer) + b] =
        static_cast<double>(c.buffer_read_bits[b]) * a.buffer_read_pj_per_bit[b] +
        static_cast<double>(c.buffer_write_bits[b]) * a.buffer_write_pj_per_bit[b];
  e[EnergyComponent::kDram] = static_cast<double>(c.dram_read_bytes + c.dram_write_bytes) * a.dram_pj_per_byte;
  // W x s = 1e12 pJ per joule.
  e[EnergyComponent::kLeakage] = a.leakage_w * static_cast<double>(c.cycles) / clock_hz_ * 1e12;
  return e;
}

EnergyBreakdown EnergyModel::Energy(const model::LayerStats& layer) const {
  EnergyBreakdown total;
  for (int p = 0; p < model::kPhaseCount; ++p) total += Energy(layer.phases[p], static_cast<model::Phase>(p));
  return total;
}

}  // namespace octet::report
