// A technology table: energy per primitive operation, the action recipes built from them,
// SRAM read energy by size, DRAM energy per byte, and the areas of a NAND2 gate and of
// SRAM per KiB, every number with its source (docs/energy-area.md). The 45 nm default,
// sim/report/tech/45nm.json, is embedded at build time; `--tech FILE` loads another.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace octet::report {

// One number of the table and where it comes from (a key of TechTable::sources).
struct TechValue {
  double value = 0;
  std::string source;
  std::string note;
};

// An action (a MAC, a vector-unit element) as a weighted sum of primitive operations:
// {"mult8": 1, "add32": 1.5} costs mult8 + 1.5 add32.
struct ActionRecipe {
  std::map<std::string, double> ops;
  std::string note;
};

// One measured SRAM size: energy of a 64-bit read of an SRAM of `kib` KiB.
struct SramPoint {
  double kib = 0;
  TechValue read_pj_per_64bit;
};

// The actions every table defines, in report order. "update_quantize" is the update
// unit's work outside the update phase (Q_W, Q of the BN gradients).
inline const std::vector<std::string>& TechActionNames() {
  static const std::vector<std::string> names = {"mac", "flag_mac", "max_abs", "bn", "act", "e1",
                                                 "e2",  "cq",       "update_quantize", "update"};
  return names;
}

struct TechTable {
  std::string name;
  std::string description;
  std::string origin;  // the file or "technology table <name>" (built-in), for messages
  std::map<std::string, std::string> sources;       // key -> citation
  std::map<std::string, TechValue> operations_pj;   // primitive operations, pJ each
  std::map<std::string, ActionRecipe> actions;      // every name of TechActionNames()
  std::vector<SramPoint> sram_read_pj_per_64bit;    // sorted by size, sizes strictly increasing
  TechValue sram_write_to_read;                     // write energy / read energy
  TechValue dram_pj_per_byte;
  TechValue nand2_um2;                              // area of one NAND2 equivalent
  TechValue sram_mm2_per_kib;
  std::optional<TechValue> leakage_mw_per_mm2;      // absent: leakage is not modelled

  // pJ of one action: the sum over its recipe of count x operation energy.
  double ActionPj(const std::string& action) const;
  // pJ per bit read from an SRAM of `kib` KiB: the 64-bit read energies interpolated
  // linearly in log2(size); below the smallest size its energy, above the largest the
  // last segment's slope continues (docs/energy-area.md, "SRAM").
  double SramReadPjPerBit(double kib) const;
};

// Parses a table; every error is one line naming `origin`, the key and the problem.
TechTable ParseTechTable(const std::string& json_text, const std::string& origin);
// A built-in name ("45nm", also "default") or a JSON file.
TechTable LoadTechTable(const std::string& name_or_path);
std::vector<std::string> BuiltinTechTableNames();

}  // namespace octet::report
