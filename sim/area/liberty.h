// The cell library of an area estimate (docs/area.md): the cells of a Liberty (.lib) file
// with their areas, which are flip-flops, and the area unit, the smallest 2-input NAND.
#pragma once

#include <map>
#include <string>

namespace octet::area {

struct LibertyCell {
  double area = 0;          // in the file's own unit
  bool flip_flop = false;   // has an ff group
  bool latch = false;       // has a latch group
  bool nand2 = false;       // combinational, two inputs, one output computing !(a & b)
};

struct CellLibrary {
  std::string path;
  std::string name;                          // library (name)
  std::map<std::string, LibertyCell> cells;  // by cell name
  std::string nand2_cell;                    // the smallest 2-input NAND: the area unit
  double nand2_area = 0;                     // its area in the file's unit

  // A cell's area in NAND2 equivalents.
  double Nand2Eq(const std::string& cell) const { return cells.at(cell).area / nand2_area; }
};

// Reads a Liberty file: the library group, its cells' area attributes, ff and latch groups
// and output pin functions. A file that is not Liberty, a cell without an area or a library
// without a 2-input NAND cell throws octet::Error naming the file (and line).
CellLibrary LoadLiberty(const std::string& path);
CellLibrary ParseLiberty(const std::string& text, const std::string& path);

// Evaluates a Liberty boolean function ("!(A & B)", "(A*B)'", "A B + C", "A^B") with the
// given pin values; throws std::invalid_argument on a syntax error or an unknown pin.
bool EvalLibertyFunction(const std::string& function, const std::map<std::string, bool>& pins);

}  // namespace octet::area
