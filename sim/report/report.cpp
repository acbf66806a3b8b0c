#include "sim/report/report.h"

namespace octet::report {

Metrics ComputeMetrics(const model::Counters& c, const EnergyBreakdown& energy, const model::ArchConfig& config) {
  Metrics m;
  m.seconds = static_cast<double>(c.cycles) / (config.clock_mhz * 1e6);
  m.utilisation = Utilisation(c, config);
  m.energy_pj = energy.Total();
  if (m.seconds > 0) m.power_w = m.energy_pj * 1e-12 / m.seconds;
  if (c.macs > 0) m.pj_per_mac = m.energy_pj / static_cast<double>(c.macs);
  // Operations per pJ are tera-operations per joule: TOPS/W.
  if (m.energy_pj > 0) m.tops_per_w = 2.0 * static_cast<double>(c.macs) / m.energy_pj;
  return m;
}

std::vector<double> Report::EnergyPercent() const {
  std::vector<double> percent(kEnergyComponentCount, 0.0);
  const double total = step.energy.Total();
  if (total > 0)
    for (int i = 0; i < kEnergyComponentCount; ++i) percent[i] = 100.0 * step.energy.pj[i] / total;
  return percent;
}

Report BuildReport(const model::StepResult& result, const RunInfo& info, const TechTable& tech,
                   const std::optional<AreaBreakdown>& area) {
  const EnergyModel model(tech, result.config, area ? area->TotalMm2() : 0);
  Report r;
  r.info = info;
  r.config = result.config;
  r.tech_name = tech.name;
  r.tech_origin = tech.origin;
  r.actions = model.actions();
  r.leakage_modelled = model.models_leakage();
  r.area = area;
  auto row = [&](const std::string& layer, const std::string& phase, const model::Counters& c, const EnergyBreakdown& e) {
    return ReportRow{layer, phase, c, e, ComputeMetrics(c, e, result.config)};
  };
  model::Counters step_counters;
  EnergyBreakdown step_energy;
  for (const model::LayerStats& l : result.layers) {
    LayerReport lr;
    lr.name = l.name;
    EnergyBreakdown layer_energy;
    for (int p = 0; p < model::kPhaseCount; ++p) {
      const auto phase = static_cast<model::Phase>(p);
      const EnergyBreakdown e = model.Energy(l.phases[p], phase);
      layer_energy += e;
      lr.phases.push_back(row(l.name, model::PhaseName(phase), l.phases[p], e));
    }
    lr.total = row(l.name, "total", l.Total(), layer_energy);
    step_counters += lr.total.counters;
    step_energy += layer_energy;
    r.layers.push_back(std::move(lr));
  }
  r.step = row("step", "total", step_counters, step_energy);
  return r;
}

}  // namespace octet::report
