#include "golden/numerics/scheme.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "golden/core/embedded.h"
#include "golden/core/error.h"
#include "golden/core/text_file.h"
#include "golden/numerics/fixed_point.h"

namespace octet {
namespace {

using nlohmann::json;

const char* E2ModeName(E2Mode mode) { return mode == E2Mode::kFlag ? "flag" : "shift"; }

void CheckRange(const std::string& origin, const char* key, int value, int lo, int hi) {
  if (value < lo || value > hi) Fail("{}: {} = {} is out of range [{}, {}]", origin, key, value, lo, hi);
}

}  // namespace

int Schedule::Phase(int epoch, int total) const {
  const double progress = total > 0 ? static_cast<double>(epoch) / total : 0.0;
  int phase = 0;
  for (double m : milestones) {
    if (progress >= m) ++phase;
  }
  return phase;
}

int64_t Scheme::MomentumInt() const { return fx::RoundHalfEvenScale(momentum, frac_Mom()); }

int64_t Scheme::LearningRateInt(int phase) const {
  const double factor = lr_schedule.factors.at(std::min<size_t>(phase, lr_schedule.factors.size() - 1));
  const int64_t bound = (int64_t{1} << frac_lr()) - 1;  // +-(1 - 2^-(k_lr-1))
  return fx::SaturateSymmetric(fx::RoundHalfEvenScale(lr * factor, frac_lr()), bound);
}

int Scheme::DynamicRange(int phase) const { return dr.at(std::min<size_t>(phase, dr.size() - 1)); }

Scheme ParseScheme(const std::string& json_text, const std::string& origin) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::parse_error& e) {
    Fail("{}: not valid JSON: {}", origin, e.what());
  }
  if (!j.is_object()) Fail("{}: a scheme file is a JSON object", origin);
  static const std::vector<std::string> known = {
      "name", "quantized", "fp32_first", "fp32_last", "k_W", "k_A", "k_E1", "k_E2", "e2_mode",
      "k_BN", "k_mu", "k_sigma", "k_gamma", "k_beta", "k_GC", "k_Ggamma", "k_Gbeta", "k_Mom",
      "k_Acc", "k_lr", "k_WU", "momentum", "lr", "lr_factors", "lr_milestones", "dr",
      "float_lr", "float_momentum", "float_bn_eps", "description"};
  for (const auto& [key, value] : j.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) Fail("{}: unknown key \"{}\"", origin, key);
  }
  Scheme s;
  try {
    s.name = j.value("name", std::string());
    if (s.name.empty()) Fail("{}: missing \"name\"", origin);
    s.quantized = j.value("quantized", true);
    s.fp32_first = j.value("fp32_first", true);
    s.fp32_last = j.value("fp32_last", true);
    auto get_int = [&](const char* key, int& field) { field = j.value(key, field); };
    get_int("k_W", s.k_W);
    get_int("k_A", s.k_A);
    get_int("k_E1", s.k_E1);
    get_int("k_E2", s.k_E2);
    get_int("k_BN", s.k_BN);
    get_int("k_mu", s.k_mu);
    get_int("k_sigma", s.k_sigma);
    get_int("k_gamma", s.k_gamma);
    get_int("k_beta", s.k_beta);
    get_int("k_GC", s.k_GC);
    get_int("k_Ggamma", s.k_Ggamma);
    get_int("k_Gbeta", s.k_Gbeta);
    get_int("k_Mom", s.k_Mom);
    get_int("k_Acc", s.k_Acc);
    get_int("k_lr", s.k_lr);
    get_int("k_WU", s.k_WU);
    const std::string mode = j.value("e2_mode", std::string("flag"));
    if (mode == "flag") {
      s.e2_mode = E2Mode::kFlag;
    } else if (mode == "shift") {
      s.e2_mode = E2Mode::kShift;
    } else {
      Fail("{}: e2_mode = \"{}\" is not one of \"flag\", \"shift\"", origin, mode);
    }
    s.momentum = j.value("momentum", s.momentum);
    s.lr = j.value("lr", s.lr);
    s.lr_schedule.factors = j.value("lr_factors", s.lr_schedule.factors);
    s.lr_schedule.milestones = j.value("lr_milestones", s.lr_schedule.milestones);
    s.dr = j.value("dr", s.dr);
    s.float_lr = j.value("float_lr", s.float_lr);
    s.float_momentum = j.value("float_momentum", s.float_momentum);
    s.float_bn_eps = j.value("float_bn_eps", s.float_bn_eps);
  } catch (const json::exception& e) {
    Fail("{}: wrong value type: {}", origin, e.what());
  }

  // Schedules.
  const auto& sch = s.lr_schedule;
  if (sch.factors.empty()) Fail("{}: lr_factors is empty", origin);
  if (sch.milestones.size() + 1 != sch.factors.size())
    Fail("{}: lr_milestones needs {} entries (one fewer than lr_factors), has {}", origin, sch.factors.size() - 1,
         sch.milestones.size());
  for (size_t i = 0; i < sch.milestones.size(); ++i) {
    if (!(sch.milestones[i] > 0 && sch.milestones[i] < 1) || (i > 0 && sch.milestones[i] <= sch.milestones[i - 1]))
      Fail("{}: lr_milestones must increase strictly inside (0, 1)", origin);
  }
  if (s.dr.empty()) Fail("{}: dr is empty", origin);
  if (!(s.float_lr > 0) || !(s.float_momentum >= 0 && s.float_momentum < 1) || !(s.float_bn_eps > 0))
    Fail("{}: float_lr must be > 0, float_momentum in [0, 1), float_bn_eps > 0", origin);
  if (!s.quantized) return s;

  // Bit widths: the containers of docs/numerics.md bound them.
  CheckRange(origin, "k_W", s.k_W, 2, 8);
  CheckRange(origin, "k_A", s.k_A, 2, 8);
  CheckRange(origin, "k_E1", s.k_E1, 2, 8);
  CheckRange(origin, "k_BN", s.k_BN, 2, 16);
  CheckRange(origin, "k_mu", s.k_mu, 2, 16);
  CheckRange(origin, "k_sigma", s.k_sigma, 2, 16);
  CheckRange(origin, "k_gamma", s.k_gamma, 2, 8);
  CheckRange(origin, "k_beta", s.k_beta, 2, 8);
  CheckRange(origin, "k_Mom", s.k_Mom, 2, 8);
  CheckRange(origin, "k_Acc", s.k_Acc, 2, 16);
  CheckRange(origin, "k_lr", s.k_lr, 2, 16);
  if (s.e2_mode == E2Mode::kFlag) {
    if (s.k_E2 != 8) Fail("{}: e2_mode \"flag\" needs k_E2 = 8 (the 9-bit word), got {}", origin, s.k_E2);
  } else {
    CheckRange(origin, "k_E2", s.k_E2, 2, 16);
  }
  // Paper eq. 21 and 23: the momentum and update arithmetic is exact only with these.
  if (s.k_GC != s.k_Mom + s.k_Acc - 1)
    Fail("{}: k_GC = {} must equal k_Mom + k_Acc - 1 = {} (paper eq. 21)", origin, s.k_GC, s.k_Mom + s.k_Acc - 1);
  if (s.k_Ggamma != s.k_GC || s.k_Gbeta != s.k_GC)
    Fail("{}: k_Ggamma and k_Gbeta must equal k_GC = {} (paper eq. 21)", origin, s.k_GC);
  if (s.k_WU != s.k_GC + s.k_lr - 1)
    Fail("{}: k_WU = {} must equal k_GC + k_lr - 1 = {} (paper eq. 23)", origin, s.k_WU, s.k_GC + s.k_lr - 1);
  CheckRange(origin, "k_WU", s.k_WU, std::max(s.k_W, s.k_gamma) + 1, 31);
  if (s.frac_WU() < s.frac_W()) Fail("{}: k_WU must be at least k_W", origin);
  const double mom_scaled = std::ldexp(s.momentum, s.frac_Mom());
  if (mom_scaled != std::floor(mom_scaled) || s.momentum < 0 || s.momentum >= 1)
    Fail("{}: momentum = {} is not representable with k_Mom = {} bits in [0, 1)", origin, s.momentum, s.k_Mom);
  if (!(s.lr > 0)) Fail("{}: lr must be > 0", origin);
  for (size_t phase = 0; phase < sch.factors.size(); ++phase) {
    if (s.LearningRateInt(static_cast<int>(phase)) <= 0)
      Fail("{}: lr * lr_factors[{}] quantizes to 0 with k_lr = {}", origin, phase, s.k_lr);
  }
  for (int d : s.dr) {
    if (d < 1 || d > (1 << (s.k_GC - 1)) || (d & (d - 1)) != 0)
      Fail("{}: dr entries must be powers of two in [1, 2^(k_GC-1)], got {}", origin, d);
  }
  return s;
}

