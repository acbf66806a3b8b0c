// The technology table (the shipped 45 nm table and the loader's one-line errors), the
// energy arithmetic on hand-computed counters, the SRAM size model, and the report
// builder's totals, percentages and ratios.
#include <cmath>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "golden/core/error.h"
#include "sim/report/energy_model.h"
#include "sim/report/report.h"
#include "sim/report/tech_table.h"

namespace octet::report {
namespace {

using nlohmann::json;
using model::BufferId;
using model::Phase;
using model::UnitId;

// A table with round numbers, so every expected energy is computed by hand.
json TestTableJson() {
  return json::parse(R"({
    "format": "octet-tech",
    "name": "test",
    "sources": {"hand": "numbers chosen for the test"},
    "operations_pj": {
      "add8": {"value": 1, "source": "hand"},
      "add32": {"value": 2, "source": "hand"},
      "mult8": {"value": 10, "source": "hand"},
      "mult32": {"value": 100, "source": "hand"}
    },
    "actions": {
      "mac": {"ops": {"mult8": 1, "add32": 1}},
      "flag_mac": {"ops": {"mult8": 1, "add32": 2}},
      "max_abs": {"ops": {"add32": 1}},
      "bn": {"ops": {"mult32": 1}},
      "act": {"ops": {"add8": 1}},
      "e1": {"ops": {"add8": 2}},
      "e2": {"ops": {"add8": 3}},
      "cq": {"ops": {"add8": 4}},
      "update_quantize": {"ops": {"add8": 5}},
      "update": {"ops": {"add8": 6}}
    },
    "sram_read_pj_per_64bit": [
      {"kib": 8, "value": 64, "source": "hand"},
      {"kib": 32, "value": 128, "source": "hand"},
      {"kib": 1024, "value": 448, "source": "hand"}
    ],
    "sram_write_to_read": {"value": 0.5, "source": "hand"},
    "dram_pj_per_byte": {"value": 100, "source": "hand"},
    "nand2_um2": {"value": 1, "source": "hand"},
    "sram_mm2_per_kib": {"value": 0.01, "source": "hand"}
  })");
}

TechTable TestTable() { return ParseTechTable(TestTableJson().dump(), "test.json"); }

// Buffer halves of 8, 32, 16 and 2048 KiB: 1, 2, 1.5 and 8 pJ per bit read.
model::ArchConfig TestConfig() {
  model::ArchConfig c;
  c.clock_mhz = 100;
  c.array_rows = c.array_cols = 4;
  c.act_buffer_kib = 16;
  c.weight_buffer_kib = 64;
  c.error_buffer_kib = 32;
  c.output_buffer_kib = 4096;
  return c;
}

model::Counters TestCounters() {
  model::Counters c;
  c.cycles = 1000;
  c.macs = 100;
  c.pe_macs = 100;
  c.flag_macs = 30;
  c.unit_elements = {10, 2, 3, 4, 5, 6, 7};  // max_abs, bn, act, e1, e2, cq, update
  c.buffer_read_bits[static_cast<int>(BufferId::kActivation)] = 64;
  c.buffer_write_bits[static_cast<int>(BufferId::kActivation)] = 10;
  c.buffer_read_bits[static_cast<int>(BufferId::kWeight)] = 8;
  c.buffer_read_bits[static_cast<int>(BufferId::kError)] = 4;
  c.buffer_write_bits[static_cast<int>(BufferId::kOutput)] = 2;
  c.dram_read_bytes = 3;
  c.dram_write_bytes = 2;
  return c;
}

// --- The shipped table ------------------------------------------------------------------

TEST(TechTable, Shipped45nmHasHorowitzFiguresAndNamedSources) {
  const TechTable t = LoadTechTable("45nm");
  EXPECT_EQ(t.name, "45nm");
  EXPECT_EQ(LoadTechTable("default").name, "45nm");
  EXPECT_EQ(t.origin, "technology table 45nm");
  EXPECT_EQ(BuiltinTechTableNames(), std::vector<std::string>{"45nm"});
  // Horowitz, ISSCC 2014, 45 nm.
  EXPECT_DOUBLE_EQ(t.operations_pj.at("add8").value, 0.03);
  EXPECT_DOUBLE_EQ(t.operations_pj.at("add32").value, 0.1);
  EXPECT_DOUBLE_EQ(t.operations_pj.at("mult8").value, 0.2);
  EXPECT_DOUBLE_EQ(t.operations_pj.at("mult32").value, 3.1);
  EXPECT_DOUBLE_EQ(t.SramReadPjPerBit(8), 10.0 / 64);
  EXPECT_DOUBLE_EQ(t.SramReadPjPerBit(32), 20.0 / 64);
  EXPECT_DOUBLE_EQ(t.SramReadPjPerBit(1024), 100.0 / 64);
  EXPECT_DOUBLE_EQ(t.dram_pj_per_byte.value, 1950.0 / 8);  // midpoint of 1.3 to 2.6 nJ per 64 bits
  // An INT8 MAC with its 48-bit accumulator: 0.2 + 1.5 x 0.1 pJ.
  EXPECT_DOUBLE_EQ(t.ActionPj("mac"), 0.35);
  EXPECT_GT(t.ActionPj("flag_mac"), t.ActionPj("mac"));
  EXPECT_FALSE(t.leakage_mw_per_mm2.has_value());
  for (const auto& [name, v] : t.operations_pj) {
    EXPECT_TRUE(t.sources.count(v.source)) << name;
    EXPECT_FALSE(v.note.empty()) << name;
  }
  for (const std::string& action : TechActionNames()) EXPECT_FALSE(t.actions.at(action).note.empty()) << action;
  EXPECT_NE(t.sources.at("horowitz2014").find("ISSCC 2014"), std::string::npos);
  // 8192 cells of 0.346 um^2 at an array efficiency of 0.7.
  EXPECT_NEAR(t.sram_mm2_per_kib.value, 8192 * 0.346e-6 / 0.7, 1e-6);
  EXPECT_DOUBLE_EQ(t.nand2_um2.value, 0.798);
}

TEST(TechTable, ShippedFileEqualsTheBuiltIn) {
  const TechTable file = LoadTechTable(std::string(OCTET_SOURCE_DIR) + "/sim/report/tech/45nm.json");
  const TechTable builtin = LoadTechTable("45nm");
  for (const std::string& action : TechActionNames()) EXPECT_EQ(file.ActionPj(action), builtin.ActionPj(action)) << action;
  EXPECT_EQ(file.dram_pj_per_byte.value, builtin.dram_pj_per_byte.value);
}

// --- SRAM size model ----------------------------------------------------------------------

TEST(TechTable, SramEnergyInterpolatesInLogSize) {
  const TechTable t = TestTable();
  EXPECT_DOUBLE_EQ(t.SramReadPjPerBit(8), 1.0);
  EXPECT_DOUBLE_EQ(t.SramReadPjPerBit(16), 1.5);    // halfway between 8 and 32 in log2
  EXPECT_DOUBLE_EQ(t.SramReadPjPerBit(32), 2.0);
  EXPECT_DOUBLE_EQ(t.SramReadPjPerBit(4), 1.0);     // below the smallest size: its energy
  EXPECT_DOUBLE_EQ(t.SramReadPjPerBit(1), 1.0);
  EXPECT_DOUBLE_EQ(t.SramReadPjPerBit(1024), 7.0);
  EXPECT_DOUBLE_EQ(t.SramReadPjPerBit(2048), 8.0);  // the last slope (64 pJ per doubling) goes on
  // Monotonic between the points.
  double previous = 0;
  for (double kib = 1; kib <= 1 << 16; kib *= 1.5) {
    EXPECT_GE(t.SramReadPjPerBit(kib), previous) << kib;
    previous = t.SramReadPjPerBit(kib);
  }
}

// --- Energy arithmetic ---------------------------------------------------------------------

TEST(EnergyModel, HandComputedCounters) {
  const EnergyModel model(TestTable(), TestConfig());
  const ActionEnergies& a = model.actions();
  EXPECT_DOUBLE_EQ(a.mac_pj, 12);
  EXPECT_DOUBLE_EQ(a.flag_mac_pj, 14);
  EXPECT_DOUBLE_EQ(a.buffer_read_pj_per_bit[0], 1);
  EXPECT_DOUBLE_EQ(a.buffer_read_pj_per_bit[1], 2);
  EXPECT_DOUBLE_EQ(a.buffer_read_pj_per_bit[2], 1.5);
  EXPECT_DOUBLE_EQ(a.buffer_read_pj_per_bit[3], 8);
  EXPECT_DOUBLE_EQ(a.buffer_write_pj_per_bit[3], 4);

  const EnergyBreakdown e = model.Energy(TestCounters(), Phase::kUpdate);
  EXPECT_DOUBLE_EQ(e[EnergyComponent::kMac], 70 * 12);       // 100 PE MACs, 30 of them flagged
  EXPECT_DOUBLE_EQ(e[EnergyComponent::kFlagMac], 30 * 14);
  EXPECT_DOUBLE_EQ(e[EnergyComponent::kMaxAbs], 10 * 2);
  EXPECT_DOUBLE_EQ(e[EnergyComponent::kBn], 2 * 100);
  EXPECT_DOUBLE_EQ(e[EnergyComponent::kAct], 3 * 1);
  EXPECT_DOUBLE_EQ(e[EnergyComponent::kE1], 4 * 2);
  EXPECT_DOUBLE_EQ(e[EnergyComponent::kE2], 5 * 3);
  EXPECT_DOUBLE_EQ(e[EnergyComponent::kCq], 6 * 4);
  EXPECT_DOUBLE_EQ(e[EnergyComponent::kUpdate], 7 * 6);      // momentum and update
  EXPECT_DOUBLE_EQ(e[EnergyComponent::kActBuffer], 64 * 1 + 10 * 0.5);
  EXPECT_DOUBLE_EQ(e[EnergyComponent::kWeightBuffer], 8 * 2);
  EXPECT_DOUBLE_EQ(e[EnergyComponent::kErrorBuffer], 4 * 1.5);
  EXPECT_DOUBLE_EQ(e[EnergyComponent::kOutputBuffer], 2 * 4);
  EXPECT_DOUBLE_EQ(e[EnergyComponent::kDram], 5 * 100);
  EXPECT_DOUBLE_EQ(e[EnergyComponent::kLeakage], 0);
  EXPECT_DOUBLE_EQ(e.Total(), 2171);

  // Outside the update phase the update unit quantizes (Q_W, Q of the BN gradients).
  const EnergyBreakdown q = model.Energy(TestCounters(), Phase::kQuantize);
  EXPECT_DOUBLE_EQ(q[EnergyComponent::kUpdate], 7 * 5);
  EXPECT_DOUBLE_EQ(q.Total(), 2171 - 42 + 35);
}

TEST(EnergyModel, LeakageIsPowerPerAreaTimesTime) {
  json j = TestTableJson();
  j["leakage_mw_per_mm2"] = {{"value", 1000}, {"source", "hand"}};
  const TechTable t = ParseTechTable(j.dump(), "test.json");
  // 1 W per mm^2 x 2 mm^2 = 2 W; 1000 cycles at 100 MHz = 10 us: 2e-5 J.
  const EnergyModel model(t, TestConfig(), 2.0);
  EXPECT_TRUE(model.models_leakage());
  EXPECT_DOUBLE_EQ(model.actions().leakage_w, 2);
  EXPECT_NEAR(model.Energy(TestCounters(), Phase::kForward)[EnergyComponent::kLeakage], 2e7, 1e-6);
  // Without an area there is nothing to leak; without the figure leakage is not modelled.
  EXPECT_FALSE(EnergyModel(t, TestConfig(), 0).models_leakage());
  EXPECT_FALSE(EnergyModel(TestTable(), TestConfig(), 2.0).models_leakage());
}

// --- The loader's errors --------------------------------------------------------------------

// Parsing `table` fails with one line naming the file and every one of `mentions`.
void ExpectTableError(const json& table, const std::vector<std::string>& mentions) {
  try {
    ParseTechTable(table.dump(), "my.json");
    ADD_FAILURE() << "no error for " << table.dump();
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_EQ(what.rfind("my.json: ", 0), 0u) << what;
    for (const auto& m : mentions) EXPECT_NE(what.find(m), std::string::npos) << "missing \"" << m << "\" in " << what;
  }
}

TEST(TechTable, LoaderErrorsNameTheKey) {
  json t = TestTableJson();
  t.erase("dram_pj_per_byte");
  ExpectTableError(t, {"dram_pj_per_byte", "missing"});

  t = TestTableJson();
  t["dram_pj_per_bite"] = 1;
  ExpectTableError(t, {"unknown key", "dram_pj_per_bite"});

  t = TestTableJson();
  t["operations_pj"]["add8"]["value"] = -1;
  ExpectTableError(t, {"operations_pj.add8.value", "non-negative"});

  t = TestTableJson();
  t["operations_pj"]["add8"]["value"] = "0.03";
  ExpectTableError(t, {"operations_pj.add8.value", "must be a number"});

  t = TestTableJson();
  t["operations_pj"]["add8"].erase("source");
  ExpectTableError(t, {"operations_pj.add8.source", "missing"});

  t = TestTableJson();
  t["nand2_um2"]["source"] = "wikipedia";
  ExpectTableError(t, {"nand2_um2.source", "wikipedia", "not one of the sources", "hand"});

  t = TestTableJson();
  t["actions"]["mac"]["ops"]["mult16"] = 1;
  ExpectTableError(t, {"actions.mac.ops.mult16", "not an operation"});

  t = TestTableJson();
  t["actions"].erase("cq");
  ExpectTableError(t, {"actions.cq", "missing"});

  t = TestTableJson();
  t["sram_read_pj_per_64bit"][1]["kib"] = 8;
  ExpectTableError(t, {"sram_read_pj_per_64bit[1].kib", "increasing"});

  t = TestTableJson();
  t["sram_read_pj_per_64bit"] = json::array();
  ExpectTableError(t, {"sram_read_pj_per_64bit", "non-empty"});

  t = TestTableJson();
  t["format"] = "octet-run";
  ExpectTableError(t, {"format", "octet-tech"});

  try {
    ParseTechTable("{\"format\": ", "my.json");
    ADD_FAILURE() << "no error for truncated JSON";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("my.json: not valid JSON"), std::string::npos) << e.what();
  }
  try {
    LoadTechTable("/nonexistent/tech.json");
    ADD_FAILURE() << "no error for a missing file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/tech.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("45nm"), std::string::npos) << "lists the built-ins: " << e.what();
  }
}

