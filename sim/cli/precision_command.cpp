// `octet precision`: the precision comparison in the manner of the WAGEUBN paper's Fig. 10
// (docs/energy-area.md, "Precision comparison (Fig. 10)"): per MAC and per training step,
// Octet against the same array and buffers with INT8, FP8, INT16, FP16 and FP32 operands,
// as a table, CSV, JSON or an HTML page with charts.
#include <fmt/format.h>

#include "golden/core/error.h"
#include "sim/cli/commands.h"
#include "sim/cli/run_target.h"
#include "sim/report/precision.h"

#ifndef OCTET_SOURCE_DIR
#error "OCTET_SOURCE_DIR must name the source tree (set by sim/CMakeLists.txt)"
#endif

namespace octet::cli {
namespace {

// The default step: the paper's network, one image.
constexpr const char* kDefaultTarget = "resnet18";

struct PrecisionCliOptions {
  TargetOptions target;
  ReportOptions report;
  std::string format = "table";
  std::string out;
};

std::string Render(const report::PrecisionReport& r, const std::string& format) {
  if (format == "csv") return report::PrecisionCsv(r);
  if (format == "json") return report::PrecisionJson(r).dump(2) + "\n";
  if (format == "html") return report::PrecisionHtml(r);
  std::string text;
  for (const auto& line : report::FormatPrecisionTable(r)) text += line + "\n";
  return text;
}

}  // namespace

void AddPrecisionCommand(CLI::App& app) {
  auto o = std::make_shared<PrecisionCliOptions>();
  o->target.target = kDefaultTarget;
  auto* cmd = app.add_subcommand(
      "precision",
      "Compare operand precisions as the WAGEUBN paper's Fig. 10 does: MAC PEs for INT8, FP8, INT16, FP16 and FP32 "
      "synthesised with Yosys, energy per MAC from the technology table, and a training step of TARGET re-priced "
      "for each (docs/energy-area.md)");
  AddTargetOptions(*cmd, o->target);
  cmd->get_option("target")
      ->required(false)
      ->description(fmt::format("Trace directory, network name, network spec (.json) or SCALE-Sim CSV (default: {})",
                                kDefaultTarget));
  AddReportOptions(*cmd, o->report);
  cmd->add_option("--format", o->format, "Output format")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "csv", "json", "html"}));
  cmd->add_option("--out", o->out, "Write the output to this file (atomically) instead of standard output");
  cmd->callback([o] {
    // Everything that can fail quickly fails before the simulation and the synthesis.
    const report::TechTable tech = report::LoadTechTable(o->report.tech);
    for (const report::Precision& p : report::Precisions()) report::MacPj(p, tech);
    const model::ArchConfig config = model::LoadArchConfig(o->target.config);
    std::optional<area::AreaOptions> area_options;
    if (o->report.area) area_options = report::PrecisionAreaOptions(config, OCTET_SOURCE_DIR, o->report.area_cache);
    TargetRun run = RunTarget(o->target, config);
    std::optional<area::AreaReport> synthesis;
    if (area_options) synthesis = SynthesiseWithProgress(*area_options, o->target.progress);
    const report::PrecisionReport rep = report::BuildPrecisionReport(run.result, run.info, tech, synthesis);
    EmitDocument(Render(rep, o->format), o->format, o->out);
    ExitOnMismatch(run);
  });
}

}  // namespace octet::cli
