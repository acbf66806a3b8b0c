#include "sim/sweep/sweep_space.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "golden/core/error.h"
#include "golden/core/strings.h"
#include "golden/core/text_file.h"

namespace octet::sweep {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// More points than this is a typo (a sweep of 10^7 shape-only steps would run for days).
constexpr int64_t kMaxPoints = 10'000'000;

bool ParseInt(std::string_view text, int64_t& value) {
  text = Trim(text);
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end && !text.empty();
}

bool ParseReal(std::string_view text, double& value) {
  text = Trim(text);
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end && !text.empty() && std::isfinite(value);
}

// Each value of one axis parsed by `parse` (which applies it to a copy of the base
// configuration and validates it, naming "<axis origin> <value>"); duplicates are errors,
// since two points with equal parameters would only be the same point twice.
template <typename T, typename Parse>
std::vector<T> ResolveAxis(const std::optional<std::vector<std::string>>& texts, T base_value, const std::string& origin,
                           Parse parse) {
  if (!texts) return {base_value};
  if (texts->empty()) Fail("{}: the axis has no values", origin);
  std::vector<T> values;
  std::set<T> seen;
  for (const std::string& text : *texts) {
    const T value = parse(std::string(Trim(text)), fmt::format("{} {}", origin, std::string(Trim(text))));
    if (!seen.insert(value).second) Fail("{}: {} is given twice", origin, std::string(Trim(text)));
    values.push_back(value);
  }
  return values;
}

void ApplyArray(model::ArchConfig& c, const std::string& value) {
  const size_t x = value.find('x');
  c.array_rows = std::stoll(value.substr(0, x));
  c.array_cols = std::stoll(value.substr(x + 1));
}

model::Dataflow DataflowFromName(const std::string& name) {
  return name == "os" ? model::Dataflow::kOutputStationary : model::Dataflow::kWeightStationary;
}

}  // namespace

const std::vector<E2Mode>& E2Modes() {
  static const std::vector<E2Mode> modes = {
      {"flag", "wageubn8"}, {"sq16", "wageubn16"}, {"sq8", "wageubn8-noflag"}};
  return modes;
}

int64_t SweepSpace::PointCount() const {
  const size_t sizes[] = {array.size(),           dataflow.size(),          act_buffer_kib.size(),
                          weight_buffer_kib.size(), error_buffer_kib.size(), output_buffer_kib.size(),
                          dram_bytes_per_cycle.size(), e2.size()};
  int64_t count = 1;
  for (size_t s : sizes) count *= static_cast<int64_t>(s);  // each axis is checked small enough in ResolveSpace
  return count;
}

ordered_json SweepSpace::ToJson() const {
  ordered_json j;
  j["array"] = array;
  j["dataflow"] = dataflow;
  j["act_buffer_kib"] = act_buffer_kib;
  j["weight_buffer_kib"] = weight_buffer_kib;
  j["error_buffer_kib"] = error_buffer_kib;
  j["output_buffer_kib"] = output_buffer_kib;
  j["dram_bytes_per_cycle"] = dram_bytes_per_cycle;
  j["e2"] = e2;
  return j;
}

