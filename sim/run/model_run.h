// Running the SystemC model from the command line's inputs: a golden trace (data mode,
// every tensor compared bit for bit) or a topology (shape-only mode, counts only).
#pragma once

#include <string>

#include "model/accelerator.h"
#include "model/config/arch_config.h"
#include "sim/io/topology.h"
#include "sim/io/trace.h"

namespace octet {

struct ModelTraceRun {
  ReplayResult check;        // bit-exactness of the model's tensors against the trace
  model::StepResult result;  // cycles and counts
  std::string network;
};

// Replays the trace in `dir` through the model: the quantized layers run on the
// accelerator, the host's boundary tensors (the float stem's output, the classifier's
// error) come from the trace; every step and state-after tensor of the quantized layers is
// compared with the trace.
//
// carried_state, if given and not empty, replaces the trace's state before the step with
// the layer states a previous run left (W, gamma, beta, Acc_q_*), so consecutive steps
// run on the model's own momentum state; it receives the state after the step.
// `progress` and `array_backend` are passed to model::SimulateStep.
ModelTraceRun RunTraceOnModel(const std::string& dir, const model::ArchConfig& config,
                              std::vector<QuantLayerTensors>* carried_state = nullptr,
                              const model::ProgressCallback& progress = {},
                              const std::string& array_backend = "engine");

// The StepProgram of a topology under `scheme` (shape-only).
model::StepProgram ProgramForTopology(const Topology& topology, const Scheme& scheme);

}  // namespace octet
