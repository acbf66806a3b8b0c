// Area of an accelerator instance (docs/energy-area.md, "Area"): the datapath from the
// Yosys synthesis of rtl/ (`octet area`: NAND2 equivalents per block) times the area of a
// NAND2 from the technology table, the buffers from the table's SRAM area per KiB.
#pragma once

#include <string>
#include <vector>

#include "model/config/arch_config.h"
#include "sim/area/area.h"
#include "sim/report/tech_table.h"

namespace octet::report {

// One line of the area breakdown.
struct AreaItem {
  std::string name;        // "array", "bn", ..., "act_buffer"
  std::string block;       // the RTL module, or "SRAM" for a buffer; empty when there is none
  int64_t instances = 0;   // copies of the block (lanes of a vector unit)
  double nand2_eq = 0;     // all instances; 0 for a buffer
  double kib = 0;          // a buffer's size
  double mm2 = 0;
  std::string note;
};

struct AreaBreakdown {
  std::vector<AreaItem> items;
  std::string tech;  // the technology table's name
  double TotalMm2() const;
  double Mm2(const std::string& name) const;  // one item's area, 0 if absent
};

// The synthesis options for `config`'s blocks: the array at its size and the vector
// units' RTL blocks (cached in `cache_dir`, empty: the default cache).
area::AreaOptions AreaOptionsFor(const model::ArchConfig& config, const std::string& source_dir,
                                 const std::string& cache_dir);

// The breakdown from a synthesis of (at least) the blocks of AreaOptionsFor(config).
// Vector units are one block per element per cycle of throughput; the flag decoder sits at
// each array row; the max|x| unit has no RTL block and counts no area.
AreaBreakdown ComputeAreaBreakdown(const area::AreaReport& synthesis, const model::ArchConfig& config,
                                   const TechTable& tech);

}  // namespace octet::report
