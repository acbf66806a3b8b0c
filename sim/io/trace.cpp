#include "sim/io/trace.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "golden/core/error.h"
#include "golden/core/text_file.h"
#include "sim/io/any_npy.h"

namespace octet {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json GeometryJson(const ConvGeometry& g) {
  return {{"batch", g.batch},   {"in_channels", g.in_channels}, {"in_height", g.in_height},
          {"in_width", g.in_width}, {"out_channels", g.out_channels}, {"kernel", g.kernel},
          {"stride", g.stride}, {"pad", g.pad}};
}

ConvGeometry GeometryFromJson(const json& j) {
  return {j.at("batch"), j.at("in_channels"), j.at("in_height"), j.at("in_width"),
          j.at("out_channels"), j.at("kernel"), j.at("stride"), j.at("pad")};
}

TraceRole RoleFromName(const std::string& name, const std::string& where) {
  for (TraceRole r : {TraceRole::kInput, TraceRole::kStateBefore, TraceRole::kStep, TraceRole::kStateAfter}) {
    if (name == TraceRoleName(r)) return r;
  }
  Fail("{}: unknown tensor role \"{}\"", where, name);
}

std::string FlatIndexToString(const Shape& shape, int64_t flat) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return ShapeString(idx);
}

// First differing element of two tensors of the same type, or -1.
template <typename T>
int64_t FirstDifference(const Tensor<T>& a, const Tensor<T>& b) {
  for (int64_t i = 0; i < a.size(); ++i) {
    // Compare bits, so that float NaNs and signed zeros are compared exactly too.
    if (std::memcmp(&a.data[i], &b.data[i], sizeof(T)) != 0) return i;
  }
  return -1;
}

template <typename T>
std::string ElementString(const Tensor<T>& t, int64_t i) {
  if constexpr (std::is_floating_point_v<T>) return fmt::format("{}", t.data[i]);
  else return fmt::format("{}", static_cast<int64_t>(t.data[i]));
}

}  // namespace

const char* TraceRoleName(TraceRole role) {
  switch (role) {
    case TraceRole::kInput: return "input";
    case TraceRole::kStateBefore: return "state_before";
    case TraceRole::kStep: return "step";
    case TraceRole::kStateAfter: return "state_after";
  }
  return "?";
}

void RecordTrace(const std::string& dir, Network& net, uint64_t seed, const StepContext& ctx, const uint8_t* images,
                 const uint16_t* labels) {
  const NetSpec& spec = net.spec();
  const int64_t batch = net.batch();
  CollectSink before, step, after;
  net.ReportState(before);
  net.TrainStep(images, labels, ctx);
  net.Report(step);
  net.ReportState(after);

  const fs::path final_dir(dir);
  const fs::path tmp_dir = final_dir.string() + ".partial";
  std::error_code ec;
  fs::remove_all(tmp_dir, ec);
  fs::create_directories(tmp_dir, ec);
  if (ec) Fail("{}: cannot create directory: {}", tmp_dir.string(), ec.message());

  json entries = json::array();
  auto write = [&](TraceRole role, const std::string& name, const AnyTensor& tensor, int frac_bits) {
    // Inputs are named "input/<x>" already; the other roles get their own folder.
    const std::string file = role == TraceRole::kInput ? name + ".npy" : fmt::format("{}/{}.npy", TraceRoleName(role), name);
    fs::create_directories((tmp_dir / file).parent_path());
    npy::SaveAny((tmp_dir / file).string(), tensor);
    entries.push_back({{"name", name}, {"role", TraceRoleName(role)}, {"file", file},
                       {"dtype", npy::DTypeName(tensor)}, {"shape", npy::ShapeOf(tensor)}, {"frac_bits", frac_bits}});
  };
  const Shape image_shape = {batch, spec.in_channels, spec.in_height, spec.in_width};
  write(TraceRole::kInput, "input/images", Tensor<uint8_t>(image_shape, std::vector<uint8_t>(images, images + NumElements(image_shape))), 0);
  write(TraceRole::kInput, "input/labels", Tensor<uint16_t>({batch}, std::vector<uint16_t>(labels, labels + batch)), 0);
  for (const auto& t : before.items) write(TraceRole::kStateBefore, t.name, t.tensor, t.frac_bits);
  for (const auto& t : step.items) write(TraceRole::kStep, t.name, t.tensor, t.frac_bits);
  for (const auto& t : after.items) write(TraceRole::kStateAfter, t.name, t.tensor, t.frac_bits);

  json layers = json::array();
  for (const auto& l : net.Layers()) layers.push_back({{"name", l.name}, {"quantized", l.quantized}, {"geometry", GeometryJson(l.geometry)}});
  const json manifest = {
      {"format", "octet-trace"},
      {"version", kTraceFormatVersion},
      {"network", json::parse(NetSpecToJson(spec))},
      {"scheme", json::parse(SchemeToJson(net.scheme()))},
      {"seed", seed},
      {"step", ctx.step},
      {"batch", batch},
      {"context", {{"lr", ctx.lr}, {"dr", ctx.dr}, {"float_lr", ctx.float_lr}, {"float_momentum", ctx.float_momentum}}},
      {"layers", layers},
      {"tensors", entries}};
  {
    std::ofstream out(tmp_dir / "manifest.json");
    out << manifest.dump(1) << "\n";
    if (!out) Fail("{}: cannot write manifest.json", tmp_dir.string());
  }
  fs::remove_all(final_dir, ec);
  fs::rename(tmp_dir, final_dir, ec);
  if (ec) Fail("{}: cannot rename {} into place: {}", final_dir.string(), tmp_dir.string(), ec.message());
}

