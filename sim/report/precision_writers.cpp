// Writers of the precision comparison (sim/report/precision.h): table, CSV, JSON, HTML.
#include <fmt/format.h>

#include "sim/report/precision.h"
#include "sim/report/html_page.h"
#include "sim/report/svg_chart.h"

namespace octet::report {
namespace {

using nlohmann::json;

// A ratio to the plain INT8 row; "-" when either side is 0 (no area).
double Relative(double value, double int8) { return int8 > 0 && value > 0 ? value / int8 : 0; }
std::string RelativeText(double ratio) { return ratio > 0 ? fmt::format("{:.2f}", ratio) : "-"; }

std::string Summary(const PrecisionReport& r) {
  const model::ArchConfig& c = r.config;
  return fmt::format("{} ({}, {}), {} {}x{} array, buffers {}/{}/{}/{} KiB, technology {}", r.info.network,
                     r.info.mode, r.info.scheme, c.name, c.array_rows, c.array_cols, c.act_buffer_kib,
                     c.weight_buffer_kib, c.error_buffer_kib, c.output_buffer_kib, r.tech_name);
}

}  // namespace

std::vector<std::string> FormatPrecisionTable(const PrecisionReport& r) {
  std::vector<std::string> lines;
  lines.push_back("precision comparison: " + Summary(r));
  const PrecisionRow& int8 = r.Row("int8");
  const std::string head = "{:<9} {:>7} {:>9} {:>9} {:>8} {:>6} {:>6} | {:>10} {:>10} {:>10} {:>10} {:>10} {:>6} {:>9}";
  lines.push_back(fmt::format(fmt::runtime(head), "", "MAC", "MAC", "MAC", "pJ per", "energy", "area", "step", "compute",
                              "buffers", "DRAM", "vector", "step", "step area"));
  lines.push_back(fmt::format(fmt::runtime(head), "precision", "cells", "NAND2 eq", "um^2", "MAC", "xINT8", "xINT8",
                              "(uJ)", "(uJ)", "(uJ)", "(uJ)", "(uJ)", "xINT8", "(mm^2)"));
  for (const PrecisionRow& row : r.rows) {
    const bool area = r.has_area;
    lines.push_back(fmt::format(
        fmt::runtime(head), row.name, area ? fmt::format("{}", row.mac_cells) : "-",
        area ? fmt::format("{:.1f}", row.mac_nand2_eq) : "-", area ? fmt::format("{:.1f}", row.mac_um2) : "-",
        fmt::format("{:.3f}", row.mac_pj), RelativeText(Relative(row.mac_pj, int8.mac_pj)),
        RelativeText(Relative(row.mac_nand2_eq, int8.mac_nand2_eq)), fmt::format("{:.3f}", row.energy.Total() * 1e-6),
        fmt::format("{:.3f}", row.energy.compute * 1e-6), fmt::format("{:.3f}", row.energy.buffers * 1e-6),
        fmt::format("{:.3f}", row.energy.dram * 1e-6), fmt::format("{:.3f}", row.energy.vector * 1e-6),
        RelativeText(Relative(row.energy.Total(), int8.energy.Total())),
        area ? fmt::format("{:.3f}", row.area.Total()) : "-"));
  }
  lines.push_back("formats and MAC energies:");
  for (const PrecisionRow& row : r.rows)
    lines.push_back(fmt::format("  {:<6} {}; {}; {} ({} MACs in the step)", row.name, row.format, row.block,
                                row.mac_recipe, row.step_macs));
  lines.push_back(
      "step: the same counters; the MAC re-priced; in the GEMM phases the act/weight/error buffer bits and DRAM bytes "
      "x operand bits/8 and the output buffer bits x accumulator bits/48; buffers hold the same elements "
      "(docs/energy-area.md, \"Precision comparison (Fig. 10)\")");
  if (!r.has_area) lines.push_back("area: not computed (--no-area)");
  return lines;
}

std::string PrecisionCsv(const PrecisionReport& r) {
  std::string s =
      "precision,op_bits,acc_bits,mac_block,mac_cells,mac_flip_flops,mac_nand2_eq,mac_um2,mac_pj,mac_pj_vs_int8,"
      "mac_area_vs_int8,step_macs,step_energy_pj,compute_pj,vector_pj,buffers_pj,dram_pj,step_energy_vs_int8,"
      "array_mm2,units_mm2,buffers_mm2,step_area_mm2\n";
  const PrecisionRow& int8 = r.Row("int8");
  for (const PrecisionRow& row : r.rows) {
    const bool a = r.has_area;
    s += fmt::format("{},{},{},{},{},{},{},{},{:.6g},{:.6g},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{},{},{},{}\n",
                     row.name, row.op_bits, row.acc_bits, row.block, a ? std::to_string(row.mac_cells) : "",
                     a ? std::to_string(row.mac_flip_flops) : "", a ? fmt::format("{:.4f}", row.mac_nand2_eq) : "",
                     a ? fmt::format("{:.4f}", row.mac_um2) : "", row.mac_pj, Relative(row.mac_pj, int8.mac_pj),
                     a ? fmt::format("{:.6g}", Relative(row.mac_nand2_eq, int8.mac_nand2_eq)) : "", row.step_macs,
                     row.energy.Total(), row.energy.compute, row.energy.vector, row.energy.buffers, row.energy.dram,
                     Relative(row.energy.Total(), int8.energy.Total()), a ? fmt::format("{:.6g}", row.area.array) : "",
                     a ? fmt::format("{:.6g}", row.area.units) : "", a ? fmt::format("{:.6g}", row.area.buffers) : "",
                     a ? fmt::format("{:.6g}", row.area.Total()) : "");
  }
  return s;
}

json PrecisionJson(const PrecisionReport& r) {
  json j;
  j["format"] = "octet-precision";
  j["source"] = r.info.source;
  j["mode"] = r.info.mode;
  j["network"] = r.info.network;
  j["scheme"] = r.info.scheme;
  j["config"] = r.config.name;
  j["array"] = {{"rows", r.config.array_rows}, {"cols", r.config.array_cols}};
  j["tech"] = r.tech_name;
  j["area"] = r.has_area;
  if (r.has_area) j["yosys"] = r.yosys_version;
  j["rows"] = json::array();
  for (const PrecisionRow& row : r.rows) {
    json x = {{"precision", row.name},
              {"label", row.label},
              {"format", row.format},
              {"op_bits", row.op_bits},
              {"acc_bits", row.acc_bits},
              {"mac_pj", row.mac_pj},
              {"mac_recipe", row.mac_recipe},
              {"step_macs", row.step_macs},
              {"buffer_kib", {{"act", row.buffer_kib[0]}, {"weight", row.buffer_kib[1]},
                              {"error", row.buffer_kib[2]}, {"output", row.buffer_kib[3]}}},
              {"step_energy_pj", {{"total", row.energy.Total()}, {"compute", row.energy.compute},
                                  {"vector", row.energy.vector}, {"buffers", row.energy.buffers},
                                  {"dram", row.energy.dram}}}};
    if (r.has_area) {
      x["mac"] = {{"block", row.block},
                  {"cells", row.mac_cells},
                  {"flip_flops", row.mac_flip_flops},
                  {"nand2_eq", row.mac_nand2_eq},
                  {"um2", row.mac_um2}};
      x["step_area_mm2"] = {{"total", row.area.Total()}, {"array", row.area.array}, {"units", row.area.units},
                            {"buffers", row.area.buffers}};
    }
    j["rows"].push_back(x);
  }
  return j;
}

std::string PrecisionHtml(const PrecisionReport& r) {
  const std::string title = "Octet precision comparison: " + r.info.network;
  std::string html = fmt::format("<h1>{}</h1>\n<p>{}</p>\n", HtmlEscape(title), HtmlEscape(Summary(r)));
  auto bars = [&](auto value, auto text, const char* colour) {
    std::vector<Bar> out;
    for (const PrecisionRow& row : r.rows) {
      const double v = value(row);
      out.push_back({row.label, {{v, colour, fmt::format("{}: {}", row.label, text(row))}}, text(row)});
    }
    return out;
  };
  html += "<h2>Per MAC</h2>\n";
  html += BarChart("chart-mac-energy", "Energy per MAC (pJ)",
                   bars([](const PrecisionRow& x) { return x.mac_pj; },
                        [](const PrecisionRow& x) { return fmt::format("{:.3f} pJ", x.mac_pj); }, "#4e79a7"),
                   {});
  if (r.has_area)
    html += BarChart("chart-mac-area", "Area of the MAC PE (NAND2 eq, Yosys)",
                     bars([](const PrecisionRow& x) { return x.mac_nand2_eq; },
                          [](const PrecisionRow& x) { return fmt::format("{:.0f} NAND2 eq", x.mac_nand2_eq); },
                          "#59a14f"),
                     {});
  html += "<h2>Per training step</h2>\n";
  std::vector<Bar> energy;
  const char* colours[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759"};
  for (const PrecisionRow& row : r.rows) {
    const double parts[] = {row.energy.compute, row.energy.vector, row.energy.buffers, row.energy.dram};
    const char* names[] = {"compute", "vector units", "buffers", "DRAM"};
    Bar bar{row.label, {}, fmt::format("{:.3f} uJ", row.energy.Total() * 1e-6)};
    for (int i = 0; i < 4; ++i)
      bar.segments.push_back({parts[i], colours[i], fmt::format("{} {}: {:.3f} uJ", row.label, names[i], parts[i] * 1e-6)});
    energy.push_back(bar);
  }
  html += BarChart("chart-step-energy", "Energy of the training step", energy,
                   {{"compute", colours[0]}, {"vector units", colours[1]}, {"buffers", colours[2]}, {"DRAM", colours[3]}});
  if (r.has_area) {
    std::vector<Bar> area;
    for (const PrecisionRow& row : r.rows) {
      area.push_back({row.label,
                      {{row.area.array, colours[0], fmt::format("{} array: {:.3f} mm2", row.label, row.area.array)},
                       {row.area.units, colours[1], fmt::format("{} vector units: {:.3f} mm2", row.label, row.area.units)},
                       {row.area.buffers, colours[2], fmt::format("{} buffers: {:.3f} mm2", row.label, row.area.buffers)}},
                      fmt::format("{:.3f} mm2", row.area.Total())});
    }
    html += BarChart("chart-step-area", "Area of the accelerator", area,
                     {{"array", colours[0]}, {"vector units", colours[1]}, {"buffers", colours[2]}});
  }
  html += "<h2>Table</h2>\n<table id=\"table-precision\"><thead><tr>";
  const std::vector<std::string> csv_lines = [&] {
    std::vector<std::string> v;
    const std::string csv = PrecisionCsv(r);
    size_t start = 0;
    for (size_t end; (end = csv.find('\n', start)) != std::string::npos; start = end + 1) v.push_back(csv.substr(start, end - start));
    return v;
  }();
  // The CSV's fields (none holds a comma), as the table.
  auto cells = [](const std::string& line, const char* tag) {
    std::string out;
    size_t start = 0;
    while (true) {
      const size_t end = line.find(',', start);
      out += fmt::format("<{0}>{1}</{0}>", tag, HtmlEscape(line.substr(start, end - start)));
      if (end == std::string::npos) break;
      start = end + 1;
    }
    return out;
  };
  html += cells(csv_lines.front(), "th") + "</tr></thead><tbody>\n";
  for (size_t i = 1; i < csv_lines.size(); ++i) html += "<tr>" + cells(csv_lines[i], "td") + "</tr>\n";
  html += "</tbody></table>\n<ul>\n";
  for (const PrecisionRow& row : r.rows)
    html += fmt::format("<li><b>{}</b>: {}; MAC energy {}</li>\n", HtmlEscape(row.label), HtmlEscape(row.format),
                        HtmlEscape(row.mac_recipe));
  html += "</ul>\n<p>Model, formats and sources: docs/energy-area.md, \"Precision comparison (Fig. 10)\".</p>\n";
  return HtmlPage(title, html);
}

}  // namespace octet::report
