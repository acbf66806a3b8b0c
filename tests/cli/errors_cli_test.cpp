// Malformed inputs: every one must make octet exit with status 2 and print exactly one
// line "octet: <file or option>: <problem>" on stderr, with nothing on stdout that
// claims a result. (Option values CLI11 rejects exit non-zero with CLI11's own message.)
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"

namespace octet::testing {
namespace {

using nlohmann::json;

// A .npy file (format 1.0) with this descr and shape and a zero payload of `payload_bytes`.
std::string NpyBytes(const std::string& descr, const std::vector<int64_t>& shape, size_t payload_bytes) {
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  bytes += std::string(payload_bytes, '\0');
  return bytes;
}

// Records a small trace (synthetic inputs, batch 1) into dir/trace and returns its path.
std::string RecordSmallTrace(const ScratchDir& dir) {
  const std::string trace = dir / "trace";
  const CommandResult r = RunOctet({"-j", "1", "trace", "record", "--synthetic", "--batch", "1", "--out", trace});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  return trace;
}

json LoadManifest(const std::string& trace) { return json::parse(ReadFile(fs::path(trace) / "manifest.json")); }
void SaveManifest(const std::string& trace, const json& m) { WriteFile(fs::path(trace) / "manifest.json", m.dump(1)); }

CommandResult Replay(const std::string& trace) { return RunOctet({"-j", "1", "trace", "replay", trace}); }

// --- Trace directories ---------------------------------------------------------------

TEST(MalformedTrace, TruncatedStateFile) {
  ScratchDir dir;
  const std::string trace = RecordSmallTrace(dir);
  const fs::path file = fs::path(trace) / "state_before/block1.conv1/W.npy";
  fs::resize_file(file, fs::file_size(file) - 10);
  ExpectCliError(Replay(trace), {file.string(), "truncated"});
}

TEST(MalformedTrace, StateFileTruncatedInsideItsHeader) {
  ScratchDir dir;
  const std::string trace = RecordSmallTrace(dir);
  const fs::path file = fs::path(trace) / "state_before/stem/W.npy";
  fs::resize_file(file, 20);
  ExpectCliError(Replay(trace), {file.string(), "truncated"});
}

TEST(MalformedTrace, WrongDtype) {
  ScratchDir dir;
  const std::string trace = RecordSmallTrace(dir);
  // An int16 file of the same shape in place of the int32 weights.
  const json m = LoadManifest(trace);
  std::vector<int64_t> shape;
  for (const auto& t : m.at("tensors"))
    if (t.at("name") == "block1.conv1/W" && t.at("role") == "state_before") {
      ASSERT_EQ(t.at("dtype"), "int32");
      shape = t.at("shape").get<std::vector<int64_t>>();
    }
  ASSERT_EQ(shape.size(), 4u);
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  const fs::path file = fs::path(trace) / "state_before/block1.conv1/W.npy";
  WriteFile(file, NpyBytes("<i2", shape, 2 * n));
  ExpectCliError(Replay(trace), {file.string(), "int16", "int32"});
}

TEST(MalformedTrace, ShapeInManifestDiffersFromFile) {
  ScratchDir dir;
  const std::string trace = RecordSmallTrace(dir);
  json m = LoadManifest(trace);
  bool edited = false;
  for (auto& t : m.at("tensors"))
    if (t.at("name") == "block1.conv1/W" && t.at("role") == "state_before") {
      t["shape"] = {16, 16, 3, 2};
      edited = true;
    }
  ASSERT_TRUE(edited);
  SaveManifest(trace, m);
  ExpectCliError(Replay(trace), {(fs::path(trace) / "state_before/block1.conv1/W.npy").string(), "shape",
                                 "[16, 16, 3, 3]", "[16, 16, 3, 2]"});
}

TEST(MalformedTrace, NotANpyFile) {
  ScratchDir dir;
  const std::string trace = RecordSmallTrace(dir);
  const fs::path file = fs::path(trace) / "step/block1.conv1/e3.npy";
  WriteFile(file, "this is not a NumPy file\n");
  ExpectCliError(Replay(trace), {file.string(), "not a NumPy .npy file"});
}

TEST(MalformedTrace, MissingTensorFile) {
  ScratchDir dir;
  const std::string trace = RecordSmallTrace(dir);
  const fs::path file = fs::path(trace) / "step/block1.conv1/e3.npy";
  fs::remove(file);
  ExpectCliError(Replay(trace), {file.string(), "cannot open"});
}

TEST(MalformedTrace, MissingManifest) {
  ScratchDir dir;
  const std::string trace = RecordSmallTrace(dir);
  fs::remove(fs::path(trace) / "manifest.json");
  ExpectCliError(Replay(trace), {(fs::path(trace) / "manifest.json").string(), "not a trace directory"});
}

TEST(MalformedTrace, NotATraceDirectory) {
  ScratchDir dir;
  ExpectCliError(Replay(dir / "no-such-trace"), {dir / "no-such-trace", "not a trace directory"});
  // An existing directory that is not a trace.
  ExpectCliError(Replay(dir.path().string()), {dir / "manifest.json", "cannot open"});
}

TEST(MalformedTrace, ManifestIsNotValidJson) {
  ScratchDir dir;
  const std::string trace = RecordSmallTrace(dir);
  const fs::path manifest = fs::path(trace) / "manifest.json";
  WriteFile(manifest, ReadFile(manifest).substr(0, 500));
  ExpectCliError(Replay(trace), {manifest.string(), "malformed manifest"});
}

TEST(MalformedTrace, ManifestLacksTensors) {
  ScratchDir dir;
  const std::string trace = RecordSmallTrace(dir);
  json m = LoadManifest(trace);
  m.erase("tensors");
  SaveManifest(trace, m);
  ExpectCliError(Replay(trace), {"manifest.json", "malformed manifest", "tensors"});
}

TEST(MalformedTrace, UnsupportedVersionAndFormat) {
  ScratchDir dir;
  const std::string trace = RecordSmallTrace(dir);
  json m = LoadManifest(trace);
  m["version"] = 99;
  SaveManifest(trace, m);
  ExpectCliError(Replay(trace), {"manifest.json", "version 99"});
  m["version"] = 1;
  m["format"] = "something-else";
  SaveManifest(trace, m);
  ExpectCliError(Replay(trace), {"manifest.json", "format"});
}

TEST(MalformedTrace, TensorFileOutsideTheTrace) {
  ScratchDir dir;
  const std::string trace = RecordSmallTrace(dir);
  json m = LoadManifest(trace);
  m["tensors"][5]["file"] = "../elsewhere.npy";
  SaveManifest(trace, m);
  ExpectCliError(Replay(trace), {"manifest.json", "outside the trace", "../elsewhere.npy"});
}

TEST(MalformedTrace, BatchDisagreesWithInputs) {
  ScratchDir dir;
  const std::string trace = RecordSmallTrace(dir);
  json m = LoadManifest(trace);
  m["batch"] = 2;
  SaveManifest(trace, m);
  ExpectCliError(Replay(trace), {"input/images.npy", "shape"});
}

// A trace without the state_before entry of a parameter cannot be replayed: the replay
// would start from a state the trace does not give.
// Known bug: ReplayTrace (sim/io/trace.cpp) does not check that every state tensor of
// the network is loaded; it replays from an all-zero tensor and reports
// "MISMATCH stem/e1 ..." with exit status 1 instead of naming the missing tensor.
TEST(MalformedTrace, MissingStateEntry) {
  ScratchDir dir;
  const std::string trace = RecordSmallTrace(dir);
  json m = LoadManifest(trace);
  json kept = json::array();
  for (const auto& t : m.at("tensors"))
    if (!(t.at("name") == "block1.conv1/W" && t.at("role") == "state_before")) kept.push_back(t);
  ASSERT_EQ(kept.size() + 1, m.at("tensors").size());
  m["tensors"] = kept;
  SaveManifest(trace, m);
  ExpectCliError(Replay(trace), {"block1.conv1/W"});
}

// --- Data set ------------------------------------------------------------------------

TEST(MalformedData, TrainWithMissingDataSet) {
  ScratchDir dir;
  const CommandResult r = RunOctet({"-j", "1", "train", "--data", "/nonexistent", "--limit", "64", "--batch", "4",
                                    "--out", dir / "out", "--no-progress"});
  ExpectCliError(r, {"/nonexistent/", "not found"});
  EXPECT_FALSE(fs::exists(dir / "out/log.csv"));
}

TEST(MalformedData, TraceRecordWithMissingDataSet) {
  ScratchDir dir;
  const CommandResult r =
      RunOctet({"-j", "1", "trace", "record", "--data", "/nonexistent", "--batch", "2", "--out", dir / "t"});
  ExpectCliError(r, {"/nonexistent/", "not found"});
  EXPECT_FALSE(fs::exists(dir / "t"));
}

TEST(MalformedData, CorruptImageFile) {
  ScratchDir dir;
  const fs::path data = dir.path() / "data";
  fs::create_directories(data);
  for (const char* f : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                        "t10k-labels-idx1-ubyte"})
    WriteFile(data / f, "garbage, not an IDX file");
  const CommandResult r =
      RunOctet({"-j", "1", "trace", "record", "--data", data.string(), "--batch", "2", "--out", dir / "t"});
  ExpectCliError(r, {data.string()});
}

// --- Schemes -------------------------------------------------------------------------

std::string BuiltinSchemeText() { return ReadFile(fs::path(OCTET_SOURCE_DIR) / "golden/schemes/wageubn8.json"); }

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) text.replace(pos, from.size(), to);
  return text;
}