std::vector<std::string> BuiltinSchemeNames() { return EmbeddedNames(Embedded_schemes()); }

Scheme LoadScheme(const std::string& name_or_path) {
  std::string origin;
  const std::string text = BuiltinOrFileText(Embedded_schemes(), "scheme", name_or_path, &origin);
  return ParseScheme(text, origin);
}

std::string SchemeToJson(const Scheme& s) {
  json j = {{"name", s.name},
            {"quantized", s.quantized},
            {"fp32_first", s.fp32_first},
            {"fp32_last", s.fp32_last},
            {"lr", s.lr},
            {"lr_factors", s.lr_schedule.factors},
            {"lr_milestones", s.lr_schedule.milestones},
            {"float_lr", s.float_lr},
            {"float_momentum", s.float_momentum},
            {"float_bn_eps", s.float_bn_eps}};
  if (s.quantized) {
    j.update({{"k_W", s.k_W}, {"k_A", s.k_A}, {"k_E1", s.k_E1}, {"k_E2", s.k_E2},
              {"e2_mode", E2ModeName(s.e2_mode)}, {"k_BN", s.k_BN}, {"k_mu", s.k_mu},
              {"k_sigma", s.k_sigma}, {"k_gamma", s.k_gamma}, {"k_beta", s.k_beta},
              {"k_GC", s.k_GC}, {"k_Ggamma", s.k_Ggamma}, {"k_Gbeta", s.k_Gbeta},
              {"k_Mom", s.k_Mom}, {"k_Acc", s.k_Acc}, {"k_lr", s.k_lr}, {"k_WU", s.k_WU},
              {"momentum", s.momentum}, {"dr", s.dr}});
  }
  return j.dump(2);
}

}  // namespace octet
