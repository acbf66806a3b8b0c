// `octet run`: a trace through the SystemC model (data mode, bit-exact check) or a
// topology (shape-only mode), with the per-layer, per-phase results as a table, JSON, CSV,
// and with --report DIR the energy and area report (docs/energy-area.md).
#include <fmt/format.h>

#include "golden/core/error.h"
#include "golden/core/text_file.h"
#include "sim/cli/commands.h"
#include "sim/cli/run_target.h"
#include "sim/report/report_writers.h"
#include "sim/run/step_report.h"

namespace octet::cli {
namespace {

struct RunOptions {
  TargetOptions target;
  std::string json, csv, report_dir;
  ReportOptions report;
};

void WriteResults(const RunOptions& o, const model::StepResult& result, const RunInfo& info) {
  for (const auto& line : FormatStepTable(result, info)) fmt::print("{}\n", line);
  if (!o.json.empty()) {
    WriteTextFileAtomically(o.json, StepReportJson(result, info).dump(2) + "\n");
    fmt::print("json: {}\n", o.json);
  }
  if (!o.csv.empty()) {
    WriteTextFileAtomically(o.csv, StepReportCsv(result));
    fmt::print("csv: {}\n", o.csv);
  }
}

}  // namespace

void AddRunCommand(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  auto* run = app.add_subcommand(
      "run",
      "Run a training step through the SystemC model of the accelerator: a golden trace directory (data mode: every "
      "tensor checked bit for bit) or a topology (shape-only mode: a built-in network, an Octet network spec, or a "
      "SCALE-Sim topology CSV)");
  AddTargetOptions(*run, o->target);
  run->add_option("--json", o->json, "Also write the results as JSON to this file");
  run->add_option("--csv", o->csv, "Also write the results as CSV to this file");
  run->add_option("--report", o->report_dir,
                  "Also write the energy and area report into this directory: report.html, report.json, report.csv, "
                  "report-area.csv (and print its table)");
  AddReportOptions(*run, o->report);
  run->callback([o] {
    const model::ArchConfig config = model::LoadArchConfig(o->target.config);
    // Loaded before the simulation: a bad table fails at once.
    std::optional<report::TechTable> tech;
    if (!o->report_dir.empty()) {
      tech = report::LoadTechTable(o->report.tech);
      CheckAreaPossible(config, o->report);
    }
    const TargetRun r = RunTarget(o->target, config);
    WriteResults(*o, r.result, r.info);
    if (tech) {
      const report::Report rep = MakeReport(r.result, r.info, *tech, o->report, o->target.progress);
      fmt::print("\n");
      for (const auto& line : report::FormatReportTable(rep)) fmt::print("{}\n", line);
      WriteReportDirectory(rep, o->report_dir);
    }
    if (r.check) {
      if (!r.check->bit_exact) {
        fmt::print("MISMATCH {}\n", r.check->mismatch);
        throw CLI::RuntimeError(1);
      }
      fmt::print("bit-exact: {} tensors, {} elements match the golden trace\n", r.check->tensors_checked,
                 r.check->elements_checked);
    }
  });
}

}  // namespace octet::cli
