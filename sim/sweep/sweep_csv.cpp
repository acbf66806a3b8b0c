#include "sim/sweep/sweep_csv.h"

#include <algorithm>
#include <charconv>
#include <sstream>

#include <fmt/format.h>

#include "golden/core/error.h"

namespace octet::sweep {
namespace {

constexpr const char* kMagic = "# octet-sweep";

// The informative header values must stay one word each.
std::string Word(const std::string& text) {
  std::string w = text.empty() ? "-" : text;
  for (char& c : w)
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '=') c = '_';
  return w;
}

bool ParseIndex(const std::string& text, int64_t& value) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end && !text.empty();
}

std::vector<std::string> SplitFields(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();  // a trailing empty field (no area)
  return fields;
}

SweepHeader ParseHeader(const std::string& line, const std::string& origin) {
  if (line.rfind(kMagic, 0) != 0)
    Fail("{}: not an octet sweep CSV (its first line does not start with \"{}\")", origin, kMagic);
  std::map<std::string, std::string> values;
  std::istringstream in(line.substr(std::string(kMagic).size()));
  for (std::string word; in >> word;) {
    const size_t eq = word.find('=');
    if (eq != std::string::npos) values[word.substr(0, eq)] = word.substr(eq + 1);
  }
  auto get = [&](const char* key) {
    auto it = values.find(key);
    if (it == values.end()) Fail("{}: the first line has no {}=", origin, key);
    return it->second;
  };
  SweepHeader h;
  int64_t version = 0;
  if (!ParseIndex(get("version"), version)) Fail("{}: version= is not a number", origin);
  if (version != kSweepCsvVersion)
    Fail("{}: sweep CSV version {} (this octet reads version {})", origin, version, kSweepCsvVersion);
  h.id = get("id");
  if (!ParseIndex(get("points"), h.points) || h.points < 1) Fail("{}: points= is not a positive number", origin);
  try {
    h.shard = ParseShard(get("shard"));
  } catch (const Error& e) {
    Fail("{}: {}", origin, e.what());
  }
  h.topology = values.count("topology") ? values["topology"] : "";
  if (values.count("batch")) ParseIndex(values["batch"], h.batch);
  h.tech = values.count("tech") ? values["tech"] : "";
  return h;
}

}  // namespace

std::string FormatSweepHeader(const SweepHeader& h) {
  return fmt::format("{} version={} id={} points={} shard={} topology={} batch={} tech={}\n", kMagic, h.version, h.id,
                     h.points, h.shard.Text(), Word(h.topology), h.batch, Word(h.tech));
}

std::string SweepCsvColumns() {
  std::string columns =
      "index,rows,cols,dataflow,act_buffer_kib,weight_buffer_kib,error_buffer_kib,output_buffer_kib,"
      "dram_bytes_per_cycle,e2,scheme,cycles,stall_cycles,seconds,utilisation,macs,pe_macs,flag_macs,energy_pj";
  for (int i = 0; i < report::kEnergyComponentCount; ++i)
    columns += fmt::format(",{}_pj", report::EnergyComponentName(static_cast<report::EnergyComponent>(i)));
  return columns + ",pj_per_mac,tops_per_w,power_w,area_mm2\n";
}

std::string SweepCsvRow(const SweepPoint& p, const report::ReportRow& step, std::optional<double> area_mm2) {
  const model::ArchConfig& c = p.config;
  const model::Counters& n = step.counters;
  const report::Metrics& m = step.metrics;
  // {} prints the shortest text that reads back as the same double: rows are exact.
  std::string row = fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}", p.index, c.array_rows,
                                c.array_cols, model::DataflowName(c.dataflow), c.act_buffer_kib, c.weight_buffer_kib,
                                c.error_buffer_kib, c.output_buffer_kib, c.dram_bytes_per_cycle, p.e2, p.scheme, n.cycles,
                                n.stall_cycles, m.seconds, m.utilisation, n.macs, n.pe_macs, n.flag_macs, m.energy_pj);
  for (double pj : step.energy.pj) row += fmt::format(",{}", pj);
  row += fmt::format(",{},{},{},{}\n", m.pj_per_mac, m.tops_per_w, m.power_w, area_mm2 ? fmt::format("{}", *area_mm2) : "");
  return row;
}