CommandResult RecordWithScheme(const ScratchDir& dir, const std::string& scheme) {
  return RunOctet({"-j", "1", "trace", "record", "--synthetic", "--batch", "1", "--scheme", scheme, "--out", dir / "t"});
}

TEST(MalformedScheme, UnknownName) {
  ScratchDir dir;
  ExpectCliError(RecordWithScheme(dir, "nosuch"), {"nosuch", "unknown scheme"});
  ExpectCliError(RunOctet({"-j", "1", "train", "--scheme", "nosuch", "--out", dir / "o", "--no-progress"}),
                 {"nosuch", "unknown scheme"});
  ExpectCliError(RunOctet({"schemes", "--dump", "nosuch"}), {"nosuch"});
  EXPECT_FALSE(fs::exists(dir / "t"));
}

TEST(MalformedScheme, InvalidJson) {
  ScratchDir dir;
  WriteFile(dir / "s.json", BuiltinSchemeText().substr(0, 80));
  ExpectCliError(RecordWithScheme(dir, dir / "s.json"), {dir / "s.json", "not valid JSON"});
}

TEST(MalformedScheme, GradientWidthInconsistentWithMomentumAndAccumulator) {
  ScratchDir dir;
  WriteFile(dir / "s.json", Replace(BuiltinSchemeText(), "\"k_GC\": 15", "\"k_GC\": 14"));
  ExpectCliError(RecordWithScheme(dir, dir / "s.json"), {dir / "s.json", "k_GC = 14", "k_Mom + k_Acc - 1"});
}

