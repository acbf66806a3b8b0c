#include "sim/report/precision.h"

#include <cmath>

#include <fmt/format.h>

#include "golden/core/error.h"
#include "sim/report/area_model.h"
#include "sim/report/energy_model.h"

namespace octet::report {
namespace {

using model::BufferId;

// Octet's accumulator and output-buffer word (partial sums, e4, g_W).
constexpr double kOctetAccBits = 48;
constexpr const char* kMacModule = "octet_mac_pe";

const area::BlockArea* FindSynthesised(const area::AreaReport& synthesis, const std::string& label) {
  for (const area::BlockArea& b : synthesis.blocks)
    if (b.Label() == label) return &b;
  return nullptr;
}

const area::BlockArea& Synthesised(const area::AreaReport& synthesis, const std::string& label) {
  if (const area::BlockArea* b = FindSynthesised(synthesis, label)) return *b;
  Fail("precision: the synthesis has no block {}", label);
}

}  // namespace

const std::vector<Precision>& Precisions() {
  // Formats and accumulators: docs/energy-area.md, "Precision comparison (Fig. 10)". The
  // integer accumulators are the product plus 16 guard bits; FP8 follows Wang et al. 2018
  // (E5M2 operands, a 1-6-9 accumulator), FP16 the mixed-precision practice (binary16
  // operands, binary32 accumulator, Micikevicius et al. 2018).
  static const std::vector<Precision> all = {
      {"int8", "INT8", "int8 x int8, 32-bit accumulator", 8, 32, false, 0, 0, 0, 0, {{"mult8", 1}, {"add32", 1}}},
      {"fp8", "FP8 E5M2", "E5M2 x E5M2, FP 1-6-9 accumulator", 8, 16, true, 5, 2, 6, 9, {{"fmult8", 1}, {"fadd16", 1}}},
      {"int16", "INT16", "int16 x int16, 48-bit accumulator", 16, 48, false, 0, 0, 0, 0, {{"mult16", 1}, {"add32", 1.5}}},
      {"fp16", "FP16", "binary16 x binary16, binary32 accumulator", 16, 32, true, 5, 10, 8, 23,
       {{"fmult16", 1}, {"fadd32", 1}}},
      {"fp32", "FP32", "binary32 x binary32, binary32 accumulator", 32, 32, true, 8, 23, 8, 23,
       {{"fmult32", 1}, {"fadd32", 1}}},
  };
  return all;
}

area::ParamBlock MacBlock(const Precision& p) {
  area::ParamBlock b{fmt::format("{} {}", kMacModule, p.name), kMacModule,
                     {{"Float", p.is_float ? 1 : 0}, {"OpBits", p.op_bits}, {"AccBits", p.acc_bits}}};
  if (p.is_float) {
    b.params["ExpBits"] = p.exp_bits;
    b.params["ManBits"] = p.man_bits;
    b.params["AccExpBits"] = p.acc_exp_bits;
    b.params["AccManBits"] = p.acc_man_bits;
  }
  return b;
}

area::AreaOptions PrecisionAreaOptions(const model::ArchConfig& config, const std::string& source_dir,
                                       const std::string& cache_dir) {
  area::AreaOptions o = AreaOptionsFor(config, source_dir, cache_dir);
  o.blocks.push_back(area::kPeModule);
  for (const Precision& p : Precisions()) o.param_blocks.push_back(MacBlock(p));
  return o;
}

double MacPj(const Precision& p, const TechTable& tech) {
  double pj = 0;
  for (const auto& [op, count] : p.mac_ops) {
    const auto it = tech.operations_pj.find(op);
    if (it == tech.operations_pj.end())
      Fail("{}: operations_pj.{} is missing (the {} MAC of octet precision is {})", tech.origin, op, p.label,
           MacRecipe(p));
    pj += count * it->second.value;
  }
  return pj;
}

std::string MacRecipe(const Precision& p) {
  std::string s;
  for (const auto& [op, count] : p.mac_ops)
    s += (s.empty() ? "" : " + ") + (count == 1 ? op : fmt::format("{:g} {}", count, op));
  return s;
}

bool IsGemmPhase(model::Phase phase) {
  return phase == model::Phase::kForward || phase == model::Phase::kError || phase == model::Phase::kWeightGrad;
}

const PrecisionRow& PrecisionReport::Row(const std::string& name) const {
  for (const PrecisionRow& r : rows)
    if (r.name == name) return r;
  Fail("precision: no row {}", name);
}

PrecisionReport BuildPrecisionReport(const model::StepResult& result, const RunInfo& info, const TechTable& tech,
                                     const std::optional<area::AreaReport>& synthesis) {
  const model::ArchConfig& config = result.config;
  PrecisionReport r;
  r.info = info;
  r.config = config;
  r.tech_name = tech.name;
  r.tech_origin = tech.origin;
  r.has_area = synthesis.has_value();
  if (synthesis) r.yosys_version = synthesis->yosys_version;
  const std::array<double, model::kBufferCount> octet_kib = {
      static_cast<double>(config.act_buffer_kib), static_cast<double>(config.weight_buffer_kib),
      static_cast<double>(config.error_buffer_kib), static_cast<double>(config.output_buffer_kib)};
  const EnergyModel octet_energy(tech, config);
  std::optional<AreaBreakdown> octet_area;
  if (synthesis) octet_area = ComputeAreaBreakdown(*synthesis, config, tech);
  const double mm2_per_nand2 = tech.nand2_um2.value * 1e-6;

  // Octet as `octet report` prices it (without leakage).
  PrecisionRow octet;
  octet.name = "octet";
  octet.label = "Octet";
  octet.format = "8-bit operands (9-bit flag words, 16-bit SQ errors in two digit passes), 48-bit accumulator";
  octet.block = area::kPeModule;
  octet.op_bits = 8;
  octet.acc_bits = static_cast<int>(kOctetAccBits);
  octet.mac_pj = tech.ActionPj("mac");
  octet.mac_recipe = "mac action (flag_mac on flag words)";
  octet.buffer_kib = octet_kib;
  for (const model::LayerStats& layer : result.layers) {
    for (int ph = 0; ph < model::kPhaseCount; ++ph) {
      const model::Counters& c = layer.phases[ph];
      const EnergyBreakdown e = octet_energy.Energy(c, static_cast<model::Phase>(ph));
      octet.step_macs += c.pe_macs;
      for (int i = 0; i < kEnergyComponentCount; ++i) {
        const auto comp = static_cast<EnergyComponent>(i);
        const std::string group = EnergyComponentGroup(comp);
        if (group == "array") octet.energy.compute += e.pj[i];
        else if (group == "vector units") octet.energy.vector += e.pj[i];
        else if (group == "buffers") octet.energy.buffers += e.pj[i];
        else if (group == "DRAM") octet.energy.dram += e.pj[i];
      }
    }
  }
  if (synthesis) {
    const area::BlockArea& pe = Synthesised(*synthesis, area::kPeModule);
    octet.mac_cells = pe.cells;
    octet.mac_flip_flops = pe.flip_flops;
    octet.mac_nand2_eq = pe.nand2_eq;
    octet.mac_um2 = pe.nand2_eq * tech.nand2_um2.value;
    for (const AreaItem& item : octet_area->items) {
      if (item.kib > 0) octet.area.buffers += item.mm2;
      else if (item.name == "array" || item.name == "flag_decoder") octet.area.array += item.mm2;
      else octet.area.units += item.mm2;
    }
  }
  r.rows.push_back(octet);

  // The precisions: the same counters, this MAC, the operand traffic and buffers scaled.
  for (const Precision& p : Precisions()) {
    PrecisionRow row;
    row.name = p.name;
    row.label = p.label;
    row.format = p.format;
    row.block = MacBlock(p).label;
    row.op_bits = p.op_bits;
    row.acc_bits = p.acc_bits;
    row.mac_pj = MacPj(p, tech);
    row.mac_recipe = MacRecipe(p);
    const double operand_scale = p.op_bits / 8.0, acc_scale = p.acc_bits / kOctetAccBits;
    // Same elements: the operand buffers grow with the operand, the output buffer with the
    // accumulator.
    std::array<double, model::kBufferCount> gemm_scale{};
    for (int b = 0; b < model::kBufferCount; ++b) {
      gemm_scale[b] = b == static_cast<int>(BufferId::kOutput) ? acc_scale : operand_scale;
      row.buffer_kib[b] = octet_kib[b] * gemm_scale[b];
    }
    std::array<double, model::kBufferCount> read_pj{}, write_pj{};
    for (int b = 0; b < model::kBufferCount; ++b) {
      read_pj[b] = tech.SramReadPjPerBit(row.buffer_kib[b] / 2);  // an access goes to one half
      write_pj[b] = read_pj[b] * tech.sram_write_to_read.value;
    }
    for (const model::LayerStats& layer : result.layers) {
      for (int ph = 0; ph < model::kPhaseCount; ++ph) {
        const auto phase = static_cast<model::Phase>(ph);
        const model::Counters& c = layer.phases[ph];
        const bool gemm = IsGemmPhase(phase);
        const EnergyBreakdown e = octet_energy.Energy(c, phase);
        for (int i = static_cast<int>(EnergyComponent::kMaxAbs); i <= static_cast<int>(EnergyComponent::kUpdate); ++i)
          row.energy.vector += e.pj[i];
        row.step_macs += c.macs;
        row.energy.compute += static_cast<double>(c.macs) * row.mac_pj;
        for (int b = 0; b < model::kBufferCount; ++b)
          row.energy.buffers += (static_cast<double>(c.buffer_read_bits[b]) * read_pj[b] +
                                 static_cast<double>(c.buffer_write_bits[b]) * write_pj[b]) *
                                (gemm ? gemm_scale[b] : 1.0);
        row.energy.dram += e[EnergyComponent::kDram] * (gemm ? operand_scale : 1.0);
      }
    }
    if (synthesis) {
      const area::BlockArea& mac = Synthesised(*synthesis, row.block);
      row.mac_cells = mac.cells;
      row.mac_flip_flops = mac.flip_flops;
      row.mac_nand2_eq = mac.nand2_eq;
      row.mac_um2 = mac.nand2_eq * tech.nand2_um2.value;
      const area::BlockArea* array = nullptr;
      for (const area::BlockArea& b : synthesis->blocks)
        if (b.block == area::kArrayModule && b.rows == config.array_rows && b.cols == config.array_cols) array = &b;
      if (!array || !array->edge) Fail("precision: the synthesis has no {}x{} array", config.array_rows, config.array_cols);
      const double pes = static_cast<double>(config.array_rows * config.array_cols);
      row.area.array = (pes * mac.nand2_eq + array->edge->nand2_eq * operand_scale) * mm2_per_nand2;
      row.area.units = octet.area.units;
      for (int b = 0; b < model::kBufferCount; ++b) row.area.buffers += row.buffer_kib[b] * tech.sram_mm2_per_kib.value;
    }
    r.rows.push_back(row);
  }
  return r;
}

}  // namespace octet::report
