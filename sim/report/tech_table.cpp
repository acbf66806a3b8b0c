#include "sim/report/tech_table.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "golden/core/embedded.h"
#include "golden/core/error.h"

namespace octet::report {
namespace {

using nlohmann::json;

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::vector<std::string> Keys(const std::map<std::string, std::string>& m) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : m) keys.push_back(k);
  return keys;
}

// Reads one JSON file's keys, refusing unknown ones (a misspelt key would otherwise be
// silently ignored) and missing required ones.
class Reader {
 public:
  explicit Reader(std::string origin) : origin_(std::move(origin)) {}

  [[noreturn]] void Error(const std::string& key, const std::string& problem) const {
    Fail("{}: {} {}", origin_, key, problem);
  }

  const json& Object(const json& parent, const std::string& parent_path, const std::string& key,
                     const std::vector<std::string>& known) const {
    const std::string path = Path(parent_path, key);
    if (!parent.contains(key)) Error(path, "is missing");
    const json& object = parent.at(key);
    CheckObject(object, path, known);
    return object;
  }

  void CheckObject(const json& object, const std::string& path, const std::vector<std::string>& known) const {
    if (!object.is_object()) Error(path, "must be a JSON object");
    if (known.empty()) return;  // a map with free keys
    for (const auto& [k, v] : object.items())
      if (std::find(known.begin(), known.end(), k) == known.end())
        Fail("{}: unknown key \"{}\" (known here: {})", origin_, Path(path, k), Join(known));
  }

  std::string String(const json& parent, const std::string& parent_path, const std::string& key, bool required) const {
    const std::string path = Path(parent_path, key);
    if (!parent.contains(key)) {
      if (required) Error(path, "is missing");
      return "";
    }
    const json& v = parent.at(key);
    if (!v.is_string()) Error(path, fmt::format("must be a string, got {}", v.dump()));
    return v.get<std::string>();
  }

  double Number(const json& v, const std::string& path, bool positive) const {
    if (!v.is_number()) Error(path, fmt::format("must be a number, got {}", v.dump()));
    const double x = v.get<double>();
    if (!std::isfinite(x) || x < 0 || (positive && x == 0))
      Error(path, fmt::format("= {} must be {}", v.dump(), positive ? "positive" : "non-negative"));
    return x;
  }

  // {"value": x, "source": key, "note": text}; the source must be one of `sources`.
  TechValue Value(const json& parent, const std::string& parent_path, const std::string& key,
                  const std::map<std::string, std::string>& sources, bool positive) const {
    return Fields(Object(parent, parent_path, key, {"value", "source", "note"}), Path(parent_path, key), sources,
                  positive);
  }

  // The value, source and note of the object `o` at `path` (already checked for unknown keys).
  TechValue Fields(const json& o, const std::string& path, const std::map<std::string, std::string>& sources,
                   bool positive) const {
    if (!o.contains("value")) Error(path + ".value", "is missing");
    TechValue v;
    v.value = Number(o.at("value"), path + ".value", positive);
    v.source = String(o, path, "source", true);
    if (!sources.count(v.source))
      Error(path + ".source", fmt::format("\"{}\" is not one of the sources ({})", v.source, Join(Keys(sources))));
    v.note = String(o, path, "note", false);
    return v;
  }

  static std::string Path(const std::string& parent, const std::string& key) {
    return parent.empty() ? key : parent + "." + key;
  }

 private:
  std::string origin_;
};

const std::vector<std::string> kTopKeys = {"format", "name", "description", "sources", "operations_pj", "actions",
                                           "sram_read_pj_per_64bit", "sram_write_to_read", "dram_pj_per_byte",
                                           "nand2_um2", "sram_mm2_per_kib", "leakage_mw_per_mm2"};

}  // namespace

