#include "sim/report/report_html.h"

#include <algorithm>

#include <fmt/format.h>

#include "sim/report/html_page.h"
#include "sim/report/svg_chart.h"

namespace octet::report {
namespace {

// One colour per phase, per energy group: readable on white, distinct in print.
constexpr const char* kPhaseColours[model::kPhaseCount] = {"#4e79a7", "#f28e2b", "#e15759",
                                                           "#76b7b2", "#59a14f", "#b07aa1"};

const char* GroupColour(const std::string& group) {
  if (group == "array") return "#4e79a7";
  if (group == "vector units") return "#f28e2b";
  if (group == "buffers") return "#59a14f";
  if (group == "DRAM") return "#e15759";
  return "#9c755f";
}

std::string Ratio(double value, const char* spec) { return value > 0 ? fmt::format(fmt::runtime(spec), value) : "-"; }

std::string CyclesChart(const Report& r) {
  std::vector<Bar> bars;
  for (const LayerReport& l : r.layers) {
    Bar bar{l.name, {}, fmt::format("{} cycles", GroupedNumber(l.total.counters.cycles))};
    for (int p = 0; p < model::kPhaseCount; ++p)
      bar.segments.push_back({static_cast<double>(l.phases[p].counters.cycles), kPhaseColours[p],
                              fmt::format("{} {}: {} cycles", l.name, l.phases[p].phase, GroupedNumber(l.phases[p].counters.cycles))});
    bars.push_back(bar);
  }
  std::vector<LegendEntry> legend;
  for (int p = 0; p < model::kPhaseCount; ++p)
    legend.push_back({model::PhaseName(static_cast<model::Phase>(p)), kPhaseColours[p]});
  return BarChart("chart-cycles", "Cycles per layer and phase", bars, legend);
}

std::string EnergyChart(const Report& r) {
  const std::vector<double> percent = r.EnergyPercent();
  std::vector<Bar> bars;
  std::vector<LegendEntry> legend;
  for (int i = 0; i < kEnergyComponentCount; ++i) {
    const auto c = static_cast<EnergyComponent>(i);
    if (c == EnergyComponent::kLeakage && !r.leakage_modelled) continue;
    const std::string group = EnergyComponentGroup(c);
    const double pj = r.step.energy.pj[i];
    bars.push_back({EnergyComponentName(c),
                    {{pj, GroupColour(group), fmt::format("{}: {:.1f} nJ, {:.2f} %", EnergyComponentName(c), pj * 1e-3, percent[i])}},
                    fmt::format("{:.1f} nJ ({:.1f} %)", pj * 1e-3, percent[i])});
    if (std::none_of(legend.begin(), legend.end(), [&](const LegendEntry& e) { return e.label == group; }))
      legend.push_back({group, GroupColour(group)});
  }
  return BarChart("chart-energy", "Energy of the training step by component", bars, legend);
}

std::string AreaChart(const AreaBreakdown& area) {
  const double total = area.TotalMm2();
  std::vector<Bar> bars;
  for (const AreaItem& a : area.items) {
    const bool sram = a.kib > 0;
    const double percent = total > 0 ? 100 * a.mm2 / total : 0;
    bars.push_back({a.name,
                    {{a.mm2, sram ? "#59a14f" : "#4e79a7", fmt::format("{}: {:.4f} mm2, {:.1f} %", a.name, a.mm2, percent)}},
                    fmt::format("{:.3f} mm2 ({:.1f} %)", a.mm2, percent)});
  }
  return BarChart("chart-area", "Area by block", bars, {{"logic (synthesised)", "#4e79a7"}, {"SRAM buffers", "#59a14f"}});
}

std::string LayerTable(const Report& r) {
  std::string html =
      "<table id=\"table-layers\"><thead><tr><th>layer</th><th>phase</th><th>cycles</th><th>stall</th><th>time (us)</th>"
      "<th>util %</th><th>MACs</th><th>energy (nJ)</th><th>pJ/MAC</th><th>power (W)</th><th>TOPS/W</th></tr></thead><tbody>\n";
  auto row = [&](const ReportRow& x, const char* css) {
    const Metrics& m = x.metrics;
    html += fmt::format("<tr class=\"{}\">", css) + HtmlCell(x.layer, false) + HtmlCell(x.phase, false) + HtmlCell(GroupedNumber(x.counters.cycles)) +
            HtmlCell(GroupedNumber(x.counters.stall_cycles)) + HtmlCell(fmt::format("{:.2f}", m.seconds * 1e6)) +
            HtmlCell(fmt::format("{:.1f}", 100 * m.utilisation)) + HtmlCell(GroupedNumber(x.counters.macs)) +
            HtmlCell(fmt::format("{:.1f}", m.energy_pj * 1e-3)) + HtmlCell(Ratio(m.pj_per_mac, "{:.3f}")) +
            HtmlCell(Ratio(m.power_w, "{:.3f}")) + HtmlCell(Ratio(m.tops_per_w, "{:.3f}")) + "</tr>\n";
  };
  for (const LayerReport& l : r.layers) {
    for (const ReportRow& p : l.phases) row(p, "phase");
    row(l.total, "layer-total");
  }
  row(r.step, "step-total");
  return html + "</tbody></table>\n";
}

std::string EnergyTable(const Report& r) {
  const std::vector<double> percent = r.EnergyPercent();
  std::string html =
      "<table id=\"table-energy\"><thead><tr><th>component</th><th>group</th><th>energy (nJ)</th><th>%</th></tr></thead><tbody>\n";
  for (int i = 0; i < kEnergyComponentCount; ++i) {
    const auto c = static_cast<EnergyComponent>(i);
    if (c == EnergyComponent::kLeakage && !r.leakage_modelled) continue;
    html += "<tr>" + HtmlCell(EnergyComponentName(c), false) + HtmlCell(EnergyComponentGroup(c), false) +
            HtmlCell(fmt::format("{:.1f}", r.step.energy.pj[i] * 1e-3)) + HtmlCell(fmt::format("{:.2f}", percent[i])) + "</tr>\n";
  }
  html += "<tr class=\"step-total\">" + HtmlCell("total", false) + HtmlCell("", false) +
          HtmlCell(fmt::format("{:.1f}", r.step.metrics.energy_pj * 1e-3)) + HtmlCell("100.00") + "</tr>\n";
  return html + "</tbody></table>\n";
}

std::string ActionTable(const Report& r) {
  const ActionEnergies& a = r.actions;
  std::string html = "<table id=\"table-actions\"><thead><tr><th>action</th><th>energy</th></tr></thead><tbody>\n";
  auto row = [&](const std::string& action, const std::string& energy) {
    html += "<tr>" + HtmlCell(action, false) + HtmlCell(energy) + "</tr>\n";
  };
  row("MAC (8-bit operands)", fmt::format("{:.4f} pJ", a.mac_pj));
  row("MAC (9-bit flag operand)", fmt::format("{:.4f} pJ", a.flag_mac_pj));
  for (int u = 0; u < model::kUnitCount; ++u)
    row(fmt::format("{} element", model::UnitName(static_cast<model::UnitId>(u))), fmt::format("{:.4f} pJ", a.unit_element_pj[u]));
  row("update element outside the update phase (Q_W, Q of BN gradients)", fmt::format("{:.4f} pJ", a.update_quantize_pj));
  for (int b = 0; b < model::kBufferCount; ++b)
    row(fmt::format("{} buffer read / write, per bit", model::BufferName(static_cast<model::BufferId>(b))),
        fmt::format("{:.4f} / {:.4f} pJ", a.buffer_read_pj_per_bit[b], a.buffer_write_pj_per_bit[b]));
  row("DRAM, per byte", fmt::format("{:.2f} pJ", a.dram_pj_per_byte));
  row("leakage", r.leakage_modelled ? fmt::format("{:.4f} W", a.leakage_w) : "not modelled");
  return html + "</tbody></table>\n";
}

std::string AreaTable(const AreaBreakdown& area) {
  const double total = area.TotalMm2();
  std::string html =
      "<table id=\"table-area\"><thead><tr><th>item</th><th>block</th><th>instances</th><th>NAND2 eq</th><th>KiB</th>"
      "<th>mm2</th><th>%</th><th>note</th></tr></thead><tbody>\n";
  for (const AreaItem& a : area.items)
    html += "<tr>" + HtmlCell(a.name, false) + HtmlCell(a.block, false) + HtmlCell(GroupedNumber(a.instances)) +
            HtmlCell(fmt::format("{:.1f}", a.nand2_eq)) + HtmlCell(a.kib > 0 ? fmt::format("{}", a.kib) : "") +
            HtmlCell(fmt::format("{:.4f}", a.mm2)) + HtmlCell(fmt::format("{:.2f}", total > 0 ? 100 * a.mm2 / total : 0.0)) +
            HtmlCell(a.note, false) + "</tr>\n";
  html += "<tr class=\"step-total\">" + HtmlCell("total", false) + HtmlCell("", false) + HtmlCell("") + HtmlCell("") + HtmlCell("") +
          HtmlCell(fmt::format("{:.4f}", total)) + HtmlCell("100.00") + HtmlCell("", false) + "</tr>\n";
  return html + "</tbody></table>\n";
}

}  // namespace

std::string ReportHtml(const Report& r) {
  const model::ArchConfig& cfg = r.config;
  const Metrics& m = r.step.metrics;
  std::string html;
  html += fmt::format("<h1>Octet report: {}</h1>\n", HtmlEscape(r.info.network));
  html += "<dl class=\"summary\">\n";
  auto item = [&](const std::string& key, const std::string& value) {
    html += fmt::format("<dt>{}</dt><dd>{}</dd>\n", HtmlEscape(key), HtmlEscape(value));
  };
  item("source", fmt::format("{} ({})", r.info.source, r.info.mode));
  item("scheme", r.info.scheme);
  item("architecture", fmt::format("{}: {}x{} array, {}, {} MHz, buffers {}/{}/{}/{} KiB (act/weight/error/output)",
                                   cfg.name, cfg.array_rows, cfg.array_cols, model::DataflowName(cfg.dataflow),
                                   cfg.clock_mhz, cfg.act_buffer_kib, cfg.weight_buffer_kib, cfg.error_buffer_kib,
                                   cfg.output_buffer_kib));
  item("technology", fmt::format("{} ({})", r.tech_name, r.tech_origin));
  item("cycles", fmt::format("{} ({:.3f} ms)", GroupedNumber(r.step.counters.cycles), m.seconds * 1e3));
  item("MACs", fmt::format("{} (array utilisation {:.1f} %)", GroupedNumber(r.step.counters.macs), 100 * m.utilisation));
  item("energy", fmt::format("{:.3f} uJ", m.energy_pj * 1e-6));
  item("average power", Ratio(m.power_w, "{:.3f} W"));
  item("pJ per MAC", Ratio(m.pj_per_mac, "{:.3f}"));
  item("TOPS/W", Ratio(m.tops_per_w, "{:.3f}"));
  item("area", r.area ? fmt::format("{:.3f} mm2", r.area->TotalMm2()) : "not computed (--no-area)");
  html += "</dl>\n";

  html += "<h2>Cycles per layer and phase</h2>\n" + CyclesChart(r);
  html += "<h2>Energy by component</h2>\n" + EnergyChart(r) + EnergyTable(r);
  if (!r.leakage_modelled) html += "<p>Leakage is not modelled: the technology table has no leakage figure.</p>\n";
  html += "<h2>Area by block</h2>\n";
  if (r.area)
    html += AreaChart(*r.area) + AreaTable(*r.area);
  else
    html += "<p>Not computed (--no-area).</p>\n";
  html += "<h2>Per layer and phase</h2>\n" + LayerTable(r);
  html += "<h2>Energy per action</h2>\n" + ActionTable(r);
  html += "<p>Model and sources: docs/energy-area.md.</p>\n";
  return HtmlPage(fmt::format("Octet report: {}", r.info.network), html);
}

}  // namespace octet::report
