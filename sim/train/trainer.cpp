#include "sim/train/trainer.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "golden/core/error.h"
#include "golden/core/text_file.h"
#include "golden/numerics/counter_rng.h"
#include "sim/io/any_npy.h"
#include "sim/io/progress_line.h"

namespace octet {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kShuffleStream = 200;

// The epoch's progress line on stderr (sim/io/progress_line.h): redrawn in place on a
// terminal, a line per tenth of the epoch otherwise (logs, CI).
class Progress {
 public:
  Progress(bool enabled, int epoch, int epochs, int64_t total)
      : line_(enabled, ProgressLine::OffTerminal::kMilestones), epoch_(epoch), epochs_(epochs), total_(total),
        start_(Clock::now()) {}
  void Update(int64_t done, double loss, double acc) {
    const int64_t tenth = std::max<int64_t>(1, total_ / 10);
    const bool milestone = done % tenth == 0 || done == total_;
    if (!line_.enabled() || (!line_.tty() && !milestone)) return;
    const double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    const double eta = done > 0 ? secs * (total_ - done) / done : 0;
    line_.Update(fmt::format("epoch {}/{}  step {}/{}  loss {:.4f}  acc {:.2f}%  {:.1f} s  ETA {:.0f} s", epoch_, epochs_,
                             done, total_, loss, 100 * acc, secs, eta),
                 milestone);
  }
  void Finish() { line_.Finish(); }
  // A one-off status line (e.g. the evaluation that follows an epoch).
  void Status(const std::string& text) { line_.Status(text); }

 private:
  ProgressLine line_;
  int epoch_, epochs_;
  int64_t total_;
  Clock::time_point start_;
};

struct Checkpoint {
  NetSpec spec;
  Scheme scheme;
  uint64_t seed = 0;
  int64_t batch = 0;
  int epochs_done = 0, epochs_total = 0;
  uint64_t next_step = 0;
  int64_t limit = 0, test_limit = 0, eval_batch = 0;
  std::vector<std::pair<std::string, std::string>> state;  // tensor name, file
};

Checkpoint ReadCheckpoint(const std::string& dir) {
  const std::string path = (fs::path(dir) / "checkpoint.json").string();
  const std::string text = ReadTextFile(path, "not a checkpoint directory?");
  Checkpoint c;
  try {
    const json j = json::parse(text);
    if (j.value("format", std::string()) != "octet-checkpoint") Fail("{}: \"format\" is not \"octet-checkpoint\"", path);
    c.spec = ParseNetSpec(j.at("network").dump(), path + ": network");
    c.scheme = ParseScheme(j.at("scheme").dump(), path + ": scheme");
    c.seed = j.at("seed");
    c.batch = j.at("batch");
    c.epochs_done = j.at("epochs_done");
    c.epochs_total = j.at("epochs_total");
    c.next_step = j.at("next_step");
    c.limit = j.at("limit");
    c.test_limit = j.at("test_limit");
    c.eval_batch = j.at("eval_batch");
    for (const json& t : j.at("state")) c.state.emplace_back(t.at("name"), t.at("file"));
  } catch (const json::exception& e) {
    Fail("{}: malformed checkpoint: {}", path, e.what());
  }
  return c;
}

// Evaluates the whole test set in chunks of eval_batch; restores the training batch size.
std::pair<double, double> EvaluateSet(Network& net, const idx::Dataset& data, int64_t count, int64_t eval_batch) {
  const int64_t train_batch = net.batch();
  const int64_t image_size = data.images.size() / data.images.dim(0);
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t start = 0; start < count; start += eval_batch) {
    const int64_t n = std::min(eval_batch, count - start);
    net.SetBatch(n);
    const std::vector<uint16_t> labels(data.labels.ptr() + start, data.labels.ptr() + start + n);
    const StepResult r = net.Evaluate(data.images.ptr() + start * image_size, labels.data());
    loss_sum += r.loss * n;
    correct += r.correct;
  }
  net.SetBatch(train_batch);
  return {loss_sum / count, static_cast<double>(correct) / count};
}

