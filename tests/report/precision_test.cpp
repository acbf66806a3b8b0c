// The precision comparison (sim/report/precision.h, `octet precision`): the re-pricing of a
// step on hand-computed counters, the MAC recipes against the 45 nm table, a table that
// lacks an operation, the command's table, CSV, JSON and HTML, its one-line errors, and
// the ordering of the MACs' energies and synthesised areas (cached in the build tree: only the first run
// synthesises, about a minute, most of it the FP32 MAC).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../cli/run_command.h"
#include "golden/core/error.h"
#include "model/config/arch_config.h"
#include "sim/report/precision.h"
#include "sim/report/tech_table.h"

namespace octet::testing {
namespace {

using nlohmann::json;
using report::PrecisionReport;
using report::PrecisionRow;

// One layer: a forward GEMM with 1000 MACs reading 8000 act-buffer bits and moving 100
// DRAM bytes, and a BN phase with 10 BN elements, 800 act-buffer bits written and 100
// DRAM bytes. On the default configuration (act buffer 512 KiB, so 256 KiB halves).
model::StepResult HandStep() {
  model::StepResult r;
  r.config = model::LoadArchConfig("default");
  model::LayerStats layer;
  layer.name = "l0";
  model::Counters& fwd = layer.phases[static_cast<int>(model::Phase::kForward)];
  fwd.macs = fwd.pe_macs = 1000;
  fwd.buffer_read_bits[static_cast<int>(model::BufferId::kActivation)] = 8000;
  fwd.dram_read_bytes = 100;
  model::Counters& bn = layer.phases[static_cast<int>(model::Phase::kBn)];
  bn.unit_elements[static_cast<int>(model::UnitId::kBn)] = 10;
  bn.buffer_write_bits[static_cast<int>(model::BufferId::kActivation)] = 800;
  bn.dram_write_bytes = 100;
  r.layers.push_back(layer);
  return r;
}

TEST(Precision, MacEnergiesFromThe45nmTable) {
  const report::TechTable tech = report::LoadTechTable("45nm");
  std::map<std::string, double> pj;
  for (const report::Precision& p : report::Precisions()) pj[p.name] = report::MacPj(p, tech);
  EXPECT_DOUBLE_EQ(pj["int8"], 0.2 + 0.1);            // mult8 + add32
  EXPECT_DOUBLE_EQ(pj["fp8"], 0.46 + 0.4);            // fmult8 + fadd16
  EXPECT_DOUBLE_EQ(pj["int16"], 0.775 + 1.5 * 0.1);   // mult16 + 48-bit add
  EXPECT_DOUBLE_EQ(pj["fp16"], 1.1 + 0.9);            // fmult16 + fadd32
  EXPECT_DOUBLE_EQ(pj["fp32"], 3.7 + 0.9);            // fmult32 + fadd32
  EXPECT_GT(pj["fp32"], pj["fp16"]);
  EXPECT_GT(pj["fp16"], pj["int16"]);
  EXPECT_GT(pj["int16"], pj["int8"]);
  EXPECT_GT(pj["fp8"], pj["int8"]);
  EXPECT_EQ(report::MacRecipe(report::Precisions()[2]), "mult16 + 1.5 add32");
}

TEST(Precision, RepricesAStepByHand) {
  const report::TechTable tech = report::LoadTechTable("45nm");
  const PrecisionReport r = report::BuildPrecisionReport(HandStep(), {"hand", "shape-only", "hand", "wageubn8"}, tech,
                                                         std::nullopt);
  ASSERT_EQ(r.rows.size(), 6u);
  EXPECT_EQ(r.rows[0].name, "octet");
  EXPECT_FALSE(r.has_area);
  // SRAM per bit: 256 KiB halves 68 pJ / 64 bits (between 32 KiB, 20 pJ, and 1 MiB, 100 pJ,
  // 3/5 of the way in log2); 512 KiB halves 84 / 64.
  const double bit256 = 68.0 / 64, bit512 = 84.0 / 64, dram = 243.75, bn = 4.3125;
  const PrecisionRow& octet = r.Row("octet");
  EXPECT_DOUBLE_EQ(octet.energy.compute, 1000 * 0.35);
  EXPECT_DOUBLE_EQ(octet.energy.vector, 10 * bn);
  EXPECT_DOUBLE_EQ(octet.energy.buffers, (8000 + 800) * bit256);
  EXPECT_DOUBLE_EQ(octet.energy.dram, 200 * dram);
  const PrecisionRow& int8 = r.Row("int8");  // operands as Octet's: only the MAC differs
  EXPECT_DOUBLE_EQ(int8.energy.compute, 1000 * 0.3);
  EXPECT_DOUBLE_EQ(int8.energy.buffers, (8000 + 800) * bit256);
  EXPECT_DOUBLE_EQ(int8.energy.dram, 200 * dram);
  // FP16: the forward's operand bits and DRAM bytes double, the BN phase's do not; the act
  // buffer holds as many 16-bit elements (1024 KiB, 512 KiB halves).
  const PrecisionRow& fp16 = r.Row("fp16");
  EXPECT_DOUBLE_EQ(fp16.energy.compute, 1000 * 2.0);
  EXPECT_DOUBLE_EQ(fp16.energy.vector, 10 * bn);
  EXPECT_DOUBLE_EQ(fp16.energy.buffers, (2 * 8000 + 800) * bit512);
  EXPECT_DOUBLE_EQ(fp16.energy.dram, (2 * 100 + 100) * dram);
  EXPECT_DOUBLE_EQ(fp16.energy.Total(), 2000 + 43.125 + 16800 * bit512 + 300 * dram);
  EXPECT_DOUBLE_EQ(fp16.buffer_kib[0], 1024);
  EXPECT_DOUBLE_EQ(fp16.buffer_kib[3], 512 * 32.0 / 48);  // output buffer: 32-bit accumulator
  // FP32: four times the operand traffic; 2 MiB act buffer, 1 MiB halves: 100 pJ / 64 bits.
  const PrecisionRow& fp32 = r.Row("fp32");
  EXPECT_DOUBLE_EQ(fp32.energy.buffers, (4 * 8000 + 800) * 100.0 / 64);
  EXPECT_DOUBLE_EQ(fp32.energy.dram, (4 * 100 + 100) * dram);
  EXPECT_EQ(fp32.step_macs, 1000);
}

TEST(Precision, TableWithoutAnOperationFails) {
  std::string text = ReadFile(fs::path(OCTET_SOURCE_DIR) / "sim/report/tech/45nm.json");
  const size_t at = text.find("    \"fmult8\"");
  ASSERT_NE(at, std::string::npos);
  text.erase(at, text.find('\n', at) - at + 1);
  const report::TechTable tech = report::ParseTechTable(text, "no-fmult8.json");
  try {
    report::MacPj(report::Precisions()[1], tech);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no-fmult8.json: operations_pj.fmult8 is missing"), std::string::npos)
        << e.what();
  }
}

CommandResult Octet(std::vector<std::string> args) {
  args.insert(args.begin(), {"-j", "1"});
  return RunOctet(args);
}

TEST(PrecisionCli, TableCsvAndJsonOfAShapeOnlyRun) {
  const CommandResult t = Octet({"precision", "tiny-resnet", "--no-area"});
  ASSERT_EQ(t.exit_code, 0) << t.Describe();
  EXPECT_EQ(t.err, "") << t.Describe();
  const auto lines = t.out_lines();
  ASSERT_GT(lines.size(), 9u);
  EXPECT_EQ(lines[0].rfind("precision comparison: tiny-resnet (shape-only, wageubn8)", 0), 0u) << t.Describe();
  for (const char* name : {"\noctet ", "\nint8 ", "\nfp8 ", "\nint16 ", "\nfp16 ", "\nfp32 "})
    EXPECT_NE(t.out.find(name), std::string::npos) << name << "\n" << t.Describe();
  EXPECT_NE(t.out.find("area: not computed (--no-area)"), std::string::npos) << t.Describe();

  const CommandResult c = Octet({"precision", "tiny-resnet", "--no-area", "--format", "csv"});
  ASSERT_EQ(c.exit_code, 0) << c.Describe();
  const auto rows = c.out_lines();
  ASSERT_EQ(rows.size(), 7u) << c.Describe();
  EXPECT_EQ(rows[0].rfind("precision,op_bits,acc_bits,mac_block,", 0), 0u) << rows[0];
  EXPECT_EQ(rows[2].rfind("int8,8,32,octet_mac_pe int8,,,,,0.3,1,,", 0), 0u) << rows[2];

  const CommandResult j = Octet({"precision", "tiny-resnet", "--no-area", "--format", "json"});
  ASSERT_EQ(j.exit_code, 0) << j.Describe();
  const json doc = json::parse(j.out);
  EXPECT_EQ(doc.at("format"), "octet-precision");
  EXPECT_FALSE(doc.at("area").get<bool>());
  ASSERT_EQ(doc.at("rows").size(), 6u);
  // The same step: every precision charges the useful MACs, Octet its PE MACs.
  const json run = json::parse(Octet({"report", "tiny-resnet", "--no-area", "--format", "json"}).out);
  EXPECT_EQ(doc.at("rows")[0].at("step_macs"), run.at("step").at("pe_macs"));
  EXPECT_NEAR(doc.at("rows")[0].at("step_energy_pj").at("total").get<double>(),
              run.at("step").at("energy_pj").at("total").get<double>(), 1e-9 * run.at("step").at("energy_pj").at("total").get<double>());
  for (size_t i = 1; i < 6; ++i) EXPECT_EQ(doc.at("rows")[i].at("step_macs"), run.at("step").at("macs"));
  // Per step, wider operands cost more: FP32 > {FP16, INT16} > INT8. (At equal operand
  // width the accumulator decides: FP16's 32-bit output words against INT16's 48.)
  auto total = [&](size_t i) { return doc.at("rows")[i].at("step_energy_pj").at("total").get<double>(); };
  for (size_t wide : {3, 4}) {
    EXPECT_GT(total(5), total(wide)) << wide;
    EXPECT_GT(total(wide), total(1)) << wide;
  }
}

TEST(PrecisionCli, OneLineErrors) {
  ScratchDir dir;
  ExpectCliError(Octet({"precision", "no-such-net", "--no-area"}), {"no-such-net"});
  ExpectCliError(Octet({"precision", "tiny-resnet", "--tech", dir / "missing.json", "--no-area"}), {"missing.json"});
  std::string text = ReadFile(fs::path(OCTET_SOURCE_DIR) / "sim/report/tech/45nm.json");
  const size_t at = text.find("    \"mult16\"");
  text.erase(at, text.find('\n', at) - at + 1);
  WriteFile(dir / "old.json", text);
  ExpectCliError(Octet({"precision", "tiny-resnet", "--tech", dir / "old.json", "--out", dir / "p.txt"}),
                 {"old.json", "operations_pj.mult16 is missing", "INT16"});
  EXPECT_FALSE(fs::exists(dir.path() / "p.txt"));
  const CommandResult bad = Octet({"precision", "tiny-resnet", "--format", "xml"});
  EXPECT_NE(bad.exit_code, 0) << bad.Describe();
  EXPECT_NE(bad.err.find("--format"), std::string::npos) << bad.Describe();
}

// The synthesised MACs, on a 4 x 4 array (cached in the build tree): the ordering of the
// paper's Fig. 10 holds for energy; for area it holds between widths, and the HTML has
// its four charts.
TEST(PrecisionCli, SynthesisedMacsAreOrdered) {
  ScratchDir dir;
  WriteFile(dir / "small.json",
            R"({"name": "small", "array": {"rows": 4, "cols": 4}, "clock_mhz": 500,
                "buffers_kib": {"activation": 64, "weight": 32, "error": 64, "output": 64}})");
  const std::string cache = (fs::path(OCTET_BINARY).parent_path() / "test-area-cache").string();
  const CommandResult r = Octet({"precision", "tiny-resnet", "--config", dir / "small.json", "--area-cache", cache,
                                 "--format", "json", "--out", dir / "p.json", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  const json doc = json::parse(ReadFile(dir / "p.json"));
  ASSERT_TRUE(doc.at("area").get<bool>());
  std::map<std::string, double> nand2, pj, step_area;
  for (const json& row : doc.at("rows")) {
    const std::string name = row.at("precision");
    nand2[name] = row.at("mac").at("nand2_eq");
    pj[name] = row.at("mac_pj");
    step_area[name] = row.at("step_area_mm2").at("total");
    EXPECT_GT(row.at("mac").at("flip_flops").get<int64_t>(), 0) << name;
  }
  // Energy per MAC (Horowitz): FP32 > FP16 > {INT16, FP8} > INT8, the paper's order.
  EXPECT_GT(pj["fp32"], pj["fp16"]);
  EXPECT_GT(pj["fp16"], pj["int16"]);
  EXPECT_GT(pj["fp16"], pj["fp8"]);
  EXPECT_GT(pj["int16"], pj["int8"]);
  EXPECT_GT(pj["fp8"], pj["int8"]);
  // Area (Yosys): FP32 is the largest by far and the 16-bit MACs are larger than the 8-bit
  // ones; at equal width, integer and float are comparable (docs/energy-area.md: the E5M2
  // multiplier is 3 x 3 bits and its accumulator 16 bits, the INT8 PE's 32; the FP16
  // multiplier is 11 x 11 against 16 x 16), within 25 % of each other.
  EXPECT_GT(nand2["fp32"], 2 * nand2["fp16"]);
  EXPECT_GT(nand2["fp32"], 2 * nand2["int16"]);
  for (const char* wide : {"fp16", "int16"})
    for (const char* narrow : {"fp8", "int8"}) EXPECT_GT(nand2[wide], 2 * nand2[narrow]) << wide << " " << narrow;
  auto ratio = [&](const char* x, const char* y) {
    return std::max(nand2[x], nand2[y]) / std::min(nand2[x], nand2[y]);
  };
  EXPECT_LT(ratio("fp16", "int16"), 1.25);
  EXPECT_LT(ratio("fp8", "int8"), 1.25);
  EXPECT_GT(step_area["fp32"], step_area["fp16"]);
  EXPECT_GT(step_area["fp16"], step_area["int8"]);
  // The Octet PE is larger than a plain INT8 MAC PE (flag shifter, 48-bit accumulator, WS).
  EXPECT_GT(nand2["octet"], nand2["int8"]);

  const CommandResult h = Octet({"precision", "tiny-resnet", "--config", dir / "small.json", "--area-cache", cache,
                                 "--format", "html", "--no-progress"});
  ASSERT_EQ(h.exit_code, 0) << h.Describe();
  for (const char* id : {"chart-mac-energy", "chart-mac-area", "chart-step-energy", "chart-step-area",
                         "table-precision", "FP8 E5M2"})
    EXPECT_NE(h.out.find(id), std::string::npos) << id;
}

}  // namespace
}  // namespace octet::testing
