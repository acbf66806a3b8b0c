#include "golden/net/network.h"

#include <algorithm>
#include <cmath>

#include "golden/core/error.h"
#include "golden/core/vector_clones.h"
#include "golden/numerics/fixed_point.h"

namespace octet {
namespace {

// out = a + b, into out's storage.
void SumInto(const Tensor<float>& a, const Tensor<float>& b, Tensor<float>& out) {
  ResizeForOverwrite(out, a.shape);
  for (int64_t i = 0; i < a.size(); ++i) out[i] = a[i] + b[i];
}
void SumInto(const IntError& a, const IntError& b, IntError& out) { AddErrors(a, b, out); }
void SumInto(const IntError& a, const Int8Error& b, IntError& out) { AddErrors(a, b, out); }

// Integer activation (frac_A bits) to float, exact, into out's storage.
void ToFloatInto(const Tensor<uint8_t>& x, int frac, Tensor<float>& out) {
  ResizeForOverwrite(out, x.shape);  // every element written below
  const float scale = std::ldexp(1.0f, -frac);  // a power of two: the product is exact
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < x.size(); ++i) out[i] = static_cast<float>(x[i]) * scale;
}

// Element-wise passes over a whole tensor run in rows of kRow elements (the last one
// shorter or empty), each row one call of a kernel.
constexpr int64_t kRow = 16384;

OCTET_VECTOR_CLONES
void ToFloatRow(const int64_t* m, int64_t count, double scale, float* out) {
  for (int64_t i = 0; i < count; ++i) out[i] = static_cast<float>(static_cast<double>(m[i]) * scale);
}

// An integer error entering a float layer: m * 2^exp rounded to the nearest float, into
// out's storage.
void ToFloatInto(const IntError& e, Tensor<float>& out) {
  ResizeForOverwrite(out, e.m.shape);  // every element written below
  const double scale = std::ldexp(1.0, e.exp);  // exact scaling by a power of two
  const int64_t rows = e.m.size() / kRow;
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row <= rows; ++row) {
    const int64_t i0 = row * kRow;
    ToFloatRow(e.m.ptr() + i0, std::min(kRow, e.m.size() - i0), scale, out.ptr() + i0);
  }
}

OCTET_VECTOR_CLONES
void QuantizeActivationRow(const float* x, int64_t count, int frac_a, int64_t a_max, uint8_t* out) {
  for (int64_t i = 0; i < count; ++i) out[i] = static_cast<uint8_t>(fx::Saturate(fx::RoundHalfEvenScale(x[i], frac_a), 0, a_max));
}

// Q_A of a float activation (already >= 0 after ReLU): RHE to frac_A bits, clipped, into
// out's storage.
void QuantizeActivationInto(const Tensor<float>& x, const Scheme& s, Tensor<uint8_t>& out) {
  ResizeForOverwrite(out, x.shape);  // every element written below
  const int64_t a_max = (int64_t{1} << s.k_A) - 1;
  const int64_t rows = x.size() / kRow;
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row <= rows; ++row) {
    const int64_t i0 = row * kRow;
    QuantizeActivationRow(x.ptr() + i0, std::min(kRow, x.size() - i0), s.frac_A(), a_max, out.ptr() + i0);
  }
}

// Input pixels p in 0..255 stand for p / 255; the integer stem reads Q_A(p / 255) =
// RHE(p * 2^frac_A / 255).
Tensor<uint8_t> QuantizeImage(const uint8_t* images, const Shape& shape, const Scheme& s) {
  Tensor<uint8_t> out(shape);
  for (int64_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<uint8_t>(fx::RoundHalfEvenDivide(static_cast<fx::int128>(images[i]) << s.frac_A(), 255));
  return out;
}

Tensor<float> ImageToFloat(const uint8_t* images, const Shape& shape) {
  Tensor<float> out(shape);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(images[i]) / 255.0f;
  return out;
}

template <typename T>
void MaxPoolBackwardInt(const fl::PoolGeometry& p, const int64_t* argmax, const T* dy, T* dx, int64_t input_count) {
  std::fill_n(dx, input_count, T{0});
  const int64_t outputs = p.batch * p.channels * p.out_height() * p.out_width();
  for (int64_t o = 0; o < outputs; ++o) dx[argmax[o]] += dy[o];
}

}  // namespace

