#include "golden/net/net_spec.h"

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "golden/core/embedded.h"
#include "golden/core/error.h"
#include "golden/core/text_file.h"

namespace octet {
namespace {

using nlohmann::json;

void CheckKeys(const json& j, const std::string& where, const std::vector<std::string>& known) {
  if (!j.is_object()) Fail("{} must be a JSON object", where);
  for (const auto& [key, value] : j.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) Fail("{}: unknown key \"{}\"", where, key);
  }
}

int64_t GetPositive(const json& j, const char* key, int64_t fallback, const std::string& where, int64_t min = 1) {
  if (!j.contains(key)) return fallback;
  if (!j[key].is_number_integer()) Fail("{}: \"{}\" must be an integer", where, key);
  const int64_t v = j[key].get<int64_t>();
  if (v < min || v > 65536) Fail("{}: \"{}\" = {} is out of range [{}, 65536]", where, key, v, min);
  return v;
}

}  // namespace

NetSpec ParseNetSpec(const std::string& json_text, const std::string& origin) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::parse_error& e) {
    Fail("{}: not valid JSON: {}", origin, e.what());
  }
  CheckKeys(j, origin, {"name", "description", "input", "classes", "stem", "blocks"});
  NetSpec spec;
  spec.name = j.value("name", std::string());
  if (spec.name.empty()) Fail("{}: missing \"name\"", origin);
  if (!j.contains("input") || !j["input"].is_array() || j["input"].size() != 3 ||
      !std::all_of(j["input"].begin(), j["input"].end(), [](const json& v) { return v.is_number_integer() && v.get<int64_t>() > 0; }))
    Fail("{}: \"input\" must be [channels, height, width] with positive integers", origin);
  spec.in_channels = j["input"][0];
  spec.in_height = j["input"][1];
  spec.in_width = j["input"][2];
  spec.classes = GetPositive(j, "classes", 10, origin, 2);
  if (spec.classes > 65536) Fail("{}: \"classes\" must be at most 65536 (labels are 16-bit)", origin);
  if (!j.contains("stem")) Fail("{}: missing \"stem\"", origin);
  const json& stem = j["stem"];
  const std::string stem_where = origin + ": stem";
  CheckKeys(stem, stem_where, {"out", "kernel", "stride", "pad", "maxpool"});
  spec.stem.out = GetPositive(stem, "out", 16, stem_where);
  spec.stem.kernel = GetPositive(stem, "kernel", 3, stem_where);
  spec.stem.stride = GetPositive(stem, "stride", 1, stem_where);
  spec.stem.pad = GetPositive(stem, "pad", 1, stem_where, 0);
  if (stem.contains("maxpool") && !stem["maxpool"].is_null()) {
    const std::string where = origin + ": stem.maxpool";
    CheckKeys(stem["maxpool"], where, {"kernel", "stride", "pad"});
    PoolSpec pool;
    pool.kernel = GetPositive(stem["maxpool"], "kernel", 3, where);
    pool.stride = GetPositive(stem["maxpool"], "stride", 2, where);
    pool.pad = GetPositive(stem["maxpool"], "pad", 1, where, 0);
    if (pool.pad >= pool.kernel) Fail("{}: pad must be smaller than kernel", where);
    spec.stem.maxpool = pool;
  }
  if (!j.contains("blocks") || !j["blocks"].is_array() || j["blocks"].empty())
    Fail("{}: \"blocks\" must be a non-empty array", origin);
  for (size_t i = 0; i < j["blocks"].size(); ++i) {
    const std::string where = fmt::format("{}: blocks[{}]", origin, i);
    CheckKeys(j["blocks"][i], where, {"out", "stride"});
    spec.blocks.push_back({GetPositive(j["blocks"][i], "out", 16, where), GetPositive(j["blocks"][i], "stride", 1, where)});
    if (spec.blocks.back().stride > 2) Fail("{}: stride must be 1 or 2", where);
  }
  // Spatial sizes must stay positive through the network.
  int64_t h = spec.in_height, w = spec.in_width;
  auto shrink = [&](int64_t k, int64_t s, int64_t p, const std::string& where) {
    if (h + 2 * p < k || w + 2 * p < k)
      Fail("{}: the feature map ({}x{}) is smaller than the {}x{} window: it shrinks to nothing", where, h, w, k, k);
    h = (h + 2 * p - k) / s + 1;
    w = (w + 2 * p - k) / s + 1;
  };
  shrink(spec.stem.kernel, spec.stem.stride, spec.stem.pad, origin + ": stem");
  if (spec.stem.maxpool) shrink(spec.stem.maxpool->kernel, spec.stem.maxpool->stride, spec.stem.maxpool->pad, origin + ": maxpool");
  for (const auto& b : spec.blocks) shrink(3, b.stride, 1, origin + ": blocks");
  return spec;
}

std::vector<std::string> BuiltinNetNames() { return EmbeddedNames(Embedded_nets()); }

NetSpec LoadNetSpec(const std::string& name_or_path) {
  std::string origin;
  const std::string text = BuiltinOrFileText(Embedded_nets(), "network", name_or_path, &origin);
  return ParseNetSpec(text, origin);
}

std::string NetSpecToJson(const NetSpec& spec) {
  json stem = {{"out", spec.stem.out}, {"kernel", spec.stem.kernel}, {"stride", spec.stem.stride}, {"pad", spec.stem.pad}};
  if (spec.stem.maxpool)
    stem["maxpool"] = {{"kernel", spec.stem.maxpool->kernel}, {"stride", spec.stem.maxpool->stride}, {"pad", spec.stem.maxpool->pad}};
  json blocks = json::array();
  for (const auto& b : spec.blocks) blocks.push_back({{"out", b.out}, {"stride", b.stride}});
  return json{{"name", spec.name},
              {"input", {spec.in_channels, spec.in_height, spec.in_width}},
              {"classes", spec.classes},
              {"stem", stem},
              {"blocks", blocks}}
      .dump(2);
}

}  // namespace octet
