// `octet sweep`: a design-space sweep of a topology (docs/sweep.md). Every point of the
// cartesian product of the axes is simulated shape-only on its configuration, priced
// with the energy model (and the area, unless --no-area), and written as one CSV row.
// `--shard I/N` runs one share; `octet sweep merge` joins shares and draws the Pareto
// chart. The hidden `octet sweep-worker` is the worker process of a parallel sweep.
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "golden/core/error.h"
#include "golden/core/text_file.h"
#include "sim/cli/commands.h"
#include "sim/cli/run_target.h"
#include "sim/io/progress_line.h"
#include "sim/report/report.h"
#include "sim/sweep/pareto.h"
#include "sim/sweep/sweep_csv.h"
#include "sim/sweep/sweep_run.h"

#ifndef OCTET_SOURCE_DIR
#error "OCTET_SOURCE_DIR must name the source tree (set by sim/CMakeLists.txt)"
#endif

namespace octet::cli {
namespace {

using sweep::SweepPoint;

struct SweepOptions {
  std::string topology;
  std::string config = "default";
  std::string space_file;
  std::map<std::string, std::vector<std::string>> axes;  // by axis name, as given
  int64_t batch = 1;
  ReportOptions report;
  std::string out, html, svg;
  std::string shard = "1/1";
  int jobs = 0;  // 0: every core
  bool progress = true;
};

struct MergeOptions {
  std::vector<std::string> shares;
  std::string out, html, svg;
};

// The command-line axes: option name and the axis it sets.
const std::pair<const char*, const char*> kAxisOptions[] = {
    {"--array", "array"},
    {"--dataflow", "dataflow"},
    {"--act-buffer-kib", "act_buffer_kib"},
    {"--weight-buffer-kib", "weight_buffer_kib"},
    {"--error-buffer-kib", "error_buffer_kib"},
    {"--output-buffer-kib", "output_buffer_kib"},
    {"--dram-bytes-per-cycle", "dram_bytes_per_cycle"},
    {"--e2", "e2"},
};

std::optional<std::vector<std::string>>* AxisField(sweep::AxisTexts& axes, const std::string& axis) {
  if (axis == "array") return &axes.array;
  if (axis == "dataflow") return &axes.dataflow;
  if (axis == "act_buffer_kib") return &axes.act_buffer_kib;
  if (axis == "weight_buffer_kib") return &axes.weight_buffer_kib;
  if (axis == "error_buffer_kib") return &axes.error_buffer_kib;
  if (axis == "output_buffer_kib") return &axes.output_buffer_kib;
  if (axis == "dram_bytes_per_cycle") return &axes.dram_bytes_per_cycle;
  return &axes.e2;
}

// The axes of the space file, overridden axis by axis by the command line; errors name
// where the axis came from.
sweep::SweepSpace ResolveAxes(const SweepOptions& o, const model::ArchConfig& base) {
  sweep::AxisTexts axes;
  std::map<std::string, std::string> origin;
  if (!o.space_file.empty()) {
    axes = sweep::LoadSpaceFile(o.space_file);
    for (const auto& [option, axis] : kAxisOptions) origin[axis] = fmt::format("{}: {}", o.space_file, axis);
  }
  for (const auto& [option, axis] : kAxisOptions) {
    auto it = o.axes.find(axis);
    if (it == o.axes.end() || it->second.empty()) continue;
    *AxisField(axes, axis) = it->second;
    origin[axis] = option;
  }
  return sweep::ResolveSpace(axes, base, [&](const std::string& axis) {
    auto it = origin.find(axis);
    return it == origin.end() ? std::string(axis) : it->second;
  });
}

// What the sweep's identity depends on: the content of its inputs, not their paths, so
// shares run on different machines (different paths) still merge.
std::string ContentOf(const std::string& name_or_path) {
  if (std::filesystem::is_regular_file(name_or_path)) return "file:" + ReadTextFile(name_or_path);
  return "name:" + name_or_path;
}

std::string SweepId(const SweepOptions& o, const model::ArchConfig& base, const sweep::SweepSpace& space) {
  nlohmann::ordered_json j;
  j["version"] = sweep::kSweepCsvVersion;
  j["topology"] = ContentOf(o.topology);
  j["batch"] = o.batch;
  j["base_config"] = nlohmann::ordered_json::parse(model::ArchConfigToJson(base));
  j["space"] = space.ToJson();
  j["tech"] = ContentOf(o.report.tech);
  j["area"] = o.report.area;
  return sweep::HashHex(j.dump());
}

std::string Duration(double seconds) {
  if (seconds < 60) return fmt::format("{:.1f} s", seconds);
  if (seconds < 3600) return fmt::format("{}m{:02}s", static_cast<int>(seconds) / 60, static_cast<int>(seconds) % 60);
  return fmt::format("{}h{:02}m", static_cast<int>(seconds) / 3600, static_cast<int>(seconds) / 60 % 60);
}

// Synthesises (or reads from the cache) each distinct array size once.
std::map<std::string, area::AreaReport> SynthesiseArrays(const std::vector<SweepPoint>& points,
                                                         const ReportOptions& o, bool progress) {
  std::map<std::string, area::AreaReport> by_array;
  ProgressLine line(progress, ProgressLine::OffTerminal::kMilestones);
  for (const SweepPoint& p : points) {
    const std::string key = fmt::format("{}x{}", p.config.array_rows, p.config.array_cols);
    if (by_array.count(key)) continue;
    try {
      by_array[key] = area::ComputeArea(report::AreaOptionsFor(p.config, OCTET_SOURCE_DIR, o.area_cache),
                                        [&](const std::string& text, bool milestone) { line.Update(text, milestone); });
    } catch (...) {
      line.Clear();
      throw;
    }
  }
  line.Clear();
  return by_array;
}

void WriteCharts(const std::string& csv_text, const std::string& origin, const std::string& html, const std::string& svg) {
  if (html.empty() && svg.empty()) return;
  const sweep::SweepCsv csv = sweep::ParseSweepCsv(csv_text, origin);
  if (!html.empty()) {
    WriteTextFileAtomically(html, sweep::ParetoHtml(csv));
    fmt::print("pareto: {}\n", html);
  }
  if (!svg.empty()) {
    WriteTextFileAtomically(svg, sweep::ParetoSvg(csv));
    fmt::print("pareto: {}\n", svg);
  }
}

void RunSweep(const SweepOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  if (o.topology.empty()) Fail("sweep: a topology is needed (octet sweep TOPOLOGY --out FILE.csv ...)");
  if (o.out.empty()) Fail("sweep: --out FILE.csv is needed");
  // Everything that can be wrong is checked before the first point runs.
  const sweep::Shard shard = sweep::ParseShard(o.shard);
  if (shard.count > 1 && (!o.html.empty() || !o.svg.empty()))
    Fail("--html and --svg draw the whole sweep: with --shard {}, draw it with octet sweep merge", shard.Text());
  const model::ArchConfig base = model::LoadArchConfig(o.config);
  const report::TechTable tech = report::LoadTechTable(o.report.tech);
  const sweep::SweepSpace space = ResolveAxes(o, base);
  const Topology topology = LoadTopology(o.topology, o.batch);
  std::vector<SweepPoint> points;
  for (int64_t i : shard.Points(space.PointCount())) points.push_back(sweep::PointAt(space, base, i));
  if (o.report.area) {
    std::set<std::pair<int64_t, int64_t>> arrays;  // the check looks at the array size only
    for (const SweepPoint& p : points)
      if (arrays.insert({p.config.array_rows, p.config.array_cols}).second) CheckAreaPossible(p.config, o.report);
  }

  sweep::SweepHeader header;
  header.id = SweepId(o, base, space);
  header.points = space.PointCount();
  header.shard = shard;
  header.topology = topology.name;
  header.batch = o.batch;
  header.tech = tech.name;

  std::map<std::string, area::AreaReport> synthesis;
  if (o.report.area) synthesis = SynthesiseArrays(points, o.report, o.progress);

  const int jobs = o.jobs > 0 ? o.jobs : sweep::AvailableCores();
  std::map<int64_t, std::string> rows;
  ProgressLine line(o.progress, ProgressLine::OffTerminal::kMilestones);
  const auto sim_start = std::chrono::steady_clock::now();
  const size_t total = points.size();
  auto done = [&](const SweepPoint& p, const model::StepResult& result) {
    std::optional<report::AreaBreakdown> area;
    if (o.report.area)
      area = report::ComputeAreaBreakdown(synthesis.at(fmt::format("{}x{}", p.config.array_rows, p.config.array_cols)),
                                          p.config, tech);
    const report::Report priced =
        report::BuildReport(result, RunInfo{topology.source, "shape-only", topology.name, p.scheme}, tech, area);
    rows[p.index] = sweep::SweepCsvRow(p, priced.step, area ? std::optional(area->TotalMm2()) : std::nullopt);
    const size_t n = rows.size();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - sim_start).count();
    const double eta = elapsed / static_cast<double>(n) * static_cast<double>(total - n);
    // Milestones (a line each in a log) at every tenth of the sweep.
    const bool milestone = n * 10 / total != (n - 1) * 10 / total;
    line.Update(fmt::format("sweep: {}/{} points ({}%), {} elapsed, ETA {}", n, total, 100 * n / total,
                            Duration(elapsed), Duration(eta)),
                milestone);
  };
  try {
    sweep::SimulatePoints(o.topology, o.batch, points, jobs, done);
  } catch (...) {
    line.Clear();
    throw;
  }
  line.Clear();

