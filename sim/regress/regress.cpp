#include "sim/regress/regress.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <variant>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "golden/core/error.h"
#include "golden/net/quant_layer.h"
#include "golden/net/quant_ops.h"
#include "golden/numerics/counter_rng.h"
#include "golden/numerics/quantizers.h"
#include "model/array/gemm_engine.h"
#include "model/control/lowering.h"
#include "rtl/harness/array_driver.h"
#include "rtl/harness/array_regression.h"
#include "rtl/harness/units_driver.h"

namespace octet::regress {

using rtl::BlockResult;
using rtl::MismatchRecorder;
using Fields = MismatchRecorder::Fields;

std::vector<std::string> SuiteBlocks() {
  std::vector<std::string> blocks = rtl::RegressionBlocks();
  for (const model::ArrayShape& s : rtl::RtlArrayShapes()) blocks.push_back(fmt::format("array_{}x{}", s.rows, s.cols));
  return blocks;
}

bool ArrayBlockShape(const std::string& block, model::ArrayShape& shape) {
  for (const model::ArrayShape& s : rtl::RtlArrayShapes()) {
    if (block == fmt::format("array_{}x{}", s.rows, s.cols)) {
      shape = s;
      return true;
    }
  }
  return false;
}

void CheckBlockName(const std::string& block) {
  const std::vector<std::string> blocks = SuiteBlocks();
  if (std::find(blocks.begin(), blocks.end(), block) == blocks.end())
    Fail("unknown RTL block '{}' (blocks: {})", block, fmt::join(blocks, ", "));
}

// ---------------------------------------------------------------------------------------
// Random suite

RandomSuite::RandomSuite(uint64_t seed, int64_t vectors, const std::vector<std::string>& blocks)
    : seed_(seed), vectors_(vectors) {
  for (const std::string& block : blocks) {
    model::ArrayShape shape;
    if (ArrayBlockShape(block, shape))
      references_.push_back(std::make_unique<model::SystolicArrayBench>(("regress_" + block).c_str(), shape));
  }
}

RandomSuite::~RandomSuite() = default;

BlockResult RandomSuite::Run(const std::string& block) {
  model::ArrayShape shape;
  if (!ArrayBlockShape(block, shape)) return rtl::RunBlockRegression(block, seed_, vectors_);
  for (const auto& reference : references_)
    if (reference->shape().rows == shape.rows && reference->shape().cols == shape.cols)
      return rtl::RunArrayRegression(*reference, seed_, vectors_);
  Fail("{}: no SystemC reference array (the suite was constructed without this block)", block);
}

// ---------------------------------------------------------------------------------------
// Trace suite

namespace {

// A quantized layer of the trace and where it sits in its residual block.
struct Layer {
  std::string name;
  uint32_t index = 0;  // position in the manifest: the layer's CQ random stream id
  ConvGeometry geometry;
  bool relu = true;  // all but a block's projection shortcut
};

// A residual block's layers, by name.
struct ResidualBlock {
  std::string conv1, conv2, shortcut;  // shortcut empty: identity
};

}  // namespace

struct TraceRegression::Data {
  std::string dir;
  TraceManifest manifest;
  std::map<std::string, const TraceEntry*> entries;  // "<role>:<name>"
  std::vector<Layer> layers;
  std::vector<ResidualBlock> blocks;

  const TraceEntry* Find(TraceRole role, const std::string& name) const {
    const auto it = entries.find(std::string(TraceRoleName(role)) + ":" + name);
    return it == entries.end() ? nullptr : it->second;
  }
  bool Has(const std::string& name) const { return Find(TraceRole::kStep, name) != nullptr; }

