#include "model/config/arch_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string_view>

#include <nlohmann/json.hpp>

#include "golden/core/embedded.h"
#include "golden/core/error.h"
#include "golden/core/strings.h"
#include "golden/core/text_file.h"

namespace octet::model {
namespace {

using nlohmann::json;

// The allowed values of a key; docs/configuration.md lists the same figures.
struct IntRange {
  int64_t lo, hi;
  bool Contains(int64_t v) const { return v >= lo && v <= hi; }
  std::string Text() const { return fmt::format("[{}, {}]", lo, hi); }
};

struct RealRange {
  double lo, hi;
  bool lo_open;  // (lo, hi] rather than [lo, hi]
  // Written so that NaN is outside every range.
  bool Contains(double v) const { return (lo_open ? v > lo : v >= lo) && v <= hi; }
  std::string Text() const { return fmt::format("{}{}, {}]", lo_open ? "(" : "[", lo, hi); }
};

constexpr IntRange kArrayDim{1, 1024};
constexpr RealRange kClockMhz{1, 10000, false};
constexpr IntRange kBufferKib{1, 1048576};  // up to 1 GiB per buffer
// A DRAM port that moves nothing would stall forever: zero is excluded.
constexpr RealRange kDramBytesPerCycle{0, 4096, true};
constexpr IntRange kDramLatency{0, 100000};
constexpr IntRange kUnitThroughput{1, 4096};

// One integer key of the JSON file: where it sits, its range and the field it sets
// (a member of ArchConfig, or of its UnitThroughput when `unit` is set).
struct IntKey {
  const char* section;
  const char* name;
  IntRange range;
  int64_t ArchConfig::*member = nullptr;
  int64_t UnitThroughput::*unit = nullptr;

  std::string Path() const { return fmt::format("{}.{}", section, name); }
  int64_t& Field(ArchConfig& c) const { return unit ? c.units.*unit : c.*member; }
  int64_t Field(const ArchConfig& c) const { return unit ? c.units.*unit : c.*member; }
};

struct RealKey {
  const char* section;  // "" for a top-level key
  const char* name;
  RealRange range;
  double ArchConfig::*member;

