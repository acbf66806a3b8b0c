// A whole network's training step: stem, residual blocks, classifier, wired once for
// float and integer layers (Block is a template over the layer type). Under a quantized
// scheme the blocks are QuantLayers; the stem and classifier are float when the scheme
// says fp32_first / fp32_last, as in the paper.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "golden/kernels/float_layers.h"
#include "golden/net/float_layer.h"
#include "golden/net/net_spec.h"
#include "golden/net/quant_head.h"
#include "golden/net/quant_layer.h"
#include "golden/numerics/scheme.h"

namespace octet {

// A basic residual block: conv1-BN-ReLU, conv2-BN, + shortcut (identity or conv1x1-BN),
// ReLU. Act is the activation type (uint8 for integer layers, float for float ones).
template <typename Layer, typename Act>
struct Block {
  Layer conv1, conv2;
  std::optional<Layer> shortcut;

  // dL/d(block input) from the last Backward, kept from step to step so that its storage
  // is reused (an IntError or a float tensor, the type of the layers' e4).
  std::remove_cvref_t<decltype(std::declval<const Layer&>().e4())> din;

  void Forward(const Act& x);
  // dout is dL/d(block output); returns dL/d(block input) (din).
  template <typename Err>
  const auto& Backward(const Err& dout, const StepContext& ctx);
  void Update(const StepContext& ctx);
  template <typename F>
  void ForEachLayer(F&& f) {
    f(conv1);
    f(conv2);
    if (shortcut) f(*shortcut);
  }
  template <typename F>
  void ForEachLayer(F&& f) const {
    f(conv1);
    f(conv2);
    if (shortcut) f(*shortcut);
  }
};

struct LayerInfo {
  std::string name;
  bool quantized = false;
  ConvGeometry geometry;  // the head reports its FC as a 1x1 conv over the pooled vector
};

struct StepResult {
  double loss = 0;
  int64_t correct = 0;
};

class Network {
 public:
  Network(const NetSpec& spec, const Scheme& scheme, int64_t batch);
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  const NetSpec& spec() const { return spec_; }
  const Scheme& scheme() const { return scheme_; }
  int64_t batch() const { return batch_; }

  void Initialize(uint64_t seed);
  void SetBatch(int64_t batch);

  // One training step on images [batch][C][H][W] (bytes) and labels [batch] (class indices).
  StepResult TrainStep(const uint8_t* images, const uint16_t* labels, const StepContext& ctx);
  // Forward only (BN uses the batch's statistics, as in training).
  StepResult Evaluate(const uint8_t* images, const uint16_t* labels);

  void Report(TensorSink& sink) const;       // every named tensor of the last step
  void ReportState(TensorSink& sink) const;  // parameters and optimizer state
  void LoadState(const std::string& name, const AnyTensor& value);  // "<layer>/<tensor>"
  std::vector<LayerInfo> Layers() const;

  // Fig. 9 statistics of the quantized layers (enable before training).
  void EnableCoverage();
  std::vector<std::pair<std::string, E3Coverage>> Coverage() const;

 private:
  double Forward(const uint8_t* images, const uint16_t* labels, int64_t* correct);
  // The float stem (and max-pool): images to its output activation, and back.
  const Tensor<float>& FloatStemForward(const uint8_t* images);
  void FloatStemBackward(const Tensor<float>& error, const StepContext& ctx);
  void Backward(const StepContext& ctx);
  void Update(const StepContext& ctx);
  template <typename F>
  void ForEachQuantLayer(F&& f) const;

  NetSpec spec_;
  Scheme scheme_;
  int64_t batch_;

  std::optional<FloatLayer> float_stem_;
  std::optional<QuantLayer> quant_stem_;
  std::optional<fl::PoolGeometry> pool_;
  Tensor<float> pooled_float_;
  Tensor<uint8_t> pooled_int_;
  Tensor<int64_t> pool_argmax_;
  Tensor<uint8_t> stem_act_;  // integer stem output (after pool), input of block 0
  std::vector<Block<QuantLayer, Tensor<uint8_t>>> quant_blocks_;
  std::vector<Block<FloatLayer, Tensor<float>>> float_blocks_;
  std::unique_ptr<FloatHead> head_;         // float classifier (fp32_last), or
  std::unique_ptr<QuantHead> quant_head_;   // the integer one
  uint32_t head_index_ = 0;
  Tensor<float> head_input_;
  Tensor<float> stem_error_;  // the integer error entering the float stem, as floats
};

}  // namespace octet