// --- The report builder ---------------------------------------------------------------------

model::StepResult TwoLayerResult() {
  model::StepResult r;
  r.config = TestConfig();
  for (int l = 0; l < 2; ++l) {
    model::LayerStats layer;
    layer.name = l == 0 ? "block1.conv1" : "block1.conv2";
    for (int p = 0; p < model::kPhaseCount; ++p) {
      model::Counters c = TestCounters();
      c.cycles = 100 * (p + 1) + 7 * l;
      c.macs = c.pe_macs = (p == 0 || p == 3 || p == 4) ? 1000 * (l + 1) : 0;
      c.flag_macs = p == 3 ? c.pe_macs : 0;
      layer.phases[p] = c;
    }
    r.total += layer.Total();
    r.layers.push_back(layer);
  }
  r.cycles = r.total.cycles;
  return r;
}

TEST(Report, TotalsPercentagesAndRatiosAreConsistent) {
  const model::StepResult result = TwoLayerResult();
  const Report r = BuildReport(result, {"test", "shape-only", "net", "wageubn8"}, TestTable(), std::nullopt);
  ASSERT_EQ(r.layers.size(), 2u);
  EnergyBreakdown sum;
  int64_t cycles = 0, macs = 0;
  for (const LayerReport& l : r.layers) {
    ASSERT_EQ(l.phases.size(), static_cast<size_t>(model::kPhaseCount));
    EnergyBreakdown layer_sum;
    for (const ReportRow& p : l.phases) layer_sum += p.energy;
    for (int i = 0; i < kEnergyComponentCount; ++i) EXPECT_DOUBLE_EQ(l.total.energy.pj[i], layer_sum.pj[i]) << i;
    sum += l.total.energy;
    cycles += l.total.counters.cycles;
    macs += l.total.counters.macs;
  }
  for (int i = 0; i < kEnergyComponentCount; ++i) EXPECT_DOUBLE_EQ(r.step.energy.pj[i], sum.pj[i]) << i;
  EXPECT_EQ(r.step.counters.cycles, cycles);
  EXPECT_EQ(r.step.counters.cycles, result.cycles);
  EXPECT_EQ(r.step.counters.macs, macs);

  double percent = 0;
  for (double p : r.EnergyPercent()) percent += p;
  EXPECT_NEAR(percent, 100.0, 1e-9);

  const Metrics& m = r.step.metrics;
  EXPECT_DOUBLE_EQ(m.seconds, static_cast<double>(cycles) / 100e6);
  EXPECT_DOUBLE_EQ(m.pj_per_mac, m.energy_pj / static_cast<double>(macs));
  EXPECT_NEAR(m.tops_per_w * m.pj_per_mac, 2.0, 1e-12);
  EXPECT_NEAR(m.power_w, m.energy_pj * 1e-12 / m.seconds, 1e-15);
  EXPECT_DOUBLE_EQ(m.utilisation, static_cast<double>(macs) / (static_cast<double>(cycles) * 16));
  // A phase without MACs has no pJ/MAC or TOPS/W (printed "-").
  EXPECT_EQ(r.layers[0].phases[1].metrics.pj_per_mac, 0);
  EXPECT_EQ(r.layers[0].phases[1].metrics.tops_per_w, 0);
  EXPECT_GT(r.layers[0].phases[1].metrics.energy_pj, 0);
}

}  // namespace
}  // namespace octet::report