  std::string Path() const { return *section ? fmt::format("{}.{}", section, name) : name; }
};

const IntKey kIntKeys[] = {
    {"array", "rows", kArrayDim, &ArchConfig::array_rows},
    {"array", "cols", kArrayDim, &ArchConfig::array_cols},
    {"buffers_kib", "activation", kBufferKib, &ArchConfig::act_buffer_kib},
    {"buffers_kib", "weight", kBufferKib, &ArchConfig::weight_buffer_kib},
    {"buffers_kib", "error", kBufferKib, &ArchConfig::error_buffer_kib},
    {"buffers_kib", "output", kBufferKib, &ArchConfig::output_buffer_kib},
    {"dram", "latency_cycles", kDramLatency, &ArchConfig::dram_latency_cycles},
    {"units_elements_per_cycle", "max_abs", kUnitThroughput, nullptr, &UnitThroughput::max_abs},
    {"units_elements_per_cycle", "bn", kUnitThroughput, nullptr, &UnitThroughput::bn},
    {"units_elements_per_cycle", "act", kUnitThroughput, nullptr, &UnitThroughput::act},
    {"units_elements_per_cycle", "e1", kUnitThroughput, nullptr, &UnitThroughput::e1},
    {"units_elements_per_cycle", "e2", kUnitThroughput, nullptr, &UnitThroughput::e2},
    {"units_elements_per_cycle", "cq", kUnitThroughput, nullptr, &UnitThroughput::cq},
    {"units_elements_per_cycle", "update", kUnitThroughput, nullptr, &UnitThroughput::update},
};

const RealKey kRealKeys[] = {
    {"", "clock_mhz", kClockMhz, &ArchConfig::clock_mhz},
    {"dram", "bytes_per_cycle", kDramBytesPerCycle, &ArchConfig::dram_bytes_per_cycle},
};

const std::vector<std::string> kSections = {"array", "buffers_kib", "dram", "units_elements_per_cycle"};

[[noreturn]] void FailOutOfRange(const std::string& where, const std::string& key, const std::string& value,
                                 const std::string& range) {
  Fail("{}: {} = {} is out of range {}", where, key, value, range);
}

void CheckInt(const std::string& where, const std::string& key, int64_t value, IntRange range) {
  if (!range.Contains(value)) FailOutOfRange(where, key, std::to_string(value), range.Text());
}

void CheckReal(const std::string& where, const std::string& key, double value, RealRange range) {
  if (!range.Contains(value)) FailOutOfRange(where, key, fmt::format("{}", value), range.Text());
}

// `text` names a dataflow the user wrote; `where` and `key` say where.
Dataflow ParseDataflow(const std::string& text, const std::string& where, const std::string& key) {
  if (text == "ws") return Dataflow::kWeightStationary;
  if (text == "os") return Dataflow::kOutputStationary;
  if (text == "is") Fail("{}: {} = \"is\": the input-stationary dataflow is not modelled; use ws or os", where, key);
  Fail("{}: {} = \"{}\" is not a dataflow: use ws or os", where, key, text);
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The keys a JSON object may hold: `section` is "" for the top level.
std::vector<std::string> KnownJsonKeys(const std::string& section) {
  std::vector<std::string> known;
  if (section.empty()) known = {"name", "description"};
  if (section == "array") known = {"dataflow"};
  for (const IntKey& k : kIntKeys)
    if (k.section == section) known.push_back(k.name);
  for (const RealKey& k : kRealKeys)
    if (k.section == section) known.push_back(k.name);
  if (section.empty()) known.insert(known.end(), kSections.begin(), kSections.end());
  return known;
}

// A misspelt key would otherwise keep its default without a word.
void CheckJsonObject(const json& object, const std::string& origin, const std::string& section) {
  const std::vector<std::string> known = KnownJsonKeys(section);
  if (!object.is_object()) Fail("{}: {} must be a JSON object with keys {}", origin, section, Join(known));
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end())
      Fail("{}: unknown key \"{}{}\" (known here: {})", origin, section.empty() ? "" : section + ".", key, Join(known));
  }
}

// The value at section.name, or null when the file leaves it out.
const json* FindJson(const json& root, const std::string& section, const char* name) {
  const json* object = &root;
  if (!section.empty()) {
    if (!root.contains(section)) return nullptr;
    object = &root.at(section);
  }
  return object->contains(name) ? &object->at(name) : nullptr;
}

int64_t ReadJsonInt(const json& value, const std::string& origin, const IntKey& key) {
  if (!value.is_number_integer())
    Fail("{}: {} must be an integer in {}, got {}", origin, key.Path(), key.range.Text(), value.dump());
  // A value past int64 would wrap if read as one; compare it unsigned first.
  if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(key.range.hi))
    FailOutOfRange(origin, key.Path(), value.dump(), key.range.Text());
  const int64_t v = value.get<int64_t>();
  CheckInt(origin, key.Path(), v, key.range);
  return v;
}

double ReadJsonReal(const json& value, const std::string& origin, const RealKey& key) {
  if (!value.is_number()) Fail("{}: {} must be a number in {}, got {}", origin, key.Path(), key.range.Text(), value.dump());
  const double v = value.get<double>();
  CheckReal(origin, key.Path(), v, key.range);
  return v;
}

// --- SCALE-Sim .cfg ---------------------------------------------------------------------

// Every key of SCALE-Sim v2/v3 configurations, by section, in lower case (Python's
// configparser, which SCALE-Sim uses, folds key case). Octet maps a few of them (see
// ApplyScaleSimKey); the others configure what Octet does not model and are ignored.
const std::map<std::string, std::set<std::string>>& ScaleSimKeys() {
  static const std::set<std::string> layout = {
      "ifmapcustomlayout",       "filtercustomlayout", "ifmapsrambankbandwidth", "ifmapsrambanknum",
      "ifmapsrambankport",       "filtersrambankbandwidth", "filtersrambanknum",  "filtersrambankport"};
  static const std::map<std::string, std::set<std::string>> keys = [] {
    std::map<std::string, std::set<std::string>> k = {
        {"general", {"run_name"}},
        {"architecture_presets",
         {"arrayheight", "arraywidth", "ifmapsramszkb", "filtersramszkb", "ofmapsramszkb", "ifmapoffset",
          "filteroffset", "ofmapoffset", "bandwidth", "dataflow", "memorybanks", "readrequestbuffer",
          "writerequestbuffer"}},
        {"layout", layout},
        {"sparsity", {"sparsitysupport", "sparserep", "optimizedmapping", "blocksize", "randomnumbergeneratorseed"}},
        {"run_presets",
         {"interfacebandwidth", "useramulatortrace", "sram_row_size", "sram_bank_size", "dram_row_size",
          "dram_bank_size"}},
        {"network_presets", {"topologycsvloc"}},
    };
    // Early v2 files put the layout keys in [architecture_presets].
    k["architecture_presets"].insert(layout.begin(), layout.end());
    return k;
  }();
  return keys;
}