template <typename Layer, typename Act>
void Block<Layer, Act>::Forward(const Act& x) {
  conv1.Forward(x, nullptr);
  if (shortcut) {
    shortcut->Forward(x, nullptr);
    conv2.Forward(conv1.x4(), &shortcut->x3());
  } else {
    conv2.ForwardWithIdentity(conv1.x4(), x);  // the identity shortcut
  }
}

template <typename Layer, typename Act>
template <typename Err>
const auto& Block<Layer, Act>::Backward(const Err& dout, const StepContext& ctx) {
  const auto& e1 = conv2.BackwardFromOutput(dout, ctx);  // E1 and the ReLU after the add
  if (shortcut) shortcut->BackwardFromE1(e1, ctx);     // the shortcut shares that e1
  conv1.BackwardFromOutput(conv2.e4(), ctx);
  if (shortcut) {
    SumInto(conv1.e4(), shortcut->e4(), din);
  } else {
    SumInto(conv1.e4(), e1, din);
  }
  return din;
}

template <typename Layer, typename Act>
void Block<Layer, Act>::Update(const StepContext& ctx) {
  ForEachLayer([&](Layer& l) { l.Update(ctx); });
}

Network::Network(const NetSpec& spec, const Scheme& scheme, int64_t batch) : spec_(spec), scheme_(scheme), batch_(batch) {
  if (batch < 1) Fail("batch size must be at least 1, got {}", batch);
  uint32_t index = 0;
  ConvGeometry stem{batch, spec.in_channels, spec.in_height, spec.in_width, spec.stem.out, spec.stem.kernel,
                    spec.stem.stride, spec.stem.pad};
  QuantLayerConfig stem_config{"stem", stem, true, false, index++};
  const bool quantized = scheme_.quantized;
  if (quantized && !scheme_.fp32_first) {
    quant_stem_.emplace(stem_config, scheme_);
  } else {
    float_stem_.emplace(stem_config, scheme_);
  }
  int64_t channels = spec.stem.out, h = stem.out_height(), w = stem.out_width();
  if (spec.stem.maxpool) {
    pool_ = fl::PoolGeometry{batch, channels, h, w, spec.stem.maxpool->kernel, spec.stem.maxpool->stride,
                             spec.stem.maxpool->pad};
    h = pool_->out_height();
    w = pool_->out_width();
  }
  for (size_t b = 0; b < spec.blocks.size(); ++b) {
    const BlockSpec& bs = spec.blocks[b];
    const std::string name = fmt::format("block{}", b + 1);
    ConvGeometry g1{batch, channels, h, w, bs.out, 3, bs.stride, 1};
    ConvGeometry g2{batch, bs.out, g1.out_height(), g1.out_width(), bs.out, 3, 1, 1};
    QuantLayerConfig c1{name + ".conv1", g1, true, true, index++};
    QuantLayerConfig c2{name + ".conv2", g2, true, true, index++};
    std::optional<QuantLayerConfig> cs;
    if (bs.stride != 1 || bs.out != channels) cs = QuantLayerConfig{name + ".shortcut", {batch, channels, h, w, bs.out, 1, bs.stride, 0}, false, true, index++};
    if (quantized) {
      auto& block = quant_blocks_.emplace_back(Block<QuantLayer, Tensor<uint8_t>>{QuantLayer(c1, scheme_), QuantLayer(c2, scheme_), std::nullopt, {}});
      if (cs) block.shortcut.emplace(*cs, scheme_);
    } else {
      auto& block = float_blocks_.emplace_back(Block<FloatLayer, Tensor<float>>{FloatLayer(c1, scheme_), FloatLayer(c2, scheme_), std::nullopt, {}});
      if (cs) block.shortcut.emplace(*cs, scheme_);
    }
    channels = bs.out;
    h = g1.out_height();
    w = g1.out_width();
  }
  if (quantized && !scheme_.fp32_last) {
    quant_head_ = std::make_unique<QuantHead>("fc", channels, spec.classes, index, scheme_);
  } else {
    head_ = std::make_unique<FloatHead>("fc", channels, spec.classes);
  }
  head_index_ = index;
}

void Network::Initialize(uint64_t seed) {
  if (float_stem_) float_stem_->Initialize(seed);
  if (quant_stem_) quant_stem_->Initialize(seed);
  for (auto& b : quant_blocks_) b.ForEachLayer([&](QuantLayer& l) { l.Initialize(seed); });
  for (auto& b : float_blocks_) b.ForEachLayer([&](FloatLayer& l) { l.Initialize(seed); });
  if (head_) head_->Initialize(seed, head_index_);
  if (quant_head_) quant_head_->Initialize(seed);
}

