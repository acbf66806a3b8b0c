// The architecture configuration: the built-ins, the JSON file and its errors, and the
// SCALE-Sim .cfg reader (docs/configuration.md).
#include "model/config/arch_config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "golden/core/text_file.h"
#include "tests/common/scratch_dir_test.h"

namespace octet::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kSourceDir = OCTET_SOURCE_DIR;

class ArchConfigTest : public ScratchDirTest {
 protected:
  // Writes `text` to a scratch file and returns its path.
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = Path(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
};

// A configuration whose every value differs from the default.
ArchConfig EveryValueChanged() {
  ArchConfig c;
  c.name = "changed";
  c.array_rows = 16;
  c.array_cols = 64;
  c.dataflow = Dataflow::kOutputStationary;
  c.clock_mhz = 812.5;
  c.act_buffer_kib = 1;
  c.weight_buffer_kib = 2;
  c.error_buffer_kib = 3;
  c.output_buffer_kib = 1048576;
  c.dram_bytes_per_cycle = 0.5;
  c.dram_latency_cycles = 0;
  c.units = {1, 2, 3, 4, 5, 6, 4096};
  return c;
}

// --- Built-ins ---------------------------------------------------------------------------

TEST_F(ArchConfigTest, DefaultBuiltinEqualsTheStructDefaults) {
  EXPECT_EQ(LoadArchConfig("default"), ArchConfig{});
  EXPECT_EQ(LoadArchConfig(""), ArchConfig{});
  EXPECT_EQ(ParseArchConfig(ReadTextFile(kSourceDir + "/model/configs/default.json"), "default.json"), ArchConfig{});
}

TEST_F(ArchConfigTest, BuiltinNamesAreTheJsonFilesOfModelConfigs) {
  std::vector<std::string> stems;
  for (const auto& e : fs::directory_iterator(kSourceDir + "/model/configs"))
    if (e.path().extension() == ".json") stems.push_back(e.path().stem().string());
  std::vector<std::string> names = BuiltinArchConfigNames();
  std::sort(stems.begin(), stems.end());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, stems);
  for (const auto& name : names) EXPECT_EQ(LoadArchConfig(name).name, name);
}

TEST_F(ArchConfigTest, ScaleSimExampleCfgIsTheScaleSimGoogleBuiltin) {
  ArchConfig from_cfg = LoadArchConfig(kSourceDir + "/model/configs/scalesim_example.cfg");
  EXPECT_EQ(from_cfg.name, "scalesim_example");  // the file names a .cfg configuration
  EXPECT_EQ(from_cfg.array_rows, 256);
  EXPECT_EQ(from_cfg.act_buffer_kib, 6144);
  EXPECT_EQ(from_cfg.output_buffer_kib, 2048);
  EXPECT_EQ(from_cfg.dram_bytes_per_cycle, 10.0);
  from_cfg.name = "scalesim-google";
  EXPECT_EQ(from_cfg, LoadArchConfig("scalesim-google"));
}

// --- JSON --------------------------------------------------------------------------------

TEST_F(ArchConfigTest, JsonRoundTripKeepsEveryValue) {
  const ArchConfig changed = EveryValueChanged();
  EXPECT_EQ(ParseArchConfig(ArchConfigToJson(changed), "dump"), changed);
  EXPECT_EQ(ParseArchConfig(ArchConfigToJson(ArchConfig{}), "dump"), ArchConfig{});
}