TEST(MalformedScheme, UnknownKey) {
  ScratchDir dir;
  WriteFile(dir / "s.json", Replace(BuiltinSchemeText(), "\"momentum\": 0.25,", "\"momentum\": 0.25, \"k_foo\": 3,"));
  ExpectCliError(RecordWithScheme(dir, dir / "s.json"), {dir / "s.json", "unknown key", "k_foo"});
}

TEST(MalformedScheme, FlagModeNeedsEightBitE2) {
  ScratchDir dir;
  WriteFile(dir / "s.json", Replace(BuiltinSchemeText(), "\"k_E2\": 8", "\"k_E2\": 16"));
  ExpectCliError(RecordWithScheme(dir, dir / "s.json"), {dir / "s.json", "flag", "k_E2"});
  ExpectCliError(RunOctet({"schemes", "--dump", dir / "s.json"}), {dir / "s.json", "k_E2"});
}

// --- Network specs -------------------------------------------------------------------

CommandResult RecordWithNet(const ScratchDir& dir, const std::string& net) {
  return RunOctet({"-j", "1", "trace", "record", "--synthetic", "--batch", "1", "--net", net, "--out", dir / "t"});
}

TEST(MalformedNet, UnknownName) {
  ScratchDir dir;
  ExpectCliError(RecordWithNet(dir, "nosuch-net"), {"nosuch-net", "unknown network"});
}

TEST(MalformedNet, InvalidJson) {
  ScratchDir dir;
  WriteFile(dir / "n.json", R"({"name": "x", "input": [1, 28, 28], )");
  ExpectCliError(RecordWithNet(dir, dir / "n.json"), {dir / "n.json", "not valid JSON"});
  EXPECT_FALSE(fs::exists(dir / "t"));
}

TEST(MalformedNet, UnknownKey) {
  ScratchDir dir;
  WriteFile(dir / "n.json", R"({"name": "x", "input": [1, 28, 28], "stem": {"out": 8},
                               "blocks": [{"out": 8}], "colour": "red"})");
  ExpectCliError(RecordWithNet(dir, dir / "n.json"), {dir / "n.json", "unknown key", "colour"});
  // In a nested object too.
  WriteFile(dir / "n2.json", R"({"name": "x", "input": [1, 28, 28], "stem": {"out": 8},
                                "blocks": [{"out": 8, "dilation": 2}]})");
  ExpectCliError(RecordWithNet(dir, dir / "n2.json"), {dir / "n2.json", "blocks[0]", "dilation"});
}