  std::string text = sweep::FormatSweepHeader(header) + sweep::SweepCsvColumns();
  for (const auto& [index, row] : rows) text += row;
  WriteTextFileAtomically(o.out, text);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("sweep: {} of {} points{} in {} with {} process{}: {}\n", total, header.points,
             shard.count > 1 ? fmt::format(" (shard {})", shard.Text()) : "", Duration(seconds),
             std::min<size_t>(static_cast<size_t>(jobs), std::max<size_t>(total, 1)), jobs > 1 ? "es" : "", o.out);
  WriteCharts(text, o.out, o.html, o.svg);
}

void RunMerge(const MergeOptions& o) {
  std::vector<sweep::SweepCsv> shares;
  for (const std::string& path : o.shares) shares.push_back(sweep::ParseSweepCsv(ReadTextFile(path), path));
  const std::string text = sweep::MergeSweepCsvs(shares);
  WriteTextFileAtomically(o.out, text);
  fmt::print("merged {} points from {} file{}: {}\n", shares.front().header.points, shares.size(),
             shares.size() == 1 ? "" : "s", o.out);
  WriteCharts(text, o.out, o.html, o.svg);
}

}  // namespace

void AddSweepCommand(CLI::App& app) {
  auto o = std::make_shared<SweepOptions>();
  auto* cmd = app.add_subcommand(
      "sweep",
      "Design-space sweep of a topology: simulate every point of the axes' cartesian product shape-only, price it "
      "(energy, area) and write one CSV row per point; --shard I/N runs one share, `octet sweep merge` joins them "
      "(docs/sweep.md)");
  cmd->add_option("topology", o->topology, "Network name, network spec (.json) or SCALE-Sim topology CSV");
  cmd->add_option("--config", o->config, "Base architecture: what the axes do not set (docs/configuration.md)")
      ->capture_default_str();
  cmd->add_option("--space", o->space_file, "Space file (JSON, docs/sweep.md); an axis option overrides its axis");
  const std::pair<const char*, const char*> help[] = {
      {"--array", "Array sizes RxC (e.g. 8x8,16x16,32x32)"},
      {"--dataflow", "Dataflows (ws,os)"},
      {"--act-buffer-kib", "Activation buffer sizes, KiB"},
      {"--weight-buffer-kib", "Weight buffer sizes, KiB"},
      {"--error-buffer-kib", "Error buffer sizes, KiB"},
      {"--output-buffer-kib", "Output buffer sizes, KiB"},
      {"--dram-bytes-per-cycle", "DRAM bandwidths, bytes per cycle"},
      {"--e2", "E2 modes: flag (wageubn8), sq16 (wageubn16), sq8 (wageubn8-noflag)"},
  };
  for (size_t i = 0; i < std::size(kAxisOptions); ++i)
    // One value list per occurrence (a repeated option adds to the axis), so that the
    // topology after an axis is not taken for one of its values.
    cmd->add_option(kAxisOptions[i].first, o->axes[kAxisOptions[i].second], help[i].second)
        ->delimiter(',')
        ->allow_extra_args(false);
  cmd->add_option("--batch", o->batch, "Batch size")->capture_default_str()->check(CLI::Range(1, 65536));
  AddReportOptions(*cmd, o->report);
  cmd->add_option("--out", o->out, "The CSV (written atomically when the sweep is complete)");
  cmd->add_option("--shard", o->shard, "Run share I of N (1 <= I <= N) of the points (docs/sweep.md, \"Sharding\")")->capture_default_str();
  cmd->add_option("-j,--jobs", o->jobs, "Worker processes (default: every core)")->check(CLI::Range(1, 4096));
  cmd->add_option("--html", o->html, "Also write the Pareto chart (energy against cycles) as an HTML page");
  cmd->add_option("--svg", o->svg, "Also write the Pareto chart as an SVG file");
  cmd->add_flag("!--no-progress", o->progress, "Do not show the progress line");

  auto m = std::make_shared<MergeOptions>();
  auto* merge = cmd->add_subcommand(
      "merge", "Join the shares of a sweep into one CSV (checking that they cover every point once) and draw the Pareto chart");
  merge->add_option("shares", m->shares, "The shares' CSV files")->required();
  merge->add_option("--out", m->out, "The merged CSV")->required();
  merge->add_option("--html", m->html, "Write the Pareto chart as an HTML page");
  merge->add_option("--svg", m->svg, "Write the Pareto chart as an SVG file");
  merge->callback([m] { RunMerge(*m); });

  cmd->callback([o, merge] {
    if (!merge->parsed()) RunSweep(*o);
  });

  // The worker of a parallel sweep; not for users (no description: hidden from --help).
  auto* worker = app.add_subcommand("sweep-worker", "");
  worker->group("");
  worker->callback([] { sweep::RunSweepWorker(); });
}

}  // namespace octet::cli
