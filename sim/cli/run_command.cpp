// `octet run`: a trace through the SystemC model (data mode, bit-exact check) or a
// topology (shape-only mode), with the per-layer, per-phase results as a table, JSON, CSV.
#include <chrono>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "golden/core/error.h"
#include "golden/core/text_file.h"
#include "model/array/gemm_backend.h"
#include "rtl/harness/register.h"
#include "sim/cli/commands.h"
#include "sim/io/progress_line.h"
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
  bool progress = true;
  std::string array_backend = "engine";
};

// "engine (the fast GemmEngine (default)), rtl (...)": the registered array backends.
std::string ArrayBackendList() {
  std::string list;
  for (const auto& [name, description] : model::GemmBackends())
    list += fmt::format("{}{} ({})", list.empty() ? "" : "; ", name, description);
  return list;
}

// Fails, naming the configuration as the user gave it, when the backend is unknown or cannot
// run this array (the RTL array exists in a few sizes only); before any trace is read, so
// nothing is simulated or written. Making the backend is the check: whatever a backend
// refuses, it refuses here.
void CheckArrayBackend(const RunOptions& o, const model::ArchConfig& config) {
  try {
    model::MakeGemmBackend(o.array_backend, {config.array_rows, config.array_cols}, config.dataflow);
  } catch (const Error& e) {
    Fail("--array-backend {} with --config {} ({}x{} array, {}): {}", o.array_backend, o.config, config.array_rows,
         config.array_cols, model::DataflowName(config.dataflow), e.what());
  }
}

// The step's progress on stderr while the model runs: a line redrawn in place as each
// layer's forward, backward and update starts, on a terminal only (silent in logs and
// pipes); erased before anything else is printed, also when the run fails.
class RunProgress {
 public:
  explicit RunProgress(bool enabled)
      : line_(enabled, ProgressLine::OffTerminal::kSilent), start_(std::chrono::steady_clock::now()) {}
  ~RunProgress() { line_.Clear(); }
  RunProgress(const RunProgress&) = delete;
  RunProgress& operator=(const RunProgress&) = delete;

  // The callback for model::SimulateStep; empty when nothing would be shown.
  model::ProgressCallback Callback() {
    if (!line_.enabled() || !line_.tty()) return {};
    return [this](const model::ProgressEvent& e) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      std::string layer(e.layer.substr(0, 24));
      line_.Update(fmt::format("simulating: {:3d}%  {}/{}  {} {}  {} cycles  {:.1f} s",
                               e.total > 0 ? static_cast<int>(100 * e.done / e.total) : 0, e.done + 1, e.total,
                               model::ProgressStageName(e.stage), layer, e.cycles, secs),
                   false);
    };
  }
  void Clear() { line_.Clear(); }

 private:
  ProgressLine line_;
  std::chrono::steady_clock::time_point start_;
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
  rtl::RegisterRtlBackends();  // before the help text lists the backends
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
  run->add_flag("!--no-progress", o->progress, "Do not show the progress line (shown on a terminal only)");
  run->add_option("--array-backend", o->array_backend,
                  "Where the array's values come from in a trace run (same values and counters from each): " +
                      ArrayBackendList())
      ->capture_default_str();
  run->callback([o] {
    const model::ArchConfig config = model::LoadArchConfig(o->config);
    CheckArrayBackend(*o, config);
    RunProgress progress(o->progress);
    if (std::filesystem::is_directory(o->target)) {
      const ModelTraceRun r = RunTraceOnModel(o->target, config, nullptr, progress.Callback(), o->array_backend);
      progress.Clear();
      const TraceManifest m = LoadTraceManifest(o->target);
      WriteReports(*o, r.result, {o->target, "data", r.network, m.scheme.name, o->array_backend});
      if (!r.check.bit_exact) {
        fmt::print("MISMATCH {}\n", r.check.mismatch);
        throw CLI::RuntimeError(1);
      }
      fmt::print("bit-exact: {} tensors, {} elements match the golden trace\n", r.check.tensors_checked,
                 r.check.elements_checked);
      return;
    }
    // A shape-only run counts without values: the array backend would never be called.
    if (o->array_backend != "engine")
      Fail("{}: --array-backend {} needs a trace directory (a shape-only run computes no values)", o->target,
           o->array_backend);
    const Topology topology = LoadTopology(o->target, o->batch);
    const Scheme scheme = LoadScheme(o->scheme);
    const model::StepProgram program = ProgramForTopology(topology, scheme);
    const model::StepResult result = model::SimulateStep(config, program, nullptr, progress.Callback());
    progress.Clear();
    WriteReports(*o, result, {topology.source, "shape-only", topology.name, scheme.name});
  });
}

}  // namespace octet::cli
