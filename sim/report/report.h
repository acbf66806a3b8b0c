// The report of a simulated training step (docs/energy-area.md, "Reports"): per layer and
// phase and for the step, the cycles, time at the configured clock, utilisation, MACs,
// energy by component, average power, pJ per MAC and TOPS/W, plus the area by block.
// Built from the model's counters, a technology table and (optionally) the synthesis;
// the writers (report_writers.h, report_html.h) only format it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/accelerator.h"
#include "sim/report/area_model.h"
#include "sim/report/energy_model.h"
#include "sim/report/tech_table.h"
#include "sim/run/step_report.h"

namespace octet::report {

// Time, power and efficiency of one bucket of counters. A figure whose denominator is 0
// (no cycles, no MACs, no energy) is 0; the writers print it as "-".
struct Metrics {
  double seconds = 0;      // cycles / clock
  double utilisation = 0;  // MACs / (cycles x R x C)
  double energy_pj = 0;
  double power_w = 0;      // energy / time
  double pj_per_mac = 0;   // energy / useful MACs
  double tops_per_w = 0;   // 2 x MACs / energy in pJ (an operation is a multiply or an add)
};
Metrics ComputeMetrics(const model::Counters& counters, const EnergyBreakdown& energy, const model::ArchConfig& config);

struct ReportRow {
  std::string layer;  // "step" for the step's total
  std::string phase;  // a phase name, or "total"
  model::Counters counters;
  EnergyBreakdown energy;
  Metrics metrics;
};

struct LayerReport {
  std::string name;
  std::vector<ReportRow> phases;  // model::kPhaseCount rows, in phase order
  ReportRow total;
};

struct Report {
  RunInfo info;
  model::ArchConfig config;
  std::string tech_name, tech_origin;
  ActionEnergies actions;
  bool leakage_modelled = false;
  std::vector<LayerReport> layers;
  ReportRow step;  // the step's total; its time is the step's cycles
  std::optional<AreaBreakdown> area;

  // The step's energy by component as percentages of its total (0 when it is 0).
  std::vector<double> EnergyPercent() const;
};

// Prices `result` with `tech`; `area` (if given) is reported and prices leakage.
Report BuildReport(const model::StepResult& result, const RunInfo& info, const TechTable& tech,
                   const std::optional<AreaBreakdown>& area);

}  // namespace octet::report