TEST_F(ArchConfigTest, JsonDumpHasEveryKeyInTheDocumentedLayout) {
  const json j = json::parse(ArchConfigToJson(ArchConfig{}));
  std::vector<std::string> top;
  for (const auto& [key, value] : j.items()) top.push_back(key);
  std::sort(top.begin(), top.end());
  EXPECT_EQ(top, (std::vector<std::string>{"array", "buffers_kib", "clock_mhz", "dram", "name",
                                           "units_elements_per_cycle"}));
  EXPECT_EQ(j["array"], json::parse(R"({"rows": 32, "cols": 32, "dataflow": "ws"})"));
  EXPECT_EQ(j["buffers_kib"], json::parse(R"({"activation": 512, "weight": 256, "error": 512, "output": 512})"));
  EXPECT_EQ(j["dram"], json::parse(R"({"bytes_per_cycle": 32.0, "latency_cycles": 100})"));
  EXPECT_EQ(j["units_elements_per_cycle"],
            json::parse(R"({"max_abs": 32, "bn": 32, "act": 32, "e1": 32, "e2": 32, "cq": 32, "update": 16})"));
  EXPECT_EQ(j["clock_mhz"], 1000.0);
  // The dump lists the keys in the documented order, not sorted.
  const std::string text = ArchConfigToJson(ArchConfig{});
  EXPECT_LT(text.find("\"rows\""), text.find("\"cols\""));
  EXPECT_LT(text.find("\"array\""), text.find("\"clock_mhz\""));
}

TEST_F(ArchConfigTest, MissingKeysKeepTheirDefaults) {
  const ArchConfig c = ParseArchConfig(R"({"array": {"cols": 8}, "units_elements_per_cycle": {"bn": 64}})", "part.json");
  ArchConfig expected;
  expected.array_cols = 8;
  expected.units.bn = 64;
  EXPECT_EQ(c, expected);
  EXPECT_EQ(ParseArchConfig("{}", "empty.json"), ArchConfig{});
}

TEST_F(ArchConfigTest, RangeEndsAreAccepted) {
  const ArchConfig c = ParseArchConfig(R"({
    "array": {"rows": 1, "cols": 1024, "dataflow": "os"}, "clock_mhz": 10000,
    "buffers_kib": {"activation": 1, "output": 1048576},
    "dram": {"bytes_per_cycle": 4096, "latency_cycles": 100000},
    "units_elements_per_cycle": {"max_abs": 1, "update": 4096}})",
                                       "ends.json");
  EXPECT_EQ(c.array_cols, 1024);
  EXPECT_EQ(c.dataflow, Dataflow::kOutputStationary);
  EXPECT_EQ(c.clock_mhz, 10000.0);
  EXPECT_EQ(c.dram_bytes_per_cycle, 4096.0);
  EXPECT_EQ(c.units.update, 4096);
}

TEST_F(ArchConfigTest, LoadsAJsonFileByPath) {
  const std::string path = Write("mine.json", ArchConfigToJson(EveryValueChanged()));
  EXPECT_EQ(LoadArchConfig(path), EveryValueChanged());
  // A file without a name keeps the default one, like every other missing key.
  EXPECT_EQ(LoadArchConfig(Write("anonymous.json", R"({"clock_mhz": 500})")).name, "default");
}

TEST_F(ArchConfigTest, JsonSyntaxAndShapeErrors) {
  ExpectError([] { ParseArchConfig("{\"array\": ", "bad.json"); }, "bad.json", "not valid JSON");
  ExpectError([] { ParseArchConfig("[1, 2]", "list.json"); }, "list.json", "is a JSON object");
  ExpectError([] { ParseArchConfig(R"({"array": 32})", "a.json"); }, "a.json", "array must be a JSON object");
  ExpectError([] { ParseArchConfig(R"({"dram": []})", "d.json"); }, "d.json", "dram must be a JSON object");
}

TEST_F(ArchConfigTest, UnknownKeysAreErrorsNamingTheKey) {
  ExpectError([] { ParseArchConfig(R"({"clock": 100})", "c.json"); }, "c.json", "unknown key \"clock\"");
  ExpectError([] { ParseArchConfig(R"({"array": {"depth": 4}})", "c.json"); }, "c.json", "unknown key \"array.depth\"");
  ExpectError([] { ParseArchConfig(R"({"buffers_kib": {"act": 4}})", "c.json"); }, "c.json",
              "unknown key \"buffers_kib.act\"");
  ExpectError([] { ParseArchConfig(R"({"units_elements_per_cycle": {"relu": 4}})", "c.json"); }, "c.json",
              "unknown key \"units_elements_per_cycle.relu\"");
  ExpectError([] { ParseArchConfig(R"({"dram": {"latency": 4}})", "c.json"); }, "c.json", "unknown key \"dram.latency\"");
}

