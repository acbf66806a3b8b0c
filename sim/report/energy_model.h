// Energy of a training step: the action counts of the SystemC model (model::Counters)
// times the energy per action of a technology table (docs/energy-area.md). Works on one
// (layer, phase) bucket at a time, so a sweep can price a design point without building a
// report.
#pragma once

#include <array>
#include <string>

#include "model/config/arch_config.h"
#include "model/stats/step_stats.h"
#include "sim/report/tech_table.h"

namespace octet::report {

// Where the energy goes, in report order.
enum class EnergyComponent : int {
  kMac,           // PE multiply-accumulates on 8-bit operands (both digit passes of SQ16)
  kFlagMac,       // PE multiply-accumulates on 9-bit Flag QE2 words
  kMaxAbs,        // vector units, per element processed
  kBn,
  kAct,
  kE1,
  kE2,
  kCq,
  kUpdate,        // Q_W, Q of the BN gradients, momentum and update
  kActBuffer,     // SRAM reads and writes, per bit, by buffer size
  kWeightBuffer,
  kErrorBuffer,
  kOutputBuffer,
  kDram,          // bytes read and written
  kLeakage,       // leakage power x time; zero when the table has no leakage figure
  kCount
};
inline constexpr int kEnergyComponentCount = static_cast<int>(EnergyComponent::kCount);
// "mac", "flag_mac", "max_abs", ..., "act_buffer", ..., "dram", "leakage"
const char* EnergyComponentName(EnergyComponent c);
// The group a component belongs to in summaries: "array", "vector units", "buffers",
// "DRAM", "leakage".
const char* EnergyComponentGroup(EnergyComponent c);

struct EnergyBreakdown {
  std::array<double, kEnergyComponentCount> pj{};

  double Total() const;
  double& operator[](EnergyComponent c) { return pj[static_cast<int>(c)]; }
  double operator[](EnergyComponent c) const { return pj[static_cast<int>(c)]; }
  EnergyBreakdown& operator+=(const EnergyBreakdown& other);
};

// The energy of one action of each kind for one architecture: what the counters are
// multiplied by. Buffers are priced by the size of the half an access goes to.
struct ActionEnergies {
  double mac_pj = 0, flag_mac_pj = 0;
  std::array<double, model::kUnitCount> unit_element_pj{};  // per element, by model::UnitId
  double update_quantize_pj = 0;  // the update unit's elements outside the update phase
  std::array<double, model::kBufferCount> buffer_read_pj_per_bit{};
  std::array<double, model::kBufferCount> buffer_write_pj_per_bit{};
  double dram_pj_per_byte = 0;
  double leakage_w = 0;  // 0 when not modelled or without an area
};

class EnergyModel {
 public:
  // `area_mm2` prices leakage (when the table has a leakage figure); 0 leaves it out.
  EnergyModel(const TechTable& tech, const model::ArchConfig& config, double area_mm2 = 0);

  // The energy of one (layer, phase) bucket; `phase` decides what the update unit's
  // elements cost (momentum and update in kUpdate, quantizing elsewhere).
  EnergyBreakdown Energy(const model::Counters& counters, model::Phase phase) const;
  // The energy of a whole layer or step: the sum over its phases.
  EnergyBreakdown Energy(const model::LayerStats& layer) const;

  const ActionEnergies& actions() const { return actions_; }
  bool models_leakage() const { return models_leakage_; }

 private:
  ActionEnergies actions_;
  double clock_hz_ = 0;
  bool models_leakage_ = false;
};

}  // namespace octet::report
