#include "sim/report/report_writers.h"

#include <fmt/format.h>

namespace octet::report {
namespace {

using nlohmann::ordered_json;

// "-" where a ratio has no denominator (Metrics leaves those at 0).
std::string Ratio(double value, const char* format_spec) {
  return value > 0 ? fmt::format(fmt::runtime(format_spec), value) : "-";
}

ordered_json RowJson(const ReportRow& row) {
  const model::Counters& c = row.counters;
  const Metrics& m = row.metrics;
  ordered_json j;
  j["cycles"] = c.cycles;
  j["stall_cycles"] = c.stall_cycles;
  j["seconds"] = m.seconds;
  j["utilisation"] = m.utilisation;
  j["macs"] = c.macs;
  j["pe_macs"] = c.pe_macs;
  j["flag_macs"] = c.flag_macs;
  ordered_json energy;
  energy["total"] = m.energy_pj;
  for (int i = 0; i < kEnergyComponentCount; ++i)
    energy[EnergyComponentName(static_cast<EnergyComponent>(i))] = row.energy.pj[i];
  j["energy_pj"] = energy;
  j["power_w"] = m.power_w;
  j["pj_per_mac"] = m.pj_per_mac;
  j["tops_per_w"] = m.tops_per_w;
  return j;
}

std::string CsvRow(const ReportRow& row) {
  const model::Counters& c = row.counters;
  const Metrics& m = row.metrics;
  std::string out = fmt::format("{},{},{},{},{},{},{},{},{},{}", CsvField(row.layer), row.phase, c.cycles, c.stall_cycles,
                                m.seconds, m.utilisation, c.macs, c.pe_macs, c.flag_macs, m.energy_pj);
  for (double pj : row.energy.pj) out += fmt::format(",{}", pj);
  out += fmt::format(",{},{},{}\n", m.power_w, m.pj_per_mac, m.tops_per_w);
  return out;
}

}  // namespace

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char ch : text) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return quoted + "\"";
}

std::vector<std::string> FormatReportTable(const Report& r) {
  const model::ArchConfig& cfg = r.config;
  std::vector<std::string> lines;
  lines.push_back(fmt::format("octet report: {} ({}), network {}, scheme {}", r.info.source, r.info.mode, r.info.network,
                              r.info.scheme));
  lines.push_back(fmt::format("architecture {}: {}x{} array, {}, {} MHz; technology {} ({})", cfg.name, cfg.array_rows,
                              cfg.array_cols, model::DataflowName(cfg.dataflow), cfg.clock_mhz, r.tech_name,
                              r.tech_origin));
  const char* row_format = "{:<20} {:<12} {:>12} {:>11} {:>6} {:>14} {:>13} {:>7} {:>9} {:>7}";
  const std::string header = fmt::format(fmt::runtime(row_format), "layer", "phase", "cycles", "time (us)", "util%",
                                         "MACs", "energy (nJ)", "pJ/MAC", "power (W)", "TOPS/W");
  const std::string rule(header.size(), '-');
  lines.push_back(header);
  lines.push_back(rule);
  auto row = [&](const ReportRow& x) {
    const Metrics& m = x.metrics;
    lines.push_back(fmt::format(fmt::runtime(row_format), x.layer, x.phase, x.counters.cycles,
                                fmt::format("{:.2f}", m.seconds * 1e6), fmt::format("{:.1f}", 100 * m.utilisation),
                                x.counters.macs, fmt::format("{:.1f}", m.energy_pj * 1e-3), Ratio(m.pj_per_mac, "{:.3f}"),
                                Ratio(m.power_w, "{:.3f}"), Ratio(m.tops_per_w, "{:.3f}")));
  };
  for (const LayerReport& l : r.layers) {
    for (const ReportRow& p : l.phases) row(p);
    row(l.total);
  }
  lines.push_back(rule);
  row(r.step);

  lines.push_back("");
  lines.push_back(fmt::format("energy of the step by component ({}):", r.tech_name));
  const std::string energy_header = fmt::format("{:<16} {:<14} {:>14} {:>7}", "component", "group", "energy (nJ)", "%");
  lines.push_back(energy_header);
  lines.push_back(std::string(energy_header.size(), '-'));
  const std::vector<double> percent = r.EnergyPercent();
  for (int i = 0; i < kEnergyComponentCount; ++i) {
    const auto c = static_cast<EnergyComponent>(i);
    if (c == EnergyComponent::kLeakage && !r.leakage_modelled) continue;
    lines.push_back(fmt::format("{:<16} {:<14} {:>14.1f} {:>7.2f}", EnergyComponentName(c), EnergyComponentGroup(c),
                                r.step.energy.pj[i] * 1e-3, percent[i]));
  }
  lines.push_back(fmt::format("{:<16} {:<14} {:>14.1f} {:>7.2f}", "total", "", r.step.metrics.energy_pj * 1e-3, 100.0));
  if (!r.leakage_modelled) lines.push_back("leakage: not modelled (the technology table has no leakage figure)");

  if (r.area) {
    lines.push_back("");
    lines.push_back(fmt::format("area ({}):", r.area->tech));
    const std::string area_header =
        fmt::format("{:<14} {:<32} {:>9} {:>13} {:>10} {:>7}", "item", "block", "instances", "NAND2 eq", "mm2", "%");
    lines.push_back(area_header);
    lines.push_back(std::string(area_header.size(), '-'));
    const double total = r.area->TotalMm2();
    for (const AreaItem& a : r.area->items) {
      const std::string block = a.kib > 0 ? fmt::format("SRAM {} KiB", a.kib) : (a.block.empty() ? "-" : a.block);
      lines.push_back(fmt::format("{:<14} {:<32} {:>9} {:>13.1f} {:>10.4f} {:>7.2f}", a.name, block, a.instances,
                                  a.nand2_eq, a.mm2, total > 0 ? 100 * a.mm2 / total : 0.0));
    }
    lines.push_back(fmt::format("{:<14} {:<32} {:>9} {:>13} {:>10.4f} {:>7.2f}", "total", "", "", "", total, 100.0));
  } else {
    lines.push_back("area: not computed (--no-area)");
  }

  const Metrics& m = r.step.metrics;
  lines.push_back(fmt::format("step: {} cycles = {:.3f} ms at {} MHz, {:.3f} uJ, {} W average, {} pJ/MAC, {} TOPS/W{}",
                              r.step.counters.cycles, m.seconds * 1e3, cfg.clock_mhz, m.energy_pj * 1e-6,
                              Ratio(m.power_w, "{:.3f}"), Ratio(m.pj_per_mac, "{:.3f}"), Ratio(m.tops_per_w, "{:.3f}"),
                              r.area ? fmt::format(", area {:.3f} mm2", r.area->TotalMm2()) : ""));
  return lines;
}

