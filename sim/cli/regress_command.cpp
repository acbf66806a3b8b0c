// `octet regress`: the RTL regression (docs/rtl.md, "octet regress"). Runs the Verilated
// blocks on random vectors (--seed, --vectors) or on a golden trace's tensors (TRACE),
// prints one PASS/FAIL/SKIP line per block and a summary, exits 1 when a block failed, and
// writes JUnit XML with --junit.
#include <chrono>
#include <ctime>
#include <filesystem>

#include <fmt/format.h>

#include "golden/core/error.h"
#include "golden/core/text_file.h"
#include "sim/cli/commands.h"
#include "sim/io/progress_line.h"
#include "sim/regress/junit.h"
#include "sim/regress/regress.h"

namespace octet::cli {
namespace {

struct RegressOptions {
  std::string trace;
  uint64_t seed = 1;
  int64_t vectors = 100000;
  std::vector<std::string> blocks;
  std::string junit;
  bool list = false;
  bool progress = true;
};

constexpr int64_t kMaxVectors = int64_t{1} << 40;

std::string NowIso8601() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// "PASS  flag_encoder      100,824 vectors     0.41 s" and, for a failure, the first mismatch.
void PrintOutcome(const regress::BlockOutcome& b) {
  if (!b.skipped.empty()) {
    fmt::print("SKIP  {:<14} {}\n", b.result.block, b.skipped);
    return;
  }
  const bool pass = b.result.failures == 0;
  fmt::print("{}  {:<14} {:>11} vectors {:>8.2f} s{}\n", pass ? "PASS" : "FAIL", b.result.block, b.result.vectors,
             b.seconds, pass ? "" : fmt::format("  {} differ", b.result.failures));
  if (!pass) fmt::print("      first mismatch: {}\n", b.result.first_mismatch);
}

void RunRegress(const RegressOptions& o, const CLI::App& command) {
  // A report from an earlier run must not pass for this one's if this one stops early.
  if (!o.junit.empty()) std::filesystem::remove(o.junit);
  const bool trace_mode = !o.trace.empty();
  if (trace_mode && (command.count("--seed") > 0 || command.count("--vectors") > 0))
    Fail("{}: --seed and --vectors apply to the random suite; a trace run uses the trace's tensors", o.trace);
  if (o.vectors < 1 || o.vectors > kMaxVectors) Fail("--vectors {}: must be in [1, 2^40]", o.vectors);
  std::vector<std::string> blocks = o.blocks.empty() ? regress::SuiteBlocks() : o.blocks;
  for (const std::string& block : blocks) regress::CheckBlockName(block);

  regress::SuiteReport report;
  report.timestamp = NowIso8601();
  std::unique_ptr<regress::TraceRegression> trace;
  std::unique_ptr<regress::RandomSuite> random;
  if (trace_mode) {
    trace = std::make_unique<regress::TraceRegression>(o.trace);
    report.name = "trace " + o.trace;
  } else {
    random = std::make_unique<regress::RandomSuite>(o.seed, o.vectors, blocks);
    report.name = fmt::format("random seed {}, {} vectors", o.seed, o.vectors);
  }
  fmt::print("octet regress: {}, {} blocks\n", trace_mode ? report.name : report.name + " per block", blocks.size());
  std::fflush(stdout);

  ProgressLine progress(o.progress, ProgressLine::OffTerminal::kSilent);
  const auto start = std::chrono::steady_clock::now();
  int failed = 0, skipped = 0;
  int64_t vectors = 0;
  for (size_t i = 0; i < blocks.size(); ++i) {
    progress.Update(fmt::format("regress: {}/{}  {}  {:.1f} s", i + 1, blocks.size(), blocks[i], SecondsSince(start)),
                    false);
    regress::BlockOutcome outcome;
    outcome.result.block = blocks[i];
    const auto block_start = std::chrono::steady_clock::now();
    if (trace_mode) outcome.skipped = trace->NotApplicable(blocks[i]);
    if (outcome.skipped.empty()) outcome.result = trace_mode ? trace->Run(blocks[i]) : random->Run(blocks[i]);
    outcome.seconds = SecondsSince(block_start);
    progress.Clear();
    PrintOutcome(outcome);
    std::fflush(stdout);
    failed += outcome.skipped.empty() && outcome.result.failures > 0;
    skipped += !outcome.skipped.empty();
    vectors += outcome.result.vectors;
    report.blocks.push_back(std::move(outcome));
  }
  const int ran = static_cast<int>(blocks.size()) - skipped;
  fmt::print("{}: {} of {} blocks passed, {} failed, {} skipped; {} vectors in {:.1f} s\n", failed ? "FAILED" : "passed",
             ran - failed, ran, failed, skipped, vectors, SecondsSince(start));
  if (!o.junit.empty()) {
    WriteTextFileAtomically(o.junit, regress::JunitXml(report));
    fmt::print("junit: {}\n", o.junit);
  }
  if (failed > 0) throw CLI::RuntimeError(1);
}

}  // namespace

void AddRegressCommand(CLI::App& app) {
  auto o = std::make_shared<RegressOptions>();
  auto* regress = app.add_subcommand(
      "regress",
      "Run the RTL regression: every Verilated block (the vector units' datapaths and the systolic array at each built "
      "size) on random vectors against the golden model and the SystemC array, or, given a trace directory, on the "
      "trace's own tensors; one PASS/FAIL line per block, exit 1 if any block fails");
  regress->add_option("trace", o->trace, "Golden trace directory: drive the blocks with its tensors (trace suite)");
  regress->add_option("--seed", o->seed, "Random suite: seed of the vectors (a run is reproducible from it)")
      ->capture_default_str();
  regress->add_option("--vectors", o->vectors,
                      "Random suite: random vectors per unit block (after its edge cases), outputs per array size")
      ->capture_default_str();
  regress->add_option("--blocks", o->blocks, "Run only these blocks (comma-separated; see --list)")->delimiter(',');
  regress->add_flag("--list", o->list, "List the blocks and exit");
  regress->add_option("--junit", o->junit, "Also write the results as JUnit XML to this file");
  regress->add_flag("!--no-progress", o->progress, "Do not show the progress line (shown on a terminal only)");
  regress->callback([o, regress] {
    if (o->list) {
      for (const std::string& block : octet::regress::SuiteBlocks()) fmt::print("{}\n", block);
      return;
    }
    RunRegress(*o, *regress);
  });
}

}  // namespace octet::cli
