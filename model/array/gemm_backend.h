// Where the array's values come from: a registry of GEMM backends, chosen by name
// (Ramulator-style: implementations register themselves; the caller names one). The
// array unit's timing and traffic do not depend on the backend; a backend must return the
// same values and the same cycles as the closed form, which the array unit checks.
//
//   "engine"  the fast GemmEngine (default)
//   "rtl"     the Verilated RTL array, fold by fold (registered by rtl/harness when linked)
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/array/gemm_engine.h"

namespace octet::model {

class GemmBackend {
 public:
  virtual ~GemmBackend() = default;
  // C = A * B with the PE arithmetic; cycles as the array ran them.
  virtual GemmRun Run(const OperandView& ifmap, const OperandView& filter) = 0;
};

using GemmBackendFactory = std::function<std::unique_ptr<GemmBackend>(ArrayShape, Dataflow)>;

// Registers a backend; returns true so it can initialise a static.
bool RegisterGemmBackend(const std::string& name, const std::string& description, GemmBackendFactory factory);
// Throws octet::Error naming the registered backends for an unknown name.
std::unique_ptr<GemmBackend> MakeGemmBackend(const std::string& name, ArrayShape array, Dataflow dataflow);
std::vector<std::pair<std::string, std::string>> GemmBackends();  // (name, description)

}  // namespace octet::model
