// The controller: sequences a network's training step over the units (forward of every
// stage, backward in reverse, then the update of every layer), opens the statistics
// bucket of each (layer, phase) and, in data mode, keeps the tensors that flow between
// layers: activations forward, error sums backward (docs/architecture.md, "Controller").
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <systemc>

#include "golden/net/quant_layer.h"
#include "model/array/array_unit.h"
#include "model/control/step_program.h"
#include "model/stats/step_stats.h"
#include "model/units/unit_interfaces.h"

namespace octet::model {

// Data mode: the tensors of a step. The caller loads each layer's state (W, gamma, beta,
// Acc_q_*) and the boundary tensors the host provides; the controller fills the rest.
struct StepData {
  std::vector<QuantLayerTensors> layers;  // one per program layer
  Tensor<uint8_t> input;                  // x0 of the first stage (from the host's stem)
  Tensor<float> host_error;               // dL/d(output of the last stage), from the host's classifier
  IntError input_error;                   // out: dL/d(x0 of the first stage), to the host
};

// Progress of a step, reported when the controller starts a layer's forward, its backward
// (from E1 to the weight gradient) and its update: 3 * layers events per step, in the
// order the controller runs them.
struct ProgressEvent {
  enum class Stage { kForward, kBackward, kUpdate };
  Stage stage = Stage::kForward;
  std::string_view layer;  // the layer's name, valid during the call
  int64_t done = 0;        // layer stages started before this one (0 .. total-1)
  int64_t total = 0;       // 3 * layers
  int64_t cycles = 0;      // simulated cycles since the step started
};
const char* ProgressStageName(ProgressEvent::Stage stage);  // "forward", "backward", "update"

// Called from the simulation thread; it must not throw.
using ProgressCallback = std::function<void(const ProgressEvent&)>;

class Controller : public sc_core::sc_module {
 public:
  sc_core::sc_port<ArrayIf> array;
  sc_core::sc_port<BnIf> bn;
  sc_core::sc_port<ActIf> act;
  sc_core::sc_port<E1If> e1;
  sc_core::sc_port<E2If> e2;
  sc_core::sc_port<CqIf> cq;
  sc_core::sc_port<UpdateIf> update;

  Controller(sc_core::sc_module_name name, StepStats& stats);

  // Starts a step (the caller then runs the simulation until it is idle). `progress`, if
  // set, is called as each layer's forward, backward and update starts.
  void Start(const StepProgram& program, StepData* data, ProgressCallback progress = {});
  bool busy() const { return program_ != nullptr; }
  // The octet::Error message that ended the last step early, if any (cleared by the call).
  std::string TakeError() { return std::exchange(error_, std::string()); }

  // e3 as the array reads it (pixel-major flag words or SQ values), built once per layer.
  struct ErrorOperand {
    std::vector<uint16_t> words;
    std::vector<int16_t> values;
    int passes = 1;
  };

 private:
  void Thread();
  void RunStep();
  void Forward(int layer, const Residual* residual, bool writes_x3);
  // The backward of a layer once its e1 is known: BN backward, E2, error and weight
  // gradient GEMMs, CQ, Q of the BN gradients.
  void BackwardFromE1(int layer);
  void ErrorGemm(int layer, const ErrorOperand& e3);
  void WeightGradGemm(int layer, const ErrorOperand& e3);
  void Open(int layer, Phase phase);
  void Report(int layer, ProgressEvent::Stage stage);
  QuantLayerTensors* tensors(int layer);

  StepStats& stats_;
  sc_core::sc_event start_;
  std::string error_;
  const StepProgram* program_ = nullptr;
  StepData* data_ = nullptr;
  ProgressCallback progress_;
  int64_t progress_done_ = 0;
  int64_t step_start_ = 0;
  std::vector<LayerJob> jobs_;             // the program's layers with their tensors attached
  std::vector<std::vector<uint8_t>> col_;  // data mode: lowered x0 per layer, kept for the weight gradient
};

}  // namespace octet::model