TraceManifest LoadTraceManifest(const std::string& dir) {
  const std::string path = (fs::path(dir) / "manifest.json").string();
  if (!fs::is_directory(dir)) Fail("{}: not a trace directory (no such directory)", dir);
  const std::string text = ReadTextFile(path, "not a trace directory?");
  TraceManifest m;
  try {
    const json j = json::parse(text);
    if (j.value("format", std::string()) != "octet-trace") Fail("{}: \"format\" is not \"octet-trace\"", path);
    if (j.value("version", 0) != kTraceFormatVersion)
      Fail("{}: trace format version {} is not supported (expected {})", path, j.value("version", 0), kTraceFormatVersion);
    m.spec = ParseNetSpec(j.at("network").dump(), path + ": network");
    m.scheme = ParseScheme(j.at("scheme").dump(), path + ": scheme");
    m.seed = j.at("seed");
    m.step = j.at("step");
    m.batch = j.at("batch");
    if (m.batch < 1) Fail("{}: batch must be positive", path);
    const json& c = j.at("context");
    m.context = StepContext{m.seed, m.step, c.at("lr"), c.at("dr"), c.at("float_lr"), c.at("float_momentum")};
    for (const json& l : j.at("layers")) m.layers.push_back({l.at("name"), l.at("quantized"), GeometryFromJson(l.at("geometry"))});
    for (const json& t : j.at("tensors")) {
      TraceEntry e;
      e.name = t.at("name");
      e.role = RoleFromName(t.at("role"), path);
      e.file = t.at("file");
      e.dtype = t.at("dtype");
      e.shape = t.at("shape").get<Shape>();
      e.frac_bits = t.at("frac_bits");
      if (e.file.find("..") != std::string::npos || (!e.file.empty() && e.file[0] == '/'))
        Fail("{}: tensor {} has a file outside the trace: {}", path, e.name, e.file);
      m.entries.push_back(std::move(e));
    }
  } catch (const json::exception& e) {
    Fail("{}: malformed manifest: {}", path, e.what());
  }
  return m;
}

AnyTensor LoadTraceTensor(const std::string& dir, const TraceEntry& entry) {
  const std::string path = (fs::path(dir) / entry.file).string();
  AnyTensor t = npy::LoadAny(path);
  if (npy::DTypeName(t) != entry.dtype)
    Fail("{}: dtype is {}, the manifest says {}", path, npy::DTypeName(t), entry.dtype);
  if (npy::ShapeOf(t) != entry.shape)
    Fail("{}: shape is {}, the manifest says {}", path, ShapeString(npy::ShapeOf(t)), ShapeString(entry.shape));
  return t;
}