int64_t ParseScaleSimInt(std::string_view text, const std::string& where, const std::string& key, IntRange range) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    Fail("{}: {} = \"{}\" is not an integer in {}", where, key, text, range.Text());
  CheckInt(where, key, v, range);
  return v;
}

// SCALE-Sim's Bandwidth is one figure, or one per memory bank separated by commas; Octet's
// single DRAM port carries all banks, so it gets their sum.
double ParseScaleSimBandwidth(std::string_view text, const std::string& where, const std::string& key) {
  double total = 0;
  std::string_view rest = text;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view item = Trim(rest.substr(0, comma));
    double v = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (ec != std::errc() || end != item.data() + item.size() || item.empty() || !(v > 0))
      Fail("{}: {} = \"{}\" is not a positive number of words (bytes) per cycle, or a comma-separated list of them",
           where, key, text);
    total += v;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  CheckReal(where, key, total, kDramBytesPerCycle);
  return total;
}

// Sets the field a SCALE-Sim key of [architecture_presets] maps to, if any.
void ApplyScaleSimKey(const std::string& key_lower, const std::string& key, std::string_view value,
                      const std::string& where, ArchConfig& c) {
  if (key_lower == "arrayheight") c.array_rows = ParseScaleSimInt(value, where, key, kArrayDim);
  if (key_lower == "arraywidth") c.array_cols = ParseScaleSimInt(value, where, key, kArrayDim);
  if (key_lower == "ifmapsramszkb") c.act_buffer_kib = ParseScaleSimInt(value, where, key, kBufferKib);
  if (key_lower == "filtersramszkb") c.weight_buffer_kib = ParseScaleSimInt(value, where, key, kBufferKib);
  if (key_lower == "ofmapsramszkb") c.output_buffer_kib = ParseScaleSimInt(value, where, key, kBufferKib);
  if (key_lower == "bandwidth") c.dram_bytes_per_cycle = ParseScaleSimBandwidth(value, where, key);
  if (key_lower == "dataflow") c.dataflow = ParseDataflow(Lower(value), where, key);
}

// configparser's comments: whole lines from # or ;, and (more tolerant than SCALE-Sim)
// the rest of a line after whitespace and # or ;.
std::string_view StripComment(std::string_view line) {
  const std::string_view trimmed = Trim(line);
  if (!trimmed.empty() && (trimmed.front() == '#' || trimmed.front() == ';')) return {};
  for (size_t i = 1; i < line.size(); ++i) {
    if ((line[i] == '#' || line[i] == ';') && std::isspace(static_cast<unsigned char>(line[i - 1])))
      return Trim(line.substr(0, i));
  }
  return trimmed;
}

}  // namespace

void ArchConfig::Validate(const std::string& origin) const {
  if (name.empty()) Fail("{}: name must be a non-empty string", origin);
  for (const IntKey& k : kIntKeys) CheckInt(origin, k.Path(), k.Field(*this), k.range);
  for (const RealKey& k : kRealKeys) CheckReal(origin, k.Path(), this->*k.member, k.range);
}

ArchConfig ParseArchConfig(const std::string& json_text, const std::string& origin) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    Fail("{}: not valid JSON: {}", origin, e.what());
  }
  if (!root.is_object()) Fail("{}: an architecture configuration is a JSON object", origin);
  CheckJsonObject(root, origin, "");
  for (const auto& section : kSections) {
    if (root.contains(section)) CheckJsonObject(root[section], origin, section);
  }
  ArchConfig c;
  if (root.contains("name")) {
    const json& name = root["name"];
    if (!name.is_string() || name.get<std::string>().empty())
      Fail("{}: name must be a non-empty string, got {}", origin, name.dump());
    c.name = name.get<std::string>();
  }
  if (root.contains("description") && !root["description"].is_string())
    Fail("{}: description must be a string, got {}", origin, root["description"].dump());
  for (const IntKey& k : kIntKeys) {
    if (const json* v = FindJson(root, k.section, k.name)) k.Field(c) = ReadJsonInt(*v, origin, k);
  }
  for (const RealKey& k : kRealKeys) {
    if (const json* v = FindJson(root, k.section, k.name)) c.*k.member = ReadJsonReal(*v, origin, k);
  }
  if (const json* v = FindJson(root, "array", "dataflow")) {
    if (!v->is_string()) Fail("{}: array.dataflow must be \"ws\" or \"os\", got {}", origin, v->dump());
    c.dataflow = ParseDataflow(v->get<std::string>(), origin, "array.dataflow");
  }
  c.Validate(origin);
  return c;
}

