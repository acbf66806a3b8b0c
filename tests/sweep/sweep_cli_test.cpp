// `octet sweep` and `octet sweep merge` end to end on tiny-resnet: one row per point in
// index order, each equal to what `octet report` gives for that point's configuration;
// the same bytes with one or two worker processes and from merged shards; merge's
// errors (a missing point, a point twice, shares of different sweeps) and the one-line
// errors of bad axis values, with no output left behind.
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../cli/run_command.h"

namespace octet::testing {
namespace {

using nlohmann::json;

CommandResult Octet(std::vector<std::string> args) {
  args.push_back("--no-progress");
  return RunOctet(args);
}

// 2 arrays x 2 dataflows x 2 E2 modes = 8 points; shape-only, no area.
std::vector<std::string> SweepArgs(const std::string& out) {
  return {"sweep", "tiny-resnet", "--array", "4x4,8x8", "--dataflow", "ws,os", "--e2", "flag,sq16", "--no-area",
          "--out", out};
}

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> fields;
  for (size_t start = 0, comma; start <= line.size(); start = comma + 1) {
    comma = line.find(',', start);
    if (comma == std::string::npos) comma = line.size();
    fields.push_back(line.substr(start, comma - start));
  }
  return fields;
}

// The CSV's rows as column name -> value.
std::vector<std::map<std::string, std::string>> Rows(const std::string& csv) {
  const auto lines = CommandResult::Lines(csv);
  std::vector<std::map<std::string, std::string>> rows;
  const auto columns = Split(lines.at(1));
  for (size_t i = 2; i < lines.size(); ++i) {
    const auto fields = Split(lines[i]);
    EXPECT_EQ(fields.size(), columns.size()) << lines[i];
    std::map<std::string, std::string> row;
    for (size_t c = 0; c < columns.size() && c < fields.size(); ++c) row[columns[c]] = fields[c];
    rows.push_back(row);
  }
  return rows;
}

TEST(SweepCli, EachRowIsTheReportOfItsPoint) {
  ScratchDir dir;
  auto args = SweepArgs(dir / "all.csv");
  args.insert(args.end(), {"-j", "2", "--html", dir / "pareto.html"});
  const CommandResult r = Octet(args);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  const std::string csv = ReadFile(dir / "all.csv");
  EXPECT_EQ(csv.rfind("# octet-sweep version=1 id=", 0), 0u) << csv;
  EXPECT_NE(csv.find(" points=8 shard=1/1 topology=tiny-resnet batch=1 tech=45nm\n"), std::string::npos) << csv;
  const auto rows = Rows(csv);
  ASSERT_EQ(rows.size(), 8u);
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].at("index"), std::to_string(i));
  // The last axis varies fastest: E2, then dataflow, then array.
  EXPECT_EQ(rows[1].at("e2"), "sq16");
  EXPECT_EQ(rows[1].at("scheme"), "wageubn16");
  EXPECT_EQ(rows[2].at("dataflow"), "os");
  EXPECT_EQ(rows[4].at("rows"), "8");
  EXPECT_EQ(rows[0].at("area_mm2"), "");
  // Points 1 (4x4 ws sq16) and 6 (8x8 os flag) against octet report.
  for (size_t i : {1, 6}) {
    const auto& row = rows[i];
    WriteFile(dir / "point.json", json{{"array", {{"rows", std::stoi(row.at("rows"))},
                                                  {"cols", std::stoi(row.at("cols"))},
                                                  {"dataflow", row.at("dataflow")}}}}
                                      .dump());
    const CommandResult rep = Octet({"-j", "1", "report", "tiny-resnet", "--config", dir / "point.json", "--scheme",
                                     row.at("scheme"), "--no-area", "--format", "json"});
    ASSERT_EQ(rep.exit_code, 0) << rep.Describe();
    const json step = json::parse(rep.out).at("step");
    EXPECT_EQ(std::stoll(row.at("cycles")), step.at("cycles").get<int64_t>()) << "point " << i;
    EXPECT_EQ(std::stoll(row.at("macs")), step.at("macs").get<int64_t>()) << "point " << i;
    EXPECT_EQ(std::stod(row.at("energy_pj")), step.at("energy_pj").at("total").get<double>()) << "point " << i;
    EXPECT_EQ(std::stod(row.at("dram_pj")), step.at("energy_pj").at("dram").get<double>()) << "point " << i;
    EXPECT_EQ(std::stod(row.at("tops_per_w")), step.at("tops_per_w").get<double>()) << "point " << i;
  }
  // The chart: every point a dot.
  const std::string html = ReadFile(dir / "pareto.html");
  size_t dots = 0;
  for (size_t at = 0; (at = html.find("<circle class=\"", at)) != std::string::npos; ++at) ++dots;
  EXPECT_EQ(dots, 8u);
  EXPECT_NE(html.find("<table id=\"table-pareto\">"), std::string::npos);
}

