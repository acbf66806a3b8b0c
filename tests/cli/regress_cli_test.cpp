// `octet regress` end to end: the random suite (one PASS line per block, the summary, exit
// 0), block selection and --list, the trace suite on the shipped traces (the flag blocks
// skipped without flag-mode E2), a trace with one corrupted tensor (that block FAILS with
// the element named, exit 1, the JUnit failure), the JUnit XML (parsed with libxml2: well
// formed, counts, one testcase per block) and the error contract (one line, exit 2, no
// JUnit file, not even an old one).
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "run_command.h"
#include "sim/io/npy.h"

namespace octet::testing {
namespace {

std::string Source(const std::string& rel) { return (fs::path(OCTET_SOURCE_DIR) / rel).string(); }

CommandResult OctetRegress(std::vector<std::string> args) {
  args.insert(args.begin(), {"-j", "1", "regress"});
  return RunOctet(args);
}

std::vector<std::string> ListedBlocks() {
  const CommandResult r = OctetRegress({"--list"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  return r.out_lines();
}

// The result line of `block` ("PASS  cq   ..."), or empty.
std::string ResultLine(const CommandResult& r, const std::string& block) {
  for (const std::string& line : r.out_lines())
    if (line.size() > 6 && line.substr(6, block.size() + 1) == block + " ") return line;
  return "";
}

// --- JUnit ----------------------------------------------------------------------------

struct JunitCase {
  std::string name;
  bool failed = false, skipped = false;
  std::string failure_message;
};

struct Junit {
  int tests = -1, failures = -1, skipped = -1;  // of the <testsuite>
  std::vector<JunitCase> cases;
};

std::string Attribute(xmlNode* node, const char* name) {
  xmlChar* value = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
  if (value == nullptr) return "";
  std::string text(reinterpret_cast<const char*>(value));
  xmlFree(value);
  return text;
}

bool Named(xmlNode* node, const char* name) {
  return node->type == XML_ELEMENT_NODE && xmlStrcmp(node->name, reinterpret_cast<const xmlChar*>(name)) == 0;
}

// Parses the file strictly (a malformed document fails the test) into the one testsuite.
Junit ParseJunit(const std::string& path) {
  Junit j;
  const std::string text = ReadFile(path);
  xmlDoc* doc = xmlReadMemory(text.data(), static_cast<int>(text.size()), path.c_str(), nullptr,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  EXPECT_NE(doc, nullptr) << "not well-formed XML:\n" << text;
  if (doc == nullptr) return j;
  xmlNode* root = xmlDocGetRootElement(doc);
  EXPECT_TRUE(root != nullptr && Named(root, "testsuites")) << text;
  int suites = 0;
  for (xmlNode* suite = root ? root->children : nullptr; suite; suite = suite->next) {
    if (!Named(suite, "testsuite")) continue;
    ++suites;
    j.tests = std::stoi(Attribute(suite, "tests"));
    j.failures = std::stoi(Attribute(suite, "failures"));
    j.skipped = std::stoi(Attribute(suite, "skipped"));
    for (xmlNode* tc = suite->children; tc; tc = tc->next) {
      if (!Named(tc, "testcase")) continue;
      JunitCase c;
      c.name = Attribute(tc, "name");
      for (xmlNode* child = tc->children; child; child = child->next) {
        if (Named(child, "failure")) {
          c.failed = true;
          c.failure_message = Attribute(child, "message");
        }
        if (Named(child, "skipped")) c.skipped = true;
      }
      j.cases.push_back(c);
    }
  }
  EXPECT_EQ(suites, 1) << text;
  xmlFreeDoc(doc);
  return j;
}

// --- Random suite ---------------------------------------------------------------------

TEST(RegressCli, ListNamesTheUnitBlocksAndEveryArray) {
  const std::vector<std::string> blocks = ListedBlocks();
  const std::vector<std::string> expected = {"flag_encoder", "flag_decoder", "e1_quantizer", "relu_qa", "cq",
                                             "update_unit", "bn_normalise", "array_1x1", "array_3x5", "array_4x4",
                                             "array_8x4", "array_8x8", "array_32x32"};
  EXPECT_EQ(blocks, expected);
}

TEST(RegressCli, RandomSuitePassesEveryBlockWithJunit) {
  ScratchDir dir;
  const std::vector<std::string> blocks = ListedBlocks();
  const CommandResult r = OctetRegress({"--seed", "7", "--vectors", "300", "--junit", dir / "r.xml"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.err, "") << r.Describe();  // stderr is a pipe: no progress line
  const auto lines = r.out_lines();
  ASSERT_GE(lines.size(), blocks.size() + 2) << r.Describe();
  EXPECT_EQ(lines.front(), "octet regress: random seed 7, 300 vectors per block, 13 blocks") << r.Describe();
  for (const std::string& block : blocks) {
    const std::string line = ResultLine(r, block);
    EXPECT_EQ(line.rfind("PASS  ", 0), 0u) << block << "\n" << r.Describe();
    EXPECT_NE(line.find(" vectors "), std::string::npos) << line;
  }
  EXPECT_EQ(lines[lines.size() - 2].rfind("passed: 13 of 13 blocks passed, 0 failed, 0 skipped; ", 0), 0u)
      << r.Describe();
  EXPECT_EQ(lines.back(), "junit: " + dir / "r.xml");

  const Junit j = ParseJunit(dir / "r.xml");
  EXPECT_EQ(j.tests, 13);
  EXPECT_EQ(j.failures, 0);
  EXPECT_EQ(j.skipped, 0);
  ASSERT_EQ(j.cases.size(), blocks.size());
  for (size_t i = 0; i < blocks.size(); ++i) {
    EXPECT_EQ(j.cases[i].name, blocks[i]);
    EXPECT_FALSE(j.cases[i].failed);
  }
}

TEST(RegressCli, SelectedBlocksOnlyAndReproducibleCounts) {
  const CommandResult a = OctetRegress({"--blocks", "cq,array_4x4", "--vectors", "1000", "--seed", "3"});
  const CommandResult b = OctetRegress({"--blocks", "cq,array_4x4", "--vectors", "1000", "--seed", "3"});
  ASSERT_EQ(a.exit_code, 0) << a.Describe();
  ASSERT_EQ(b.exit_code, 0) << b.Describe();
  int results = 0;
  for (const std::string& line : a.out_lines()) results += line.rfind("PASS  ", 0) == 0 || line.rfind("FAIL  ", 0) == 0;
  EXPECT_EQ(results, 2) << a.Describe();
  EXPECT_NE(ResultLine(a, "cq"), "") << a.Describe();
  EXPECT_NE(ResultLine(a, "array_4x4"), "") << a.Describe();
  // The vector counts (not the times) are the same for the same seed: the fold shapes of an
  // array run are drawn from the seed, so its output count is too.
  const auto count = [](const std::string& line) { return line.substr(0, line.find(" vectors")); };
  EXPECT_EQ(count(ResultLine(a, "array_4x4")), count(ResultLine(b, "array_4x4")));
  EXPECT_EQ(count(ResultLine(a, "cq")), count(ResultLine(b, "cq")));
}

// --- Trace suite ----------------------------------------------------------------------

constexpr const char* kUnitBlocks = "flag_encoder,flag_decoder,e1_quantizer,relu_qa,cq,update_unit,bn_normalise";

TEST(RegressCliTrace, ShippedWageubn8TracePassesEveryBlock) {
  ScratchDir dir;
  const std::string trace = Source("traces/tiny-resnet-wageubn8");
  const CommandResult r =
      OctetRegress({trace, "--blocks", std::string(kUnitBlocks) + ",array_8x8", "--junit", dir / "t.xml"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out_lines().front(), "octet regress: trace " + trace + ", 8 blocks") << r.Describe();
  for (const char* block : {"flag_encoder", "flag_decoder", "e1_quantizer", "relu_qa", "cq", "update_unit",
                            "bn_normalise", "array_8x8"}) {
    const std::string line = ResultLine(r, block);
    EXPECT_EQ(line.rfind("PASS  ", 0), 0u) << block << "\n" << r.Describe();
    // Every block checked real tensors: at least the 3,136 elements of block2's outputs.
    const std::string count = line.substr(20, line.find(" vectors") - 20);
    EXPECT_GE(std::stoll(count), 3136) << line;
  }
  const Junit j = ParseJunit(dir / "t.xml");
  EXPECT_EQ(j.tests, 8);
  EXPECT_EQ(j.failures, 0);
}

TEST(RegressCliTrace, Wageubn16SkipsTheFlagBlocks) {
  const CommandResult r = OctetRegress({Source("traces/tiny-resnet-wageubn16"), "--blocks", kUnitBlocks});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  for (const char* block : {"flag_encoder", "flag_decoder"})
    EXPECT_EQ(ResultLine(r, block).rfind("SKIP  ", 0), 0u) << block << "\n" << r.Describe();
  for (const char* block : {"e1_quantizer", "relu_qa", "cq", "update_unit", "bn_normalise"})
    EXPECT_EQ(ResultLine(r, block).rfind("PASS  ", 0), 0u) << block << "\n" << r.Describe();
  EXPECT_EQ(r.out_lines().back().rfind("passed: 5 of 5 blocks passed, 0 failed, 2 skipped; ", 0), 0u) << r.Describe();
}

// One element of g_W_q changed in a copy of the trace: the CQ block's output differs there,
// the run names it, exits 1, and the JUnit report has the failure; a block that does not
// read g_W_q still passes.
TEST(RegressCliTrace, CorruptedTensorFailsItsBlock) {
  ScratchDir dir;
  const fs::path trace = dir.path() / "trace";
  fs::copy(Source("traces/tiny-resnet-wageubn8"), trace, fs::copy_options::recursive);
  const std::string file = (trace / "step/block2.conv1/g_W_q.npy").string();
  Tensor<int16_t> g = npy::Load<int16_t>(file);
  ASSERT_GT(g.size(), 100);
  g[57] += 1;
  npy::Save(file, g);

  const CommandResult r = OctetRegress({trace.string(), "--blocks", "cq,bn_normalise", "--junit", dir / "t.xml"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  const std::string cq = ResultLine(r, "cq");
  EXPECT_EQ(cq.rfind("FAIL  ", 0), 0u) << r.Describe();
  EXPECT_NE(cq.find("  1 differ"), std::string::npos) << r.Describe();
  EXPECT_NE(r.out.find("first mismatch: vector "), std::string::npos) << r.Describe();
  EXPECT_NE(r.out.find("block2.conv1/g_W[57]"), std::string::npos) << r.Describe();
  EXPECT_EQ(ResultLine(r, "bn_normalise").rfind("PASS  ", 0), 0u) << r.Describe();
  EXPECT_NE(r.out.find("FAILED: 1 of 2 blocks passed, 1 failed"), std::string::npos) << r.Describe();

  const Junit j = ParseJunit(dir / "t.xml");
  EXPECT_EQ(j.tests, 2);
  EXPECT_EQ(j.failures, 1);
  ASSERT_EQ(j.cases.size(), 2u);
  EXPECT_TRUE(j.cases[0].failed);
  EXPECT_NE(j.cases[0].failure_message.find("block2.conv1/g_W[57]"), std::string::npos) << j.cases[0].failure_message;
  EXPECT_FALSE(j.cases[1].failed);
}

// --- Errors ---------------------------------------------------------------------------

// Expects the one-line error and no JUnit file, even where an old one was.
void ExpectRegressError(const ScratchDir& dir, std::vector<std::string> args, const std::vector<std::string>& mentions) {
  const std::string junit = dir / "old.xml";
  WriteFile(junit, "<testsuites/>");
  args.insert(args.end(), {"--junit", junit});
  const CommandResult r = OctetRegress(args);
  ExpectCliError(r, mentions);
  EXPECT_EQ(r.out.find("PASS"), std::string::npos) << r.Describe();
  EXPECT_FALSE(fs::exists(junit)) << r.Describe();
}

TEST(RegressCliErrors, MissingTrace) {
  ScratchDir dir;
  ExpectRegressError(dir, {dir / "none"}, {dir / "none"});
}

TEST(RegressCliErrors, UnknownBlock) {
  ScratchDir dir;
  ExpectRegressError(dir, {"--blocks", "cq,adder"}, {"adder", "flag_encoder", "array_32x32"});
}

TEST(RegressCliErrors, BadVectorCount) {
  ScratchDir dir;
  ExpectRegressError(dir, {"--vectors", "0"}, {"--vectors", "0"});
  ExpectRegressError(dir, {"--vectors=-5"}, {"--vectors", "-5"});
}

TEST(RegressCliErrors, RandomOptionsWithATrace) {
  ScratchDir dir;
  ExpectRegressError(dir, {Source("traces/tiny-resnet-wageubn8"), "--vectors", "10"}, {"--vectors", "trace"});
}

TEST(RegressCliErrors, TraceWithAMissingTensor) {
  ScratchDir dir;
  const fs::path trace = dir.path() / "trace";
  fs::copy(Source("traces/tiny-resnet-wageubn8"), trace, fs::copy_options::recursive);
  fs::remove(trace / "step/block1.conv1/x2.npy");
  ExpectRegressError(dir, {trace.string(), "--blocks", "bn_normalise"}, {"block1.conv1/x2.npy"});
}

TEST(RegressCli, HelpListsTheOptions) {
  const CommandResult r = RunOctet({"regress", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  for (const char* option : {"trace", "--seed", "--vectors", "--blocks", "--list", "--junit", "--no-progress"})
    EXPECT_NE(r.out.find(option), std::string::npos) << option << "\n" << r.Describe();
}

}  // namespace
}  // namespace octet::testing
