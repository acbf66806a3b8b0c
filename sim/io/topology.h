// The layers a shape-only run simulates (`octet run TOPOLOGY`), from either of two sources
// (docs/topology.md): an Octet network spec (a built-in name or a JSON file), expanded to
// the same layers the golden Network builds, or a SCALE-Sim topology CSV (conv or GEMM
// form), each row one quantized conv layer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "golden/core/conv_geometry.h"
#include "golden/net/net_spec.h"

namespace octet {

struct TopologyLayer {
  std::string name;
  ConvGeometry geometry;
  bool relu = true;           // a ReLU follows (after the residual add, where there is one)
  bool input_error = true;    // e4 is computed: false for the first layer, whose input is data
  bool residual_add = false;  // x3 gets a residual before the ReLU (a block's conv2)
  bool quantized = true;      // an integer layer; false for the float stem and classifier
};

enum class TopologyFormat {
  kNetSpec,       // a built-in network or an Octet network spec JSON file
  kScaleSimConv,  // SCALE-Sim conv CSV
  kScaleSimGemm,  // SCALE-Sim GEMM (M, N, K) CSV
};

const char* TopologyFormatName(TopologyFormat format);  // "net-spec", "scalesim-conv", "scalesim-gemm"

struct Topology {
  std::string name;    // the network's name, or the CSV file's stem
  std::string source;  // "built-in network <name>", or the file's path
  TopologyFormat format = TopologyFormat::kNetSpec;
  std::vector<TopologyLayer> layers;
};

// A built-in network name, a network spec JSON file (a .json name, or text starting with
// '{'), or a SCALE-Sim CSV (told apart by its header). Every layer gets `batch`. Throws
// octet::Error naming the file, and for a CSV the line, of any problem.
Topology LoadTopology(const std::string& path_or_builtin_net, int64_t batch);

// The layers of a parsed network spec, in the golden Network's order and names (stem,
// blockN.conv1, blockN.conv2, blockN.shortcut, ..., fc), marked as the paper's scheme
// builds them: float stem and classifier, quantized blocks.
std::vector<TopologyLayer> ExpandNetSpecLayers(const NetSpec& spec, int64_t batch);

}  // namespace octet