TEST(SweepCli, WorkersAndShardsGiveTheSameBytes) {
  ScratchDir dir;
  auto one = SweepArgs(dir / "j1.csv");
  one.insert(one.end(), {"-j", "1"});
  auto two = SweepArgs(dir / "j2.csv");
  two.insert(two.end(), {"-j", "2"});
  ASSERT_EQ(Octet(one).exit_code, 0);
  ASSERT_EQ(Octet(two).exit_code, 0);
  const std::string whole = ReadFile(dir / "j1.csv");
  EXPECT_EQ(whole, ReadFile(dir / "j2.csv"));
  std::vector<std::string> merge = {"sweep", "merge"};
  for (int i = 1; i <= 3; ++i) {
    auto args = SweepArgs(dir / fmt::format("shard-{}.csv", i));
    args.insert(args.end(), {"--shard", fmt::format("{}/3", i), "-j", i == 2 ? "1" : "2"});
    const CommandResult r = Octet(args);
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    EXPECT_NE(r.out.find(fmt::format("(shard {}/3)", i)), std::string::npos) << r.Describe();
    merge.push_back(dir / fmt::format("shard-{}.csv", i));
  }
  // Each shard holds 2 or 3 of the 8 points, in increasing index.
  for (int i = 1; i <= 3; ++i) {
    const auto rows = Rows(ReadFile(dir / fmt::format("shard-{}.csv", i)));
    EXPECT_TRUE(rows.size() == 2 || rows.size() == 3) << "shard " << i;
    for (size_t k = 1; k < rows.size(); ++k) EXPECT_LT(std::stoi(rows[k - 1].at("index")), std::stoi(rows[k].at("index")));
  }
  merge.insert(merge.end(), {"--out", dir / "merged.csv", "--svg", dir / "pareto.svg"});
  const CommandResult m = Octet(merge);
  ASSERT_EQ(m.exit_code, 0) << m.Describe();
  EXPECT_EQ(ReadFile(dir / "merged.csv"), whole);
  EXPECT_NE(ReadFile(dir / "pareto.svg").find("<svg id=\"chart-pareto\""), std::string::npos);
}

// Two shares of a 2-point sweep (4x4 ws and os), and a share of another sweep.
class SweepMerge : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* shard : {"1/2", "2/2"}) {
      const std::string out = dir_ / fmt::format("s{}.csv", shard[0]);
      const CommandResult r = Octet({"sweep", "tiny-resnet", "--array", "4x4", "--dataflow", "ws,os", "--no-area", "-j",
                                     "1", "--shard", shard, "--out", out});
      ASSERT_EQ(r.exit_code, 0) << r.Describe();
    }
    const CommandResult r = Octet({"sweep", "tiny-resnet", "--array", "4x4", "--dataflow", "ws,os", "--no-area", "-j", "1",
                                   "--dram-bytes-per-cycle", "16", "--shard", "2/2", "--out", dir_ / "other.csv"});
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    const auto rows = Rows(ReadFile(dir_ / "s1.csv"));
    ASSERT_EQ(rows.size(), 1u);
    s1_point_ = rows[0].at("index");
  }
  void ExpectMergeError(const std::vector<std::string>& shares, const std::vector<std::string>& mentions) {
    std::vector<std::string> args = {"sweep", "merge"};
    for (const auto& s : shares) args.push_back(dir_ / s);
    args.insert(args.end(), {"--out", dir_ / "merged.csv", "--html", dir_ / "merged.html"});
    ExpectCliError(Octet(args), mentions);
    EXPECT_FALSE(fs::exists(dir_ / "merged.csv"));
    EXPECT_FALSE(fs::exists(dir_ / "merged.html"));
  }
  ScratchDir dir_;
  std::string s1_point_;  // the point of share 1/2 ("0" or "1")
};

