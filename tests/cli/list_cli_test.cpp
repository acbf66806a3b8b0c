// `octet schemes`, `octet nets` and `--help`.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"

namespace octet::testing {
namespace {

using nlohmann::json;

// The names of the JSON files in a source folder (the built-ins embedded at build time).
std::vector<std::string> JsonStems(const std::string& folder) {
  std::vector<std::string> stems;
  for (const auto& e : fs::directory_iterator(fs::path(OCTET_SOURCE_DIR) / folder))
    if (e.path().extension() == ".json") stems.push_back(e.path().stem().string());
  std::sort(stems.begin(), stems.end());
  return stems;
}

TEST(ListCli, HelpNamesEverySubcommand) {
  const CommandResult r = RunOctet({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  for (const char* s : {"train", "trace", "schemes", "nets", "--threads"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.Describe();
  for (const auto& args : {std::vector<std::string>{"train", "--help"},
                                              std::vector<std::string>{"trace", "record", "--help"},
                                              std::vector<std::string>{"trace", "replay", "--help"}}) {
    const CommandResult sub = RunOctet(args);
    EXPECT_EQ(sub.exit_code, 0) << sub.Describe();
    EXPECT_NE(sub.out.find("Usage"), std::string::npos) << sub.Describe();
  }
}

TEST(ListCli, SchemesListsTheBuiltinsAndDumpsEach) {
  const CommandResult r = RunOctet({"schemes"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  auto names = r.out_lines();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, JsonStems("golden/schemes"));
  for (const char* builtin : {"fp32", "wageubn16", "wageubn8", "wageubn8-noflag"})
    EXPECT_NE(std::find(names.begin(), names.end(), builtin), names.end()) << builtin;
  for (const auto& name : names) {
    const CommandResult d = RunOctet({"schemes", "--dump", name});
    ASSERT_EQ(d.exit_code, 0) << d.Describe();
    const json j = json::parse(d.out);
    EXPECT_EQ(j.at("name"), name);
    EXPECT_EQ(j.at("quantized"), name != "fp32");
  }
}

// A dumped scheme, written to a file, loads again to the same dump.
TEST(ListCli, DumpedSchemeLoadsBack) {
  ScratchDir dir;
  const CommandResult d = RunOctet({"schemes", "--dump", "wageubn8"});
  ASSERT_EQ(d.exit_code, 0) << d.Describe();
  WriteFile(dir / "s.json", d.out);
  const CommandResult again = RunOctet({"schemes", "--dump", dir / "s.json"});
  ASSERT_EQ(again.exit_code, 0) << again.Describe();
  EXPECT_EQ(again.out, d.out);
}

TEST(ListCli, NetsListsTheBuiltins) {
  const CommandResult r = RunOctet({"nets"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  auto names = r.out_lines();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, JsonStems("golden/nets"));
  for (const char* builtin : {"small-resnet", "resnet18"})
    EXPECT_NE(std::find(names.begin(), names.end(), builtin), names.end()) << builtin;
}

TEST(ListCli, DumpSmallResnet) {
  const CommandResult r = RunOctet({"nets", "--dump", "small-resnet"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  const json j = json::parse(r.out);
  EXPECT_EQ(j.at("name"), "small-resnet");
  EXPECT_EQ(j.at("input"), json({1, 28, 28}));
  EXPECT_EQ(j.at("blocks").size(), 3u);
}

// Every network that `octet nets` lists must load.
// Known bug: golden/nets/resnet18.json has "classes": 1000 but ParseNetSpec
// (golden/net/net_spec.cpp) allows at most 256 classes (labels are bytes), so the
// built-in resnet18 cannot be loaded at all: `octet nets --dump resnet18` and
// `--net resnet18` fail with 'octet: network resnet18: "classes" must be at most 256
// (labels are bytes)'.
TEST(ListCli, DumpEveryListedNet) {
  const CommandResult list = RunOctet({"nets"});
  ASSERT_EQ(list.exit_code, 0) << list.Describe();
  for (const auto& name : list.out_lines()) {
    const CommandResult r = RunOctet({"nets", "--dump", name});
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    if (r.exit_code != 0) continue;
    const json j = json::parse(r.out);
    EXPECT_EQ(j.at("name"), name);
  }
}

}  // namespace
}  // namespace octet::testing
