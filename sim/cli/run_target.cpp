#include "sim/cli/run_target.h"

#include <filesystem>

#include <fmt/format.h>

#include "golden/core/error.h"
#include "golden/core/text_file.h"
#include "model/array/gemm_backend.h"
#include "rtl/harness/register.h"
#include "sim/report/report_html.h"
#include "sim/report/report_writers.h"
#include "sim/run/model_run.h"

#ifndef OCTET_SOURCE_DIR
#error "OCTET_SOURCE_DIR must name the source tree (set by sim/CMakeLists.txt)"
#endif

namespace octet::cli {

RunProgress::RunProgress(bool enabled)
    : line_(enabled, ProgressLine::OffTerminal::kSilent), start_(std::chrono::steady_clock::now()) {}

model::ProgressCallback RunProgress::Callback() {
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

namespace {

// "engine (...); rtl (...)": the registered array backends with their descriptions.
std::string ArrayBackendList() {
  std::string list;
  for (const auto& [name, description] : model::GemmBackends())
    list += fmt::format("{}{} ({})", list.empty() ? "" : "; ", name, description);
  return list;
}

}  // namespace

void AddTargetOptions(CLI::App& command, TargetOptions& o) {
  rtl::RegisterRtlBackends();
  command.add_option("target", o.target, "Trace directory, network name, network spec (.json) or SCALE-Sim CSV")
      ->required();
  command.add_option("--config", o.config, "Architecture: built-in name, JSON file or SCALE-Sim .cfg (docs/configuration.md)")
      ->capture_default_str();
  command.add_option("--scheme", o.scheme, "Scheme of a topology run (a trace carries its own)")->capture_default_str();
  command.add_option("--batch", o.batch, "Batch size of a topology run")->capture_default_str()->check(CLI::Range(1, 65536));
  command.add_flag("!--no-progress", o.progress, "Do not show the progress line (shown on a terminal only)");
  command.add_option("--array-backend", o.array_backend,
                     "Where the array's values come from in a trace run (same values and counters from each): " +
                         ArrayBackendList())
      ->capture_default_str();
}

// Making the backend is the check: whatever a backend refuses, it refuses here.
void CheckArrayBackend(const TargetOptions& o, const model::ArchConfig& config) {
  try {
    model::MakeGemmBackend(o.array_backend, {config.array_rows, config.array_cols}, config.dataflow);
  } catch (const Error& e) {
    Fail("--array-backend {} with --config {} ({}x{} array, {}): {}", o.array_backend, o.config, config.array_rows,
         config.array_cols, model::DataflowName(config.dataflow), e.what());
  }
}

TargetRun RunTarget(const TargetOptions& o, const model::ArchConfig& config) {
  CheckArrayBackend(o, config);
  TargetRun run;
  if (std::filesystem::is_directory(o.target)) {
    RunProgress progress(o.progress);
    ModelTraceRun r = RunTraceOnModel(o.target, config, nullptr, progress.Callback(), o.array_backend);
    progress.Clear();
    const TraceManifest m = LoadTraceManifest(o.target);
    run.result = std::move(r.result);
    run.info = {o.target, "data", r.network, m.scheme.name, o.array_backend};
    run.check = std::move(r.check);
    return run;
  }
  // A shape-only run counts without values: the array backend would never be called.
  if (o.array_backend != "engine")
    Fail("{}: --array-backend {} needs a trace directory (a shape-only run computes no values)", o.target,
         o.array_backend);
  const Topology topology = LoadTopology(o.target, o.batch);
  const Scheme scheme = LoadScheme(o.scheme);
  const model::StepProgram program = ProgramForTopology(topology, scheme);
  RunProgress progress(o.progress);
  run.result = model::SimulateStep(config, program, nullptr, progress.Callback());
  progress.Clear();
  run.info = {topology.source, "shape-only", topology.name, scheme.name};
  return run;
}

void AddReportOptions(CLI::App& command, ReportOptions& o) {
  command.add_option("--tech", o.tech, "Technology table: a built-in name or a JSON file (docs/energy-area.md)")
      ->capture_default_str();
  command.add_flag("!--no-area", o.area,
                   "Leave the area out (no Yosys synthesis; the first synthesis of a 32x32 array takes minutes, later "
                   "runs read the cache)");
  command.add_option("--area-cache", o.area_cache,
                     "Synthesis cache directory (default: that of octet area, $XDG_CACHE_HOME/octet/area or "
                     "~/.cache/octet/area)");
}

void CheckAreaPossible(const model::ArchConfig& config, const ReportOptions& o) {
  if (o.area) report::AreaOptionsFor(config, OCTET_SOURCE_DIR, o.area_cache);
}

area::AreaReport SynthesiseWithProgress(const area::AreaOptions& options, bool progress) {
  ProgressLine line(progress, ProgressLine::OffTerminal::kMilestones);
  try {
    area::AreaReport synthesis =
        area::ComputeArea(options, [&](const std::string& text, bool milestone) { line.Update(text, milestone); });
    line.Clear();
    return synthesis;
  } catch (...) {
    line.Clear();
    throw;
  }
}

void EmitDocument(const std::string& text, const std::string& format, const std::string& out) {
  if (out.empty()) {
    fmt::print("{}", text);
  } else {
    WriteTextFileAtomically(out, text);
    fmt::print("{}: {}\n", format, out);
  }
}

void ExitOnMismatch(const TargetRun& run) {
  if (run.check && !run.check->bit_exact) {
    fmt::print(stderr, "MISMATCH {}\n", run.check->mismatch);
    throw CLI::RuntimeError(1);
  }
}

report::Report MakeReport(const model::StepResult& result, const RunInfo& info, const report::TechTable& tech,
                          const ReportOptions& o, bool progress) {
  std::optional<report::AreaBreakdown> area;
  if (o.area) {
    const area::AreaOptions options = report::AreaOptionsFor(result.config, OCTET_SOURCE_DIR, o.area_cache);
    area = report::ComputeAreaBreakdown(SynthesiseWithProgress(options, progress), result.config, tech);
  }
  return report::BuildReport(result, info, tech, area);
}

void WriteReportDirectory(const report::Report& report, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) Fail("{}: cannot create the report directory: {}", dir, ec.message());
  const std::filesystem::path d(dir);
  const std::pair<std::string, std::string> files[] = {
      {"report.csv", report::ReportCsv(report)},
      {"report-area.csv", report::AreaCsv(report)},
      {"report.json", report::ReportJson(report).dump(2) + "\n"},
      {"report.html", report::ReportHtml(report)},
  };
  for (const auto& [name, text] : files) WriteTextFileAtomically((d / name).string(), text);
  for (const auto& [name, text] : files) fmt::print("report: {}\n", (d / name).string());
}

}  // namespace octet::cli