TEST_F(ArchConfigTest, WrongTypesNameTheKeyAndTheRange) {
  ExpectError([] { ParseArchConfig(R"({"array": {"rows": "32"}})", "t.json"); }, "t.json",
              "array.rows must be an integer in [1, 1024], got \"32\"");
  ExpectError([] { ParseArchConfig(R"({"array": {"cols": 32.5}})", "t.json"); }, "t.json",
              "array.cols must be an integer in [1, 1024]");
  ExpectError([] { ParseArchConfig(R"({"buffers_kib": {"weight": true}})", "t.json"); }, "t.json",
              "buffers_kib.weight must be an integer in [1, 1048576], got true");
  ExpectError([] { ParseArchConfig(R"({"clock_mhz": "fast"})", "t.json"); }, "t.json",
              "clock_mhz must be a number in [1, 10000]");
  ExpectError([] { ParseArchConfig(R"({"dram": {"bytes_per_cycle": null}})", "t.json"); }, "t.json",
              "dram.bytes_per_cycle must be a number in (0, 4096]");
  ExpectError([] { ParseArchConfig(R"({"array": {"dataflow": 1}})", "t.json"); }, "t.json",
              "array.dataflow must be \"ws\" or \"os\"");
  ExpectError([] { ParseArchConfig(R"({"name": 7})", "t.json"); }, "t.json", "name must be a non-empty string");
  ExpectError([] { ParseArchConfig(R"({"name": ""})", "t.json"); }, "t.json", "name must be a non-empty string");
  ExpectError([] { ParseArchConfig(R"({"description": {}})", "t.json"); }, "t.json", "description must be a string");
}

TEST_F(ArchConfigTest, OutOfRangeValuesNameTheKeyAndTheRange) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"array": {"rows": 0}})", "array.rows = 0 is out of range [1, 1024]"},
      {R"({"array": {"cols": 1025}})", "array.cols = 1025 is out of range [1, 1024]"},
      {R"({"clock_mhz": 0.5})", "clock_mhz = 0.5 is out of range [1, 10000]"},
      {R"({"clock_mhz": 10001})", "clock_mhz = 10001 is out of range [1, 10000]"},
      {R"({"buffers_kib": {"activation": 0}})", "buffers_kib.activation = 0 is out of range [1, 1048576]"},
      {R"({"buffers_kib": {"error": 1048577}})", "buffers_kib.error = 1048577 is out of range [1, 1048576]"},
      {R"({"buffers_kib": {"output": -4}})", "buffers_kib.output = -4 is out of range [1, 1048576]"},
      {R"({"dram": {"bytes_per_cycle": 0}})", "dram.bytes_per_cycle = 0 is out of range (0, 4096]"},
      {R"({"dram": {"bytes_per_cycle": 4096.5}})", "dram.bytes_per_cycle = 4096.5 is out of range (0, 4096]"},
      {R"({"dram": {"latency_cycles": -1}})", "dram.latency_cycles = -1 is out of range [0, 100000]"},
      {R"({"units_elements_per_cycle": {"cq": 0}})", "units_elements_per_cycle.cq = 0 is out of range [1, 4096]"},
      {R"({"units_elements_per_cycle": {"e2": 5000}})", "units_elements_per_cycle.e2 = 5000 is out of range [1, 4096]"},
      // Past int64: must not wrap to a negative number (or worse, into range).
      {R"({"array": {"rows": 18446744073709551615}})", "array.rows = 18446744073709551615 is out of range [1, 1024]"},
  };
  for (const auto& [text, problem] : cases) {
    SCOPED_TRACE(text);
    ExpectError([&] { ParseArchConfig(text, "range.json"); }, "range.json", problem);
  }
}