ReplayResult ReplayTrace(const std::string& dir) {
  const TraceManifest m = LoadTraceManifest(dir);
  Network net(m.spec, m.scheme, m.batch);
  const Shape image_shape = {m.batch, m.spec.in_channels, m.spec.in_height, m.spec.in_width};
  Tensor<uint8_t> images;
  Tensor<uint16_t> labels;
  bool have_images = false, have_labels = false;
  std::set<std::string> listed;  // "<role>:<name>" of every manifest entry
  for (const auto& e : m.entries) {
    listed.insert(std::string(TraceRoleName(e.role)) + ":" + e.name);
    if (e.role == TraceRole::kInput) {
      AnyTensor t = LoadTraceTensor(dir, e);
      if (e.name == "input/images") {
        auto* typed = std::get_if<Tensor<uint8_t>>(&t);
        if (typed == nullptr) Fail("{}/{}: images must be uint8", dir, e.file);
        if (typed->shape != image_shape)
          Fail("{}/{}: images have shape {}, the network needs {}", dir, e.file, ShapeString(typed->shape),
               ShapeString(image_shape));
        images = std::move(*typed);
        have_images = true;
      } else if (e.name == "input/labels") {
        auto* typed = std::get_if<Tensor<uint16_t>>(&t);
        if (typed == nullptr) Fail("{}/{}: labels must be uint16", dir, e.file);
        if (typed->shape != Shape{m.batch}) Fail("{}/{}: labels must have shape [{}]", dir, e.file, m.batch);
        labels = std::move(*typed);
        have_labels = true;
      }
    } else if (e.role == TraceRole::kStateBefore) {
      try {
        net.LoadState(e.name, LoadTraceTensor(dir, e));
      } catch (const Error& err) {
        Fail("{}: {}", dir, err.what());
      }
    }
  }
  if (!have_images || !have_labels) Fail("{}: the manifest lists no input/images or input/labels", dir);
  // Every tensor of the state before and of the step must be listed: a trace that leaves
  // one out is malformed (a replay from a partial state would report a false mismatch).
  CollectSink expected_state;
  net.ReportState(expected_state);
  for (const auto& t : expected_state.items) {
    if (!listed.count("state_before:" + t.name)) Fail("{}/manifest.json: no state_before entry for {}", dir, t.name);
  }
  net.TrainStep(images.ptr(), labels.ptr(), m.context);

  std::map<std::string, NamedTensor> recomputed;
  CollectSink step, after;
  net.Report(step);
  net.ReportState(after);
  for (auto& t : step.items) recomputed["step:" + t.name] = t;
  for (auto& t : after.items) recomputed["state_after:" + t.name] = t;
  for (const auto& [key, t] : recomputed) {
    if (!listed.count(key)) Fail("{}/manifest.json: no entry for {} ({})", dir, t.name, key.substr(0, key.find(':')));
  }

  return CompareWithTrace(dir, m, recomputed, [](const TraceEntry&) { return true; });
}

ReplayResult CompareWithTrace(const std::string& dir, const TraceManifest& m,
                              const std::map<std::string, NamedTensor>& recomputed,
                              const std::function<bool(const TraceEntry&)>& selected) {
  ReplayResult result;
  for (const auto& e : m.entries) {
    if (e.role != TraceRole::kStep && e.role != TraceRole::kStateAfter) continue;
    if (!selected(e)) continue;
    const auto it = recomputed.find(std::string(TraceRoleName(e.role)) + ":" + e.name);
    if (it == recomputed.end()) {
      result.bit_exact = false;
      result.mismatch = fmt::format("{} ({}): not produced by the recomputed step", e.name, TraceRoleName(e.role));
      return result;
    }
    const AnyTensor expected = LoadTraceTensor(dir, e);
    const AnyTensor& got = it->second.tensor;
    std::string problem;
    if (expected.index() != got.index()) {
      problem = fmt::format("dtype {} in the trace, {} recomputed", npy::DTypeName(expected), npy::DTypeName(got));
    } else if (npy::ShapeOf(expected) != npy::ShapeOf(got)) {
      problem = fmt::format("shape {} in the trace, {} recomputed", ShapeString(npy::ShapeOf(expected)), ShapeString(npy::ShapeOf(got)));
    } else if (e.frac_bits != it->second.frac_bits) {
      problem = fmt::format("frac_bits {} in the trace, {} recomputed", e.frac_bits, it->second.frac_bits);
    } else {
      std::visit(
          [&](const auto& want) {
            using T = std::decay_t<decltype(want)>;
            const T& have = std::get<T>(got);
            const int64_t i = FirstDifference(want, have);
            if (i >= 0)
              problem = fmt::format("element {} (flat {}): trace {}, recomputed {}", FlatIndexToString(want.shape, i), i,
                                    ElementString(want, i), ElementString(have, i));
          },
          expected);
    }
    if (!problem.empty()) {
      result.bit_exact = false;
      result.mismatch = fmt::format("{} ({}): {}", e.name, TraceRoleName(e.role), problem);
      return result;
    }
    ++result.tensors_checked;
    result.elements_checked += NumElements(e.shape);
  }
  return result;
}

}  // namespace octet