  // A tensor of the trace in its manifest dtype; frac_bits receives its scale.
  template <typename T>
  Tensor<T> Load(TraceRole role, const std::string& name, int* frac_bits = nullptr) const {
    const TraceEntry* e = Find(role, name);
    if (e == nullptr) Fail("{}/manifest.json: no {} entry {}", dir, TraceRoleName(role), name);
    AnyTensor any = LoadTraceTensor(dir, *e);
    auto* typed = std::get_if<Tensor<T>>(&any);
    if (typed == nullptr) Fail("{}/{}: {} has the unexpected dtype {}", dir, e->file, e->name, e->dtype);
    if (frac_bits != nullptr) *frac_bits = e->frac_bits;
    return std::move(*typed);
  }
  template <typename T>
  Tensor<T> Step(const std::string& name, int* frac_bits = nullptr) const {
    return Load<T>(TraceRole::kStep, name, frac_bits);
  }
  const Scheme& scheme() const { return manifest.scheme; }
};

namespace {

// Fails unless the tensors have the same element count (a trace whose tensors disagree in
// shape is malformed, not a mismatch of the RTL).
void CheckSameSize(const std::string& dir, const std::string& a, int64_t na, const std::string& b, int64_t nb) {
  if (na != nb) Fail("{}: {} has {} elements, {} has {}", dir, a, na, b, nb);
}

// The shift inputs of the blocks are 8-bit signed.
bool ShiftInRange(int shift) { return shift >= -128 && shift <= 127; }

// Runs `check` once per element of a layer's tensors; counts the vectors.
struct Counter {
  MismatchRecorder recorder;
  int64_t vectors = 0;
  BlockResult Result(const std::string& block) const {
    return {block, vectors, recorder.failures(), recorder.first_mismatch()};
  }
};

const Scheme& Wageubn8() {
  static const Scheme scheme = LoadScheme("wageubn8");
  return scheme;
}

}  // namespace

TraceRegression::TraceRegression(const std::string& dir) : data_(std::make_unique<Data>()) {
  Data& d = *data_;
  d.dir = dir;
  d.manifest = LoadTraceManifest(dir);
  if (!d.manifest.scheme.quantized)
    Fail("{}: scheme {} is not quantized; the RTL blocks run the integer layers", dir, d.manifest.scheme.name);
  for (const TraceEntry& e : d.manifest.entries) d.entries[std::string(TraceRoleName(e.role)) + ":" + e.name] = &e;
  std::map<std::string, ResidualBlock> blocks;
  std::vector<std::string> block_order;
  for (size_t i = 0; i < d.manifest.layers.size(); ++i) {
    const LayerInfo& l = d.manifest.layers[i];
    // The integer classifier (fp32_last false) has tensors of its own (docs/trace-format.md).
    if (!l.quantized || l.name == "fc") continue;
    Layer layer{l.name, static_cast<uint32_t>(i), l.geometry, !l.name.ends_with(".shortcut")};
    d.layers.push_back(layer);
    const size_t dot = l.name.find('.');
    if (!l.name.starts_with("block") || dot == std::string::npos) continue;
    const std::string block = l.name.substr(0, dot), role = l.name.substr(dot + 1);
    if (!blocks.count(block)) block_order.push_back(block);
    ResidualBlock& b = blocks[block];
    (role == "conv1" ? b.conv1 : role == "conv2" ? b.conv2 : b.shortcut) = l.name;
  }
  if (d.layers.empty()) Fail("{}/manifest.json: no quantized layers", dir);
  for (const std::string& name : block_order) {
    if (blocks[name].conv1.empty() || blocks[name].conv2.empty())
      Fail("{}/manifest.json: block {} lacks its conv1 or conv2", dir, name);
    d.blocks.push_back(blocks[name]);
  }
}

TraceRegression::~TraceRegression() = default;

std::string TraceRegression::NotApplicable(const std::string& block) const {
  CheckBlockName(block);
  model::ArrayShape shape;
  if (ArrayBlockShape(block, shape)) return "";  // the array takes every operand format
  const Scheme& s = data_->scheme();
  const Scheme& built = Wageubn8();
  const bool same_widths = s.k_A == built.k_A && s.k_E1 == built.k_E1 && s.k_BN == built.k_BN && s.k_mu == built.k_mu &&
                           s.k_sigma == built.k_sigma && s.k_gamma == built.k_gamma && s.k_beta == built.k_beta &&
                           s.k_GC == built.k_GC && s.k_Ggamma == built.k_Ggamma && s.k_Gbeta == built.k_Gbeta &&
                           s.k_Mom == built.k_Mom && s.k_Acc == built.k_Acc && s.k_lr == built.k_lr &&
                           s.k_WU == built.k_WU && s.MomentumInt() == built.MomentumInt();
  if (!same_widths) return fmt::format("scheme {} has other bit widths than the blocks' wageubn8 build", s.name);
  if ((block == "flag_encoder" || block == "flag_decoder") && s.e2_mode != E2Mode::kFlag)
    return fmt::format("scheme {} has no flag-mode E2", s.name);
  return "";
}

namespace {

// ---------------------------------------------------------------------------------------
// The blocks on the trace's tensors.

BlockResult FlagEncoderOnTrace(const TraceRegression::Data& d) {
  rtl::FlagEncoderDriver driver;
  Counter c;
  for (const Layer& l : d.layers) {
    int f_dx1 = 0, f_e3 = 0;
    const Tensor<int64_t> dx1 = d.Step<int64_t>(l.name + "/dx1", &f_dx1);
    const Tensor<uint16_t> words = d.Step<uint16_t>(l.name + "/e3_flag", &f_e3);
    CheckSameSize(d.dir, l.name + "/dx1", dx1.size(), l.name + "/e3_flag", words.size());
    // Sc = 2^t in units of dx1's LSB: e3 has 14 fractional bits more than R, Sc = R / 2^7.
    const int t = 7 + f_dx1 - f_e3;
    if (!ShiftInRange(t)) {
      c.recorder.Record(dx1.size(), fmt::format("{}: t = {} is outside the block's 8-bit input", l.name, t));
      c.vectors += dx1.size();
      continue;
    }
    for (int64_t i = 0; i < dx1.size(); ++i, ++c.vectors) {
      const uint16_t word = driver.Run({dx1[i], t});
      c.recorder.Compare(c.vectors, {{"e3_flag", words[i]}}, {{"e3_flag", word}},
                         [&] { return fmt::format("{}/dx1[{}] = {}, t = {}", l.name, i, dx1[i], t); });
    }
  }
  return c.Result("flag_encoder");
}

BlockResult FlagDecoderOnTrace(const TraceRegression::Data& d) {
  rtl::FlagDecoderDriver driver;
  Counter c;
  for (const Layer& l : d.layers) {
    const Tensor<uint16_t> words = d.Step<uint16_t>(l.name + "/e3_flag");
    const Tensor<int16_t> e3 = d.Step<int16_t>(l.name + "/e3");
    CheckSameSize(d.dir, l.name + "/e3_flag", words.size(), l.name + "/e3", e3.size());
    for (int64_t i = 0; i < words.size(); ++i, ++c.vectors) {
      c.recorder.Compare(c.vectors, {{"e3", e3[i]}}, {{"e3", driver.Run(words[i])}},
                         [&] { return fmt::format("{}/e3_flag[{}] = {:#05x}", l.name, i, words[i]); });
    }
  }
  return c.Result("flag_decoder");
}

// dL/dx4 of a layer as an integer error, where the trace's tensors give it: a block's
// conv1 gets its conv2's e4; a conv2 gets the error of the block input of the next block,
// conv1's e4 plus the shortcut's e4 or (identity) conv2's e1, summed as the golden network
// does (AddErrors). The last block's conv2 gets the float head's error: none.
std::optional<IntError> IntegerOutputError(const TraceRegression::Data& d, const std::string& layer) {
  const auto error = [&](const std::string& name) {
    int frac = 0;
    IntError e;
    e.m = d.Step<int64_t>(name, &frac);
    e.exp = -frac;
    return e;
  };
  for (size_t b = 0; b < d.blocks.size(); ++b) {
    if (layer == d.blocks[b].conv1) return error(d.blocks[b].conv2 + "/e4");
    if (layer != d.blocks[b].conv2 || b + 1 == d.blocks.size()) continue;
    const ResidualBlock& next = d.blocks[b + 1];
    const IntError through_conv1 = error(next.conv1 + "/e4");
    if (!next.shortcut.empty()) return AddErrors(through_conv1, error(next.shortcut + "/e4"));
    int frac = 0;
    Int8Error e1;
    e1.v = d.Step<int8_t>(next.conv2 + "/e1", &frac);
    e1.exp = -frac;
    return AddErrors(through_conv1, ToIntError(e1));
  }
  return std::nullopt;
}

BlockResult E1QuantizerOnTrace(const TraceRegression::Data& d) {
  rtl::E1QuantizerDriver driver;
  Counter c;
  for (const Layer& l : d.layers) {
    if (!l.relu) continue;
    const std::optional<IntError> error = IntegerOutputError(d, l.name);
    if (!error) continue;
    int f_e0 = 0;
    const Tensor<int8_t> e0 = d.Step<int8_t>(l.name + "/e0", &f_e0);
    CheckSameSize(d.dir, l.name + " dL/dx4", error->m.size(), l.name + "/e0", e0.size());
    // e0 = SQ(error, k_E1): its LSB is 2^(r - (k_E1 - 1)) = 2^-f_e0, the error's 2^exp.
    const int shift = -f_e0 - error->exp;
    if (!ShiftInRange(shift)) {
      c.recorder.Record(e0.size(), fmt::format("{}: shift {} is outside the block's 8-bit input", l.name, shift));
      c.vectors += e0.size();
      continue;
    }
    for (int64_t i = 0; i < e0.size(); ++i, ++c.vectors) {
      const int8_t got = driver.Run({error->m[i], shift});
      c.recorder.Compare(c.vectors, {{"e0", e0[i]}}, {{"e0", got}},
                         [&] { return fmt::format("{} dL/dx4[{}] = {}, shift {}", l.name, i, error->m[i], shift); });
    }
  }
  return c.Result("e1_quantizer");
}

// The residual added into a layer's x3: a block's conv2 gets the block input (identity,
// x0 of conv1 at frac_x3 bits) or the projection shortcut's x3; every other layer none.
Tensor<int64_t> ResidualOf(const TraceRegression::Data& d, const Layer& l, int64_t elements) {
  for (const ResidualBlock& b : d.blocks) {
    if (l.name != b.conv2) continue;
    if (!b.shortcut.empty()) return d.Step<int64_t>(b.shortcut + "/x3");
    const Tensor<uint8_t> x0 = d.Step<uint8_t>(b.conv1 + "/x0");
    Tensor<int64_t> residual(x0.shape);
    ActivationAsResidual(d.scheme(), Span(x0), Span(residual));
    return residual;
  }
  return Tensor<int64_t>({elements});
}

BlockResult ReluQaOnTrace(const TraceRegression::Data& d) {
  rtl::ReluQaDriver driver;
  Counter c;
  for (const Layer& l : d.layers) {
    const Tensor<int32_t> x2 = d.Step<int32_t>(l.name + "/x2");
    const Tensor<int16_t> gamma_q = d.Step<int16_t>(l.name + "/gamma_q"), beta_q = d.Step<int16_t>(l.name + "/beta_q");
    const Tensor<int64_t> x3 = d.Step<int64_t>(l.name + "/x3");
    const Tensor<int64_t> residual = ResidualOf(d, l, x2.size());
    CheckSameSize(d.dir, l.name + "/x2", x2.size(), l.name + "/x3", x3.size());
    CheckSameSize(d.dir, l.name + "/x2", x2.size(), l.name + " residual", residual.size());
    Tensor<uint8_t> x4;
    Tensor<int8_t> e0, e1;
    if (l.relu) {
      x4 = d.Step<uint8_t>(l.name + "/x4");
      e0 = d.Step<int8_t>(l.name + "/e0");
      e1 = d.Step<int8_t>(l.name + "/e1");
      CheckSameSize(d.dir, l.name + "/x2", x2.size(), l.name + "/x4", x4.size());
      CheckSameSize(d.dir, l.name + "/e0", e0.size(), l.name + "/e1", e1.size());
      CheckSameSize(d.dir, l.name + "/x2", x2.size(), l.name + "/e1", e1.size());
    }
    const int64_t channels = l.geometry.out_channels, pixels = l.geometry.out_height() * l.geometry.out_width();
    CheckSameSize(d.dir, l.name + "/gamma_q", gamma_q.size(), "its channels", channels);
    CheckSameSize(d.dir, l.name + "/beta_q", beta_q.size(), "its channels", channels);
    for (int64_t i = 0; i < x2.size(); ++i, ++c.vectors) {
      const int64_t ch = (i / pixels) % channels;
      const rtl::ReluQaOut got = driver.Run({x2[i], gamma_q[ch], beta_q[ch], residual[i]});
      Fields expected = {{"x3", x3[i]}}, actual = {{"x3", got.x3}};
      if (l.relu) {
        // The backward pass masks e0 with the mask this forward pass produced.
        expected.insert(expected.end(), {{"x4", x4[i]}, {"e1 (e0 masked by relu_pass)", e1[i]}});
        actual.insert(actual.end(), {{"x4", got.x4}, {"e1 (e0 masked by relu_pass)", got.relu_pass ? e0[i] : 0}});
      }
      c.recorder.Compare(c.vectors, expected, actual, [&] {
        return fmt::format("{}[{}] x2 = {}, gamma_q = {}, beta_q = {}, residual = {}", l.name, i, x2[i], gamma_q[ch],
                           beta_q[ch], residual[i]);
      });
    }
  }
  return c.Result("relu_qa");
}

BlockResult CqOnTrace(const TraceRegression::Data& d) {
  rtl::CqDriver driver;
  Counter c;
  const int dr = d.manifest.context.dr;
  const int log2_dr = fx::FloorLog2(static_cast<uint64_t>(dr));
  if (dr < 1 || (1 << log2_dr) != dr || log2_dr > 15)
    Fail("{}/manifest.json: context.dr = {} is not a power of two in [1, 2^15]", d.dir, dr);
  for (const Layer& l : d.layers) {
    int f_g = 0;
    const Tensor<int64_t> g_w = d.Step<int64_t>(l.name + "/g_W", &f_g);
    const Tensor<int16_t> g_w_q = d.Step<int16_t>(l.name + "/g_W_q");
    CheckSameSize(d.dir, l.name + "/g_W", g_w.size(), l.name + "/g_W_q", g_w_q.size());
    // The max|x| pass upstream of the CQ unit fixes R; the unit shifts by r - log2 dr - exp.
    const int exp = -f_g;
    const int shift = q::ShiftExponent(Span(g_w), exp) - log2_dr - exp;
    if (!ShiftInRange(shift)) {
      c.recorder.Record(g_w.size(), fmt::format("{}: shift {} is outside the block's 8-bit input", l.name, shift));
      c.vectors += g_w.size();
      continue;
    }
    const uint64_t prefix = RandomStream{d.manifest.seed, d.manifest.step, l.index,
                                         static_cast<uint32_t>(RandomTensorId::kWeightGradient)}
                                .Prefix();
    std::vector<rtl::CqIn> in(static_cast<size_t>(g_w.size()));
    for (int64_t i = 0; i < g_w.size(); ++i) in[i] = {g_w[i], shift, log2_dr, prefix, static_cast<uint64_t>(i)};
    std::vector<int16_t> got;
    try {
      got = driver.Run(in);
    } catch (const Error& e) {
      c.recorder.Record(g_w.size(), fmt::format("{}: {}", l.name, e.what()));
      c.vectors += g_w.size();
      continue;
    }
    for (int64_t i = 0; i < g_w.size(); ++i, ++c.vectors) {
      c.recorder.Compare(c.vectors, {{"g_W_q", g_w_q[i]}}, {{"g_W_q", got[i]}}, [&] {
        return fmt::format("{}/g_W[{}] = {}, shift {}, dr {}, stream (seed {}, step {}, layer {})", l.name, i, g_w[i],
                           shift, dr, d.manifest.seed, d.manifest.step, l.index);
      });
    }
  }
  return c.Result("cq");
}

BlockResult UpdateUnitOnTrace(const TraceRegression::Data& d) {
  rtl::UpdateUnitDriver driver;
  Counter c;
  const int mom = static_cast<int>(d.scheme().MomentumInt());
  for (const Layer& l : d.layers) {
    const Tensor<int32_t> lr_tensor = d.Step<int32_t>(l.name + "/lr");
    if (lr_tensor.size() != 1) Fail("{}: {}/lr is not a scalar", d.dir, l.name);
    const int lr = lr_tensor[0];
    if (lr < 0 || lr > 511 || mom < 0 || mom > 3)
      Fail("{}: {} lr = {}, Mom = {} are outside the update unit's inputs ([0, 511], [0, 3])", d.dir, l.name, lr, mom);
    // The three parameters of the layer, each with its quantized gradient; W is a master
    // weight (bounded to k_WU bits), gamma and beta are bounded to int32.
    struct Parameter {
      const char* name;
      const char* grad;
      bool weight;
    };
    for (const Parameter& parameter : {Parameter{"W", "g_W_q", true}, Parameter{"gamma", "g_gamma_q", false},
                                        Parameter{"beta", "g_beta_q", false}}) {
      const std::string param = parameter.name;
      const bool weight = parameter.weight;
      const std::string p = l.name + "/" + param;
      std::vector<int32_t> grad;
      if (weight) {
        const Tensor<int16_t> g = d.Step<int16_t>(l.name + "/" + parameter.grad);
        grad.assign(g.data.begin(), g.data.end());
      } else {
        grad = d.Step<int32_t>(l.name + "/" + parameter.grad).data;
      }
      const Tensor<int32_t> before = d.Load<int32_t>(TraceRole::kStateBefore, p);
      const Tensor<int32_t> acc_q_before = d.Load<int32_t>(TraceRole::kStateBefore, l.name + "/Acc_q_" + param);
      const Tensor<int32_t> after = d.Load<int32_t>(TraceRole::kStateAfter, p);
      const Tensor<int32_t> acc_q_after = d.Load<int32_t>(TraceRole::kStateAfter, l.name + "/Acc_q_" + param);
      const Tensor<int32_t> acc = d.Step<int32_t>(l.name + "/Acc_" + param);
      const Tensor<int64_t> delta = d.Step<int64_t>(l.name + "/d" + param);
      for (const auto& [name, size] :
           {std::pair{"Acc_q before", acc_q_before.size()}, std::pair{"the state after", after.size()},
            std::pair{"Acc_q after", acc_q_after.size()}, std::pair{"Acc", acc.size()}, std::pair{"d", delta.size()},
            std::pair{"the gradient", static_cast<int64_t>(grad.size())}})
        CheckSameSize(d.dir, p, before.size(), std::string(name) + " of " + p, size);
      for (int64_t i = 0; i < before.size(); ++i, ++c.vectors) {
        const rtl::UpdateOut got = driver.Run({grad[i], before[i], acc_q_before[i], mom, lr, weight});
        c.recorder.Compare(
            c.vectors, {{"param", after[i]}, {"acc_q", acc_q_after[i]}, {"acc", acc[i]}, {"delta", delta[i]}},
            {{"param", got.param}, {"acc_q", got.acc_q}, {"acc", got.acc}, {"delta", got.delta}}, [&] {
              return fmt::format("{}[{}] grad = {}, {} = {}, Acc_q = {}, Mom = {}, lr = {}", p, i, grad[i], param,
                                 before[i], acc_q_before[i], mom, lr);
            });
      }
    }
  }
  return c.Result("update_unit");
}

BlockResult BnNormaliseOnTrace(const TraceRegression::Data& d) {
  rtl::BnNormaliseDriver driver;
  Counter c;
  for (const Layer& l : d.layers) {
    const Tensor<int32_t> x1 = d.Step<int32_t>(l.name + "/x1"), x2 = d.Step<int32_t>(l.name + "/x2");
    const Tensor<int32_t> mu = d.Step<int32_t>(l.name + "/mu_q"), sigma = d.Step<int32_t>(l.name + "/sigma_q");
    CheckSameSize(d.dir, l.name + "/x1", x1.size(), l.name + "/x2", x2.size());
    const int64_t channels = l.geometry.out_channels, pixels = l.geometry.out_height() * l.geometry.out_width();
    CheckSameSize(d.dir, l.name + "/mu_q", mu.size(), "its channels", channels);
    CheckSameSize(d.dir, l.name + "/sigma_q", sigma.size(), "its channels", channels);
    std::vector<rtl::BnNormaliseIn> in(static_cast<size_t>(x1.size()));
    for (int64_t i = 0; i < x1.size(); ++i) {
      const int64_t ch = (i / pixels) % channels;
      in[i] = {x1[i], mu[ch], sigma[ch]};
    }
    std::vector<int32_t> got;
    try {
      got = driver.Run(in);
    } catch (const Error& e) {
      c.recorder.Record(x1.size(), fmt::format("{}: {}", l.name, e.what()));
      c.vectors += x1.size();
      continue;
    }
    for (int64_t i = 0; i < x1.size(); ++i, ++c.vectors) {
      c.recorder.Compare(c.vectors, {{"x2", x2[i]}}, {{"x2", got[i]}}, [&] {
        return fmt::format("{}/x1[{}] = {}, mu_q = {}, sigma_q = {}", l.name, i, x1[i], in[i].mu, in[i].sigma);
      });
    }
  }
  return c.Result("bn_normalise");
}

// The three GEMMs of every layer through the Verilated array, operands laid out as the
// SystemC controller lays them (model/control/lowering.h), in both dataflows.
BlockResult ArrayOnTrace(const TraceRegression::Data& d, const std::string& block, const model::ArrayShape& shape) {
  using model::MatrixLayout;
  Counter c;
  const bool flag = d.scheme().e2_mode == E2Mode::kFlag;
  const int error_bits = d.scheme().k_E2 > 8 ? 16 : 8;
  for (const model::Dataflow dataflow : {model::Dataflow::kWeightStationary, model::Dataflow::kOutputStationary}) {
    rtl::RtlGemmBackend backend(shape, dataflow);
    for (const Layer& l : d.layers) {
      const ConvGeometry& g = l.geometry;
      const std::string where = fmt::format("{} {}", l.name, model::DataflowName(dataflow));
      const Tensor<uint8_t> x0 = d.Step<uint8_t>(l.name + "/x0");
      const Tensor<int8_t> wq = d.Step<int8_t>(l.name + "/W_q");
      CheckSameSize(d.dir, l.name + "/x0", x0.size(), "its input", g.input_count());
      CheckSameSize(d.dir, l.name + "/W_q", wq.size(), "its weights", g.weight_count());
      const std::vector<uint8_t> col = model::LowerActivations(g, x0.ptr());
      const Tensor<uint16_t> words = flag ? d.Step<uint16_t>(l.name + "/e3_flag") : Tensor<uint16_t>();
      const Tensor<int16_t> values = flag ? Tensor<int16_t>() : d.Step<int16_t>(l.name + "/e3");
      CheckSameSize(d.dir, l.name + "/e3", flag ? words.size() : values.size(), "its outputs", g.output_count());
      const std::vector<uint16_t> e3_words = flag ? model::PixelMajor(g, words.ptr()) : std::vector<uint16_t>();
      const std::vector<int16_t> e3_values = flag ? std::vector<int16_t>() : model::PixelMajor(g, values.ptr());
      const auto e3_view = [&](MatrixLayout layout) {
        const bool row_major = layout == MatrixLayout::kRowMajor;
        const int64_t rows = row_major ? g.gemm_n() : g.out_channels, cols = row_major ? g.out_channels : g.gemm_n();
        return flag ? model::FlagErrorMatrix(e3_words.data(), rows, cols, layout)
                    : model::ShiftErrorMatrix(e3_values.data(), error_bits, rows, cols, layout);
      };

      // Compares one GEMM's result, scattered into the trace tensor's layout.
      const auto check = [&](const char* tensor, const std::function<std::vector<int64_t>()>& gemm,
                             const auto& expected) {
        std::vector<int64_t> got;
        try {
          got = gemm();
        } catch (const Error& e) {
          c.recorder.Record(expected.size(), fmt::format("{} {}: {}", where, tensor, e.what()));
          c.vectors += expected.size();
          return;
        }
        CheckSameSize(d.dir, l.name + "/" + tensor, expected.size(), "the GEMM's result", static_cast<int64_t>(got.size()));
        for (int64_t i = 0; i < expected.size(); ++i, ++c.vectors) {
          c.recorder.Compare(c.vectors, {{tensor, static_cast<int64_t>(expected[i])}}, {{tensor, got[i]}},
                             [&] { return fmt::format("{} {}[{}]", where, tensor, i); });
        }
      };
      // Forward: x1 = lowered x0 [P][K] * W_q^T [K][K_out].
      check("x1", [&] {
        const model::OperandView ifmap = model::ActivationMatrix(col.data(), g.gemm_n(), g.gemm_k());
        const model::OperandView filter = model::WeightMatrix(wq.ptr(), g.gemm_k(), g.gemm_m(), MatrixLayout::kColumnMajor);
        Tensor<int32_t> x1({g.output_count()});
        model::ScatterForward(g, backend.Run(ifmap, filter).output, x1.ptr());
        return std::vector<int64_t>(x1.data.begin(), x1.data.end());
      }, d.Step<int32_t>(l.name + "/x1"));
      // Error: e4 = col2im(e3 [P][K_out] * W_q [K_out][K]), where the layer passes its error on.
      if (d.Has(l.name + "/e4")) {
        check("e4", [&] {
          const model::OperandView filter = model::WeightMatrix(wq.ptr(), g.gemm_m(), g.gemm_k());
          std::vector<int64_t> e4(static_cast<size_t>(g.input_count()));
          model::Col2Im(g, backend.Run(e3_view(MatrixLayout::kRowMajor), filter).output, e4.data());
          return e4;
        }, d.Step<int64_t>(l.name + "/e4"));
      }
      // Weight gradient: g_W = e3^T [K_out][P] * lowered x0 [P][K].
      check("g_W", [&] {
        const model::OperandView filter = model::ActivationMatrix(col.data(), g.gemm_n(), g.gemm_k());
        return backend.Run(e3_view(MatrixLayout::kColumnMajor), filter).output;
      }, d.Step<int64_t>(l.name + "/g_W"));
    }
  }
  return c.Result(block);
}

}  // namespace

BlockResult TraceRegression::Run(const std::string& block) {
  if (const std::string why = NotApplicable(block); !why.empty()) Fail("{}: {}: {}", data_->dir, block, why);
  const Data& d = *data_;
  model::ArrayShape shape;
  if (ArrayBlockShape(block, shape)) return ArrayOnTrace(d, block, shape);
  if (block == "flag_encoder") return FlagEncoderOnTrace(d);
  if (block == "flag_decoder") return FlagDecoderOnTrace(d);
  if (block == "e1_quantizer") return E1QuantizerOnTrace(d);
  if (block == "relu_qa") return ReluQaOnTrace(d);
  if (block == "cq") return CqOnTrace(d);
  if (block == "update_unit") return UpdateUnitOnTrace(d);
  if (block == "bn_normalise") return BnNormaliseOnTrace(d);
  Fail("{}: the trace suite has no driver for block {}", d.dir, block);
}

}  // namespace octet::regress