// Writes <dir>/checkpoint.json and the state as .npy files, atomically (dir.partial, then
// rename). `options` supplies the data limits a resumed run must reuse.
void SaveCheckpoint(const std::string& dir, const Network& net, const TrainOptions& options, uint64_t seed,
                    int epochs_done, int epochs_total, uint64_t next_step) {
  const fs::path final_dir(dir), tmp_dir = dir + ".partial";
  std::error_code ec;
  fs::remove_all(tmp_dir, ec);
  fs::create_directories(tmp_dir / "state", ec);
  if (ec) Fail("{}: cannot create directory: {}", tmp_dir.string(), ec.message());
  CollectSink sink;
  net.ReportState(sink);
  json state = json::array();
  for (const auto& t : sink.items) {
    const std::string file = "state/" + t.name + ".npy";
    fs::create_directories((tmp_dir / file).parent_path());
    npy::SaveAny((tmp_dir / file).string(), t.tensor);
    state.push_back({{"name", t.name}, {"file", file}, {"frac_bits", t.frac_bits}});
  }
  const json j = {{"format", "octet-checkpoint"},
                  {"version", 1},
                  {"network", json::parse(NetSpecToJson(net.spec()))},
                  {"scheme", json::parse(SchemeToJson(net.scheme()))},
                  {"seed", seed},
                  {"batch", net.batch()},
                  {"epochs_done", epochs_done},
                  {"epochs_total", epochs_total},
                  {"next_step", next_step},
                  {"limit", options.limit},
                  {"test_limit", options.test_limit},
                  {"eval_batch", options.eval_batch},
                  {"state", state}};
  std::ofstream(tmp_dir / "checkpoint.json") << j.dump(1) << "\n";
  fs::remove_all(final_dir, ec);
  fs::rename(tmp_dir, final_dir, ec);
  if (ec) Fail("{}: cannot rename checkpoint into place: {}", dir, ec.message());
}

}  // namespace

std::vector<int64_t> ShuffledOrder(uint64_t seed, int epoch, int64_t n) {
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  const uint64_t prefix = RandomStream{seed, static_cast<uint64_t>(epoch), 0, kShuffleStream}.Prefix();
  for (int64_t i = n - 1; i > 0; --i) {
    // j uniform in [0, i]: 64 random bits modulo i + 1 (bias below 2^-40 for n < 2^24).
    const uint64_t bits = (static_cast<uint64_t>(RandomBits32(prefix, 2 * i)) << 32) | RandomBits32(prefix, 2 * i + 1);
    std::swap(order[i], order[bits % static_cast<uint64_t>(i + 1)]);
  }
  return order;
}

StepContext ContextForEpoch(const Scheme& scheme, uint64_t seed, int epoch, int epochs) {
  const int phase = scheme.lr_schedule.Phase(epoch, epochs);
  const double factor = scheme.lr_schedule.factors.at(std::min<size_t>(phase, scheme.lr_schedule.factors.size() - 1));
  StepContext ctx;
  ctx.seed = seed;
  ctx.float_lr = static_cast<float>(scheme.float_lr * factor);
  ctx.float_momentum = static_cast<float>(scheme.float_momentum);
  if (scheme.quantized) {
    ctx.lr = scheme.LearningRateInt(phase);
    ctx.dr = scheme.DynamicRange(phase);
  }
  return ctx;
}