TEST_F(ArchConfigTest, InputStationaryIsNotModelled) {
  ExpectError([] { ParseArchConfig(R"({"array": {"dataflow": "is"}})", "df.json"); }, "df.json",
              "array.dataflow = \"is\": the input-stationary dataflow is not modelled");
  ExpectError([] { ParseArchConfig(R"({"array": {"dataflow": "rs"}})", "df.json"); }, "df.json",
              "array.dataflow = \"rs\" is not a dataflow: use ws or os");
}

TEST_F(ArchConfigTest, ValidateNamesTheKeyOfAProgrammaticConfig) {
  EXPECT_NO_THROW(ArchConfig{}.Validate("here"));
  ArchConfig c;
  c.units.update = 0;
  ExpectError([&] { c.Validate("here"); }, "here", "units_elements_per_cycle.update = 0 is out of range [1, 4096]");
  c = ArchConfig{};
  c.dram_bytes_per_cycle = std::nan("");
  ExpectError([&] { c.Validate("here"); }, "here", "dram.bytes_per_cycle = nan is out of range (0, 4096]");
  c = ArchConfig{};
  c.name.clear();
  ExpectError([&] { c.Validate("here"); }, "here", "name must be a non-empty string");
}

TEST_F(ArchConfigTest, MissingFilesAndUnknownNamesAreErrorsNamingThem) {
  const std::string json_path = Path("absent.json"), cfg_path = Path("absent.cfg");
  ExpectError([&] { LoadArchConfig(json_path); }, json_path, "no such file");
  ExpectError([&] { LoadArchConfig(cfg_path); }, cfg_path, "no such file");
  ExpectError([] { LoadArchConfig("tpu-v9"); }, "tpu-v9", "not a built-in (");
  const std::string bad = Write("bad.json", R"({"array": {"rows": 2048}})");
  ExpectError([&] { LoadArchConfig(bad); }, bad, "array.rows = 2048 is out of range [1, 1024]");
}

// --- SCALE-Sim .cfg ----------------------------------------------------------------------

TEST_F(ArchConfigTest, ScaleSimCfgMapsItsKeysAndIgnoresTheRest) {
  const std::string text =
      "# comment\r\n"
      "; another comment\r\n"
      "\r\n"
      "  [general]  \r\n"
      "run_name = my_run\r\n"
      "[architecture_presets]\r\n"
      "  ArrayHeight :   64  \r\n"
      "arraywidth=16\r\n"
      "IFMAPSRAMSZKB: 128 ; inline comment\r\n"
      "FilterSramSzkB : 64 # inline comment\r\n"
      "OfmapSramSzkB:32\r\n"
      "IfmapOffset: 0\r\n"
      "FilterOffset: 10000000\r\n"
      "OfmapOffset: 20000000\r\n"
      "Bandwidth : 20\r\n"
      "Dataflow : OS\r\n"
      "MemoryBanks: 1\r\n"
      "ReadRequestBuffer: 512\r\n"
      "[sparsity]\r\n"
      "SparsitySupport : false\r\n"
      "[layout]\r\n"
      "IfmapCustomLayout: False\r\n"
      "[run_presets]\r\n"
      "InterfaceBandwidth: USER\r\n"
      "UseRamulatorTrace: False\r\n";
  const ArchConfig c = ParseScaleSimConfig(text, "dir/example.cfg");
  ArchConfig expected;
  expected.name = "example";
  expected.array_rows = 64;
  expected.array_cols = 16;
  expected.act_buffer_kib = 128;
  expected.weight_buffer_kib = 64;
  expected.output_buffer_kib = 32;
  expected.dram_bytes_per_cycle = 20;
  expected.dataflow = Dataflow::kOutputStationary;
  EXPECT_EQ(c, expected);
}

TEST_F(ArchConfigTest, ScaleSimPerBankBandwidthsAreSummed) {
  const ArchConfig c = ParseScaleSimConfig("[architecture_presets]\nBandwidth: 10, 20,2.5\nMemoryBanks: 3\n", "b.cfg");
  EXPECT_EQ(c.dram_bytes_per_cycle, 32.5);
}

