// Area estimates of the RTL blocks (docs/area.md): each block is synthesised by Yosys with
// the flow rtl/synth/synth.ys onto a small cell library whose areas are NAND2 equivalents
// (rtl/synth/octet_cells.lib), and its cells, flip-flops and area are read from `stat`.
// Results are cached by the content of everything they depend on (sources, library, flow,
// Yosys version), so a repeated run synthesises nothing.
//
// The array is composed rather than flattened: Rows x Cols times the PE, plus its edge
// logic (skew lines, output select, overflow flag), synthesised with the PE as a black
// box. This scales to 32 x 32 in a short time and is within a few per cent of a
// flattened synthesis (docs/area.md, "The array").
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace octet::area {

// The modules of an RTL tree's array/, units/ and precision/ folders.
struct RtlModule {
  std::string name;
  std::string file;                       // path of the file that defines it
  std::string folder;                     // "array", "units" or "precision"
  std::vector<std::string> dependencies;  // modules it instantiates, directly or not
  std::vector<std::string> instantiated_by;
};
std::vector<RtlModule> DiscoverModules(const std::string& rtl_dir);

// The array and PE modules, composed by name.
inline constexpr const char* kArrayModule = "octet_systolic_array";
inline constexpr const char* kPeModule = "octet_pe";

// A module synthesised at parameters of its own (chparam), under a label of its own: the
// MAC of each precision of `octet precision` is octet_mac_pe with other parameters.
struct ParamBlock {
  std::string label;  // unique among the blocks, e.g. "octet_mac_pe fp16"
  std::string module;
  std::map<std::string, long> params;
};

struct AreaOptions {
  std::string rtl_dir;     // RTL tree: <rtl_dir>/{array,units,precision}/*.sv
  std::string synth_dir;   // holds synth.ys and the default octet_cells.lib
  std::string liberty;     // cell library (empty: <synth_dir>/octet_cells.lib)
  std::string cache_dir;   // result cache (empty: DefaultCacheDir())
  // Empty (and no param_blocks): every top-level module of array/ and units/, the PE and
  // the array; precision/ holds the MACs of `octet precision`, synthesised when named.
  std::vector<std::string> blocks;
  std::vector<ParamBlock> param_blocks;  // reported after `blocks`, in this order
  int rows = 4, cols = 4;  // the array's size
};

// One block's synthesis result. Areas are in NAND2 equivalents.
struct BlockArea {
  std::string block;                      // module name
  std::string label;                      // a ParamBlock's label; empty for the others
  std::map<std::string, long> params;     // parameters set by chparam
  std::vector<std::string> sources;       // files read, relative to the RTL tree
  long cells = 0, flip_flops = 0, latches = 0;
  double nand2_eq = 0, flip_flop_nand2_eq = 0;
  std::map<std::string, long> cell_types;
  double synth_seconds = 0;               // of the synthesis that produced it
  bool cached = false;                    // read from the cache
  std::string work_dir;                   // cache entry: synth.ys, yosys.log, stat.txt
  std::vector<std::string> instantiated_by;
  // The composed array only: its size, the edge logic's own result, area per PE.
  int rows = 0, cols = 0;
  std::shared_ptr<BlockArea> edge;  // null for other blocks
  double per_pe_nand2_eq = 0;

  std::string Label() const;  // "octet_systolic_array 4x4", a ParamBlock's label or the module name
};

struct AreaReport {
  std::string rtl_dir, liberty, library, nand2_cell, yosys_version, cache_dir;
  double nand2_area = 0;  // the NAND2 cell's area in the library's unit
  std::vector<BlockArea> blocks;
};

// Progress for the front end: a status text and whether it starts a synthesis (a
// milestone worth a line in a log).
using AreaProgress = std::function<void(const std::string& text, bool milestone)>;

// Synthesises (or reads from the cache) the selected blocks. Throws octet::Error, one
// line: no yosys, a bad library, an unknown block, a failed synthesis (naming its log).
AreaReport ComputeArea(const AreaOptions& options, const AreaProgress& progress = {});

// $XDG_CACHE_HOME/octet/area, else ~/.cache/octet/area.
std::string DefaultCacheDir();

nlohmann::json AreaReportJson(const AreaReport& report);
std::string AreaReportCsv(const AreaReport& report);
std::vector<std::string> FormatAreaTable(const AreaReport& report);

}  // namespace octet::area
