// The precision comparison in the manner of the WAGEUBN paper's Fig. 10
// (docs/energy-area.md, "Precision comparison (Fig. 10)"): the same array and buffers with
// INT8, FP8, INT16, FP16 and FP32 operands next to Octet itself. Per precision: the MAC PE
// synthesised by Yosys (rtl/precision/octet_mac_pe.sv at that precision's parameters), its
// energy per MAC from the technology table, and a training step's counters re-priced with
// that MAC and with the operand traffic and buffers scaled to the operand width.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/accelerator.h"
#include "sim/area/area.h"
#include "sim/report/tech_table.h"
#include "sim/run/step_report.h"

namespace octet::report {

// One operand precision of the comparison.
struct Precision {
  std::string name;    // "int8", "fp8", "int16", "fp16", "fp32"
  std::string label;   // "INT8", "FP8 E5M2", ...
  std::string format;  // operands and accumulator, in words
  int op_bits = 8;     // operand width: scales the operand traffic and buffers (op_bits / 8)
  int acc_bits = 32;   // accumulator width: scales the output buffer (acc_bits / 48)
  bool is_float = false;
  int exp_bits = 0, man_bits = 0, acc_exp_bits = 0, acc_man_bits = 0;  // is_float only
  // The MAC's energy as operations of the technology table: {"fmult16", 1}, {"fadd32", 1}.
  std::vector<std::pair<std::string, double>> mac_ops;
};

// int8, fp8, int16, fp16, fp32: by increasing cost.
const std::vector<Precision>& Precisions();

// The synthesis of a precision's PE: octet_mac_pe under the label "octet_mac_pe <name>".
area::ParamBlock MacBlock(const Precision& precision);
// The synthesis options: the configuration's report blocks (array, units), the Octet PE
// and the five MAC PEs.
area::AreaOptions PrecisionAreaOptions(const model::ArchConfig& config, const std::string& source_dir,
                                       const std::string& cache_dir);

// pJ per MAC of `precision` from `tech`; fails naming the table and the operation when
// the table lacks one.
double MacPj(const Precision& precision, const TechTable& tech);
// The recipe as text: "fmult16 + fadd32".
std::string MacRecipe(const Precision& precision);

// The phases whose buffer and DRAM traffic is the array's operands and results (the
// forward, error and weight-gradient GEMMs): scaled with the operand width.
bool IsGemmPhase(model::Phase phase);

// Energy of a step by group, pJ.
struct StepEnergy {
  double compute = 0;  // the array's MACs
  double vector = 0;   // the vector units (Octet's in every row)
  double buffers = 0;
  double dram = 0;
  double Total() const { return compute + vector + buffers + dram; }
};

// Area of the accelerator by group, mm^2.
struct StepArea {
  double array = 0;    // the PEs and the array's edge logic (and Octet's flag decoders)
  double units = 0;    // the vector units' blocks (Octet's in every row)
  double buffers = 0;
  double Total() const { return array + units + buffers; }
};

struct PrecisionRow {
  std::string name, label, format, block;  // block: the synthesised PE
  int op_bits = 8, acc_bits = 48;
  double mac_pj = 0;          // per MAC
  std::string mac_recipe;
  int64_t step_macs = 0;      // MACs charged in the step
  StepEnergy energy;
  std::array<double, 4> buffer_kib{};  // act, weight, error, output: the sizes priced
  // From the synthesis (has_area):
  int64_t mac_cells = 0, mac_flip_flops = 0;
  double mac_nand2_eq = 0, mac_um2 = 0;
  StepArea area;
};

struct PrecisionReport {
  RunInfo info;
  model::ArchConfig config;
  std::string tech_name, tech_origin;
  bool has_area = false;
  std::string yosys_version;
  std::vector<PrecisionRow> rows;  // "octet" first, then Precisions() in order

  const PrecisionRow& Row(const std::string& name) const;  // fails if absent
};

// Re-prices `result` for Octet and every precision. `synthesis` (from
// PrecisionAreaOptions) adds the MAC and step areas.
PrecisionReport BuildPrecisionReport(const model::StepResult& result, const RunInfo& info, const TechTable& tech,
                                     const std::optional<area::AreaReport>& synthesis);

// Writers: a terminal table, CSV (one row per precision), JSON and a self-contained HTML
// page with inline SVG charts (chart-mac-energy, chart-mac-area, chart-step-energy,
// chart-step-area).
std::vector<std::string> FormatPrecisionTable(const PrecisionReport& report);
std::string PrecisionCsv(const PrecisionReport& report);
nlohmann::json PrecisionJson(const PrecisionReport& report);
std::string PrecisionHtml(const PrecisionReport& report);

}  // namespace octet::report
