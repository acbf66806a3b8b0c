#include "sim/report/area_model.h"

#include <filesystem>

#include "golden/core/error.h"

namespace octet::report {
namespace {

// The RTL block of each vector unit (docs/rtl.md, "Vector units") and the throughput
// that sets its number of lanes.
struct UnitBlock {
  const char* unit;
  const char* block;
  int64_t model::UnitThroughput::*lanes;
};

const UnitBlock kUnitBlocks[] = {
    {"bn", "octet_bn_normalise", &model::UnitThroughput::bn},
    {"act", "octet_relu_qa", &model::UnitThroughput::act},
    {"e1", "octet_e1_quantizer", &model::UnitThroughput::e1},
    {"e2", "octet_flag_encoder", &model::UnitThroughput::e2},
    {"cq", "octet_cq", &model::UnitThroughput::cq},
    {"update", "octet_update_unit", &model::UnitThroughput::update},
};
constexpr const char* kFlagDecoder = "octet_flag_decoder";
// ComputeArea's limit on the array's size.
constexpr int64_t kMaxSynthesisedSide = 256;

const area::BlockArea& FindBlock(const area::AreaReport& synthesis, const std::string& block, int64_t rows = 0,
                                 int64_t cols = 0) {
  for (const area::BlockArea& b : synthesis.blocks)
    if (b.block == block && (rows == 0 || (b.rows == rows && b.cols == cols))) return b;
  Fail("area: the synthesis has no block {}{}", block, rows ? fmt::format(" {}x{}", rows, cols) : "");
}

}  // namespace

double AreaBreakdown::TotalMm2() const {
  double total = 0;
  for (const AreaItem& i : items) total += i.mm2;
  return total;
}

double AreaBreakdown::Mm2(const std::string& name) const {
  for (const AreaItem& i : items)
    if (i.name == name) return i.mm2;
  return 0;
}

area::AreaOptions AreaOptionsFor(const model::ArchConfig& config, const std::string& source_dir,
                                 const std::string& cache_dir) {
  if (config.array_rows > kMaxSynthesisedSide || config.array_cols > kMaxSynthesisedSide)
    Fail("area: the array is synthesised up to {0}x{0}; {1} has {2}x{3} (leave the area out with --no-area)",
         kMaxSynthesisedSide, config.name, config.array_rows, config.array_cols);
  area::AreaOptions o;
  const std::filesystem::path source(source_dir);
  o.rtl_dir = (source / "rtl").string();
  o.synth_dir = (source / "rtl" / "synth").string();
  o.cache_dir = cache_dir;
  o.rows = static_cast<int>(config.array_rows);
  o.cols = static_cast<int>(config.array_cols);
  o.blocks = {area::kArrayModule, kFlagDecoder};
  for (const UnitBlock& u : kUnitBlocks) o.blocks.push_back(u.block);
  return o;
}

AreaBreakdown ComputeAreaBreakdown(const area::AreaReport& synthesis, const model::ArchConfig& config,
                                   const TechTable& tech) {
  AreaBreakdown out;
  out.tech = tech.name;
  const double mm2_per_nand2 = tech.nand2_um2.value * 1e-6;
  auto logic = [&](const std::string& name, const area::BlockArea& block, int64_t instances, std::string note) {
    AreaItem item{name, block.Label(), instances, block.nand2_eq * static_cast<double>(instances), 0, 0,
                  std::move(note)};
    item.mm2 = item.nand2_eq * mm2_per_nand2;
    out.items.push_back(item);
  };
  const area::BlockArea& array = FindBlock(synthesis, area::kArrayModule, config.array_rows, config.array_cols);
  logic("array", array, 1,
        fmt::format("{} PEs of {:.1f} NAND2 eq (with the edge logic)", config.array_rows * config.array_cols,
                    array.per_pe_nand2_eq));
  logic("flag_decoder", FindBlock(synthesis, kFlagDecoder), config.array_rows, "one per array row, at the ifmap edge");
  for (const UnitBlock& u : kUnitBlocks)
    logic(u.unit, FindBlock(synthesis, u.block), config.units.*u.lanes, "one block per element per cycle");
  out.items.push_back({"max_abs", "", 0, 0, 0, 0, "no RTL block yet: not counted"});
  const struct {
    const char* name;
    int64_t kib;
  } buffers[] = {{"act_buffer", config.act_buffer_kib},
                 {"weight_buffer", config.weight_buffer_kib},
                 {"error_buffer", config.error_buffer_kib},
                 {"output_buffer", config.output_buffer_kib}};
  for (const auto& b : buffers) {
    AreaItem item{b.name, "SRAM", 1, 0, static_cast<double>(b.kib), static_cast<double>(b.kib) * tech.sram_mm2_per_kib.value,
                  "both halves"};
    out.items.push_back(item);
  }
  return out;
}

}  // namespace octet::report
