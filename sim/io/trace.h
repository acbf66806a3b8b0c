// Training-step traces (docs/trace-format.md): a directory holding manifest.json and one
// NumPy .npy file per named tensor. A trace records one training step of a network: the
// input batch, the state before the step, every named tensor of the step, and the state
// after it. Replaying recomputes the step from the inputs and the state before.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "golden/core/named_tensor.h"
#include "golden/net/net_spec.h"
#include "golden/net/network.h"
#include "golden/numerics/scheme.h"

namespace octet {

inline constexpr int kTraceFormatVersion = 1;

enum class TraceRole { kInput, kStateBefore, kStep, kStateAfter };
const char* TraceRoleName(TraceRole role);

struct TraceEntry {
  std::string name;   // "<layer>/<tensor>", or "input/images", "input/labels"
  TraceRole role = TraceRole::kStep;
  std::string file;   // relative to the trace directory
  std::string dtype;  // NumPy dtype name
  Shape shape;
  int frac_bits = 0;
};

struct TraceManifest {
  NetSpec spec;
  Scheme scheme;
  uint64_t seed = 0;
  uint64_t step = 0;
  int64_t batch = 0;
  StepContext context;
  std::vector<LayerInfo> layers;
  std::vector<TraceEntry> entries;
};

// Runs one training step of `net` on the batch and writes its trace to `dir` (written to
// "<dir>.partial" and renamed when complete; an existing dir is replaced).
void RecordTrace(const std::string& dir, Network& net, uint64_t seed, const StepContext& ctx, const uint8_t* images,
                 const uint16_t* labels);

TraceManifest LoadTraceManifest(const std::string& dir);
AnyTensor LoadTraceTensor(const std::string& dir, const TraceEntry& entry);  // checks dtype and shape

struct ReplayResult {
  bool bit_exact = true;
  int64_t tensors_checked = 0;
  int64_t elements_checked = 0;
  std::string mismatch;  // "block1.conv1/e3 element [0, 3, 2, 1] (flat 123): trace 5, recomputed 4"
};

// Recomputes the step and compares every step and state-after tensor, in manifest order.
ReplayResult ReplayTrace(const std::string& dir);

// Compares recomputed tensors, keyed "<role>:<name>" (role "step" or "state_after"), with
// the step and state-after entries of the trace for which `selected` holds, in manifest
// order; stops at the first difference. A selected entry without a recomputed tensor is a
// mismatch.
ReplayResult CompareWithTrace(const std::string& dir, const TraceManifest& manifest,
                              const std::map<std::string, NamedTensor>& recomputed,
                              const std::function<bool(const TraceEntry&)>& selected);

}  // namespace octet
