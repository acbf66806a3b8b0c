// A training step as the controller runs it: the network's quantized layers (the float
// first and last layers run on the host, as in the paper) grouped into stages, either a
// residual block (conv1, conv2, optional shortcut: golden/net/network.h) or a single
// conv-BN-ReLU layer of a plain chain (a SCALE-Sim topology).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "golden/core/conv_geometry.h"
#include "golden/net/quant_layer.h"
#include "golden/numerics/scheme.h"
#include "model/core/layer_job.h"

namespace octet::model {

// One layer of a topology, in network order (its position is its layer index, the
// random stream id of CQ, as in the golden network).
struct ProgramLayerSpec {
  std::string name;
  ConvGeometry geometry;
  bool quantized = true;
  bool relu = true;
  bool input_error = true;
};

struct Stage {
  int conv1 = -1;     // the single layer of a chain stage
  int conv2 = -1;     // residual blocks only
  int shortcut = -1;  // residual blocks with a projection shortcut
  bool residual() const { return conv2 >= 0; }
};

struct StepProgram {
  std::string name;
  // Shared and immutable: the layers point at it (LayerJob::scheme), so a program stays
  // valid when it is copied or moved.
  std::shared_ptr<const Scheme> scheme;
  StepContext context;
  std::vector<LayerJob> layers;  // quantized layers only; tensors unset
  std::vector<Stage> stages;
};

// Groups "<block>.conv1", "<block>.conv2" and "<block>.shortcut" into residual stages;
// any other quantized layer is a chain stage. Throws octet::Error for an incomplete block.
StepProgram BuildProgram(const std::string& name, const std::vector<ProgramLayerSpec>& layers, const Scheme& scheme,
                         const StepContext& context);

}  // namespace octet::model
