// What the controller hands a unit for one layer: its name, geometry, flags, the scheme,
// the storage widths, and in data mode the layer's tensors (null in shape-only mode, where
// the units count and time exactly as in data mode but compute no values).
#pragma once

#include <string>

#include "golden/core/conv_geometry.h"
#include "golden/kernels/int_batchnorm.h"
#include "golden/net/quant_layer_tensors.h"
#include "golden/numerics/scheme.h"
#include "model/core/storage_bits.h"

namespace octet::model {

struct LayerJob {
  std::string name;
  ConvGeometry geometry;
  bool relu = true;         // ReLU + Q_A after the BN (and the residual add)
  bool input_error = true;  // computes e4 (false for the first layer of the network)
  uint32_t index = 0;       // layer index: the random stream id of CQ
  std::string input_tensor; // the memory name of x0: its producer's x4, or "input"
  const Scheme* scheme = nullptr;
  StorageBits bits{};
  QuantLayerTensors* tensors = nullptr;  // data mode only

  bool data() const { return tensors != nullptr; }
  std::string Tensor(const char* name) const { return this->name + "/" + name; }
  int64_t outputs() const { return geometry.output_count(); }
  int64_t inputs() const { return geometry.input_count(); }
  int64_t weights() const { return geometry.weight_count(); }
  int64_t channels() const { return geometry.out_channels; }
  BnShape bn() const { return {geometry.batch, geometry.out_channels, geometry.out_height() * geometry.out_width()}; }
};

}  // namespace octet::model
