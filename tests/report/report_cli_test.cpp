// `octet report` and `octet run --report` end to end: the table, JSON, CSV and HTML of a
// shape-only run, a saved `octet run --json` result priced again, the area from a small
// array's synthesis (cached in the build tree, so only the first run synthesises), the
// one-line errors with nothing left behind, --help, and the HTML rendered in headless
// Chromium with its three charts drawn.
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../cli/run_command.h"

namespace octet::testing {
namespace {

using nlohmann::json;

std::string Source(const std::string& rel) { return (fs::path(OCTET_SOURCE_DIR) / rel).string(); }

// The synthesis cache of these tests: in the build tree, kept between runs.
std::string AreaCache() { return (fs::path(OCTET_BINARY).parent_path() / "test-area-cache").string(); }

CommandResult Octet(std::vector<std::string> args) {
  args.insert(args.begin(), {"-j", "1"});
  return RunOctet(args);
}

// A 4 x 4 array with small buffers: its synthesis (the units and the array's edge logic)
// takes seconds, not minutes.
std::string SmallConfig(const ScratchDir& dir) {
  WriteFile(dir / "small.json",
            R"({"name": "small", "array": {"rows": 4, "cols": 4}, "clock_mhz": 500,
                "buffers_kib": {"activation": 64, "weight": 32, "error": 64, "output": 64}})");
  return dir / "small.json";
}

TEST(ReportCli, TableOfAShapeOnlyRun) {
  const CommandResult r = Octet({"report", "tiny-resnet", "--no-area"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.err, "") << r.Describe();
  const auto lines = r.out_lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front().rfind("octet report: built-in network tiny-resnet (shape-only)", 0), 0u) << r.Describe();
  EXPECT_NE(lines[1].find("technology 45nm"), std::string::npos) << r.Describe();
  EXPECT_NE(r.out.find("energy of the step by component (45nm):"), std::string::npos) << r.Describe();
  EXPECT_NE(r.out.find("\nflag_mac "), std::string::npos) << r.Describe();
  EXPECT_NE(r.out.find("area: not computed (--no-area)"), std::string::npos) << r.Describe();
  EXPECT_NE(r.out.find("leakage: not modelled"), std::string::npos) << r.Describe();
  EXPECT_EQ(lines.back().rfind("step: ", 0), 0u) << r.Describe();
  EXPECT_NE(lines.back().find(" pJ/MAC, "), std::string::npos) << r.Describe();
}

// The report's counters are the run's; a saved run priced again gives the same report.
TEST(ReportCli, JsonMatchesTheRunAndASavedRun) {
  ScratchDir dir;
  const CommandResult run = Octet({"run", "tiny-resnet", "--json", dir / "run.json"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  const CommandResult direct = Octet({"report", "tiny-resnet", "--no-area", "--format", "json", "--out", dir / "a.json"});
  ASSERT_EQ(direct.exit_code, 0) << direct.Describe();
  EXPECT_EQ(direct.out, "json: " + dir / "a.json" + "\n") << direct.Describe();
  const CommandResult saved = Octet({"report", dir / "run.json", "--no-area", "--format", "json"});
  ASSERT_EQ(saved.exit_code, 0) << saved.Describe();

  const json run_json = json::parse(ReadFile(dir / "run.json"));
  const json a = json::parse(ReadFile(dir / "a.json"));
  const json b = json::parse(saved.out);
  EXPECT_EQ(a.at("format"), "octet-report");
  EXPECT_EQ(a.at("step").at("cycles"), run_json.at("total").at("cycles"));
  EXPECT_EQ(a.at("step").at("macs"), run_json.at("total").at("macs"));
  EXPECT_EQ(a.at("step").at("flag_macs"), run_json.at("total").at("flag_macs"));
  EXPECT_GT(a.at("step").at("flag_macs").get<int64_t>(), 0);  // wageubn8: flag E2
  EXPECT_EQ(a.at("step"), b.at("step"));
  EXPECT_EQ(a.at("layers"), b.at("layers"));
  // Every layer's phases add up to its total, the layers to the step.
  double energy = 0;
  for (const json& l : a.at("layers")) {
    double phases = 0;
    for (const auto& [name, p] : l.at("phases").items()) phases += p.at("energy_pj").at("total").get<double>();
    EXPECT_NEAR(phases, l.at("total").at("energy_pj").at("total").get<double>(), 1e-6 * phases);
    energy += phases;
  }
  const double step = a.at("step").at("energy_pj").at("total").get<double>();
  EXPECT_NEAR(energy, step, 1e-9 * step);
  EXPECT_NEAR(a.at("step").at("pj_per_mac").get<double>() * a.at("step").at("tops_per_w").get<double>(), 2.0, 1e-9);

  // wageubn16 has no flag MACs; its 16-bit SQ errors run the backward GEMMs twice.
  const CommandResult sq16 = Octet({"report", "tiny-resnet", "--scheme", "wageubn16", "--no-area", "--format", "json"});
  ASSERT_EQ(sq16.exit_code, 0) << sq16.Describe();
  const json c = json::parse(sq16.out);
  EXPECT_EQ(c.at("step").at("flag_macs"), 0);
  EXPECT_GT(c.at("step").at("pe_macs").get<int64_t>(), c.at("step").at("macs").get<int64_t>());
}

TEST(ReportCli, CsvFormats) {
  const CommandResult r = Octet({"report", "tiny-resnet", "--no-area", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  const auto rows = r.out_lines();
  ASSERT_GT(rows.size(), 7u);
  EXPECT_EQ(rows[0].rfind("layer,phase,cycles,", 0), 0u) << rows[0];
  EXPECT_EQ(rows.back().rfind("step,total,", 0), 0u) << rows.back();
  const CommandResult area = Octet({"report", "tiny-resnet", "--no-area", "--format", "area-csv"});
  ASSERT_EQ(area.exit_code, 0) << area.Describe();
  EXPECT_EQ(area.out, "item,block,instances,nand2_eq,kib,mm2,percent,note\n");
}

// Extracts the text of <pre id="measured"> from Chromium's dumped DOM.
std::string MeasuredText(const std::string& dom) {
  const std::string open = "<pre id=\"measured\">";
  const size_t at = dom.find(open);
  if (at == std::string::npos) return "";
  return dom.substr(at + open.size(), dom.find("</pre>", at) - at - open.size());
}

// The first of `names` on PATH, or "".
std::string FindOnPath(const std::vector<std::string>& names) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::vector<std::string> folders;
  for (std::string d; std::getline(dirs, d, ':');) folders.push_back(d);
  for (const auto& name : names)
    for (const auto& d : folders)
      if (!d.empty() && access((fs::path(d) / name).c_str(), X_OK) == 0) return (fs::path(d) / name).string();
  return "";
}

// `octet run --report DIR` on a 4 x 4 array with its area; the HTML opened in headless
// Chromium: each chart is drawn with a non-zero size and as many non-empty bars as the
// report has layers, energy components and area items.
TEST(ReportCli, RunReportDirectoryRendersInChromium) {
  const std::string chromium = FindOnPath({"chromium", "chromium-browser"});
  ASSERT_FALSE(chromium.empty()) << "chromium not found on PATH: the HTML report is tested by rendering it in headless "
                                    "Chromium (install Debian's chromium package: scripts/install-deps)";
  ScratchDir dir;
  const std::string report = dir / "report";
  const CommandResult r =
      Octet({"run", "tiny-resnet", "--config", SmallConfig(dir), "--report", report, "--area-cache", AreaCache()});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  for (const char* f : {"report.html", "report.json", "report.csv", "report-area.csv"}) {
    EXPECT_TRUE(fs::is_regular_file(fs::path(report) / f)) << f;
    EXPECT_NE(r.out.find("report: " + (fs::path(report) / f).string() + "\n"), std::string::npos) << f << r.Describe();
  }
  EXPECT_EQ(ListFiles(report).size(), 4u) << "no temporary files left";
  EXPECT_LT(r.out.find("octet run: "), r.out.find("octet report: ")) << "the run's own table comes first";
  EXPECT_NE(r.out.find("octet report: built-in network tiny-resnet"), std::string::npos) << r.Describe();

  const json j = json::parse(ReadFile(fs::path(report) / "report.json"));
  ASSERT_TRUE(j.at("area").is_object()) << j.dump(2);
  const json& items = j.at("area").at("items");
  double total = 0;
  for (const json& i : items) total += i.at("mm2").get<double>();
  EXPECT_NEAR(total, j.at("area").at("total_mm2").get<double>(), 1e-12);
  EXPECT_EQ(items.at(0).at("name"), "array");
  EXPECT_EQ(items.at(0).at("block"), "octet_systolic_array 4x4");
  EXPECT_GT(items.at(0).at("mm2").get<double>(), 0);
  for (const json& i : items) {
    if (i.at("name") == "act_buffer") EXPECT_DOUBLE_EQ(i.at("kib").get<double>(), 64);
  }
  const size_t layers = j.at("layers").size();

  // The page with a measuring script appended (the report itself has none).
  std::string html = ReadFile(fs::path(report) / "report.html");
  const std::string script = R"(<script>
const out = [];
for (const id of ['chart-cycles', 'chart-energy', 'chart-area']) {
  const svg = document.getElementById(id);
  if (!svg) { out.push(id + ' missing'); continue; }
  const box = svg.getBoundingClientRect();
  let bars = 0;
  for (const r of svg.querySelectorAll('rect')) {
    const b = r.getBoundingClientRect();
    if (b.width > 0 && b.height > 0) bars++;
  }
  out.push(id + ' ' + Math.round(box.width) + ' ' + Math.round(box.height) + ' ' + bars);
}
const pre = document.createElement('pre');
pre.id = 'measured';
pre.textContent = out.join(';');
document.body.appendChild(pre);
</script>
)";
  html.insert(html.rfind("</body>"), script);
  WriteFile(dir / "measure.html", html);
  const auto start = std::chrono::steady_clock::now();
  const CommandResult page = RunProgram({chromium, "--headless", "--no-sandbox", "--disable-gpu",
                                         "--user-data-dir=" + dir / "chromium-profile", "--dump-dom",
                                         "file://" + dir / "measure.html"});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(page.exit_code, 0) << page.Describe();
  RecordProperty("chromium_seconds", std::to_string(seconds));
  const std::string measured = MeasuredText(page.out);
  ASSERT_FALSE(measured.empty()) << "no measurement in the DOM\n" << page.out.substr(0, 2000);

  std::map<std::string, std::array<int, 3>> charts;
  const std::regex entry(R"((chart-\w+) (\d+) (\d+) (\d+))");
  for (auto it = std::sregex_iterator(measured.begin(), measured.end(), entry); it != std::sregex_iterator(); ++it)
    charts[(*it)[1]] = {std::stoi((*it)[2]), std::stoi((*it)[3]), std::stoi((*it)[4])};
  ASSERT_EQ(charts.size(), 3u) << measured;
  for (const auto& [id, m] : charts) {
    EXPECT_GT(m[0], 100) << id << " width";
    EXPECT_GT(m[1], 50) << id << " height";
  }
  // Cycles: a segment per layer and non-empty phase (at least forward, bn, quantize and
  // update for every layer) plus six legend swatches.
  EXPECT_GE(charts["chart-cycles"][2], static_cast<int>(4 * layers + 6)) << measured;
  // Energy: one bar per component but leakage (the idle ones may be empty) plus the legend.
  EXPECT_GE(charts["chart-energy"][2], 10) << measured;
  // Area: every item with an area (all but max_abs) plus two legend swatches.
  EXPECT_EQ(charts["chart-area"][2], static_cast<int>(items.size()) - 1 + 2) << measured;
}

// --- Errors ---------------------------------------------------------------------------

// The run fails with one line naming `mentions`; nothing is left in dir/out.
void ExpectReportError(const ScratchDir& dir, std::vector<std::string> args, const std::vector<std::string>& mentions) {
  const fs::path out = dir.path() / "out";
  fs::create_directories(out);
  const CommandResult r = Octet(args);
  ExpectCliError(r, mentions);
  EXPECT_EQ(r.out, "") << r.Describe();
  for (const auto& f : ListFiles(out)) ADD_FAILURE() << "left behind: " << f << "\n" << r.Describe();
}

TEST(ReportCliErrors, BadTechTable) {
  ScratchDir dir;
  const std::string out = dir / "out/r.html";
  ExpectReportError(dir, {"report", "tiny-resnet", "--no-area", "--tech", dir / "none.json", "--out", out},
                    {dir / "none.json"});
  json table = json::parse(ReadFile(Source("sim/report/tech/45nm.json")));
  table.erase("dram_pj_per_byte");
  WriteFile(dir / "t.json", table.dump());
  ExpectReportError(dir, {"report", "tiny-resnet", "--no-area", "--tech", dir / "t.json", "--out", out},
                    {dir / "t.json", "dram_pj_per_byte", "missing"});
  // octet run --report loads the table before simulating, and writes no report.
  ExpectReportError(dir, {"run", "tiny-resnet", "--report", dir / "out/rep", "--tech", dir / "t.json"},
                    {dir / "t.json", "dram_pj_per_byte"});
}

TEST(ReportCliErrors, BadTargetAndSavedRun) {
  ScratchDir dir;
  ExpectReportError(dir, {"report", dir / "missing.csv", "--no-area"}, {dir / "missing.csv"});
  WriteFile(dir / "run.json", R"({"format": "octet-run", "config": {}, "cycles": 5})");
  ExpectReportError(dir, {"report", dir / "run.json", "--no-area"}, {dir / "run.json", "layers"});
}

TEST(ReportCliErrors, ArrayTooLargeToSynthesise) {
  ScratchDir dir;
  WriteFile(dir / "big.json", R"({"name": "big", "array": {"rows": 512, "cols": 512}})");
  ExpectReportError(dir, {"report", "tiny-resnet", "--config", dir / "big.json"}, {"512x512", "--no-area"});
}

TEST(ReportCliErrors, UnknownFormat) {
  const CommandResult r = Octet({"report", "tiny-resnet", "--format", "pdf"});
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.err.find("pdf"), std::string::npos) << r.Describe();
}

TEST(ReportCli, HelpListsTheOptions) {
  const CommandResult r = RunOctet({"report", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  for (const char* option :
       {"target", "--config", "--scheme", "--batch", "--tech", "--no-area", "--area-cache", "--format", "--out"})
    EXPECT_NE(r.out.find(option), std::string::npos) << option << "\n" << r.Describe();
  const CommandResult run = RunOctet({"run", "--help"});
  for (const char* option : {"--report", "--tech", "--no-area"})
    EXPECT_NE(run.out.find(option), std::string::npos) << option << "\n" << run.Describe();
}

}  // namespace
}  // namespace octet::testing