std::vector<EpochRecord> Train(const TrainOptions& given, const std::function<void(const RunInfo&)>& start,
                               const std::function<void(const EpochRecord&)>& report) {
  TrainOptions options = given;
  if (options.epochs < 1) Fail("--epochs must be at least 1, got {}", options.epochs);
  if (options.batch < 1 || options.eval_batch < 1) Fail("--batch and --eval-batch must be at least 1");

  // Network, scheme and state: fresh, or from a checkpoint.
  NetSpec spec;
  Scheme scheme;
  uint64_t seed = options.seed;
  int64_t batch = options.batch;
  int start_epoch = 0;
  uint64_t step = 0;
  std::optional<Checkpoint> ckpt;
  if (!options.resume.empty()) {
    ckpt = ReadCheckpoint(options.resume);
    spec = ckpt->spec;
    scheme = ckpt->scheme;
    seed = ckpt->seed;
    batch = ckpt->batch;
    start_epoch = ckpt->epochs_done;
    step = ckpt->next_step;
    options.limit = ckpt->limit;
    options.test_limit = ckpt->test_limit;
    options.eval_batch = ckpt->eval_batch;
    if (start_epoch >= options.epochs)
      Fail("{}: the checkpoint has {} epochs done; ask for more with --epochs", options.resume, start_epoch);
  } else {
    spec = LoadNetSpec(options.net);
    scheme = LoadScheme(options.scheme);
  }
  const idx::FashionMnist data = idx::LoadFashionMnist(options.data_dir);
  if (data.train.images.dim(1) != spec.in_channels || data.train.images.dim(2) != spec.in_height ||
      data.train.images.dim(3) != spec.in_width)
    Fail("network {} takes {}x{}x{} inputs, the data set has {}x{}x{}", spec.name, spec.in_channels, spec.in_height,
         spec.in_width, data.train.images.dim(1), data.train.images.dim(2), data.train.images.dim(3));
  const int64_t train_count = options.limit > 0 ? std::min(options.limit, data.train.images.dim(0)) : data.train.images.dim(0);
  const int64_t test_count = options.test_limit > 0 ? std::min(options.test_limit, data.test.images.dim(0)) : data.test.images.dim(0);
  if (train_count < batch) Fail("the training set ({} images) is smaller than one batch ({})", train_count, batch);

  Network net(spec, scheme, batch);
  net.Initialize(seed);
  start(RunInfo{spec.name, scheme.name, seed, start_epoch, options.epochs, batch, train_count, test_count});
  if (ckpt) {
    for (const auto& [name, file] : ckpt->state) net.LoadState(name, npy::LoadAny((fs::path(options.resume) / file).string()));
  }
  if (options.coverage) net.EnableCoverage();

  std::error_code ec;
  fs::create_directories(options.out_dir, ec);
  if (ec) Fail("{}: cannot create directory: {}", options.out_dir, ec.message());
  const std::string log_path = (fs::path(options.out_dir) / "log.csv").string();
  std::ofstream log(log_path, ckpt ? std::ios::app : std::ios::trunc);
  if (!log) Fail("{}: cannot write", log_path);
  if (!ckpt) log << "epoch,steps,lr_phase,lr,train_loss,train_acc,test_loss,test_acc,train_seconds,eval_seconds\n";

  const int64_t image_size = data.train.images.size() / data.train.images.dim(0);
  const int64_t steps_per_epoch = train_count / batch;  // the last incomplete batch is dropped
  std::vector<uint8_t> images(batch * image_size);
  std::vector<uint16_t> labels(batch);
  std::vector<EpochRecord> records;
  for (int epoch = start_epoch; epoch < options.epochs; ++epoch) {
    StepContext ctx = ContextForEpoch(scheme, seed, epoch, options.epochs);
    const std::vector<int64_t> order = ShuffledOrder(seed, epoch, train_count);
    EpochRecord rec;
    rec.epoch = epoch + 1;
    rec.phase = scheme.lr_schedule.Phase(epoch, options.epochs);
    rec.lr = scheme.quantized ? std::ldexp(static_cast<double>(ctx.lr), -scheme.frac_lr()) : ctx.float_lr;
    Progress progress(options.progress, epoch + 1, options.epochs, steps_per_epoch);
    double loss_sum = 0;
    int64_t correct = 0;
    const auto t0 = Clock::now();
    for (int64_t s = 0; s < steps_per_epoch; ++s) {
      for (int64_t b = 0; b < batch; ++b) {
        const int64_t src = order[s * batch + b];
        std::copy_n(data.train.images.ptr() + src * image_size, image_size, images.data() + b * image_size);
        labels[b] = data.train.labels[src];
      }
      ctx.step = step++;
      const StepResult r = net.TrainStep(images.data(), labels.data(), ctx);
      loss_sum += r.loss;
      correct += r.correct;
      progress.Update(s + 1, loss_sum / (s + 1), static_cast<double>(correct) / ((s + 1) * batch));
    }
    progress.Finish();
    rec.steps = steps_per_epoch;
    rec.train_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    rec.train_loss = loss_sum / steps_per_epoch;
    rec.train_acc = static_cast<double>(correct) / (steps_per_epoch * batch);
    progress.Status(fmt::format("epoch {}/{}  evaluating on {} test images", epoch + 1, options.epochs, test_count));
    const auto t1 = Clock::now();
    std::tie(rec.test_loss, rec.test_acc) = EvaluateSet(net, data.test, test_count, options.eval_batch);
    rec.eval_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
    log << fmt::format("{},{},{},{:.6g},{:.6f},{:.6f},{:.6f},{:.6f},{:.3f},{:.3f}\n", rec.epoch, rec.steps, rec.phase, rec.lr,
                       rec.train_loss, rec.train_acc, rec.test_loss, rec.test_acc, rec.train_seconds, rec.eval_seconds);
    log.flush();
    SaveCheckpoint((fs::path(options.out_dir) / "checkpoint").string(), net, options, seed, epoch + 1, options.epochs, step);
    records.push_back(rec);
    report(rec);
  }
  if (options.coverage) {
    std::ofstream cov(fs::path(options.out_dir) / "coverage.csv");
    cov << "layer,elements,nonzero_shift8,nonzero_flag8,fraction_shift8,fraction_flag8\n";
    for (const auto& [name, c] : net.Coverage()) {
      const double t = c.total > 0 ? static_cast<double>(c.total) : 1.0;
      cov << fmt::format("{},{},{},{},{:.6f},{:.6f}\n", name, c.total, c.nonzero_shift8, c.nonzero_flag8,
                         c.nonzero_shift8 / t, c.nonzero_flag8 / t);
    }
  }
  return records;
}

}  // namespace octet