AxisTexts LoadSpaceFile(const std::string& path) {
  json doc;
  try {
    doc = json::parse(ReadTextFile(path, "a sweep space file"));
  } catch (const json::parse_error& e) {
    Fail("{}: not valid JSON: {}", path, e.what());
  }
  if (!doc.is_object()) Fail("{}: a sweep space file is a JSON object of axes (docs/sweep.md)", path);
  AxisTexts axes;
  const std::pair<const char*, std::optional<std::vector<std::string>>*> keys[] = {
      {"array", &axes.array},
      {"dataflow", &axes.dataflow},
      {"act_buffer_kib", &axes.act_buffer_kib},
      {"weight_buffer_kib", &axes.weight_buffer_kib},
      {"error_buffer_kib", &axes.error_buffer_kib},
      {"output_buffer_kib", &axes.output_buffer_kib},
      {"dram_bytes_per_cycle", &axes.dram_bytes_per_cycle},
      {"e2", &axes.e2}};
  for (const auto& [key, value] : doc.items()) {
    if (key == "description") continue;
    auto it = std::find_if(std::begin(keys), std::end(keys), [&](const auto& k) { return key == k.first; });
    if (it == std::end(keys))
      Fail("{}: unknown key \"{}\" (array, dataflow, act_buffer_kib, weight_buffer_kib, error_buffer_kib, "
           "output_buffer_kib, dram_bytes_per_cycle, e2, description)",
           path, key);
    if (!value.is_array()) Fail("{}: {} must be a list of values", path, key);
    std::vector<std::string> texts;
    for (const json& v : value) {
      if (v.is_string())
        texts.push_back(v.get<std::string>());
      else if (v.is_number())
        texts.push_back(v.dump());
      else
        Fail("{}: {} has a value that is neither a string nor a number: {}", path, key, v.dump());
    }
    *it->second = std::move(texts);
  }
  return axes;
}

SweepSpace ResolveSpace(const AxisTexts& axes, const model::ArchConfig& base,
                        const std::function<std::string(const std::string&)>& origin) {
  // Every value is checked by the configuration's own ranges (ArchConfig::Validate), so
  // the sweep accepts exactly what a configuration file accepts.
  auto checked = [&](const std::string& where, auto apply) {
    model::ArchConfig c = base;
    apply(c);
    c.Validate(where);
  };
  auto buffer_axis = [&](const std::optional<std::vector<std::string>>& texts, int64_t model::ArchConfig::*member,
                         const char* axis) {
    return ResolveAxis<int64_t>(texts, base.*member, origin(axis), [&](const std::string& text, const std::string& where) {
      int64_t kib = 0;
      if (!ParseInt(text, kib)) Fail("{}: not an integer number of KiB", where);
      checked(where, [&](model::ArchConfig& c) { c.*member = kib; });
      return kib;
    });
  };
  SweepSpace s;
  s.array = ResolveAxis<std::string>(
      axes.array, fmt::format("{}x{}", base.array_rows, base.array_cols), origin("array"),
      [&](const std::string& text, const std::string& where) {
        const size_t x = Lower(text).find('x');
        int64_t rows = 0, cols = 0;
        if (x == std::string::npos || !ParseInt(text.substr(0, x), rows) || !ParseInt(text.substr(x + 1), cols))
          Fail("{}: not an array size of the form RxC (e.g. 16x16)", where);
        checked(where, [&](model::ArchConfig& c) {
          c.array_rows = rows;
          c.array_cols = cols;
        });
        return fmt::format("{}x{}", rows, cols);
      });
  s.dataflow = ResolveAxis<std::string>(axes.dataflow, model::DataflowName(base.dataflow), origin("dataflow"),
                                        [&](const std::string& text, const std::string& where) {
                                          const std::string name = Lower(text);
                                          if (name != "ws" && name != "os")
                                            Fail("{}: unknown dataflow (ws, os; is is not modelled)", where);
                                          return name;
                                        });
  s.act_buffer_kib = buffer_axis(axes.act_buffer_kib, &model::ArchConfig::act_buffer_kib, "act_buffer_kib");
  s.weight_buffer_kib = buffer_axis(axes.weight_buffer_kib, &model::ArchConfig::weight_buffer_kib, "weight_buffer_kib");
  s.error_buffer_kib = buffer_axis(axes.error_buffer_kib, &model::ArchConfig::error_buffer_kib, "error_buffer_kib");
  s.output_buffer_kib = buffer_axis(axes.output_buffer_kib, &model::ArchConfig::output_buffer_kib, "output_buffer_kib");
  s.dram_bytes_per_cycle = ResolveAxis<double>(
      axes.dram_bytes_per_cycle, base.dram_bytes_per_cycle, origin("dram_bytes_per_cycle"),
      [&](const std::string& text, const std::string& where) {
        double bytes = 0;
        if (!ParseReal(text, bytes)) Fail("{}: not a number of bytes per cycle", where);
        checked(where, [&](model::ArchConfig& c) { c.dram_bytes_per_cycle = bytes; });
        return bytes;
      });
  s.e2 = ResolveAxis<std::string>(axes.e2, "flag", origin("e2"), [&](const std::string& text, const std::string& where) {
    const std::string name = Lower(text);
    for (const E2Mode& m : E2Modes())
      if (name == m.name) return name;
    Fail("{}: unknown E2 mode (flag: wageubn8, sq16: wageubn16, sq8: wageubn8-noflag)", where);
  });
  // Each axis holds distinct values, so its size is bounded by what Validate accepts; the
  // product is checked before it could overflow.
  double product = 1;
  for (size_t n : {s.array.size(), s.dataflow.size(), s.act_buffer_kib.size(), s.weight_buffer_kib.size(),
                   s.error_buffer_kib.size(), s.output_buffer_kib.size(), s.dram_bytes_per_cycle.size(), s.e2.size()})
    product *= static_cast<double>(n);
  if (product > kMaxPoints) Fail("the sweep has {:.0f} points, more than the limit of {}", product, kMaxPoints);
  return s;
}

