// `octet run`: a trace through the SystemC model (data mode, bit-exact check) or a
// topology (shape-only mode), with the per-layer, per-phase results as a table, JSON, CSV.
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "golden/core/error.h"
#include "golden/core/text_file.h"
#include "sim/cli/commands.h"
#include "sim/run/model_run.h"
#include "sim/run/step_report.h"

namespace octet::cli {
namespace {

struct RunOptions {
  std::string target;
  std::string config = "default";
  std::string scheme = "wageubn8";
  int64_t batch = 1;
  std::string json, csv;
};

void WriteReports(const RunOptions& o, const model::StepResult& result, const RunInfo& info) {
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
  run->add_option("target", o->target, "Trace directory, network name, network spec (.json) or SCALE-Sim CSV")->required();
  run->add_option("--config", o->config, "Architecture: built-in name, JSON file or SCALE-Sim .cfg (docs/configuration.md)")
      ->capture_default_str();
  run->add_option("--scheme", o->scheme, "Scheme of a topology run (a trace carries its own)")->capture_default_str();
  run->add_option("--batch", o->batch, "Batch size of a topology run")->capture_default_str()->check(CLI::Range(1, 65536));
  run->add_option("--json", o->json, "Also write the results as JSON to this file");
  run->add_option("--csv", o->csv, "Also write the results as CSV to this file");
  run->callback([o] {
    const model::ArchConfig config = model::LoadArchConfig(o->config);
    if (std::filesystem::is_directory(o->target)) {
      const ModelTraceRun r = RunTraceOnModel(o->target, config);
      const TraceManifest m = LoadTraceManifest(o->target);
      WriteReports(*o, r.result, {o->target, "data", r.network, m.scheme.name});
      if (!r.check.bit_exact) {
        fmt::print("MISMATCH {}\n", r.check.mismatch);
        throw CLI::RuntimeError(1);
      }
      fmt::print("bit-exact: {} tensors, {} elements match the golden trace\n", r.check.tensors_checked,
                 r.check.elements_checked);
      return;
    }
    const Topology topology = LoadTopology(o->target, o->batch);
    const Scheme scheme = LoadScheme(o->scheme);
    const model::StepProgram program = ProgramForTopology(topology, scheme);
    const model::StepResult result = model::SimulateStep(config, program, nullptr);
    WriteReports(*o, result, {topology.source, "shape-only", topology.name, scheme.name});
  });
}

}  // namespace octet::cli
