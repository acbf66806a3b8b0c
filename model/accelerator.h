// The accelerator: every unit of the SystemC model instantiated once and bound by explicit
// ports (block diagram: docs/architecture.md). SystemC elaborates a design once per
// process, so there is one Accelerator per process, created on first use; each run
// snapshots its configuration into the units and simulates one training step.
#pragma once

#include <string>

#include "model/config/arch_config.h"
#include "model/control/controller.h"
#include "model/control/step_program.h"
#include "model/stats/step_stats.h"

namespace octet::model {

struct StepResult {
  ArchConfig config;
  std::vector<LayerStats> layers;  // per layer and phase, in the order the controller first ran them
  Counters total;
  int64_t cycles = 0;  // the whole step, first unit start to last DRAM write
};

// Simulates one training step of `program` on the architecture `config`. data == nullptr
// runs shape-only (the same counts, no values); otherwise data's layer states and boundary
// tensors are read and every tensor of the step is written into it. `progress`, if set, is
// called as the controller starts each layer's forward, backward and update.
//
// `array_backend` names where the array's values come from (gemm_backend.h: "engine", or
// "rtl" once registered). It is a choice of the simulation, not of the hardware, so it is
// not part of ArchConfig: every backend gives the same values and counters (the array unit
// checks the cycles against the closed form). Shape-only runs compute no values and never
// call the backend; an unknown name, or a backend that cannot run `config`'s array, is an
// octet::Error before the step starts.
StepResult SimulateStep(const ArchConfig& config, const StepProgram& program, StepData* data,
                        const ProgressCallback& progress = {}, const std::string& array_backend = "engine");

}  // namespace octet::model
