#include "sim/run/model_run.h"

#include <map>
#include <set>

#include "golden/core/error.h"
#include "golden/core/named_tensor.h"

namespace octet {

namespace {

std::string LayerOf(const std::string& tensor_name) { return tensor_name.substr(0, tensor_name.find('/')); }

template <typename T>
Tensor<T> TypedTraceTensor(const std::string& dir, const TraceEntry& e) {
  AnyTensor any = LoadTraceTensor(dir, e);
  auto* typed = std::get_if<Tensor<T>>(&any);
  if (typed == nullptr) Fail("{}/{}: {} has the wrong dtype {}", dir, e.file, e.name, e.dtype);
  return std::move(*typed);
}

void CopyState(const QuantLayerTensors& from, QuantLayerTensors& to) {
  to.w = from.w;
  to.gamma = from.gamma;
  to.beta = from.beta;
  to.acc_w = from.acc_w;
  to.acc_gamma = from.acc_gamma;
  to.acc_beta = from.acc_beta;
}

}  // namespace

model::StepProgram ProgramForTopology(const Topology& topology, const Scheme& scheme) {
  if (!scheme.quantized) Fail("scheme {}: the accelerator runs quantized schemes only", scheme.name);
  std::vector<model::ProgramLayerSpec> specs;
  for (const TopologyLayer& l : topology.layers)
    specs.push_back({l.name, l.geometry, l.quantized, l.relu, l.input_error});
  StepContext ctx;
  ctx.lr = scheme.LearningRateInt(0);
  ctx.dr = scheme.DynamicRange(0);
  return model::BuildProgram(topology.name, specs, scheme, ctx);
}

ModelTraceRun RunTraceOnModel(const std::string& dir, const model::ArchConfig& config,
                              std::vector<QuantLayerTensors>* carried_state, const model::ProgressCallback& progress,
                              const std::string& array_backend) {
  const TraceManifest m = LoadTraceManifest(dir);
  if (!m.scheme.quantized) Fail("{}: scheme {} is not quantized; the accelerator runs integer layers", dir, m.scheme.name);
  if (!m.scheme.fp32_first || !m.scheme.fp32_last)
    Fail("{}: the model runs the residual blocks; traces with an integer stem or classifier (fp32_first/fp32_last "
         "false) are not supported",
         dir);
  std::vector<model::ProgramLayerSpec> specs;
  for (const LayerInfo& l : m.layers) {
    const bool shortcut = l.name.size() > 9 && l.name.ends_with(".shortcut");
    specs.push_back({l.name, l.geometry, l.quantized, !shortcut, true});
  }
  StepContext ctx = m.context;
  ctx.seed = m.seed;
  ctx.step = m.step;
  const model::StepProgram program = model::BuildProgram(m.spec.name, specs, m.scheme, ctx);

  // The state before the step and the boundary tensors from the host.
  std::map<std::string, int> layer_index;
  for (size_t i = 0; i < program.layers.size(); ++i) layer_index[program.layers[i].name] = static_cast<int>(i);
  model::StepData data;
  data.layers.resize(program.layers.size());
  for (size_t i = 0; i < program.layers.size(); ++i) data.layers[i].ShapeState(program.layers[i].geometry);
  const model::LayerJob& first = program.layers[program.stages.front().conv1];
  const model::Stage& last_stage = program.stages.back();
  const model::LayerJob& last = program.layers[last_stage.residual() ? last_stage.conv2 : last_stage.conv1];
  std::set<std::string> loaded_state;
  bool have_input = false, have_error = false;
  for (const TraceEntry& e : m.entries) {
    const auto it = layer_index.find(LayerOf(e.name));
    if (e.role == TraceRole::kStateBefore && it != layer_index.end()) {
      try {
        data.layers[it->second].LoadState(it->first, e.name.substr(e.name.find('/') + 1), LoadTraceTensor(dir, e));
      } catch (const Error& err) {
        Fail("{}: {}", dir, err.what());
      }
      loaded_state.insert(e.name);
    } else if (e.role == TraceRole::kStep && e.name == first.name + "/x0") {
      data.input = TypedTraceTensor<uint8_t>(dir, e);
      have_input = true;
    } else if (e.role == TraceRole::kStep && e.name == "fc/dx") {
      data.host_error = TypedTraceTensor<float>(dir, e);
      have_error = true;
    }
  }
  for (const model::LayerJob& l : program.layers)
    for (const char* state : {"W", "gamma", "beta", "Acc_q_W", "Acc_q_gamma", "Acc_q_beta"})
      if (!loaded_state.count(l.name + "/" + state)) Fail("{}/manifest.json: no state_before entry for {}/{}", dir, l.name, state);
  if (carried_state != nullptr && !carried_state->empty()) {
    if (carried_state->size() != data.layers.size())
      Fail("{}: the carried state has {} layers, the trace {}", dir, carried_state->size(), data.layers.size());
    for (size_t i = 0; i < data.layers.size(); ++i) CopyState((*carried_state)[i], data.layers[i]);
  }
  if (!have_input) Fail("{}/manifest.json: no entry {}/x0 (the input of the first accelerated layer)", dir, first.name);
  if (!have_error) Fail("{}/manifest.json: no entry fc/dx (the classifier's error)", dir);
  if (data.input.size() != first.inputs()) Fail("{}: {}/x0 has {} elements, the layer needs {}", dir, first.name, data.input.size(), first.inputs());
  if (data.host_error.size() != last.outputs())
    Fail("{}: fc/dx has {} elements, {} produces {}", dir, data.host_error.size(), last.name, last.outputs());

  ModelTraceRun run;
  run.network = m.spec.name;
  run.result = model::SimulateStep(config, program, &data, progress, array_backend);

  CollectSink step_sink, after_sink;
  for (size_t i = 0; i < program.layers.size(); ++i) {
    const model::LayerJob& l = program.layers[i];
    data.layers[i].Report(step_sink, l.name, m.scheme, l.relu, l.input_error);
    data.layers[i].ReportState(after_sink, l.name, m.scheme);
  }
  std::map<std::string, NamedTensor> recomputed;
  for (NamedTensor& t : step_sink.items) recomputed["step:" + t.name] = std::move(t);
  for (NamedTensor& t : after_sink.items) recomputed["state_after:" + t.name] = std::move(t);
  if (carried_state != nullptr) {
    carried_state->resize(data.layers.size());
    for (size_t i = 0; i < data.layers.size(); ++i) CopyState(data.layers[i], (*carried_state)[i]);
  }
  run.check = CompareWithTrace(dir, m, recomputed,
                               [&](const TraceEntry& e) { return layer_index.count(LayerOf(e.name)) > 0; });
  return run;
}

}  // namespace octet
