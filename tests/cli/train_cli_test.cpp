// `octet train` end to end on a small slice of Fashion-MNIST: the log, the checkpoint,
// and resuming, which must give exactly the state of an uninterrupted run.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"

namespace octet::testing {
namespace {

using nlohmann::json;

const std::vector<std::string> kSmallRun = {"--scheme", "wageubn8", "--limit", "256", "--test-limit", "200",
                                            "--batch", "32", "--no-progress"};

CommandResult Train(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"-j", "1", "train"};
  args.insert(args.end(), kSmallRun.begin(), kSmallRun.end());
  args.insert(args.end(), extra.begin(), extra.end());
  return RunOctet(args);
}

std::vector<std::string> CsvRows(const fs::path& log) { return CommandResult::Lines(ReadFile(log)); }

// Every column but the timings (train_seconds, eval_seconds: the last two).
std::string WithoutTimings(const std::string& row) {
  std::string s = row;
  for (int i = 0; i < 2; ++i) s = s.substr(0, s.rfind(','));
  return s;
}

TEST(TrainCli, OneEpochThenResumeEqualsTwoEpochs) {
  ScratchDir dir;
  const fs::path d = dir.path() / "D", e = dir.path() / "E";

  // One epoch.
  const CommandResult first = Train({"--epochs", "1", "--out", d.string()});
  ASSERT_EQ(first.exit_code, 0) << first.Describe();
  EXPECT_NE(first.out.find("log: " + (d / "log.csv").string()), std::string::npos) << first.Describe();
  EXPECT_NE(first.out.find("checkpoint: " + (d / "checkpoint").string()), std::string::npos) << first.Describe();
  EXPECT_EQ(first.err, "") << "--no-progress must keep stderr quiet\n" << first.Describe();
  auto rows = CsvRows(d / "log.csv");
  ASSERT_EQ(rows.size(), 2u) << ReadFile(d / "log.csv");
  EXPECT_EQ(rows[0], "epoch,steps,lr_phase,lr,train_loss,train_acc,test_loss,test_acc,train_seconds,eval_seconds");
  EXPECT_EQ(rows[1].rfind("1,8,0,", 0), 0u) << rows[1];  // 256 images / batch 32 = 8 steps
  ASSERT_TRUE(fs::is_regular_file(d / "checkpoint/checkpoint.json"));
  const json c1 = json::parse(ReadFile(d / "checkpoint/checkpoint.json"));
  EXPECT_EQ(c1.at("format"), "octet-checkpoint");
  EXPECT_EQ(c1.at("epochs_done"), 1);
  EXPECT_EQ(c1.at("batch"), 32);
  EXPECT_EQ(c1.at("next_step"), 8);
  EXPECT_FALSE(fs::exists(d / "checkpoint.partial"));

  // Resume to two epochs into the same directory: the log gains a second row. The limits
  // are not stored in the checkpoint, so they are given again.
  const CommandResult second = RunOctet({"-j", "1", "train", "--resume", (d / "checkpoint").string(), "--epochs", "2",
                                         "--limit", "256", "--test-limit", "200", "--out", d.string(), "--no-progress"});
  ASSERT_EQ(second.exit_code, 0) << second.Describe();
  rows = CsvRows(d / "log.csv");
  ASSERT_EQ(rows.size(), 3u) << ReadFile(d / "log.csv");
  EXPECT_EQ(rows[2].rfind("2,8,", 0), 0u) << rows[2];
  const json c2 = json::parse(ReadFile(d / "checkpoint/checkpoint.json"));
  EXPECT_EQ(c2.at("epochs_done"), 2);
  EXPECT_EQ(c2.at("next_step"), 16);

  // An uninterrupted two-epoch run with the same settings, elsewhere.
  const CommandResult whole = Train({"--epochs", "2", "--out", e.string()});
  ASSERT_EQ(whole.exit_code, 0) << whole.Describe();
  const auto rows_e = CsvRows(e / "log.csv");
  ASSERT_EQ(rows_e.size(), 3u);
  EXPECT_EQ(WithoutTimings(rows_e[1]), WithoutTimings(rows[1]));
  EXPECT_EQ(WithoutTimings(rows_e[2]), WithoutTimings(rows[2]));

  // Same checkpoint, byte for byte: every state tensor and the checkpoint.json.
  const auto files_d = ListFiles(d / "checkpoint"), files_e = ListFiles(e / "checkpoint");
  ASSERT_EQ(files_d, files_e);
  int npy = 0;
  for (const auto& f : files_d) {
    EXPECT_TRUE(ReadFile(d / "checkpoint" / f) == ReadFile(e / "checkpoint" / f)) << f << " differs";
    npy += f.ends_with(".npy");
  }
  EXPECT_GT(npy, 20);

  // The checkpoint has all epochs done: asking for no more is an error.
  const CommandResult again = RunOctet({"-j", "1", "train", "--resume", (e / "checkpoint").string(), "--epochs", "2",
                                        "--out", (dir.path() / "F").string(), "--no-progress"});
  ExpectCliError(again, {(e / "checkpoint").string(), "--epochs"});
}

TEST(TrainCli, Fp32SchemeTrains) {
  ScratchDir dir;
  const CommandResult r = RunOctet({"-j", "1", "train", "--scheme", "fp32", "--epochs", "1", "--limit", "128",
                                    "--test-limit", "100", "--batch", "32", "--out", dir / "o", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  const auto rows = CsvRows(dir.path() / "o/log.csv");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].rfind("1,4,", 0), 0u) << rows[1];
  EXPECT_TRUE(fs::is_regular_file(dir.path() / "o/checkpoint/checkpoint.json"));
}

TEST(TrainCli, CoverageWritesPerLayerCsv) {
  ScratchDir dir;
  const CommandResult r = RunOctet({"-j", "1", "train", "--scheme", "wageubn8", "--epochs", "1", "--limit", "64",
                                    "--test-limit", "50", "--batch", "32", "--coverage", "--out", dir / "o",
                                    "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.out.find("coverage: "), std::string::npos) << r.Describe();
  const auto rows = CsvRows(dir.path() / "o/coverage.csv");
  ASSERT_GE(rows.size(), 2u);
  EXPECT_EQ(rows[0], "layer,elements,nonzero_shift8,nonzero_flag8,fraction_shift8,fraction_flag8");
}

}  // namespace
}  // namespace octet::testing