TechTable ParseTechTable(const std::string& json_text, const std::string& origin) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::parse_error& e) {
    Fail("{}: not valid JSON: {}", origin, e.what());
  }
  const Reader r(origin);
  r.CheckObject(j, "the table", kTopKeys);
  if (r.String(j, "", "format", true) != "octet-tech")
    r.Error("format", fmt::format("must be \"octet-tech\", got {}", j.at("format").dump()));

  TechTable t;
  t.origin = origin;
  t.name = r.String(j, "", "name", true);
  if (t.name.empty()) r.Error("name", "must not be empty");
  t.description = r.String(j, "", "description", false);

  for (const auto& [key, value] : r.Object(j, "", "sources", {}).items()) {
    if (!value.is_string() || value.get<std::string>().empty())
      r.Error("sources." + key, "must be a non-empty string naming the source");
    t.sources[key] = value.get<std::string>();
  }
  if (t.sources.empty()) r.Error("sources", "must name at least one source");

  const json& ops = r.Object(j, "", "operations_pj", {});
  for (const auto& [key, value] : ops.items()) t.operations_pj[key] = r.Value(ops, "operations_pj", key, t.sources, false);

  const json& actions = r.Object(j, "", "actions", TechActionNames());
  for (const std::string& name : TechActionNames()) {
    const std::string path = "actions." + name;
    const json& a = r.Object(actions, "actions", name, {"ops", "note"});
    ActionRecipe recipe;
    recipe.note = r.String(a, path, "note", false);
    for (const auto& [op, count] : r.Object(a, path, "ops", {}).items()) {
      if (!t.operations_pj.count(op)) {
        std::vector<std::string> known;
        for (const auto& [k, v] : t.operations_pj) known.push_back(k);
        r.Error(path + ".ops." + op, fmt::format("is not an operation of operations_pj ({})", Join(known)));
      }
      recipe.ops[op] = r.Number(count, path + ".ops." + op, false);
    }
    t.actions[name] = recipe;
  }

  if (!j.contains("sram_read_pj_per_64bit")) r.Error("sram_read_pj_per_64bit", "is missing");
  const json& sram = j.at("sram_read_pj_per_64bit");
  if (!sram.is_array() || sram.empty())
    r.Error("sram_read_pj_per_64bit", "must be a non-empty array of {\"kib\", \"value\", \"source\"} points");
  for (size_t i = 0; i < sram.size(); ++i) {
    const std::string path = fmt::format("sram_read_pj_per_64bit[{}]", i);
    r.CheckObject(sram[i], path, {"kib", "value", "source", "note"});
    if (!sram[i].contains("kib")) r.Error(path + ".kib", "is missing");
    SramPoint p;
    p.kib = r.Number(sram[i].at("kib"), path + ".kib", true);
    if (!t.sram_read_pj_per_64bit.empty() && p.kib <= t.sram_read_pj_per_64bit.back().kib)
      r.Error(path + ".kib", "must be larger than the previous point's (sizes in increasing order)");
    p.read_pj_per_64bit = r.Fields(sram[i], path, t.sources, true);
    t.sram_read_pj_per_64bit.push_back(p);
  }

  t.sram_write_to_read = r.Value(j, "", "sram_write_to_read", t.sources, false);
  t.dram_pj_per_byte = r.Value(j, "", "dram_pj_per_byte", t.sources, false);
  t.nand2_um2 = r.Value(j, "", "nand2_um2", t.sources, true);
  t.sram_mm2_per_kib = r.Value(j, "", "sram_mm2_per_kib", t.sources, false);
  if (j.contains("leakage_mw_per_mm2")) t.leakage_mw_per_mm2 = r.Value(j, "", "leakage_mw_per_mm2", t.sources, false);
  return t;
}

double TechTable::ActionPj(const std::string& action) const {
  const auto it = actions.find(action);
  if (it == actions.end()) Fail("{}: no action \"{}\"", origin, action);
  double pj = 0;
  for (const auto& [op, count] : it->second.ops) pj += count * operations_pj.at(op).value;
  return pj;
}

double TechTable::SramReadPjPerBit(double kib) const {
  const std::vector<SramPoint>& p = sram_read_pj_per_64bit;
  double pj_per_64bit = p.front().read_pj_per_64bit.value;
  if (p.size() > 1 && kib > p.front().kib) {
    // The segment holding kib, or the last one when kib is beyond the largest size.
    size_t i = 1;
    while (i + 1 < p.size() && kib > p[i].kib) ++i;
    const double x0 = std::log2(p[i - 1].kib), x1 = std::log2(p[i].kib);
    const double y0 = p[i - 1].read_pj_per_64bit.value, y1 = p[i].read_pj_per_64bit.value;
    pj_per_64bit = y0 + (y1 - y0) * (std::log2(kib) - x0) / (x1 - x0);
  }
  return pj_per_64bit / 64.0;
}

TechTable LoadTechTable(const std::string& name_or_path) {
  const std::string name = name_or_path.empty() || name_or_path == "default" ? "45nm" : name_or_path;
  std::string origin;
  const std::string text = BuiltinOrFileText(Embedded_tech(), "technology table", name, &origin);
  return ParseTechTable(text, origin);
}

std::vector<std::string> BuiltinTechTableNames() { return EmbeddedNames(Embedded_tech()); }

}  // namespace octet::report
