#include "model/control/step_program.h"

#include <map>

#include "golden/core/error.h"

namespace octet::model {

namespace {

// "block2.conv1" -> ("block2", "conv1"); no dot -> ("", name).
std::pair<std::string, std::string> SplitName(const std::string& name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos) return {"", name};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

}  // namespace

StepProgram BuildProgram(const std::string& name, const std::vector<ProgramLayerSpec>& layers, const Scheme& scheme,
                         const StepContext& context) {
  StepProgram program{name, std::make_shared<const Scheme>(scheme), context, {}, {}};
  const StorageBits bits = StorageBits::For(scheme);
  std::map<std::string, size_t> block_stage;  // block name -> index into stages
  std::string previous_output = "input";
  for (size_t i = 0; i < layers.size(); ++i) {
    const ProgramLayerSpec& spec = layers[i];
    if (!spec.quantized) continue;
    LayerJob job;
    job.name = spec.name;
    job.geometry = spec.geometry;
    job.relu = spec.relu;
    job.input_error = spec.input_error;
    job.index = static_cast<uint32_t>(i);
    job.scheme = program.scheme.get();
    job.bits = bits;
    const int index = static_cast<int>(program.layers.size());
    const auto [block, role] = SplitName(spec.name);
    if (!block.empty() && (role == "conv1" || role == "conv2" || role == "shortcut")) {
      auto it = block_stage.find(block);
      if (it == block_stage.end()) {
        it = block_stage.emplace(block, program.stages.size()).first;
        program.stages.push_back({});
      }
      Stage& stage = program.stages[it->second];
      int& slot = role == "conv1" ? stage.conv1 : role == "conv2" ? stage.conv2 : stage.shortcut;
      if (slot >= 0) Fail("{}: layer {} appears twice", name, spec.name);
      slot = index;
    } else {
      program.stages.push_back({index, -1, -1});
    }
    program.layers.push_back(job);
  }
  // Inputs: a stage reads the previous stage's output (a block's conv2 x4).
  for (const Stage& stage : program.stages) {
    if (stage.conv1 < 0 || (stage.shortcut >= 0 && stage.conv2 < 0))
      Fail("{}: residual block without conv1 or conv2 ({} layers)", name, program.layers.size());
    program.layers[stage.conv1].input_tensor = previous_output;
    if (stage.residual()) {
      program.layers[stage.conv2].input_tensor = program.layers[stage.conv1].name + "/x4";
      if (stage.shortcut >= 0) program.layers[stage.shortcut].input_tensor = previous_output;
      previous_output = program.layers[stage.conv2].name + "/x4";
    } else {
      previous_output = program.layers[stage.conv1].name + "/x4";
    }
  }
  if (program.layers.empty()) Fail("{}: no quantized layer to simulate", name);
  return program;
}

}  // namespace octet::model
