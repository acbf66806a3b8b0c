// `octet report`: the energy and area report of a training step (docs/energy-area.md)
// as a terminal table, CSV, JSON or a self-contained HTML page. The step comes from a
// trace directory or a topology (simulated as by `octet run`) or from a saved
// `octet run --json` result (priced again without simulating).
#include <filesystem>

#include <fmt/format.h>

#include "golden/core/error.h"
#include "golden/core/text_file.h"
#include "sim/cli/commands.h"
#include "sim/cli/run_target.h"
#include "sim/report/report_html.h"
#include "sim/report/report_writers.h"

namespace octet::cli {
namespace {

struct ReportCliOptions {
  TargetOptions target;
  ReportOptions report;
  std::string format = "table";
  std::string out;
};

std::string Render(const report::Report& r, const std::string& format) {
  if (format == "csv") return report::ReportCsv(r);
  if (format == "area-csv") return report::AreaCsv(r);
  if (format == "json") return report::ReportJson(r).dump(2) + "\n";
  if (format == "html") return report::ReportHtml(r);
  std::string text;
  for (const auto& line : report::FormatReportTable(r)) text += line + "\n";
  return text;
}

// A saved `octet run --json` result: a .json file whose "format" is "octet-run".
bool IsSavedRun(const std::string& target) {
  if (std::filesystem::path(target).extension() != ".json" || !std::filesystem::is_regular_file(target)) return false;
  return IsStepReportJson(ReadTextFile(target));
}

}  // namespace

void AddReportCommand(CLI::App& app) {
  auto o = std::make_shared<ReportCliOptions>();
  auto* cmd = app.add_subcommand(
      "report",
      "Energy, power, efficiency and area of a training step: run a trace directory or a topology through the SystemC "
      "model (as octet run does), or price a saved `octet run --json` result; print a table or write CSV, JSON or "
      "HTML (docs/energy-area.md)");
  AddTargetOptions(*cmd, o->target);
  cmd->get_option("target")->description(
      "Trace directory, network name, network spec (.json), SCALE-Sim CSV, or a saved octet run --json result");
  AddReportOptions(*cmd, o->report);
  cmd->add_option("--format", o->format, "Output format")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "csv", "area-csv", "json", "html"}));
  cmd->add_option("--out", o->out, "Write the output to this file (atomically) instead of standard output");
  cmd->callback([o] {
    const report::TechTable tech = report::LoadTechTable(o->report.tech);
    TargetRun run;
    if (IsSavedRun(o->target.target)) {
      run.result = StepResultFromJson(nlohmann::json::parse(ReadTextFile(o->target.target)), o->target.target, &run.info);
    } else {
      const model::ArchConfig config = model::LoadArchConfig(o->target.config);
      CheckAreaPossible(config, o->report);
      run = RunTarget(o->target, config);
    }
    const report::Report rep = MakeReport(run.result, run.info, tech, o->report, o->target.progress);
    EmitDocument(Render(rep, o->format), o->format, o->out);
    ExitOnMismatch(run);
  });
}

}  // namespace octet::cli