void Network::SetBatch(int64_t batch) {
  if (batch < 1) Fail("batch size must be at least 1, got {}", batch);
  batch_ = batch;
  if (float_stem_) float_stem_->SetBatch(batch);
  if (quant_stem_) quant_stem_->SetBatch(batch);
  if (pool_) pool_->batch = batch;
  for (auto& b : quant_blocks_) b.ForEachLayer([&](QuantLayer& l) { l.SetBatch(batch); });
  for (auto& b : float_blocks_) b.ForEachLayer([&](FloatLayer& l) { l.SetBatch(batch); });
}

const Tensor<float>& Network::FloatStemForward(const uint8_t* images) {
  float_stem_->Forward(ImageToFloat(images, {batch_, spec_.in_channels, spec_.in_height, spec_.in_width}), nullptr);
  if (!pool_) return float_stem_->x4();
  pooled_float_ = Tensor<float>({batch_, pool_->channels, pool_->out_height(), pool_->out_width()});
  pool_argmax_ = Tensor<int64_t>(pooled_float_.shape);
  fl::MaxPoolForward(*pool_, float_stem_->x4().ptr(), pooled_float_.ptr(), pool_argmax_.ptr());
  return pooled_float_;
}

double Network::Forward(const uint8_t* images, const uint16_t* labels, int64_t* correct) {
  const Shape image_shape = {batch_, spec_.in_channels, spec_.in_height, spec_.in_width};
  if (!scheme_.quantized) {
    const Tensor<float>* act = &FloatStemForward(images);
    for (auto& b : float_blocks_) {
      b.Forward(*act);
      act = &b.conv2.x4();
    }
    return head_->Forward(*act, labels, correct);
  }
  // Quantized scheme: the stem yields the integer activation of block 0.
  if (float_stem_) {
    QuantizeActivationInto(FloatStemForward(images), scheme_, stem_act_);
  } else {
    quant_stem_->Forward(QuantizeImage(images, image_shape, scheme_), nullptr);
    stem_act_ = quant_stem_->x4();
    if (pool_) {
      pooled_int_ = Tensor<uint8_t>({batch_, pool_->channels, pool_->out_height(), pool_->out_width()});
      pool_argmax_ = Tensor<int64_t>(pooled_int_.shape);
      fl::MaxPoolForward(*pool_, stem_act_.ptr(), pooled_int_.ptr(), pool_argmax_.ptr());
      stem_act_ = pooled_int_;
    }
  }
  const Tensor<uint8_t>* act = &stem_act_;
  for (auto& b : quant_blocks_) {
    b.Forward(*act);
    act = &b.conv2.x4();
  }
  if (quant_head_) return quant_head_->Forward(*act, labels, correct);
  ToFloatInto(*act, scheme_.frac_A(), head_input_);
  return head_->Forward(head_input_, labels, correct);
}

void Network::Backward(const StepContext& ctx) {
  if (!scheme_.quantized) {
    const Tensor<float>* err = &head_->Backward();
    for (auto it = float_blocks_.rbegin(); it != float_blocks_.rend(); ++it) err = &it->Backward(*err, ctx);
    FloatStemBackward(*err, ctx);
    return;
  }
  // The last block's dL/dx4 is an integer tensor (integer classifier) or a float one. Each
  // block's error is the next one's input, by reference: no copies.
  const IntError* err = quant_head_ ? &quant_blocks_.back().Backward(quant_head_->Backward(ctx), ctx)
                                    : &quant_blocks_.back().Backward(head_->Backward(), ctx);
  for (auto it = quant_blocks_.rbegin() + 1; it != quant_blocks_.rend(); ++it) err = &it->Backward(*err, ctx);
  if (quant_stem_) {
    if (pool_) {
      IntError dstem{Tensor<int64_t>(quant_stem_->x4().shape), err->exp};
      MaxPoolBackwardInt(*pool_, pool_argmax_.ptr(), err->m.ptr(), dstem.m.ptr(), dstem.m.size());
      quant_stem_->BackwardFromOutput(dstem, ctx);
      return;
    }
    quant_stem_->BackwardFromOutput(*err, ctx);
    return;
  }
  ToFloatInto(*err, stem_error_);
  FloatStemBackward(stem_error_, ctx);
}