SweepPoint PointAt(const SweepSpace& s, const model::ArchConfig& base, int64_t index) {
  SweepPoint p;
  p.index = index;
  p.config = base;
  // Mixed radix, the last axis the least significant digit.
  int64_t rest = index;
  auto digit = [&rest](size_t size) {
    const auto d = static_cast<size_t>(rest % static_cast<int64_t>(size));
    rest /= static_cast<int64_t>(size);
    return d;
  };
  p.e2 = s.e2[digit(s.e2.size())];
  p.config.dram_bytes_per_cycle = s.dram_bytes_per_cycle[digit(s.dram_bytes_per_cycle.size())];
  p.config.output_buffer_kib = s.output_buffer_kib[digit(s.output_buffer_kib.size())];
  p.config.error_buffer_kib = s.error_buffer_kib[digit(s.error_buffer_kib.size())];
  p.config.weight_buffer_kib = s.weight_buffer_kib[digit(s.weight_buffer_kib.size())];
  p.config.act_buffer_kib = s.act_buffer_kib[digit(s.act_buffer_kib.size())];
  p.config.dataflow = DataflowFromName(s.dataflow[digit(s.dataflow.size())]);
  ApplyArray(p.config, s.array[digit(s.array.size())]);
  for (const E2Mode& m : E2Modes())
    if (p.e2 == m.name) p.scheme = m.scheme;
  return p;
}

std::string Shard::Text() const { return fmt::format("{}/{}", index, count); }

std::vector<int64_t> Shard::Points(int64_t points) const {
  // splitmix64's finaliser: a fixed bijection of 64-bit integers that scatters
  // neighbouring indices, the same on every machine.
  auto mix = [](uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  };
  std::vector<std::pair<uint64_t, int64_t>> order;
  order.reserve(static_cast<size_t>(points));
  for (int64_t i = 0; i < points; ++i) order.emplace_back(mix(static_cast<uint64_t>(i)), i);
  std::sort(order.begin(), order.end());
  std::vector<int64_t> taken;
  for (size_t k = static_cast<size_t>(index - 1); k < order.size(); k += static_cast<size_t>(count))
    taken.push_back(order[k].second);
  std::sort(taken.begin(), taken.end());
  return taken;
}

Shard ParseShard(const std::string& text) {
  const size_t slash = text.find('/');
  Shard s;
  if (slash == std::string::npos || !ParseInt(text.substr(0, slash), s.index) ||
      !ParseInt(text.substr(slash + 1), s.count))
    Fail("--shard {}: not of the form I/N (e.g. 3/8)", text);
  if (s.count < 1 || s.index < 1 || s.index > s.count) Fail("--shard {}: needs 1 <= I <= N", text);
  return s;
}

std::string HashHex(const std::string& text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

}  // namespace octet::sweep
