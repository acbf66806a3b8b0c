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

// The modules of an RTL tree's array/ and units/ folders.
struct RtlModule {
  std::string name;
  std::string file;                       // path of the file that defines it
  std::vector<std::string> dependencies;  // modules it instantiates, directly or not
  std::vector<std::string> instantiated_by;
};
std::vector<RtlModule> DiscoverModules(const std::string& rtl_dir);

// The array and PE modules, composed by name.
inline constexpr const char* kArrayModule = "octet_systolic_array";
inline constexpr const char* kPeModule = "octet_pe";

struct AreaOptions {
  std::string rtl_dir;     // RTL tree: <rtl_dir>/array/*.sv and <rtl_dir>/units/*.sv
  std::string synth_dir;   // holds synth.ys and the default octet_cells.lib
  std::string liberty;     // cell library (empty: <synth_dir>/octet_cells.lib)
  std::string cache_dir;   // result cache (empty: DefaultCacheDir())
  std::vector<std::string> blocks;  // empty: every top-level module, the PE and the array
  int rows = 4, cols = 4;  // the array's size
};

// One block's synthesis result. Areas are in NAND2 equivalents.
struct BlockArea {
  std::string block;                      // module name
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

  std::string Label() const;  // "octet_systolic_array 4x4" or the module name
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
