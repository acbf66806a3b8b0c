// `octet trace record` / `octet trace replay` end to end: round trips for every built-in
// scheme, a custom network with a max-pool, tampered traces, and thread-count
// independence of the recorded bytes.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"

namespace octet::testing {
namespace {

using nlohmann::json;

// Number of tensors a replay compares: the step and state_after entries.
int64_t ComparedTensors(const fs::path& trace) {
  const json m = json::parse(ReadFile(trace / "manifest.json"));
  int64_t n = 0;
  for (const auto& t : m.at("tensors"))
    if (t.at("role") == "step" || t.at("role") == "state_after") ++n;
  return n;
}

void ExpectRoundTrip(const ScratchDir& dir, const std::vector<std::string>& record_args) {
  const std::string trace = dir / "trace";
  std::vector<std::string> args = {"-j", "1", "trace", "record", "--out", trace};
  args.insert(args.end(), record_args.begin(), record_args.end());
  const CommandResult rec = RunOctet(args);
  ASSERT_EQ(rec.exit_code, 0) << rec.Describe();
  EXPECT_NE(rec.out.find("trace: " + trace + " ("), std::string::npos) << rec.Describe();
  EXPECT_TRUE(fs::is_regular_file(fs::path(trace) / "manifest.json"));
  EXPECT_FALSE(fs::exists(trace + ".partial")) << "the temporary directory was left behind";

  const CommandResult rep = RunOctet({"-j", "1", "trace", "replay", trace});
  EXPECT_EQ(rep.exit_code, 0) << rep.Describe();
  ASSERT_EQ(rep.out_lines().size(), 1u) << rep.Describe();
  EXPECT_EQ(rep.out_lines()[0].rfind("bit-exact: " + std::to_string(ComparedTensors(trace)) + " tensors, ", 0), 0u)
      << rep.Describe();
  EXPECT_EQ(rep.err, "") << rep.Describe();
}

class TraceRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(TraceRoundTrip, RecordThenReplayIsBitExact) {
  ScratchDir dir;
  ExpectRoundTrip(dir, {"--scheme", GetParam(), "--batch", "2"});
}

TEST_P(TraceRoundTrip, WithOneWarmupStep) {
  ScratchDir dir;
  ExpectRoundTrip(dir, {"--scheme", GetParam(), "--batch", "2", "--warmup", "1"});
  const json m = json::parse(ReadFile(dir.path() / "trace" / "manifest.json"));
  EXPECT_EQ(m.at("step"), 1);
}

INSTANTIATE_TEST_SUITE_P(BuiltinSchemes, TraceRoundTrip,
                         ::testing::Values("wageubn8", "wageubn16", "wageubn8-noflag", "fp32"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

TEST(TraceCli, SyntheticInputsRoundTrip) {
  ScratchDir dir;
  ExpectRoundTrip(dir, {"--synthetic", "--batch", "3", "--seed", "7"});
  const json m = json::parse(ReadFile(dir.path() / "trace" / "manifest.json"));
  EXPECT_EQ(m.at("seed"), 7);
  EXPECT_EQ(m.at("batch"), 3);
}

// A network spec file with a max-pool in the stem and a downsampling block, on
// synthetic 3x32x32 inputs (a spec that does not take Fashion-MNIST's 1x28x28).
TEST(TraceCli, CustomNetWithMaxPoolRoundTrip) {
  ScratchDir dir;
  const std::string spec = dir / "tiny-pool.json";
  WriteFile(spec, R"({
    "name": "tiny-pool",
    "input": [3, 32, 32],
    "classes": 10,
    "stem": {"out": 8, "kernel": 3, "stride": 1, "pad": 1, "maxpool": {"kernel": 3, "stride": 2, "pad": 1}},
    "blocks": [{"out": 8, "stride": 1}, {"out": 16, "stride": 2}]
  })");
  ExpectRoundTrip(dir, {"--net", spec, "--synthetic", "--batch", "2"});
  const json m = json::parse(ReadFile(dir.path() / "trace" / "manifest.json"));
  EXPECT_EQ(m.at("network").at("name"), "tiny-pool");
  ASSERT_TRUE(m.at("network").at("stem").contains("maxpool"));
  // The max-pool halves 32x32 to 16x16 before block1; block2 halves it again.
  for (const auto& l : m.at("layers")) {
    const auto& g = l.at("geometry");
    if (l.at("name") == "block1.conv1") {
      EXPECT_EQ(g.at("in_height"), 16);
    }
    if (l.at("name") == "block2.conv2") {
      EXPECT_EQ(g.at("in_height"), 8);
    }
  }
}

// A scheme given as a file (a renamed copy of the built-in wageubn8).
TEST(TraceCli, SchemeFileRoundTrip) {
  ScratchDir dir;
  std::string text = ReadFile(fs::path(OCTET_SOURCE_DIR) / "golden/schemes/wageubn8.json");
  const std::string from = "\"name\": \"wageubn8\"";
  ASSERT_NE(text.find(from), std::string::npos);
  text.replace(text.find(from), from.size(), "\"name\": \"my-scheme\"");
  WriteFile(dir / "my-scheme.json", text);
  ExpectRoundTrip(dir, {"--scheme", dir / "my-scheme.json", "--synthetic", "--batch", "2"});
  const json m = json::parse(ReadFile(dir.path() / "trace" / "manifest.json"));
  EXPECT_EQ(m.at("scheme").at("name"), "my-scheme");
}

// Every layer integer: the scheme switches off the float first and last layers
// (fp32_first, fp32_last), so the stem is a quantized layer and the classifier is the
// integer average pool + FC of docs/numerics.md section 7.1.
TEST(TraceCli, AllIntegerNetworkRoundTrip) {
  for (const char* mode : {"flag", "shift"}) {
    ScratchDir dir;
    std::string text = ReadFile(fs::path(OCTET_SOURCE_DIR) / "golden/schemes/wageubn8.json");
    text.replace(text.find("\"quantized\": true,"), std::string("\"quantized\": true,").size(),
                 "\"quantized\": true, \"fp32_first\": false, \"fp32_last\": false,");
    if (std::string(mode) == "shift") {
      text.replace(text.find("\"k_E2\": 8, \"e2_mode\": \"flag\""), std::string("\"k_E2\": 8, \"e2_mode\": \"flag\"").size(),
                   "\"k_E2\": 16, \"e2_mode\": \"shift\"");
    }
    WriteFile(dir / "all-int.json", text);
    ExpectRoundTrip(dir, {"--scheme", dir / "all-int.json", "--net", "tiny-resnet", "--batch", "2", "--warmup", "1"});
    const json m = json::parse(ReadFile(dir.path() / "trace" / "manifest.json"));
    bool stem_quantized = false, int_logits = false;
    for (const auto& l : m.at("layers"))
      if (l.at("name") == "stem") stem_quantized = l.at("quantized");
    for (const auto& t : m.at("tensors"))
      if (t.at("name") == "fc/x1" && t.at("dtype") == "int32") int_logits = true;
    EXPECT_TRUE(stem_quantized) << mode;
    EXPECT_TRUE(int_logits) << mode;
  }
}

// The multi-index "[a, b, c]" of a flat element index in a C-order shape.
std::string IndexString(const std::vector<int64_t>& shape, int64_t flat) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  std::string s = "[";
  for (size_t i = 0; i < idx.size(); ++i) s += (i ? ", " : "") + std::to_string(idx[i]);
  return s + "]";
}

struct Tampered {
  std::string name, role, index;
  int64_t flat = 0;
};

// Records a trace, flips one bit of one payload byte of the named tensor's file (the last
// byte, or the first payload byte) and returns where the mismatch must be reported.
Tampered RecordAndTamper(const ScratchDir& dir, const std::string& name, const std::string& role, bool last_byte) {
  const std::string trace = dir / "trace";
  const CommandResult rec = RunOctet({"-j", "1", "trace", "record", "--batch", "2", "--out", trace});
  EXPECT_EQ(rec.exit_code, 0) << rec.Describe();
  const json m = json::parse(ReadFile(fs::path(trace) / "manifest.json"));
  for (const auto& t : m.at("tensors")) {
    if (t.at("name") != name || t.at("role") != role) continue;
    const fs::path file = fs::path(trace) / t.at("file").get<std::string>();
    std::string bytes = ReadFile(file);
    const std::vector<int64_t> shape = t.at("shape");
    int64_t elements = 1;
    for (int64_t d : shape) elements *= d;
    const std::string dtype = t.at("dtype");
    const int64_t item = dtype == "int8" || dtype == "uint8" ? 1 : dtype == "int16" || dtype == "uint16" ? 2
                         : dtype == "int32" || dtype == "float32"                                   ? 4
                                                                                                    : 8;
    const int64_t header = static_cast<int64_t>(bytes.size()) - elements * item;
    EXPECT_GE(header, 64) << file;
    const int64_t pos = last_byte ? static_cast<int64_t>(bytes.size()) - 1 : header;
    bytes[pos] = static_cast<char>(bytes[pos] ^ 0x01);
    WriteFile(file, bytes);
    const int64_t flat = (pos - header) / item;
    return {name, role, IndexString(shape, flat), flat};
  }
  ADD_FAILURE() << "no " << role << " tensor " << name << " in the manifest";
  return {};
}

void ExpectMismatch(const ScratchDir& dir, const Tampered& t) {
  const CommandResult r = RunOctet({"-j", "1", "trace", "replay", dir / "trace"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  ASSERT_EQ(r.out_lines().size(), 1u) << r.Describe();
  const std::string line = r.out_lines()[0];
  EXPECT_EQ(line.rfind("MISMATCH " + t.name + " (" + t.role + "): ", 0), 0u) << r.Describe();
  EXPECT_NE(line.find("element " + t.index + " (flat " + std::to_string(t.flat) + ")"), std::string::npos)
      << r.Describe();
  EXPECT_EQ(r.out.find("bit-exact"), std::string::npos) << r.Describe();
}

TEST(TraceCli, TamperedStepTensorIsReportedWithItsElement) {
  ScratchDir dir;
  const Tampered t = RecordAndTamper(dir, "block1.conv1/e3", "step", /*last_byte=*/true);
  ExpectMismatch(dir, t);
}

TEST(TraceCli, TamperedStateAfterTensorIsReportedWithItsElement) {
  ScratchDir dir;
  const Tampered t = RecordAndTamper(dir, "block3.conv2/W", "state_after", /*last_byte=*/false);
  EXPECT_EQ(t.flat, 0);
  ExpectMismatch(dir, t);
}

// A tampered input changes the recomputed step: replay must fail (on some tensor).
TEST(TraceCli, TamperedInputImageFailsReplay) {
  ScratchDir dir;
  RecordAndTamper(dir, "input/images", "input", /*last_byte=*/false);
  const CommandResult r = RunOctet({"-j", "1", "trace", "replay", dir / "trace"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_EQ(r.out.rfind("MISMATCH ", 0), 0u) << r.Describe();
}

TEST(TraceCli, RecordedBytesDoNotDependOnThreadCount) {
  ScratchDir dir;
  const std::string a = dir / "A", b = dir / "B";
  const std::vector<std::string> common = {"trace", "record", "--scheme", "wageubn8", "--batch", "4", "--warmup", "1"};
  auto with = [&](const std::string& threads, const std::string& out) {
    std::vector<std::string> args = {"-j", threads};
    args.insert(args.end(), common.begin(), common.end());
    args.insert(args.end(), {"--out", out});
    return args;
  };
  const CommandResult ra = RunOctet(with("1", a));
  ASSERT_EQ(ra.exit_code, 0) << ra.Describe();
  const CommandResult rb = RunOctet(with("2", b));
  ASSERT_EQ(rb.exit_code, 0) << rb.Describe();
  const auto files_a = ListFiles(a), files_b = ListFiles(b);
  ASSERT_EQ(files_a, files_b);
  EXPECT_GT(files_a.size(), 300u);
  for (const auto& f : files_a) EXPECT_TRUE(ReadFile(fs::path(a) / f) == ReadFile(fs::path(b) / f)) << f << " differs";
}

// The directory layout of docs/trace-format.md: input/images.npy, input/labels.npy,
// <role>/<layer>/<tensor>.npy for the other roles.
// Known bug: RecordTrace (sim/io/trace.cpp) builds every file name as
// "<role>/<name>.npy", and the input tensors are named "input/images" and
// "input/labels", so they are written to input/input/images.npy and
// input/input/labels.npy (the shipped traces/ have this layout too).
TEST(TraceCli, LayoutMatchesTraceFormatDoc) {
  ScratchDir dir;
  const std::string trace = dir / "trace";
  const CommandResult r = RunOctet({"-j", "1", "trace", "record", "--synthetic", "--batch", "1", "--out", trace});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  const json m = json::parse(ReadFile(fs::path(trace) / "manifest.json"));
  for (const auto& t : m.at("tensors")) {
    const std::string name = t.at("name"), role = t.at("role"), file = t.at("file");
    if (role == "input") {
      EXPECT_TRUE(name == "input/images" || name == "input/labels") << name;
      EXPECT_EQ(file, name + ".npy");
    } else {
      EXPECT_EQ(file, role + "/" + name + ".npy");
    }
    EXPECT_TRUE(fs::is_regular_file(fs::path(trace) / file)) << file;
  }
}

TEST(TraceCli, RecordReplacesAnExistingTrace) {
  ScratchDir dir;
  const std::string trace = dir / "trace";
  ASSERT_EQ(RunOctet({"-j", "1", "trace", "record", "--synthetic", "--batch", "2", "--out", trace}).exit_code, 0);
  WriteFile(fs::path(trace) / "stray.txt", "left over");
  ASSERT_EQ(RunOctet({"-j", "1", "trace", "record", "--synthetic", "--batch", "1", "--out", trace}).exit_code, 0);
  EXPECT_FALSE(fs::exists(fs::path(trace) / "stray.txt"));
  const json m = json::parse(ReadFile(fs::path(trace) / "manifest.json"));
  EXPECT_EQ(m.at("batch"), 1);
  EXPECT_EQ(RunOctet({"-j", "1", "trace", "replay", trace}).exit_code, 0);
}

}  // namespace
}  // namespace octet::testing
