// `octet run` end to end: the shipped traces through the SystemC model bit-exact, a
// tampered trace reported as a mismatch naming the tensor, shape-only runs of a built-in
// network, the shipped SCALE-Sim topologies and a SCALE-Sim .cfg architecture, the JSON
// and CSV reports, the progress line (on a terminal only), the error contract (one line,
// exit 2, no report files left behind) and --help.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"
#include "sim/io/npy.h"

namespace octet::testing {
namespace {

using nlohmann::json;

const char* const kPhases[] = {"forward", "bn", "quantize", "error", "weight_grad", "update"};

std::string Source(const std::string& rel) { return (fs::path(OCTET_SOURCE_DIR) / rel).string(); }

CommandResult OctetRun(std::vector<std::string> args) {
  args.insert(args.begin(), {"-j", "1", "run"});
  return RunOctet(args);
}

// The quantized layers of a trace's manifest (the ones the accelerator runs).
std::vector<std::string> QuantizedLayers(const fs::path& trace) {
  const json m = json::parse(ReadFile(trace / "manifest.json"));
  std::vector<std::string> names;
  for (const auto& l : m.at("layers"))
    if (l.at("quantized").get<bool>()) names.push_back(l.at("name"));
  return names;
}

// --- Data mode on the shipped traces -------------------------------------------------

class ShippedTrace : public ::testing::TestWithParam<std::string> {};

TEST_P(ShippedTrace, IsBitExact) {
  const std::string trace = Source("traces/" + GetParam());
  const CommandResult r = OctetRun({trace});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  const auto lines = r.out_lines();
  ASSERT_FALSE(lines.empty()) << r.Describe();
  EXPECT_EQ(lines.back().rfind("bit-exact: ", 0), 0u) << r.Describe();
  EXPECT_EQ(r.out.find("MISMATCH"), std::string::npos) << r.Describe();
  EXPECT_NE(lines.front().find("(data)"), std::string::npos) << r.Describe();
  // stderr is a pipe here: the progress line stays silent.
  EXPECT_EQ(r.err, "") << r.Describe();
  for (const std::string& layer : QuantizedLayers(trace))
    EXPECT_NE(r.out.find("\n" + layer + " "), std::string::npos) << layer << "\n" << r.Describe();
}

INSTANTIATE_TEST_SUITE_P(Traces, ShippedTrace, ::testing::Values("tiny-resnet-wageubn8", "tiny-resnet-wageubn16"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

// One element of one step tensor of a quantized layer changed: the run names that tensor
// and exits 1, and still writes the reports it was asked for.
TEST(RunCli, AlteredTensorIsReportedAsMismatch) {
  ScratchDir dir;
  const fs::path trace = dir.path() / "trace";
  fs::copy(Source("traces/tiny-resnet-wageubn8"), trace, fs::copy_options::recursive);
  const std::string file = (trace / "step/block2.conv1/x1.npy").string();
  Tensor<int32_t> x1 = npy::Load<int32_t>(file);
  ASSERT_GT(x1.size(), 100);
  x1[97] += 1;
  npy::Save(file, x1);

  const CommandResult r = OctetRun({trace.string(), "--json", dir / "r.json"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_NE(r.out.find("MISMATCH block2.conv1/x1 (step): "), std::string::npos) << r.Describe();
  EXPECT_EQ(r.out.find("bit-exact"), std::string::npos) << r.Describe();
  EXPECT_TRUE(fs::is_regular_file(dir / "r.json"));

  // The untouched copy is bit-exact (the copy itself is not what differs).
  npy::Save(file, npy::Load<int32_t>(Source("traces/tiny-resnet-wageubn8/step/block2.conv1/x1.npy")));
  EXPECT_EQ(OctetRun({trace.string()}).exit_code, 0);
}

// --- Shape-only mode ------------------------------------------------------------------

void ExpectShapeOnly(const CommandResult& r, const std::string& network) {
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_FALSE(r.out_lines().empty()) << r.Describe();
  EXPECT_NE(r.out_lines().front().find("(shape-only), network " + network), std::string::npos) << r.Describe();
  EXPECT_EQ(r.out_lines().back().rfind("step: ", 0), 0u) << r.Describe();
  EXPECT_EQ(r.out.find("bit-exact"), std::string::npos) << r.Describe();
  EXPECT_EQ(r.err, "") << r.Describe();
}

TEST(RunCli, ShapeOnlyBuiltinNetwork) {
  ExpectShapeOnly(OctetRun({"tiny-resnet"}), "tiny-resnet");
  ExpectShapeOnly(OctetRun({"tiny-resnet", "--scheme", "wageubn16", "--batch", "3", "--no-progress"}), "tiny-resnet");
}

TEST(RunCli, ShapeOnlyShippedScaleSimTopologies) {
  int csvs = 0;
  for (const auto& e : fs::directory_iterator(Source("traces/topologies"))) {
    if (e.path().extension() != ".csv") continue;
    ++csvs;
    SCOPED_TRACE(e.path().string());
    ExpectShapeOnly(OctetRun({e.path().string()}), e.path().stem().string());
  }
  EXPECT_GE(csvs, 2);
}

TEST(RunCli, ShapeOnlyWithScaleSimConfig) {
  const std::string cfg = Source("model/configs/scalesim_example.cfg");
  const CommandResult r = OctetRun({"tiny-resnet", "--config", cfg});
  ExpectShapeOnly(r, "tiny-resnet");
  ASSERT_GE(r.out_lines().size(), 2u);
  EXPECT_NE(r.out_lines()[1].find("256x256 array, ws"), std::string::npos) << r.Describe();
  const CommandResult gemm = OctetRun({Source("traces/topologies/gemm_example.csv")});
  ExpectShapeOnly(gemm, "gemm_example");
}

// --- Reports --------------------------------------------------------------------------

TEST(RunCli, JsonAndCsvReports) {
  ScratchDir dir;
  const CommandResult r = OctetRun({"tiny-resnet", "--json", dir / "r.json", "--csv", dir / "r.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.out.find("json: " + dir / "r.json"), std::string::npos) << r.Describe();
  EXPECT_NE(r.out.find("csv: " + dir / "r.csv"), std::string::npos) << r.Describe();

  const json j = json::parse(ReadFile(dir / "r.json"));
  EXPECT_EQ(j.at("format"), "octet-run");
  EXPECT_EQ(j.at("mode"), "shape-only");
  EXPECT_EQ(j.at("network"), "tiny-resnet");
  EXPECT_GT(j.at("cycles").get<int64_t>(), 0);
  const json& layers = j.at("layers");
  ASSERT_GE(layers.size(), 4u);  // block1.conv1 ... block2.shortcut
  std::set<std::string> names;
  int64_t phase_cycles = 0;
  for (const json& l : layers) {
    names.insert(l.at("name").get<std::string>());
    for (const char* p : kPhases) {
      ASSERT_TRUE(l.at("phases").contains(p)) << l.at("name") << " " << p;
      const json& c = l.at("phases").at(p);
      EXPECT_GE(c.at("cycles").get<int64_t>(), c.at("stall_cycles").get<int64_t>());
      phase_cycles += c.at("cycles").get<int64_t>();
    }
    for (const char* p : {"forward", "error", "weight_grad"})
      EXPECT_GT(l.at("phases").at(p).at("macs").get<int64_t>(), 0) << l.at("name") << " " << p;
    EXPECT_GT(l.at("phases").at("forward").at("cycles").get<int64_t>(), 0) << l.at("name");
    EXPECT_GT(l.at("phases").at("update").at("cycles").get<int64_t>(), 0) << l.at("name");
  }
  EXPECT_EQ(names.size(), layers.size());
  EXPECT_TRUE(names.count("block2.shortcut"));
  EXPECT_EQ(phase_cycles, j.at("total").at("cycles").get<int64_t>());

  const auto rows = CommandResult::Lines(ReadFile(dir / "r.csv"));
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0].rfind("layer,phase,cycles,stall_cycles,array_cycles,utilisation,macs,", 0), 0u) << rows[0];
  const size_t columns = std::count(rows[0].begin(), rows[0].end(), ',');
  std::set<std::string> layer_phases;
  for (size_t i = 1; i < rows.size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(std::count(rows[i].begin(), rows[i].end(), ',')), columns) << rows[i];
    const std::string layer = rows[i].substr(0, rows[i].find(','));
    const std::string rest = rows[i].substr(layer.size() + 1);
    const std::string phase = rest.substr(0, rest.find(','));
    if (std::find(std::begin(kPhases), std::end(kPhases), phase) != std::end(kPhases)) {
      EXPECT_TRUE(names.count(layer)) << rows[i];
      EXPECT_TRUE(layer_phases.insert(layer + "/" + phase).second) << "duplicate row " << rows[i];
    } else {
      EXPECT_EQ(phase, "total") << rows[i];
    }
  }
  EXPECT_EQ(layer_phases.size(), layers.size() * std::size(kPhases));
}

// --- Progress line --------------------------------------------------------------------

// Runs octet with stderr on a pseudo-terminal (stdout on a pipe): what a user at a
// terminal sees on stderr. Empty if the system has no pseudo-terminals.
std::optional<CommandResult> RunOctetWithTerminalStderr(const std::vector<std::string>& args) {
  CommandResult r;
  std::vector<std::string> argv = {OCTET_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  for (const auto& a : argv) r.command += (r.command.empty() ? "" : " ") + a;
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0) return std::nullopt;
  if (grantpt(master) != 0 || unlockpt(master) != 0) {
    close(master);
    return std::nullopt;
  }
  const std::string slave_name = ptsname(master);
  int out_pipe[2];
  if (pipe(out_pipe) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, slave_name.c_str(), O_RDWR | O_NOCTTY, 0);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  posix_spawn_file_actions_addclose(&actions, out_pipe[1]);
  posix_spawn_file_actions_addclose(&actions, master);
  std::vector<char*> cargs;
  for (const auto& a : argv) cargs.push_back(const_cast<char*>(a.c_str()));
  cargs.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, cargs[0], &actions, nullptr, cargs.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  if (rc != 0) throw std::runtime_error("cannot run " + argv[0]);
  // The master reads EIO once the child has closed the terminal (it exited).
  DrainAndWait(out_pipe[0], master, pid, r);
  return r;
}

// tiny-resnet has 5 accelerated layers: 15 layer stages (forward, backward, update).
TEST(RunCliProgress, RedrawnOnATerminalAndErasedBeforeTheTable) {
  const auto run = RunOctetWithTerminalStderr({"-j", "1", "run", "tiny-resnet"});
  if (!run) GTEST_SKIP() << "no pseudo-terminal";
  const CommandResult& r = *run;
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.err.find('\n'), std::string::npos) << "one line, redrawn in place\n" << r.Describe();
  EXPECT_NE(r.err.find("\rsimulating:   0%  1/15  forward block1.conv1 "), std::string::npos) << r.Describe();
  EXPECT_NE(r.err.find("backward block2.shortcut"), std::string::npos) << r.Describe();
  EXPECT_NE(r.err.find("15/15  update block2.shortcut"), std::string::npos) << r.Describe();
  // Erased at the end: the last thing on the terminal is a blanked line.
  ASSERT_FALSE(r.err.empty());
  const size_t last_cr = r.err.rfind('\r', r.err.size() - 2);
  ASSERT_NE(last_cr, std::string::npos) << r.Describe();
  EXPECT_EQ(r.err.back(), '\r');
  EXPECT_EQ(r.err.substr(last_cr + 1, r.err.size() - last_cr - 2).find_first_not_of(' '), std::string::npos)
      << r.Describe();
  EXPECT_NE(r.out.find("step: "), std::string::npos) << r.Describe();
}

TEST(RunCliProgress, NoProgressKeepsTheTerminalQuiet) {
  for (const std::string& target : {std::string("tiny-resnet"), Source("traces/tiny-resnet-wageubn8")}) {
    const auto r = RunOctetWithTerminalStderr({"-j", "1", "run", target, "--no-progress"});
    if (!r) GTEST_SKIP() << "no pseudo-terminal";
    EXPECT_EQ(r->exit_code, 0) << r->Describe();
    EXPECT_EQ(r->err, "") << r->Describe();
  }
}

// An error after the progress line was drawn: the line is erased, the error is the only
// text left on the terminal's last line.
TEST(RunCliProgress, ErasedBeforeAnError) {
  ScratchDir dir;
  const fs::path trace = dir.path() / "trace";
  fs::copy(Source("traces/tiny-resnet-wageubn8"), trace, fs::copy_options::recursive);
  // The step output of the last layer is missing: the comparison after the simulation fails.
  fs::remove(trace / "step/block2.conv2/x4.npy");
  const auto run = RunOctetWithTerminalStderr({"-j", "1", "run", trace.string()});
  if (!run) GTEST_SKIP() << "no pseudo-terminal";
  const CommandResult& r = *run;
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  const size_t error = r.err.find("octet: ");
  ASSERT_NE(error, std::string::npos) << r.Describe();
  EXPECT_NE(r.err.find("simulating:"), std::string::npos) << r.Describe();
  const std::string before = r.err.substr(0, error);
  ASSERT_FALSE(before.empty());
  EXPECT_EQ(before.back(), '\r') << r.Describe();
  EXPECT_NE(r.err.find("block2.conv2/x4.npy", error), std::string::npos) << r.Describe();
}

// --- Errors ---------------------------------------------------------------------------

TEST(RunCliErrors, MissingTarget) {
  ScratchDir dir;
  ExpectRunError(dir, {dir / "missing.csv"}, {dir / "missing.csv"});
  ExpectRunError(dir, {dir / "missing.json"}, {dir / "missing.json"});
}

TEST(RunCliErrors, BadConfigKey) {
  ScratchDir dir;
  WriteFile(dir / "arch.json", R"({"name": "x", "array": {"rows": 8, "cols": 8, "colour": "red"}})");
  ExpectRunError(dir, {"tiny-resnet", "--config", dir / "arch.json"}, {dir / "arch.json", "unknown key", "colour"});
  WriteFile(dir / "arch.cfg", "[architecture_presets]\nArrayHeight : 8\nArrayWidht : 8\n");
  ExpectRunError(dir, {"tiny-resnet", "--config", dir / "arch.cfg"}, {dir / "arch.cfg", "ArrayWidht"});
  ExpectRunError(dir, {"tiny-resnet", "--config", dir / "none.json"}, {dir / "none.json"});
}

TEST(RunCliErrors, MalformedCsv) {
  ScratchDir dir;
  WriteFile(dir / "t.csv",
            "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
            "Conv1, 16, 16, 3, 3, 3, 8, 1,\n"
            "Conv2, 16, sixteen, 3, 3, 8, 8, 1,\n");
  ExpectRunError(dir, {dir / "t.csv"}, {dir / "t.csv", "sixteen"});
  WriteFile(dir / "g.csv", "Layer Name, M, N, K,\nfc, 4, 10,\n");
  ExpectRunError(dir, {dir / "g.csv"}, {dir / "g.csv"});
}

TEST(RunCliErrors, UnknownScheme) {
  ScratchDir dir;
  ExpectRunError(dir, {"tiny-resnet", "--scheme", "nosuch"}, {"nosuch", "unknown scheme"});
}

TEST(RunCliErrors, TraceDirectoryWithoutManifest) {
  ScratchDir dir;
  const fs::path trace = dir.path() / "trace";
  fs::copy(Source("traces/tiny-resnet-wageubn8"), trace, fs::copy_options::recursive);
  fs::remove(trace / "manifest.json");
  ExpectRunError(dir, {trace.string()}, {(trace / "manifest.json").string(), "not a trace directory"});
  // An empty directory is a trace directory without a manifest too.
  fs::create_directories(dir.path() / "empty");
  ExpectRunError(dir, {dir / "empty"}, {dir / "empty/manifest.json"});
}

// --- Help -----------------------------------------------------------------------------

TEST(RunCli, HelpListsTheOptions) {
  const CommandResult r = RunOctet({"run", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  for (const char* option : {"target", "--config", "--scheme", "--batch", "--json", "--csv", "--no-progress"})
    EXPECT_NE(r.out.find(option), std::string::npos) << option << "\n" << r.Describe();
}

}  // namespace
}  // namespace octet::testing