ordered_json ReportJson(const Report& r) {
  ordered_json j;
  j["format"] = "octet-report";
  j["version"] = 1;
  j["source"] = r.info.source;
  j["mode"] = r.info.mode;
  j["network"] = r.info.network;
  j["scheme"] = r.info.scheme;
  j["config"] = ordered_json::parse(model::ArchConfigToJson(r.config));
  j["tech"] = {{"name", r.tech_name}, {"origin", r.tech_origin}};
  const ActionEnergies& a = r.actions;
  ordered_json actions;
  actions["mac_pj"] = a.mac_pj;
  actions["flag_mac_pj"] = a.flag_mac_pj;
  for (int u = 0; u < model::kUnitCount; ++u)
    actions["unit_element_pj"][model::UnitName(static_cast<model::UnitId>(u))] = a.unit_element_pj[u];
  actions["update_quantize_element_pj"] = a.update_quantize_pj;
  for (int b = 0; b < model::kBufferCount; ++b) {
    const char* name = model::BufferName(static_cast<model::BufferId>(b));
    actions["buffer_read_pj_per_bit"][name] = a.buffer_read_pj_per_bit[b];
    actions["buffer_write_pj_per_bit"][name] = a.buffer_write_pj_per_bit[b];
  }
  actions["dram_pj_per_byte"] = a.dram_pj_per_byte;
  actions["leakage_w"] = a.leakage_w;
  j["energy_per_action"] = actions;
  j["leakage_modelled"] = r.leakage_modelled;
  j["step"] = RowJson(r.step);
  ordered_json percent;
  const std::vector<double> p = r.EnergyPercent();
  for (int i = 0; i < kEnergyComponentCount; ++i) percent[EnergyComponentName(static_cast<EnergyComponent>(i))] = p[i];
  j["step"]["energy_percent"] = percent;
  j["layers"] = ordered_json::array();
  for (const LayerReport& l : r.layers) {
    ordered_json layer;
    layer["name"] = l.name;
    layer["total"] = RowJson(l.total);
    for (const ReportRow& row : l.phases) layer["phases"][row.phase] = RowJson(row);
    j["layers"].push_back(layer);
  }
  if (r.area) {
    ordered_json area;
    area["tech"] = r.area->tech;
    area["total_mm2"] = r.area->TotalMm2();
    area["items"] = ordered_json::array();
    for (const AreaItem& i : r.area->items)
      area["items"].push_back({{"name", i.name},
                               {"block", i.block},
                               {"instances", i.instances},
                               {"nand2_eq", i.nand2_eq},
                               {"kib", i.kib},
                               {"mm2", i.mm2},
                               {"note", i.note}});
    j["area"] = area;
  } else {
    j["area"] = nullptr;
  }
  return j;
}

std::string ReportCsv(const Report& r) {
  std::string out = "layer,phase,cycles,stall_cycles,seconds,utilisation,macs,pe_macs,flag_macs,energy_pj";
  for (int i = 0; i < kEnergyComponentCount; ++i)
    out += fmt::format(",{}_pj", EnergyComponentName(static_cast<EnergyComponent>(i)));
  out += ",power_w,pj_per_mac,tops_per_w\n";
  for (const LayerReport& l : r.layers) {
    for (const ReportRow& p : l.phases) out += CsvRow(p);
    out += CsvRow(l.total);
  }
  out += CsvRow(r.step);
  return out;
}

std::string AreaCsv(const Report& r) {
  std::string out = "item,block,instances,nand2_eq,kib,mm2,percent,note\n";
  if (!r.area) return out;
  const double total = r.area->TotalMm2();
  for (const AreaItem& a : r.area->items)
    out += fmt::format("{},{},{},{},{},{},{},{}\n", a.name, CsvField(a.block), a.instances, a.nand2_eq, a.kib, a.mm2,
                       total > 0 ? 100 * a.mm2 / total : 0.0, CsvField(a.note));
  return out;
}

}  // namespace octet::report