ArchConfig ParseScaleSimConfig(const std::string& ini_text, const std::string& origin) {
  ArchConfig c;
  // SCALE-Sim's run_name names its output folder, not a machine: the file names the config.
  c.name = std::filesystem::path(origin).stem().string();
  if (c.name.empty()) c.name = "scalesim";
  const auto& known = ScaleSimKeys();
  std::string section;  // lower case; empty before the first [section]
  std::set<std::string> seen_sections, seen_keys;
  std::istringstream in(ini_text);
  std::string raw;
  for (int line_number = 1; std::getline(in, raw); ++line_number) {
    const std::string where = fmt::format("{}:{}", origin, line_number);
    const std::string_view line = StripComment(raw);  // also drops a CRLF file's '\r'
    if (line.empty()) continue;
    if (line.front() == '[') {
      if (line.back() != ']') Fail("{}: a section header is \"[name]\", got \"{}\"", where, line);
      section = Lower(Trim(line.substr(1, line.size() - 2)));
      if (!known.contains(section)) {
        std::vector<std::string> names;
        for (const auto& [name, keys] : known) names.push_back(name);
        Fail("{}: unknown SCALE-Sim section [{}] (known: {})", where, section, Join(names));
      }
      if (!seen_sections.insert(section).second) Fail("{}: section [{}] appears twice", where, section);
      continue;
    }
    // configparser splits at the first '=' or ':'.
    const size_t split = line.find_first_of("=:");
    if (split == std::string_view::npos) Fail("{}: expected \"key = value\" or \"key: value\", got \"{}\"", where, line);
    const std::string key(Trim(line.substr(0, split)));
    const std::string_view value = Trim(line.substr(split + 1));
    const std::string key_lower = Lower(key);
    if (key.empty()) Fail("{}: a key is missing before '{}'", where, line[split]);
    if (section.empty()) Fail("{}: key \"{}\" comes before any [section]", where, key);
    if (!known.at(section).contains(key_lower)) Fail("{}: unknown SCALE-Sim key \"{}\" in [{}]", where, key, section);
    if (!seen_keys.insert(section + "." + key_lower).second) Fail("{}: key \"{}\" appears twice in [{}]", where, key, section);
    if (section == "architecture_presets") ApplyScaleSimKey(key_lower, key, value, where, c);
  }
  c.Validate(origin);
  return c;
}

ArchConfig LoadArchConfig(const std::string& name_or_path) {
  const std::string name = name_or_path.empty() ? "default" : name_or_path;
  std::string origin;
  const std::string text = BuiltinOrFileText(Embedded_configs(), "architecture config", name, &origin);
  const bool is_file = origin == name;  // a built-in's origin is "architecture config <name>"
  if (is_file && Lower(std::filesystem::path(name).extension().string()) == ".cfg")
    return ParseScaleSimConfig(text, origin);
  return ParseArchConfig(text, origin);
}

std::string ArchConfigToJson(const ArchConfig& config) {
  // ordered_json keeps the documented key order, so a recorded config reads like the docs.
  using nlohmann::ordered_json;
  const UnitThroughput& u = config.units;
  const ordered_json j = {
      {"name", config.name},
      {"array", {{"rows", config.array_rows}, {"cols", config.array_cols}, {"dataflow", DataflowName(config.dataflow)}}},
      {"clock_mhz", config.clock_mhz},
      {"buffers_kib",
       {{"activation", config.act_buffer_kib},
        {"weight", config.weight_buffer_kib},
        {"error", config.error_buffer_kib},
        {"output", config.output_buffer_kib}}},
      {"dram", {{"bytes_per_cycle", config.dram_bytes_per_cycle}, {"latency_cycles", config.dram_latency_cycles}}},
      {"units_elements_per_cycle",
       {{"max_abs", u.max_abs}, {"bn", u.bn}, {"act", u.act}, {"e1", u.e1}, {"e2", u.e2}, {"cq", u.cq}, {"update", u.update}}},
  };
  return j.dump(2);
}

std::vector<std::string> BuiltinArchConfigNames() { return EmbeddedNames(Embedded_configs()); }

}  // namespace octet::model