TEST_F(ArchConfigTest, ScaleSimErrorsNameTheFileLineAndKey) {
  const std::vector<std::tuple<std::string, std::string>> cases = {
      {"[architecture_presets]\nArrayHeight: 32\nDataflow: is\n",
       "e.cfg:3: Dataflow = \"is\": the input-stationary dataflow is not modelled"},
      {"[architecture_presets]\nDataflow: xy\n", "e.cfg:2: Dataflow = \"xy\" is not a dataflow"},
      {"[architecture_presets]\nArrayDepth: 4\n", "e.cfg:2: unknown SCALE-Sim key \"ArrayDepth\" in [architecture_presets]"},
      {"[general]\nArrayHeight: 4\n", "e.cfg:2: unknown SCALE-Sim key \"ArrayHeight\" in [general]"},
      {"[accelerator]\n", "e.cfg:1: unknown SCALE-Sim section [accelerator]"},
      {"ArrayHeight: 4\n", "e.cfg:1: key \"ArrayHeight\" comes before any [section]"},
      {"[architecture_presets]\nArrayHeight 4\n", "e.cfg:2: expected \"key = value\" or \"key: value\""},
      {"[architecture_presets]\n= 4\n", "e.cfg:2: a key is missing before '='"},
      {"[architecture_presets\n", "e.cfg:1: a section header is \"[name]\""},
      {"[general]\n[general]\n", "e.cfg:2: section [general] appears twice"},
      {"[architecture_presets]\nArrayWidth: 4\narraywidth: 8\n", "e.cfg:3: key \"arraywidth\" appears twice"},
      {"[architecture_presets]\nArrayHeight: 32.0\n", "e.cfg:2: ArrayHeight = \"32.0\" is not an integer in [1, 1024]"},
      {"[architecture_presets]\nArrayHeight:\n", "e.cfg:2: ArrayHeight = \"\" is not an integer in [1, 1024]"},
      {"[architecture_presets]\nArrayWidth: 2048\n", "e.cfg:2: ArrayWidth = 2048 is out of range [1, 1024]"},
      {"[architecture_presets]\nIfmapSramSzkB: 0\n", "e.cfg:2: IfmapSramSzkB = 0 is out of range [1, 1048576]"},
      {"[architecture_presets]\nOfmapSramSzkB: many\n", "e.cfg:2: OfmapSramSzkB = \"many\" is not an integer"},
      {"[architecture_presets]\nBandwidth: fast\n", "e.cfg:2: Bandwidth = \"fast\" is not a positive number"},
      {"[architecture_presets]\nBandwidth: 10,,5\n", "e.cfg:2: Bandwidth = \"10,,5\" is not a positive number"},
      {"[architecture_presets]\nBandwidth: 0\n", "e.cfg:2: Bandwidth = \"0\" is not a positive number"},
      {"[architecture_presets]\nBandwidth: 5000\n", "e.cfg:2: Bandwidth = 5000 is out of range (0, 4096]"},
  };
  for (const auto& [text, problem] : cases) {
    SCOPED_TRACE(text);
    ExpectError([&] { ParseScaleSimConfig(text, "e.cfg"); }, "e.cfg", problem);
  }
}

TEST_F(ArchConfigTest, LoadsACfgFileByPath) {
  const std::string path = Write("small.cfg", "[architecture_presets]\nArrayHeight: 8\nArrayWidth: 8\n");
  const ArchConfig c = LoadArchConfig(path);
  EXPECT_EQ(c.name, "small");
  EXPECT_EQ(c.array_rows, 8);
  EXPECT_EQ(c.array_cols, 8);
  const std::string bad = Write("bad.cfg", "[architecture_presets]\nArrayHeight: 0\n");
  ExpectError([&] { LoadArchConfig(bad); }, bad + ":2", "ArrayHeight = 0 is out of range [1, 1024]");
}

}  // namespace
}  // namespace octet::model
