#include "sim/run/step_report.h"

#include <fmt/format.h>

#include "golden/core/error.h"

namespace octet {

using model::Counters;
using model::kBufferCount;
using model::kPhaseCount;
using model::kUnitCount;

namespace {

int64_t Sum(const std::array<int64_t, kBufferCount>& v) {
  int64_t s = 0;
  for (int64_t x : v) s += x;
  return s;
}

std::string Percent(double fraction) { return fmt::format("{:.1f}", 100.0 * fraction); }

nlohmann::json CountersJson(const Counters& c, const model::ArchConfig& config) {
  nlohmann::json j;
  j["cycles"] = c.cycles;
  j["stall_cycles"] = c.stall_cycles;
  j["array_cycles"] = c.array_cycles;
  j["utilisation"] = Utilisation(c, config);
  j["macs"] = c.macs;
  j["pe_macs"] = c.pe_macs;
  j["flag_macs"] = c.flag_macs;
  for (int b = 0; b < kBufferCount; ++b) {
    const char* name = model::BufferName(static_cast<model::BufferId>(b));
    j["buffer_read_bits"][name] = c.buffer_read_bits[b];
    j["buffer_write_bits"][name] = c.buffer_write_bits[b];
  }
  j["dram_read_bytes"] = c.dram_read_bytes;
  j["dram_write_bytes"] = c.dram_write_bytes;
  for (int u = 0; u < kUnitCount; ++u) j["unit_elements"][model::UnitName(static_cast<model::UnitId>(u))] = c.unit_elements[u];
  return j;
}

}  // namespace

double Utilisation(const Counters& c, const model::ArchConfig& config) {
  if (c.cycles == 0) return 0;
  return static_cast<double>(c.macs) / (static_cast<double>(c.cycles) * config.array_rows * config.array_cols);
}

std::vector<std::string> FormatStepTable(const model::StepResult& r, const RunInfo& info) {
  const model::ArchConfig& cfg = r.config;
  std::vector<std::string> lines;
  lines.push_back(fmt::format("octet run: {} ({}), network {}, scheme {}{}", info.source, info.mode, info.network,
                              info.scheme, info.array_backend == "engine" ? "" : ", array backend " + info.array_backend));
  lines.push_back(fmt::format("architecture {}: {}x{} array, {}, {} MHz, DRAM {} B/cycle + {} cycles", cfg.name,
                              cfg.array_rows, cfg.array_cols, model::DataflowName(cfg.dataflow), cfg.clock_mhz,
                              cfg.dram_bytes_per_cycle, cfg.dram_latency_cycles));
  const std::string header = fmt::format("{:<20} {:<12} {:>12} {:>11} {:>6} {:>14} {:>14} {:>14} {:>13}", "layer", "phase",
                                         "cycles", "stall", "util%", "MACs", "buf read b", "buf write b", "DRAM bytes");
  lines.push_back(header);
  lines.push_back(std::string(header.size(), '-'));
  auto row = [&](const std::string& layer, const std::string& phase, const Counters& c) {
    lines.push_back(fmt::format("{:<20} {:<12} {:>12} {:>11} {:>6} {:>14} {:>14} {:>14} {:>13}", layer, phase, c.cycles,
                                c.stall_cycles, Percent(Utilisation(c, cfg)), c.macs, Sum(c.buffer_read_bits),
                                Sum(c.buffer_write_bits), c.dram_read_bytes + c.dram_write_bytes));
  };
  for (const model::LayerStats& l : r.layers) {
    for (int p = 0; p < kPhaseCount; ++p) row(l.name, model::PhaseName(static_cast<model::Phase>(p)), l.phases[p]);
    row(l.name, "layer total", l.Total());
  }
  lines.push_back(std::string(header.size(), '-'));
  row("step", "total", r.total);
  const double seconds = static_cast<double>(r.cycles) / (cfg.clock_mhz * 1e6);
  lines.push_back(fmt::format("step: {} cycles = {:.3f} ms at {} MHz, {} MACs, array utilisation {}%, stalls {}%", r.cycles,
                              seconds * 1e3, cfg.clock_mhz, r.total.macs, Percent(Utilisation(r.total, cfg)),
                              Percent(r.total.cycles ? static_cast<double>(r.total.stall_cycles) / r.total.cycles : 0)));
  return lines;
}

nlohmann::json StepReportJson(const model::StepResult& r, const RunInfo& info) {
  nlohmann::json j;
  j["format"] = "octet-run";
  j["version"] = 1;
  j["source"] = info.source;
  j["mode"] = info.mode;
  j["network"] = info.network;
  j["scheme"] = info.scheme;
  j["array_backend"] = info.array_backend;
  j["config"] = nlohmann::json::parse(model::ArchConfigToJson(r.config));
  j["cycles"] = r.cycles;
  j["seconds"] = static_cast<double>(r.cycles) / (r.config.clock_mhz * 1e6);
  j["total"] = CountersJson(r.total, r.config);
  j["layers"] = nlohmann::json::array();
  for (const model::LayerStats& l : r.layers) {
    nlohmann::json layer;
    layer["name"] = l.name;
    layer["total"] = CountersJson(l.Total(), r.config);
    for (int p = 0; p < kPhaseCount; ++p)
      layer["phases"][model::PhaseName(static_cast<model::Phase>(p))] = CountersJson(l.phases[p], r.config);
    j["layers"].push_back(layer);
  }
  return j;
}

std::string StepReportCsv(const model::StepResult& r) {
  std::string out = "layer,phase,cycles,stall_cycles,array_cycles,utilisation,macs,pe_macs,flag_macs";
  for (const char* kind : {"read", "write"})
    for (int b = 0; b < kBufferCount; ++b) out += fmt::format(",{}_buffer_{}_bits", model::BufferName(static_cast<model::BufferId>(b)), kind);
  out += ",dram_read_bytes,dram_write_bytes";
  for (int u = 0; u < kUnitCount; ++u) out += fmt::format(",{}_elements", model::UnitName(static_cast<model::UnitId>(u)));
  out += "\n";
  auto row = [&](const std::string& layer, const std::string& phase, const Counters& c) {
    out += fmt::format("{},{},{},{},{},{:.6f},{},{},{}", layer, phase, c.cycles, c.stall_cycles, c.array_cycles,
                       Utilisation(c, r.config), c.macs, c.pe_macs, c.flag_macs);
    for (int b = 0; b < kBufferCount; ++b) out += fmt::format(",{}", c.buffer_read_bits[b]);
    for (int b = 0; b < kBufferCount; ++b) out += fmt::format(",{}", c.buffer_write_bits[b]);
    out += fmt::format(",{},{}", c.dram_read_bytes, c.dram_write_bytes);
    for (int u = 0; u < kUnitCount; ++u) out += fmt::format(",{}", c.unit_elements[u]);
    out += "\n";
  };
  for (const model::LayerStats& l : r.layers) {
    for (int p = 0; p < kPhaseCount; ++p) row(l.name, model::PhaseName(static_cast<model::Phase>(p)), l.phases[p]);
    row(l.name, "total", l.Total());
  }
  row("step", "total", r.total);
  return out;
}

namespace {

int64_t CounterAt(const nlohmann::json& object, const std::string& key, const std::string& origin,
                  const std::string& where) {
  if (!object.contains(key) || !object.at(key).is_number_integer())
    Fail("{}: {}.{} is missing or not an integer", origin, where, key);
  return object.at(key).get<int64_t>();
}

Counters CountersFromJson(const nlohmann::json& j, const std::string& origin, const std::string& where) {
  if (!j.is_object()) Fail("{}: {} is not a JSON object", origin, where);
  Counters c;
  c.cycles = CounterAt(j, "cycles", origin, where);
  c.stall_cycles = CounterAt(j, "stall_cycles", origin, where);
  c.array_cycles = CounterAt(j, "array_cycles", origin, where);
  c.macs = CounterAt(j, "macs", origin, where);
  c.pe_macs = CounterAt(j, "pe_macs", origin, where);
  c.flag_macs = CounterAt(j, "flag_macs", origin, where);
  for (int b = 0; b < kBufferCount; ++b) {
    const char* name = model::BufferName(static_cast<model::BufferId>(b));
    c.buffer_read_bits[b] = CounterAt(j.value("buffer_read_bits", nlohmann::json::object()), name, origin, where + ".buffer_read_bits");
    c.buffer_write_bits[b] = CounterAt(j.value("buffer_write_bits", nlohmann::json::object()), name, origin, where + ".buffer_write_bits");
  }
  c.dram_read_bytes = CounterAt(j, "dram_read_bytes", origin, where);
  c.dram_write_bytes = CounterAt(j, "dram_write_bytes", origin, where);
  for (int u = 0; u < kUnitCount; ++u)
    c.unit_elements[u] = CounterAt(j.value("unit_elements", nlohmann::json::object()),
                                   model::UnitName(static_cast<model::UnitId>(u)), origin, where + ".unit_elements");
  return c;
}

std::string StringAt(const nlohmann::json& j, const std::string& key, const std::string& origin) {
  if (!j.contains(key) || !j.at(key).is_string()) Fail("{}: {} is missing or not a string", origin, key);
  return j.at(key).get<std::string>();
}

}  // namespace

bool IsStepReportJson(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_object() && j.contains("format") && j.at("format") == "octet-run";
}

model::StepResult StepResultFromJson(const nlohmann::json& j, const std::string& origin, RunInfo* info) {
  if (!j.is_object() || !j.contains("format") || j.at("format") != "octet-run")
    Fail("{}: not an octet run result (\"format\": \"octet-run\")", origin);
  if (!j.contains("config")) Fail("{}: config is missing", origin);
  model::StepResult r;
  r.config = model::ParseArchConfig(j.at("config").dump(), origin + ": config");
  if (!j.contains("cycles") || !j.at("cycles").is_number_integer()) Fail("{}: cycles is missing or not an integer", origin);
  r.cycles = j.at("cycles").get<int64_t>();
  if (!j.contains("layers") || !j.at("layers").is_array()) Fail("{}: layers is missing or not an array", origin);
  for (const nlohmann::json& l : j.at("layers")) {
    model::LayerStats layer;
    layer.name = StringAt(l, "name", origin);
    if (!l.contains("phases")) Fail("{}: layer {} has no phases", origin, layer.name);
    for (int p = 0; p < kPhaseCount; ++p) {
      const std::string phase = model::PhaseName(static_cast<model::Phase>(p));
      if (!l.at("phases").contains(phase)) Fail("{}: layer {} has no phase {}", origin, layer.name, phase);
      layer.phases[p] = CountersFromJson(l.at("phases").at(phase), origin, layer.name + "." + phase);
    }
    r.total += layer.Total();
    r.layers.push_back(std::move(layer));
  }
  if (info) *info = {StringAt(j, "source", origin), StringAt(j, "mode", origin), StringAt(j, "network", origin),
                     StringAt(j, "scheme", origin)};
  return r;
}

}  // namespace octet
