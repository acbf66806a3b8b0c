// The report's writers: CSV rows and columns, JSON figures equal to the report's, the
// table's "-" for ratios without a denominator, and HTML escaping and chart structure
// (the rendered page is checked in headless Chromium by report_cli_test.cpp).
#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/report/report.h"
#include "sim/report/report_html.h"
#include "sim/report/report_writers.h"

namespace octet::report {
namespace {

using nlohmann::json;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Two layers, one with a name that needs escaping in HTML and quoting in CSV.
Report SampleReport(bool with_area) {
  model::StepResult r;
  r.config.array_rows = r.config.array_cols = 4;
  for (const char* name : {"block1.conv1", "odd<name>&\"x\",y"}) {
    model::LayerStats layer;
    layer.name = name;
    for (int p = 0; p < model::kPhaseCount; ++p) {
      model::Counters& c = layer.phases[p];
      c.cycles = 1000 + 100 * p;
      if (p == 0 || p == 3 || p == 4) c.macs = c.pe_macs = 5000;
      if (p == 3) c.flag_macs = 5000;
      c.unit_elements[static_cast<int>(model::UnitId::kBn)] = 64;
      c.buffer_read_bits[0] = 8192;
      c.dram_read_bytes = 256;
    }
    r.total += layer.Total();
    r.layers.push_back(layer);
  }
  r.cycles = r.total.cycles;
  std::optional<AreaBreakdown> area;
  if (with_area) {
    area = AreaBreakdown{{{"array", "octet_systolic_array 4x4", 1, 34000, 0, 0.027, "16 PEs"},
                          {"act_buffer", "SRAM", 1, 0, 512, 2.07, "both halves"}},
                         "45nm"};
  }
  return BuildReport(r, {"tiny <net>", "shape-only", "tiny-resnet", "wageubn8"}, LoadTechTable("45nm"), area);
}

TEST(ReportWriters, CsvHasOneRowPerLayerPhaseAndConstantColumns) {
  const Report r = SampleReport(false);
  const std::vector<std::string> rows = Lines(ReportCsv(r));
  ASSERT_EQ(rows.size(), 1 + 2 * (model::kPhaseCount + 1) + 1);
  EXPECT_EQ(rows[0].rfind("layer,phase,cycles,stall_cycles,seconds,utilisation,macs,pe_macs,flag_macs,energy_pj,mac_pj,"
                          "flag_mac_pj,",
                          0),
            0u)
      << rows[0];
  EXPECT_NE(rows[0].find(",dram_pj,leakage_pj,power_w,pj_per_mac,tops_per_w"), std::string::npos) << rows[0];
  // The quoted layer name holds two commas of its own.
  const size_t columns = std::count(rows[0].begin(), rows[0].end(), ',');
  for (size_t i = 1; i < rows.size(); ++i) {
    const bool quoted = rows[i].rfind("\"odd", 0) == 0;
    EXPECT_EQ(static_cast<size_t>(std::count(rows[i].begin(), rows[i].end(), ',')), columns + (quoted ? 1 : 0)) << rows[i];
  }
  EXPECT_EQ(rows[1].rfind("block1.conv1,forward,1000,", 0), 0u) << rows[1];
  EXPECT_EQ(rows[8].rfind("\"odd<name>&\"\"x\"\",y\",forward,", 0), 0u) << rows[8];
  EXPECT_EQ(rows.back().rfind("step,total,", 0), 0u) << rows.back();
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
}

TEST(ReportWriters, JsonCarriesTheReportsFigures) {
  const Report r = SampleReport(true);
  const json j = json::parse(ReportJson(r).dump());
  EXPECT_EQ(j.at("format"), "octet-report");
  EXPECT_EQ(j.at("tech").at("name"), "45nm");
  EXPECT_EQ(j.at("layers").size(), 2u);
  EXPECT_EQ(j.at("step").at("cycles"), r.step.counters.cycles);
  EXPECT_DOUBLE_EQ(j.at("step").at("energy_pj").at("total").get<double>(), r.step.metrics.energy_pj);
  EXPECT_DOUBLE_EQ(j.at("step").at("energy_pj").at("flag_mac").get<double>(), r.step.energy[EnergyComponent::kFlagMac]);
  EXPECT_DOUBLE_EQ(j.at("step").at("tops_per_w").get<double>(), r.step.metrics.tops_per_w);
  double percent = 0;
  for (const auto& [name, p] : j.at("step").at("energy_percent").items()) percent += p.get<double>();
  EXPECT_NEAR(percent, 100, 1e-9);
  const json& layer = j.at("layers").at(1);
  EXPECT_EQ(layer.at("name"), "odd<name>&\"x\",y");
  EXPECT_EQ(layer.at("phases").size(), static_cast<size_t>(model::kPhaseCount));
  EXPECT_DOUBLE_EQ(layer.at("phases").at("error").at("energy_pj").at("flag_mac").get<double>(),
                   5000 * r.actions.flag_mac_pj);
  EXPECT_DOUBLE_EQ(j.at("energy_per_action").at("mac_pj").get<double>(), 0.35);
  EXPECT_FALSE(j.at("leakage_modelled").get<bool>());
  EXPECT_NEAR(j.at("area").at("total_mm2").get<double>(), 0.027 + 2.07, 1e-12);
  EXPECT_EQ(j.at("area").at("items").size(), 2u);
  EXPECT_TRUE(json::parse(ReportJson(SampleReport(false)).dump()).at("area").is_null());
}

TEST(ReportWriters, TablePrintsDashForRatiosWithoutMacs) {
  const Report r = SampleReport(false);
  const std::vector<std::string> lines = FormatReportTable(r);
  ASSERT_GT(lines.size(), 20u);
  bool bn_row = false;
  for (const auto& line : lines) {
    if (line.rfind("block1.conv1         bn ", 0) != 0) continue;
    bn_row = true;
    EXPECT_NE(line.find(" - "), std::string::npos) << line;
  }
  EXPECT_TRUE(bn_row);
  EXPECT_EQ(lines.back().rfind("step: ", 0), 0u) << lines.back();
  EXPECT_NE(std::find(lines.begin(), lines.end(), "area: not computed (--no-area)"), lines.end());
}

TEST(ReportWriters, HtmlIsSelfContainedEscapedWithThreeCharts) {
  const std::string html = ReportHtml(SampleReport(true));
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  for (const char* id : {"chart-cycles", "chart-energy", "chart-area"}) {
    const size_t at = html.find(std::string("<svg id=\"") + id + "\"");
    ASSERT_NE(at, std::string::npos) << id;
    const size_t end = html.find("</svg>", at);
    const std::string svg = html.substr(at, end - at);
    EXPECT_NE(svg.find("aria-label=\""), std::string::npos) << id;
    EXPECT_NE(svg.find("<title>"), std::string::npos) << id;
    EXPECT_GT(Count(svg, "<rect "), 1u) << id;
  }
  // The cycles chart: a segment per layer and phase (all non-zero here) plus the legend.
  const size_t cycles = html.find("<svg id=\"chart-cycles\"");
  EXPECT_EQ(Count(html.substr(cycles, html.find("</svg>", cycles) - cycles), "<rect "), 2u * model::kPhaseCount + model::kPhaseCount);
  // No script, no external resource: the only URL is the SVG namespace.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(Count(html, "http"), Count(html, "http://www.w3.org/2000/svg"));
  // User text is escaped.
  EXPECT_EQ(html.find("odd<name>"), std::string::npos);
  EXPECT_NE(html.find("odd&lt;name&gt;&amp;&quot;x&quot;,y"), std::string::npos);
  EXPECT_NE(html.find("tiny &lt;net&gt;"), std::string::npos);
  EXPECT_EQ(HtmlEscape("<a href='x'>&</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;");
  // Without an area the area chart is absent and says why.
  const std::string no_area = ReportHtml(SampleReport(false));
  EXPECT_EQ(no_area.find("chart-area"), std::string::npos);
  EXPECT_NE(no_area.find("Not computed (--no-area)"), std::string::npos);
}

}  // namespace
}  // namespace octet::report
