// `octet run --array-backend rtl`: the SystemC model with the Verilated RTL array computing
// the array's values, on the shipped traces with small arrays of both dataflows. The run
// must be bit-exact with the trace and its JSON report identical, counter for counter, to
// the default engine's (only the field naming the backend differs). Plus the errors: an
// array size without a Verilated instance, an unknown backend, a shape-only run.
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"

namespace octet::testing {
namespace {

using nlohmann::json;

std::string Source(const std::string& rel) { return (fs::path(OCTET_SOURCE_DIR) / rel).string(); }

CommandResult OctetRun(std::vector<std::string> args) {
  args.insert(args.begin(), {"-j", "1", "run"});
  return RunOctet(args);
}

// An architecture file with an R x C array of `dataflow` (the other keys at their defaults).
std::string WriteArrayConfig(const ScratchDir& dir, int rows, int cols, const std::string& dataflow) {
  const std::string path = dir / (std::to_string(rows) + "x" + std::to_string(cols) + "_" + dataflow + ".json");
  WriteFile(path, "{\"name\": \"small\", \"array\": {\"rows\": " + std::to_string(rows) + ", \"cols\": " +
                      std::to_string(cols) + ", \"dataflow\": \"" + dataflow + "\"}}");
  return path;
}

// (trace, dataflow)
class RtlArrayBackend : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(RtlArrayBackend, BitExactWithTheEngineCounters) {
  const auto& [trace_name, dataflow] = GetParam();
  ScratchDir dir;
  const std::string trace = Source("traces/" + trace_name);
  const std::string config = WriteArrayConfig(dir, 8, 8, dataflow);

  const CommandResult engine = OctetRun({trace, "--config", config, "--json", dir / "engine.json"});
  const CommandResult rtl =
      OctetRun({trace, "--config", config, "--array-backend", "rtl", "--json", dir / "rtl.json"});
  for (const CommandResult* r : {&engine, &rtl}) {
    ASSERT_EQ(r->exit_code, 0) << r->Describe();
    ASSERT_FALSE(r->out_lines().empty()) << r->Describe();
    EXPECT_EQ(r->out_lines().back().rfind("bit-exact: ", 0), 0u) << r->Describe();
    EXPECT_EQ(r->err, "") << r->Describe();
  }
  EXPECT_NE(rtl.out_lines().front().find("array backend rtl"), std::string::npos) << rtl.Describe();
  EXPECT_EQ(engine.out_lines().front().find("array backend"), std::string::npos) << engine.Describe();

  json a = json::parse(ReadFile(dir / "engine.json"));
  json b = json::parse(ReadFile(dir / "rtl.json"));
  EXPECT_EQ(a.at("array_backend"), "engine");
  EXPECT_EQ(b.at("array_backend"), "rtl");
  a.erase("array_backend");
  b.erase("array_backend");
  // The whole report: step cycles, totals, every layer's every phase counter.
  ASSERT_GE(a.at("layers").size(), 5u);
  EXPECT_GT(a.at("total").at("macs").get<int64_t>(), 0);
  for (size_t l = 0; l < a.at("layers").size(); ++l)
    EXPECT_EQ(a.at("layers")[l], b.at("layers")[l]) << a.at("layers")[l].at("name");
  EXPECT_EQ(a, b);
  // The text agrees too (the table, the bit-exact line), but for the first line, which
  // names the backend, and the report file names.
  std::vector<std::string> ta = engine.out_lines(), tb = rtl.out_lines();
  ASSERT_EQ(ta.size(), tb.size());
  for (size_t i = 1; i < ta.size(); ++i) {
    if (ta[i].rfind("json: ", 0) != 0) {
      EXPECT_EQ(ta[i], tb[i]);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Traces, RtlArrayBackend,
                         ::testing::Combine(::testing::Values("tiny-resnet-wageubn8", "tiny-resnet-wageubn16"),
                                            ::testing::Values("ws", "os")),
                         [](const auto& info) {
                           std::string name = std::get<0>(info.param) + "_" + std::get<1>(info.param);
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

// --- Errors: one line, exit 2, no report left behind ----------------------------------

TEST(RunRtlCliErrors, ArraySizeWithoutAVerilatedInstance) {
  ScratchDir dir;
  const std::string config = WriteArrayConfig(dir, 16, 8, "ws");
  ExpectRunError(dir, {Source("traces/tiny-resnet-wageubn8"), "--config", config, "--array-backend", "rtl"},
                 {config, "16 x 8", "1x1, 3x5, 4x4, 8x4, 8x8, 32x32"});
  // The same configuration runs on the engine.
  EXPECT_EQ(OctetRun({Source("traces/tiny-resnet-wageubn8"), "--config", config}).exit_code, 0);
}

TEST(RunRtlCliErrors, UnknownBackendListsTheRegisteredOnes) {
  ScratchDir dir;
  ExpectRunError(dir, {Source("traces/tiny-resnet-wageubn8"), "--array-backend", "verilog"},
                 {"verilog", "engine", "rtl"});
}

TEST(RunRtlCliErrors, ShapeOnlyRunHasNoValuesForTheBackend) {
  ScratchDir dir;
  ExpectRunError(dir, {"tiny-resnet", "--array-backend", "rtl"}, {"tiny-resnet", "--array-backend rtl", "trace"});
}

TEST(RunRtlCli, HelpNamesTheBackends) {
  const CommandResult r = RunOctet({"run", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  for (const char* text : {"--array-backend", "engine", "rtl", "Verilated"})
    EXPECT_NE(r.out.find(text), std::string::npos) << text << "\n" << r.Describe();
}

}  // namespace
}  // namespace octet::testing
