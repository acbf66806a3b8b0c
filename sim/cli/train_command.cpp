// `octet train`: train a network on Fashion-MNIST with a scheme; see sim/train/trainer.h.
#include <filesystem>

#include <fmt/format.h>

#include "sim/cli/commands.h"
#include "sim/train/trainer.h"

namespace octet::cli {

void AddTrainCommand(CLI::App& app) {
  auto opt = std::make_shared<TrainOptions>();
  auto* cmd = app.add_subcommand("train", "Train a network on Fashion-MNIST with a quantization scheme");
  cmd->add_option("--net", opt->net, "Network: built-in name or spec file")->capture_default_str();
  cmd->add_option("--scheme", opt->scheme, "Scheme: fp32, wageubn16, wageubn8, wageubn8-noflag, or a file")
      ->capture_default_str();
  cmd->add_option("--seed", opt->seed, "Seed of initialisation, shuffling and stochastic rounding")->capture_default_str();
  cmd->add_option("--epochs", opt->epochs, "Total epochs (with --resume: train up to this many)")->capture_default_str();
  cmd->add_option("--batch", opt->batch, "Training batch size")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--eval-batch", opt->eval_batch, "Batch size of evaluation (BN uses batch statistics)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  cmd->add_option("--limit", opt->limit, "Train on the first N images only (0: all 60000)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--test-limit", opt->test_limit, "Evaluate on the first N test images only (0: all 10000)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--data", opt->data_dir, "Directory of the Fashion-MNIST IDX files")->capture_default_str();
  cmd->add_option("-o,--out", opt->out_dir, "Output directory (log.csv, checkpoint/, coverage.csv)")
      ->capture_default_str();
  cmd->add_option("--resume", opt->resume,
                  "Continue from this checkpoint directory (net, scheme, seed, batch and the data limits come "
                  "from the checkpoint)");
  cmd->add_flag("--coverage", opt->coverage, "Record the paper's Fig. 9 view: e3 non-zero fractions per layer");
  cmd->add_flag("!--no-progress", opt->progress, "Do not show the progress line");
  cmd->callback([opt] {
    const auto start = [](const RunInfo& run) {
      fmt::print("octet train: net {}, scheme {}, seed {}, epochs {}..{}, batch {}, {} training / {} test images\n", run.net,
                 run.scheme, run.seed, run.start_epoch + 1, run.epochs, run.batch, run.train_images, run.test_images);
      fmt::print("{:>5} {:>8} {:>10} {:>10} {:>10} {:>10} {:>9}\n", "epoch", "lr", "train_loss", "train_acc",
                 "test_loss", "test_acc", "s/epoch");
      std::fflush(stdout);
    };
    Train(*opt, start, [](const EpochRecord& r) {
      fmt::print("{:>5} {:>8.5f} {:>10.4f} {:>9.2f}% {:>10.4f} {:>9.2f}% {:>9.1f}\n", r.epoch, r.lr, r.train_loss,
                 100 * r.train_acc, r.test_loss, 100 * r.test_acc, r.train_seconds);
      std::fflush(stdout);
    });
    const auto out = std::filesystem::path(opt->out_dir);
    fmt::print("log: {}\ncheckpoint: {}\n", (out / "log.csv").string(), (out / "checkpoint").string());
    if (opt->coverage) fmt::print("coverage: {}\n", (out / "coverage.csv").string());
  });
}

}  // namespace octet::cli
