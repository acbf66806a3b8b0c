// What `octet run` and `octet report` share: running a target through the SystemC model
// (a trace directory in data mode, a topology shape-only) with the progress line, and the
// options and steps that turn a result into a report (technology table, area).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "model/accelerator.h"
#include "sim/io/progress_line.h"
#include "sim/io/trace.h"
#include "sim/area/area.h"
#include "sim/report/report.h"
#include "sim/run/step_report.h"

namespace octet::cli {

// The step's progress on stderr while the model runs: a line redrawn in place as each
// layer's forward, backward and update starts, on a terminal only (silent in logs and
// pipes); erased before anything else is printed, also when the run fails.
class RunProgress {
 public:
  explicit RunProgress(bool enabled);
  ~RunProgress() { line_.Clear(); }
  RunProgress(const RunProgress&) = delete;
  RunProgress& operator=(const RunProgress&) = delete;

  // The callback for model::SimulateStep; empty when nothing would be shown.
  model::ProgressCallback Callback();
  void Clear() { line_.Clear(); }

 private:
  ProgressLine line_;
  std::chrono::steady_clock::time_point start_;
};

struct TargetOptions {
  std::string target;
  std::string config = "default";
  std::string scheme = "wageubn8";
  int64_t batch = 1;
  bool progress = true;
  // Where the array's values come from in a trace run (model/array/gemm_backend.h): the
  // fast GemmEngine ("engine") or the Verilated RTL array ("rtl"); same values and counters.
  std::string array_backend = "engine";
};

struct TargetRun {
  model::StepResult result;
  RunInfo info;
  std::optional<ReplayResult> check;  // data mode: the comparison with the trace
};

// Adds the target argument and --config, --scheme, --batch, --no-progress, --array-backend;
// registers the RTL array backends.
void AddTargetOptions(CLI::App& command, TargetOptions& options);
// Fails, naming the configuration as the user gave it, when the array backend is unknown
// or cannot run this array (the RTL array exists in a few sizes only). Call it before
// anything long runs or is written.
void CheckArrayBackend(const TargetOptions& options, const model::ArchConfig& config);
// A directory is a trace (data mode), anything else a topology (shape-only; only with the
// "engine" backend, since a shape-only run computes no values).
TargetRun RunTarget(const TargetOptions& options, const model::ArchConfig& config);

struct ReportOptions {
  std::string tech = "45nm";
  bool area = true;
  std::string area_cache;  // empty: the default cache of `octet area`
};

// Adds --tech, --no-area and --area-cache.
void AddReportOptions(CLI::App& command, ReportOptions& options);
// Fails at once (before a simulation) when the area is asked for and `config`'s array
// is too large to synthesise.
void CheckAreaPossible(const model::ArchConfig& config, const ReportOptions& options);
// Synthesises (or reads from the cache) the area when asked, with a progress line on
// stderr, and builds the report. The caller loads `tech` before simulating, so a bad
// table fails before a long run.
report::Report MakeReport(const model::StepResult& result, const RunInfo& info, const report::TechTable& tech,
                          const ReportOptions& options, bool progress);
// Synthesises (or reads from the cache) with a progress line on stderr (a line per
// synthesis in a log), erased before returning or throwing.
area::AreaReport SynthesiseWithProgress(const area::AreaOptions& options, bool progress);
// A document to standard output, or to `out` (atomically) with a line "<format>: <out>".
void EmitDocument(const std::string& text, const std::string& format, const std::string& out);
// After the document: a data run whose tensors differ from the trace prints MISMATCH on
// stderr (standard output holds the document alone) and exits with status 1.
void ExitOnMismatch(const TargetRun& run);
// Writes report.csv, report-area.csv, report.json and report.html into `dir` (created if
// needed), each atomically; prints a line per file.
void WriteReportDirectory(const report::Report& report, const std::string& dir);

}  // namespace octet::cli
