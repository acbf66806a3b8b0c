// `octet area`: Yosys synthesis of RTL blocks onto rtl/synth/octet_cells.lib, the
// composed array, the result cache, a user's own library, and the one-line errors. Only
// small blocks are synthesised (the PE, a 2 x 2 array's edge logic, an 8 x 8 multiplier,
// the flag decoder): a few seconds in all.
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"
#include "sim/area/liberty.h"

namespace octet::testing {
namespace {

using nlohmann::json;

const json* FindBlock(const json& report, const std::string& label) {
  for (const auto& b : report.at("blocks"))
    if (b.at("label") == label) return &b;
  return nullptr;
}

// An RTL tree of its own with one unit: an 8 x 8 unsigned multiplier, the core of the PE.
void WriteMultiplierTree(const ScratchDir& dir) {
  fs::create_directories(dir.path() / "rtl" / "units");
  WriteFile(dir / "rtl/units/octet_test_mul8.sv",
            "// 8 x 8 unsigned multiplier\n"
            "module octet_test_mul8 (\n"
            "  input  logic [7:0]  a_i,\n"
            "  input  logic [7:0]  b_i,\n"
            "  output logic [15:0] p_o\n"
            ");\n"
            "  assign p_o = a_i * b_i;\n"
            "endmodule\n");
}

// The PE, a unit and a 2 x 2 array synthesise; the array is 4 PEs plus its edge logic;
// the PE is more than its multiplier; a second run comes from the cache.
TEST(AreaCli, PeUnitAndArraySynthesiseAndCache) {
  ScratchDir dir;
  const std::vector<std::string> args = {"area",      "--block",   "octet_pe",          "--block",
                                         "octet_flag_decoder",     "--block",           "octet_systolic_array",
                                         "--array",   "2x2",       "--cache",           dir / "cache",
                                         "--json",    dir / "area.json", "--csv",       dir / "area.csv",
                                         "--no-progress"};
  const CommandResult r = RunOctet(args);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  for (const char* s : {"octet_pe", "octet_flag_decoder", "octet_systolic_array 2x2", "edge logic", "per PE", "NAND2 eq"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.Describe();
  const json report = json::parse(ReadFile(dir / "area.json"));
  EXPECT_EQ(report.at("unit").at("cell"), "NAND2");
  EXPECT_EQ(report.at("unit").at("area"), 1.0);
  ASSERT_EQ(report.at("blocks").size(), 3u);
  for (const auto& b : report.at("blocks")) EXPECT_FALSE(b.at("cached").get<bool>()) << "a fresh cache";

  const json* pe = FindBlock(report, "octet_pe");
  const json* decoder = FindBlock(report, "octet_flag_decoder");
  const json* array = FindBlock(report, "octet_systolic_array 2x2");
  ASSERT_TRUE(pe && decoder && array) << report.dump(2);
  EXPECT_GT(decoder->at("nand2_eq").get<double>(), 0);
  EXPECT_GT(decoder->at("cells").get<long>(), 0);
  // Every register bit of the PE maps to a library flip-flop: the ifmap token (valid,
  // last, 8-bit magnitude, sign, 4-bit shift), the filter operand (8 + 1 + 4) and the
  // 48-bit accumulator.
  EXPECT_EQ(pe->at("flip_flops"), 15 + 13 + 48);
  const double pe_area = pe->at("nand2_eq");
  const double pe_ff_area = pe->at("flip_flop_nand2_eq");
  EXPECT_GT(pe_ff_area, 0);
  EXPECT_GT(pe_area, pe_ff_area);

  // The array: 4 PEs plus edge logic (skew lines, output select, overflow flag) that
  // has registers of its own; its per-PE figure is above the PE's.
  EXPECT_EQ(array->at("pe_count"), 4);
  const json& edge = array->at("edge_logic");
  EXPECT_GT(edge.at("flip_flops").get<long>(), 0);
  EXPECT_NEAR(array->at("nand2_eq").get<double>(), 4 * pe_area + edge.at("nand2_eq").get<double>(), 1e-6);
  EXPECT_EQ(array->at("flip_flops").get<long>(), 4 * 76 + edge.at("flip_flops").get<long>());
  EXPECT_EQ(array->at("cells").get<long>(), 4 * pe->at("cells").get<long>() + edge.at("cells").get<long>());
  EXPECT_NEAR(array->at("per_pe_nand2_eq").get<double>(), array->at("nand2_eq").get<double>() / 4, 1e-6);
  EXPECT_GT(array->at("per_pe_nand2_eq").get<double>(), pe_area);
  EXPECT_FALSE(array->at("edge_logic").at("cell_types").contains("octet_pe"));

  // The CSV: a header, the three blocks and the array's edge logic.
  const auto csv = CommandResult::Lines(ReadFile(dir / "area.csv"));
  ASSERT_EQ(csv.size(), 5u) << ReadFile(dir / "area.csv");
  EXPECT_EQ(csv[0].rfind("block,rows,cols,cells,flip_flops,nand2_eq", 0), 0u);

  // An 8 x 8 multiplier in an RTL tree of its own, same cache: a textbook size (an array
  // multiplier is some 64 AND gates and 56 adder cells, about 400 to 600 NAND2), and the
  // PE holds more than one multiplier and its registers; 2 x 2 PEs more than 4.
  WriteMultiplierTree(dir);
  const CommandResult m = RunOctet({"area", "--rtl", dir / "rtl", "--cache", dir / "cache", "--json", dir / "mul.json",
                                    "--no-progress"});
  ASSERT_EQ(m.exit_code, 0) << m.Describe();
  const json mul_report = json::parse(ReadFile(dir / "mul.json"));
  ASSERT_EQ(mul_report.at("blocks").size(), 1u);
  const double mul = mul_report.at("blocks")[0].at("nand2_eq");
  EXPECT_EQ(mul_report.at("blocks")[0].at("flip_flops"), 0);
  EXPECT_GT(mul, 300);
  EXPECT_LT(mul, 700);
  EXPECT_GT(pe_area, mul + pe_ff_area);
  EXPECT_GT(array->at("nand2_eq").get<double>(), 4 * (mul + pe_ff_area));

  // Again: everything from the cache, the same figures.
  const CommandResult again = RunOctet(args);
  ASSERT_EQ(again.exit_code, 0) << again.Describe();
  const json cached = json::parse(ReadFile(dir / "area.json"));
  for (const auto& b : cached.at("blocks")) {
    EXPECT_TRUE(b.at("cached").get<bool>()) << b.dump();
    const json* first = FindBlock(report, b.at("label").get<std::string>());
    ASSERT_TRUE(first);
    EXPECT_EQ(b.at("nand2_eq"), first->at("nand2_eq"));
    EXPECT_EQ(b.at("cells"), first->at("cells"));
  }
  EXPECT_NE(again.out.find("3 of 3 from the cache"), std::string::npos) << again.Describe();
}

// A library in real units (here um^2, the Nangate 45 nm X1 footprints) gives the same
// NAND2 equivalents, up to ABC's mapping choices (which depend a little on the absolute
// costs: 1.6 % on this multiplier): areas are divided by the smallest 2-input NAND's.
TEST(AreaCli, OwnLibraryIsNormalisedToItsNand2) {
  ScratchDir dir;
  WriteMultiplierTree(dir);
  std::string lib = ReadFile(fs::path(OCTET_SOURCE_DIR) / "rtl/synth/octet_cells.lib");
  std::string scaled;
  for (const auto& line : CommandResult::Lines(lib)) {
    const auto at = line.find("area : ");
    if (at == std::string::npos) {
      scaled += line + "\n";
      continue;
    }
    const double a = std::stod(line.substr(at + 7));
    scaled += line.substr(0, at) + "area : " + std::to_string(a * 0.798) + " ;\n";
  }
  WriteFile(dir / "um2.lib", scaled);
  const area::CellLibrary parsed = area::LoadLiberty(dir / "um2.lib");
  EXPECT_EQ(parsed.nand2_cell, "NAND2");
  EXPECT_NEAR(parsed.nand2_area, 0.798, 1e-9);

  double eq[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    std::vector<std::string> a = {"area", "--rtl", dir / "rtl", "--cache", dir / "cache", "--json", dir / "a.json",
                                  "--no-progress"};
    if (i == 1) a.insert(a.end(), {"--liberty", dir / "um2.lib"});
    const CommandResult r = RunOctet(a);
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    eq[i] = json::parse(ReadFile(dir / "a.json")).at("blocks")[0].at("nand2_eq");
  }
  EXPECT_GT(eq[0], 0);
  EXPECT_NEAR(eq[1], eq[0], 0.03 * eq[0]);
}

TEST(AreaCli, MalformedLibraryIsOneLineError) {
  ScratchDir dir;
  WriteMultiplierTree(dir);
  const std::vector<std::string> base = {"area", "--rtl", dir / "rtl", "--cache", dir / "cache", "--liberty"};
  // Unclosed group.
  WriteFile(dir / "open.lib", "library (x) {\n  cell (NAND2) {\n    area : 1 ;\n");
  auto args = base;
  args.push_back(dir / "open.lib");
  ExpectCliError(RunOctet(args), {"open.lib", "not closed"});
  // Not Liberty at all.
  WriteFile(dir / "text.lib", "this is not a cell library\n");
  args.back() = dir / "text.lib";
  ExpectCliError(RunOctet(args), {"text.lib"});
  // A cell without an area.
  WriteFile(dir / "noarea.lib",
            "library (x) {\n cell (NAND2) {\n  pin (A) { direction : input ; }\n  pin (B) { direction : input ; }\n"
            "  pin (Y) { direction : output ; function : \"!(A&B)\" ; }\n }\n}\n");
  args.back() = dir / "noarea.lib";
  ExpectCliError(RunOctet(args), {"noarea.lib", "line 2", "no area"});
  // No 2-input NAND to measure by.
  WriteFile(dir / "nonand.lib",
            "library (x) {\n cell (INV) {\n  area : 1 ;\n  pin (A) { direction : input ; }\n"
            "  pin (Y) { direction : output ; function : \"A'\" ; }\n }\n}\n");
  args.back() = dir / "nonand.lib";
  ExpectCliError(RunOctet(args), {"nonand.lib", "2-input NAND"});
  // Missing file.
  args.back() = dir / "missing.lib";
  ExpectCliError(RunOctet(args), {"missing.lib", "cannot open"});
  EXPECT_FALSE(fs::exists(dir / "cache")) << "nothing is synthesised with a bad library";
}

TEST(AreaCli, UsageErrors) {
  ScratchDir dir;
  ExpectCliError(RunOctet({"area", "--array", "4y4", "--cache", dir / "cache"}), {"--array", "4y4"});
  ExpectCliError(RunOctet({"area", "--array", "0x4", "--cache", dir / "cache"}), {"--array", "0x4"});
  ExpectCliError(RunOctet({"area", "--block", "no_such_block", "--cache", dir / "cache"}),
                 {"no_such_block", "octet_pe"});
  ExpectCliError(RunOctet({"area", "--rtl", dir / "empty", "--cache", dir / "cache"}), {"empty", "no RTL"});
}

// A block Yosys cannot read: the error names the block, Yosys's message and its log.
TEST(AreaCli, FailedSynthesisIsOneLineError) {
  ScratchDir dir;
  fs::create_directories(dir.path() / "rtl" / "units");
  WriteFile(dir / "rtl/units/octet_test_broken.sv",
            "module octet_test_broken (input logic a_i, output logic b_o);\n  assign b_o = a_i +;\nendmodule\n");
  const CommandResult r = RunOctet({"area", "--rtl", dir / "rtl", "--cache", dir / "cache", "--no-progress"});
  ExpectCliError(r, {"octet_test_broken", "synthesis failed", "octet_test_broken.sv:2", "yosys.log"});
  EXPECT_TRUE(fs::exists(dir.path() / "cache" / "failed-octet_test_broken" / "yosys.log"));
}

TEST(AreaCli, MissingYosysIsOneLineError) {
  ScratchDir dir;
  WriteMultiplierTree(dir);
  const char* old = std::getenv("PATH");
  const std::string saved = old ? old : "";
  setenv("PATH", (dir.path() / "no-bin").c_str(), 1);
  const CommandResult r = RunOctet({"area", "--rtl", dir / "rtl", "--cache", dir / "cache"});
  setenv("PATH", saved.c_str(), 1);
  ExpectCliError(r, {"yosys", "not found on PATH"});
}

// The pieces of the parser that libraries differ in: function syntax.
TEST(AreaCli, LibertyFunctions) {
  const std::map<std::string, bool> pins = {{"A", true}, {"B", false}, {"C", true}};
  EXPECT_TRUE(area::EvalLibertyFunction("!(A & B)", pins));
  EXPECT_TRUE(area::EvalLibertyFunction("(A*B)'", pins));
  EXPECT_TRUE(area::EvalLibertyFunction("A B + C", pins));
  EXPECT_FALSE(area::EvalLibertyFunction("A B", pins));
  EXPECT_TRUE(area::EvalLibertyFunction("A ^ B", pins));
  EXPECT_FALSE(area::EvalLibertyFunction("!(A | B) + B", pins));
  EXPECT_TRUE(area::EvalLibertyFunction("((A&!B)|(B&C))", pins));
  EXPECT_THROW(area::EvalLibertyFunction("A & D", pins), std::invalid_argument);
  EXPECT_THROW(area::EvalLibertyFunction("(A & B", pins), std::invalid_argument);
}

}  // namespace
}  // namespace octet::testing