size_t SweepCsv::Column(const std::string& name) const {
  auto it = std::find(columns.begin(), columns.end(), name);
  if (it == columns.end()) Fail("{}: has no column {}", origin, name);
  return static_cast<size_t>(it - columns.begin());
}

SweepCsv ParseSweepCsv(const std::string& text, const std::string& origin) {
  SweepCsv csv;
  csv.origin = origin;
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line)) Fail("{}: empty file (not an octet sweep CSV)", origin);
  csv.header = ParseHeader(line, origin);
  if (!std::getline(in, line) || line + "\n" != SweepCsvColumns())
    Fail("{}: line 2 is not the column line of a version {} sweep CSV", origin, kSweepCsvVersion);
  csv.columns = SplitFields(line);
  const std::vector<int64_t> shard_points = csv.header.shard.Points(csv.header.points);
  for (int number = 3; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    SweepCsv::Row row;
    row.line = number;
    row.text = line + "\n";
    row.fields = SplitFields(line);
    if (row.fields.size() != csv.columns.size())
      Fail("{}: line {} has {} fields, not {} (a truncated file?)", origin, number, row.fields.size(), csv.columns.size());
    if (!ParseIndex(row.fields[0], row.index) || row.index < 0 || row.index >= csv.header.points)
      Fail("{}: line {}: point index {} is not in [0, {})", origin, number, row.fields[0], csv.header.points);
    if (!std::binary_search(shard_points.begin(), shard_points.end(), row.index))
      Fail("{}: line {}: point {} does not belong to shard {}", origin, number, row.index, csv.header.shard.Text());
    csv.rows.push_back(std::move(row));
  }
  return csv;
}

std::string MergeSweepCsvs(const std::vector<SweepCsv>& shares) {
  if (shares.empty()) Fail("sweep merge: no shares given");
  const SweepCsv& first = shares.front();
  for (const SweepCsv& s : shares)
    if (s.header.id != first.header.id || s.header.points != first.header.points)
      Fail("{}: from another sweep than {} (id {} with {} points, against id {} with {} points)", s.origin, first.origin,
           s.header.id, s.header.points, first.header.id, first.header.points);
  // Where each point was found: share and line.
  std::vector<const SweepCsv::Row*> rows(static_cast<size_t>(first.header.points), nullptr);
  std::vector<const SweepCsv*> owner(rows.size(), nullptr);
  for (const SweepCsv& s : shares)
    for (const SweepCsv::Row& r : s.rows) {
      const auto i = static_cast<size_t>(r.index);
      if (rows[i])
        Fail("point {} is given twice: {} line {} and {} line {}", r.index, owner[i]->origin, rows[i]->line, s.origin,
             r.line);
      rows[i] = &r;
      owner[i] = &s;
    }
  std::vector<int64_t> missing;
  for (size_t i = 0; i < rows.size(); ++i)
    if (!rows[i]) missing.push_back(static_cast<int64_t>(i));
  if (!missing.empty()) {
    std::string list;
    for (size_t k = 0; k < std::min<size_t>(missing.size(), 8); ++k) list += fmt::format("{}{}", k ? ", " : "", missing[k]);
    if (missing.size() > 8) list += ", ...";
    Fail("{} of the sweep's {} points are in no share: {} (a missing or unfinished shard?)", missing.size(),
         first.header.points, list);
  }
  SweepHeader header = first.header;
  header.shard = Shard{};
  std::string text = FormatSweepHeader(header) + SweepCsvColumns();
  for (const SweepCsv::Row* r : rows) text += r->text;
  return text;
}

}  // namespace octet::sweep