void Network::FloatStemBackward(const Tensor<float>& error, const StepContext& ctx) {
  if (!pool_) {
    float_stem_->BackwardFromOutput(error, ctx);
    return;
  }
  Tensor<float> dstem(float_stem_->x4().shape);
  fl::MaxPoolBackward(*pool_, pool_argmax_.ptr(), error.ptr(), dstem.ptr());
  float_stem_->BackwardFromOutput(dstem, ctx);
}

void Network::Update(const StepContext& ctx) {
  if (float_stem_) float_stem_->Update(ctx);
  if (quant_stem_) quant_stem_->Update(ctx);
  for (auto& b : quant_blocks_) b.Update(ctx);
  for (auto& b : float_blocks_) b.Update(ctx);
  if (head_) head_->Update(ctx);
  if (quant_head_) quant_head_->Update(ctx);
}

StepResult Network::TrainStep(const uint8_t* images, const uint16_t* labels, const StepContext& ctx) {
  StepResult r;
  r.loss = Forward(images, labels, &r.correct);
  Backward(ctx);
  Update(ctx);
  return r;
}

StepResult Network::Evaluate(const uint8_t* images, const uint16_t* labels) {
  StepResult r;
  r.loss = Forward(images, labels, &r.correct);
  return r;
}

template <typename F>
void Network::ForEachQuantLayer(F&& f) const {
  if (quant_stem_) f(*quant_stem_);
  for (const auto& b : quant_blocks_) b.ForEachLayer(f);
}

void Network::Report(TensorSink& sink) const {
  if (float_stem_) float_stem_->Report(sink);
  for (const auto& b : float_blocks_) b.ForEachLayer([&](const FloatLayer& l) { l.Report(sink); });
  ForEachQuantLayer([&](const QuantLayer& l) { l.Report(sink); });
  if (head_) head_->Report(sink);
  if (quant_head_) quant_head_->Report(sink);
}

void Network::ReportState(TensorSink& sink) const {
  if (float_stem_) float_stem_->ReportState(sink);
  for (const auto& b : float_blocks_) b.ForEachLayer([&](const FloatLayer& l) { l.ReportState(sink); });
  ForEachQuantLayer([&](const QuantLayer& l) { l.ReportState(sink); });
  if (head_) head_->ReportState(sink);
  if (quant_head_) quant_head_->ReportState(sink);
}

void Network::LoadState(const std::string& name, const AnyTensor& value) {
  const auto slash = name.rfind('/');
  if (slash == std::string::npos) Fail("state tensor \"{}\": expected <layer>/<tensor>", name);
  const std::string layer = name.substr(0, slash), tensor = name.substr(slash + 1);
  if (float_stem_ && layer == "stem") return float_stem_->LoadState(tensor, value);
  if (quant_stem_ && layer == "stem") return quant_stem_->LoadState(tensor, value);
  if (layer == "fc" && head_) return head_->LoadState(tensor, value);
  if (layer == "fc" && quant_head_) return quant_head_->LoadState(tensor, value);
  bool found = false;
  for (auto& b : quant_blocks_) b.ForEachLayer([&](QuantLayer& l) { if (l.config().name == layer) { l.LoadState(tensor, value); found = true; } });
  for (auto& b : float_blocks_) b.ForEachLayer([&](FloatLayer& l) { if (l.config().name == layer) { l.LoadState(tensor, value); found = true; } });
  if (!found) Fail("state tensor \"{}\": no layer \"{}\" in network {}", name, layer, spec_.name);
}

std::vector<LayerInfo> Network::Layers() const {
  std::vector<LayerInfo> out;
  if (float_stem_) out.push_back({"stem", false, float_stem_->config().geometry});
  if (quant_stem_) out.push_back({"stem", true, quant_stem_->config().geometry});
  for (const auto& b : float_blocks_) b.ForEachLayer([&](const FloatLayer& l) { out.push_back({l.config().name, false, l.config().geometry}); });
  for (const auto& b : quant_blocks_) b.ForEachLayer([&](const QuantLayer& l) { out.push_back({l.config().name, true, l.config().geometry}); });
  return out;
}

void Network::EnableCoverage() {
  if (quant_stem_) quant_stem_->coverage.enabled = true;
  for (auto& b : quant_blocks_) b.ForEachLayer([](QuantLayer& l) { l.coverage.enabled = true; });
}

std::vector<std::pair<std::string, E3Coverage>> Network::Coverage() const {
  std::vector<std::pair<std::string, E3Coverage>> out;
  ForEachQuantLayer([&](const QuantLayer& l) { out.emplace_back(l.config().name, l.coverage); });
  return out;
}

}  // namespace octet