TEST_F(SweepMerge, NamesTheMissingPoint) {
  ExpectMergeError({"s1.csv"}, {"1 of the sweep's 2 points are in no share: " + std::string(s1_point_ == "0" ? "1" : "0")});
}

TEST_F(SweepMerge, NamesAPointGivenTwice) {
  ExpectMergeError({"s1.csv", "s2.csv", "s1.csv"}, {"point " + s1_point_ + " is given twice", "s1.csv line 3"});
}

TEST_F(SweepMerge, RefusesSharesOfAnotherSweep) {
  ExpectMergeError({"s1.csv", "other.csv"}, {"other.csv: from another sweep than", "s1.csv"});
}

TEST_F(SweepMerge, RefusesAFileThatIsNoSweep) {
  WriteFile(dir_ / "junk.csv", "layer,phase\n");
  ExpectMergeError({"s1.csv", "junk.csv"}, {"junk.csv: not an octet sweep CSV"});
}

// A bad value: one line naming it, exit 2, no CSV (nor .partial) left.
void ExpectSweepError(const ScratchDir& dir, std::vector<std::string> args, const std::vector<std::string>& mentions) {
  const fs::path out = dir.path() / "error-out";
  fs::remove_all(out);
  fs::create_directories(out);
  std::vector<std::string> full = {"sweep", "tiny-resnet", "--no-area", "-j", "1", "--out", (out / "out.csv").string()};
  for (auto& a : args)
    if (a == "x.html") a = (out / "x.html").string();
  full.insert(full.end(), args.begin(), args.end());
  ExpectCliError(Octet(full), mentions);
  for (const auto& f : ListFiles(out)) ADD_FAILURE() << "left behind: " << f;
}

TEST(SweepCli, BadAxisValuesAreOneLineErrors) {
  ScratchDir dir;
  ExpectSweepError(dir, {"--array", "0x8"}, {"--array 0x8: array.rows = 0 is out of range [1, 1024]"});
  ExpectSweepError(dir, {"--array", "8by8"}, {"--array 8by8: not an array size of the form RxC"});
  ExpectSweepError(dir, {"--dataflow", "ws,xs"}, {"--dataflow xs: unknown dataflow"});
  ExpectSweepError(dir, {"--act-buffer-kib=64,-1"}, {"--act-buffer-kib -1: buffers_kib.activation = -1 is out of range"});
  ExpectSweepError(dir, {"--dram-bytes-per-cycle", "0"}, {"--dram-bytes-per-cycle 0: dram.bytes_per_cycle"});
  ExpectSweepError(dir, {"--e2", "flag,fp32"}, {"--e2 fp32: unknown E2 mode"});
  ExpectSweepError(dir, {"--array", "8x8,8x8"}, {"--array: 8x8 is given twice"});
  ExpectSweepError(dir, {"--shard", "4/3"}, {"--shard 4/3: needs 1 <= I <= N"});
  ExpectSweepError(dir, {"--shard", "2/3", "--html", "x.html"}, {"with --shard 2/3, draw it with octet sweep merge"});
}

TEST(SweepCli, SpaceFileAxesAndTheirErrors) {
  ScratchDir dir;
  WriteFile(dir / "space.json", R"({"description": "two arrays", "array": ["4x4", "8x8"], "weight_buffer_kib": [64]})");
  const CommandResult r = Octet({"sweep", "tiny-resnet", "--space", dir / "space.json", "--e2", "sq8", "--no-area",
                                 "-j", "1", "--out", dir / "s.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  const auto rows = Rows(ReadFile(dir / "s.csv"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].at("rows"), "8");
  EXPECT_EQ(rows[1].at("weight_buffer_kib"), "64");
  EXPECT_EQ(rows[1].at("scheme"), "wageubn8-noflag");
  WriteFile(dir / "bad.json", R"({"arrays": ["4x4"]})");
  ExpectSweepError(dir, {"--space", dir / "bad.json"}, {"bad.json: unknown key \"arrays\""});
  WriteFile(dir / "bad2.json", R"({"error_buffer_kib": [0]})");
  ExpectSweepError(dir, {"--space", dir / "bad2.json"}, {"bad2.json: error_buffer_kib 0: buffers_kib.error = 0"});
}

}  // namespace
}  // namespace octet::testing
