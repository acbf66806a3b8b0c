// `octet trace record` and `octet trace replay`.
#include <filesystem>

#include <fmt/format.h>

#include "golden/core/error.h"
#include "golden/numerics/counter_rng.h"
#include "sim/cli/commands.h"
#include "sim/io/idx.h"
#include "sim/io/trace.h"
#include "sim/train/trainer.h"

namespace octet::cli {
namespace {

struct RecordOptions {
  std::string net = "small-resnet";
  std::string scheme = "wageubn8";
  std::string out;
  std::string data_dir = idx::kFashionMnistDir;
  uint64_t seed = 1;
  int64_t batch = 16;
  int warmup = 0;
  bool synthetic = false;
};

constexpr uint32_t kSyntheticStream = 300;

// A batch of inputs: the first batches of the seeded epoch-0 order of Fashion-MNIST, or
// seeded random bytes and labels (for networks whose input is not 1x28x28).
struct BatchSource {
  std::optional<idx::FashionMnist> data;
  std::vector<int64_t> order;
  uint64_t seed;
  int64_t classes;

  void Fill(int64_t step, int64_t batch, int64_t image_size, std::vector<uint8_t>& images, std::vector<uint16_t>& labels) {
    images.resize(batch * image_size);
    labels.resize(batch);
    if (data) {
      for (int64_t b = 0; b < batch; ++b) {
        const int64_t src = order[(step * batch + b) % order.size()];
        std::copy_n(data->train.images.ptr() + src * image_size, image_size, images.data() + b * image_size);
        labels[b] = data->train.labels[src];
      }
      return;
    }
    const uint64_t prefix = RandomStream{seed, static_cast<uint64_t>(step), 0, kSyntheticStream}.Prefix();
    for (int64_t i = 0; i < batch * image_size; ++i) images[i] = static_cast<uint8_t>(RandomBits32(prefix, i) >> 24);
    for (int64_t b = 0; b < batch; ++b)
      labels[b] = static_cast<uint16_t>(RandomBits32(prefix, batch * image_size + b) % static_cast<uint32_t>(classes));
  }
};

}  // namespace

void AddTraceCommand(CLI::App& app) {
  auto* trace = app.add_subcommand("trace", "Record or replay a training-step trace (docs/trace-format.md)");
  trace->require_subcommand(1);

  auto opt = std::make_shared<RecordOptions>();
  auto* record = trace->add_subcommand("record", "Run training steps and write the trace of the last one");
  record->add_option("--net", opt->net, "Network: built-in name or spec file")->capture_default_str();
  record->add_option("--scheme", opt->scheme, "Scheme: built-in name or file")->capture_default_str();
  record->add_option("-o,--out", opt->out, "Trace directory to write")->required();
  record->add_option("--seed", opt->seed, "Seed")->capture_default_str();
  record->add_option("--batch", opt->batch, "Batch size")->capture_default_str()->check(CLI::Range(1, 4096));
  record->add_option("--warmup", opt->warmup, "Training steps run before the recorded one (carries momentum state)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  record->add_option("--data", opt->data_dir, "Directory of the Fashion-MNIST IDX files")->capture_default_str();
  record->add_flag("--synthetic", opt->synthetic, "Use seeded random inputs instead of Fashion-MNIST");
  record->callback([opt] {
    const NetSpec spec = LoadNetSpec(opt->net);
    const Scheme scheme = LoadScheme(opt->scheme);
    const int64_t image_size = spec.in_channels * spec.in_height * spec.in_width;
    BatchSource source{std::nullopt, {}, opt->seed, spec.classes};
    const bool fits_data = spec.in_channels == 1 && spec.in_height == 28 && spec.in_width == 28;
    if (!opt->synthetic && fits_data) {
      source.data = idx::LoadFashionMnist(opt->data_dir);
      source.order = ShuffledOrder(opt->seed, 0, source.data->train.images.dim(0));
    }
    Network net(spec, scheme, opt->batch);
    net.Initialize(opt->seed);
    StepContext ctx = ContextForEpoch(scheme, opt->seed, 0, 1);
    std::vector<uint8_t> images;
    std::vector<uint16_t> labels;
    for (int step = 0; step < opt->warmup; ++step) {
      source.Fill(step, opt->batch, image_size, images, labels);
      ctx.step = step;
      net.TrainStep(images.data(), labels.data(), ctx);
    }
    source.Fill(opt->warmup, opt->batch, image_size, images, labels);
    ctx.step = opt->warmup;
    RecordTrace(opt->out, net, opt->seed, ctx, images.data(), labels.data());
    const TraceManifest m = LoadTraceManifest(opt->out);
    uintmax_t bytes = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(opt->out))
      if (e.is_regular_file()) bytes += e.file_size();
    fmt::print("trace: {} ({} tensors, {:.1f} MB; net {}, scheme {}, batch {}, step {}, inputs {})\n", opt->out,
               m.entries.size(), bytes / 1e6, spec.name, scheme.name, opt->batch, opt->warmup,
               source.data ? "Fashion-MNIST" : "synthetic");
  });

  auto dir = std::make_shared<std::string>();
  auto* replay = trace->add_subcommand("replay", "Recompute a trace's step from its inputs and compare bit for bit");
  replay->add_option("trace_dir", *dir, "Trace directory")->required();
  replay->callback([dir] {
    const ReplayResult r = ReplayTrace(*dir);
    if (!r.bit_exact) {
      fmt::print("MISMATCH {}\n", r.mismatch);
      throw CLI::RuntimeError(1);
    }
    fmt::print("bit-exact: {} tensors, {} elements\n", r.tensors_checked, r.elements_checked);
  });
}

}  // namespace octet::cli