TEST(MalformedNet, NegativeStride) {
  ScratchDir dir;
  WriteFile(dir / "n.json", R"({"name": "x", "input": [1, 28, 28], "stem": {"out": 8},
                               "blocks": [{"out": 8, "stride": -1}]})");
  ExpectCliError(RecordWithNet(dir, dir / "n.json"), {dir / "n.json", "stride", "-1"});
  ExpectCliError(RunOctet({"-j", "1", "train", "--net", dir / "n.json", "--out", dir / "o", "--no-progress"}),
                 {dir / "n.json", "stride"});
}

TEST(MalformedNet, FeatureMapShrinksToNothingInTheStem) {
  ScratchDir dir;
  WriteFile(dir / "n.json", R"({"name": "x", "input": [1, 4, 4], "stem": {"out": 8, "kernel": 7, "pad": 0},
                               "blocks": [{"out": 8}]})");
  ExpectCliError(RecordWithNet(dir, dir / "n.json"), {dir / "n.json", "shrinks to nothing"});
}

// Stem 7x7 without padding on 8x8 leaves 2x2; a 3x3 max-pool without padding does not fit.
// Known bug: ParseNetSpec (golden/net/net_spec.cpp) accepts this spec. Its shrink check
// computes (2 + 0 - 3) / 2 + 1 = 1 with C++ division truncating toward zero, and its
// second test uses the network's input height (8) instead of the current one (2). The
// spec is only rejected later, by the pool layer, with "octet: pool geometry N=1 C=8
// H=2 W=2 kernel=3 stride=2 pad=0 is invalid" (no file named); `octet nets --dump` of it
// exits 0.
TEST(MalformedNet, FeatureMapShrinksToNothingInTheMaxPool) {
  ScratchDir dir;
  WriteFile(dir / "n.json", R"({"name": "x", "input": [1, 8, 8],
                               "stem": {"out": 8, "kernel": 7, "pad": 0, "maxpool": {"kernel": 3, "stride": 2, "pad": 0}},
                               "blocks": [{"out": 8}]})");
  ExpectCliError(RecordWithNet(dir, dir / "n.json"), {dir / "n.json", "shrinks to nothing"});
  ExpectCliError(RunOctet({"nets", "--dump", dir / "n.json"}), {dir / "n.json", "shrinks to nothing"});
}

// --- Options -------------------------------------------------------------------------

void ExpectRejectedOption(const CommandResult& r, const std::string& option) {
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.err.find(option), std::string::npos) << r.Describe();
  EXPECT_EQ(r.out.find("bit-exact"), std::string::npos) << r.Describe();
}

TEST(BadOptions, OutOfRangeValuesAreRejectedByTheParser) {
  ScratchDir dir;
  ExpectRejectedOption(RunOctet({"train", "--batch", "0", "--out", dir / "o"}), "--batch");
  ExpectRejectedOption(RunOctet({"trace", "record", "--batch", "0", "--out", dir / "t"}), "--batch");
  ExpectRejectedOption(RunOctet({"trace", "record", "--warmup", "-1", "--out", dir / "t"}), "--warmup");
  ExpectRejectedOption(RunOctet({"train", "--limit", "-5", "--out", dir / "o"}), "--limit");
  ExpectRejectedOption(RunOctet({"-j", "0", "schemes"}), "--threads");
  ExpectRejectedOption(RunOctet({"trace", "record", "--batch", "two", "--out", dir / "t"}), "--batch");
  ExpectRejectedOption(RunOctet({"trace", "record"}), "--out");
  EXPECT_FALSE(fs::exists(dir / "t"));
  EXPECT_FALSE(fs::exists(dir / "o"));
}

TEST(BadOptions, MissingOrUnknownSubcommand) {
  EXPECT_NE(RunOctet({}).exit_code, 0);
  EXPECT_NE(RunOctet({"frobnicate"}).exit_code, 0);
  EXPECT_NE(RunOctet({"trace"}).exit_code, 0);
}

TEST(BadOptions, TrainValuesCheckedByOctet) {
  ScratchDir dir;
  ExpectCliError(RunOctet({"-j", "1", "train", "--epochs", "0", "--out", dir / "o", "--no-progress"}), {"--epochs"});
  ExpectCliError(
      RunOctet({"-j", "1", "train", "--limit", "10", "--batch", "32", "--out", dir / "o", "--no-progress"}),
      {"smaller than one batch"});
  ExpectCliError(RunOctet({"-j", "1", "train", "--resume", dir / "nosuch", "--out", dir / "o", "--no-progress"}),
                 {dir / "nosuch/checkpoint.json", "cannot open"});
}

}  // namespace
}  // namespace octet::testing
