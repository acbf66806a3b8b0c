// `octet area`: cell counts, flip-flops and NAND2-equivalent area of every RTL block,
// synthesised by Yosys (docs/area.md), as a table, JSON or CSV.
#include <filesystem>
#include <regex>

#include <fmt/format.h>

#include "golden/core/error.h"
#include "golden/core/text_file.h"
#include "sim/area/area.h"
#include "sim/cli/commands.h"
#include "sim/io/progress_line.h"

#ifndef OCTET_SOURCE_DIR
#error "OCTET_SOURCE_DIR must name the source tree (set by sim/CMakeLists.txt)"
#endif

namespace octet::cli {
namespace {

struct AreaCliOptions {
  std::vector<std::string> blocks;
  std::string array = "4x4";
  std::string liberty, rtl, cache, json, csv;
  bool progress = true;
};

void ParseArraySize(const std::string& text, area::AreaOptions& o) {
  static const std::regex re(R"((\d{1,3})x(\d{1,3}))");
  std::smatch m;
  if (!std::regex_match(text, m, re)) Fail("--array {}: expected ROWSxCOLS, e.g. 4x4", text);
  o.rows = std::stoi(m[1]);
  o.cols = std::stoi(m[2]);
}

}  // namespace

void AddAreaCommand(CLI::App& app) {
  auto o = std::make_shared<AreaCliOptions>();
  auto* cmd = app.add_subcommand(
      "area",
      "Synthesise the RTL blocks with Yosys and print their cells, flip-flops and NAND2-equivalent area "
      "(docs/area.md); results are cached, so a repeated run is instant");
  cmd->add_option("--block", o->blocks,
                  "Only this block (a module of rtl/array or rtl/units; repeatable). Default: every top-level module, "
                  "the PE and the array");
  cmd->add_option("--array", o->array, "Size of the array, ROWSxCOLS: its PEs plus its edge logic")->capture_default_str();
  cmd->add_option("--liberty", o->liberty,
                  "Cell library (Liberty) with your own areas; normalised to its smallest 2-input NAND. Default: "
                  "rtl/synth/octet_cells.lib");
  cmd->add_option("--rtl", o->rtl, "RTL tree whose array/ and units/ folders hold the blocks (default: the source tree's rtl/)");
  cmd->add_option("--cache", o->cache, "Result cache directory (default: $XDG_CACHE_HOME/octet/area or ~/.cache/octet/area)");
  cmd->add_option("--json", o->json, "Also write the results as JSON to this file");
  cmd->add_option("--csv", o->csv, "Also write the results as CSV to this file");
  cmd->add_flag("!--no-progress", o->progress, "Do not show progress while synthesising");
  cmd->callback([o] {
    area::AreaOptions opts;
    const std::filesystem::path source(OCTET_SOURCE_DIR);
    opts.rtl_dir = o->rtl.empty() ? (source / "rtl").string() : o->rtl;
    opts.synth_dir = (source / "rtl" / "synth").string();
    opts.liberty = o->liberty;
    opts.cache_dir = o->cache;
    opts.blocks = o->blocks;
    ParseArraySize(o->array, opts);
    // On a terminal a line redrawn in place; elsewhere a line per synthesis started
    // (cached blocks are silent), so a long run shows in a log what it is doing.
    ProgressLine line(o->progress, ProgressLine::OffTerminal::kMilestones);
    area::AreaReport report;
    try {
      report = area::ComputeArea(opts, [&](const std::string& text, bool milestone) { line.Update(text, milestone); });
    } catch (...) {
      line.Clear();
      throw;
    }
    line.Clear();
    for (const auto& l : area::FormatAreaTable(report)) fmt::print("{}\n", l);
    if (!o->json.empty()) {
      WriteTextFileAtomically(o->json, area::AreaReportJson(report).dump(2) + "\n");
      fmt::print("json: {}\n", o->json);
    }
    if (!o->csv.empty()) {
      WriteTextFileAtomically(o->csv, area::AreaReportCsv(report));
      fmt::print("csv: {}\n", o->csv);
    }
  });
}

}  // namespace octet::cli
