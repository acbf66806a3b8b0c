// The training driver: epochs over Fashion-MNIST (or any IDX image set), seeded
// shuffling, learning-rate phases, evaluation, CSV log, checkpoints and resume.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "golden/net/network.h"
#include "sim/io/idx.h"

namespace octet {

struct TrainOptions {
  std::string net = "small-resnet";
  std::string scheme = "wageubn8";
  uint64_t seed = 1;
  int epochs = 1;
  int64_t batch = 64;
  int64_t eval_batch = 1000;
  int64_t limit = 0;       // use only the first `limit` training images (0: all)
  int64_t test_limit = 0;  // evaluate only the first `test_limit` test images (0: all)
  std::string data_dir = idx::kFashionMnistDir;
  std::string out_dir = "out/train";
  std::string resume;      // checkpoint directory to continue from
  bool coverage = false;   // collect paper Fig. 9 statistics (costs two extra E2 passes)
  bool progress = true;
};

struct EpochRecord {
  int epoch = 0;  // 1-based
  int64_t steps = 0;
  int phase = 0;
  double lr = 0;  // effective learning rate of the integer layers (or float lr for fp32)
  double train_loss = 0, train_acc = 0, test_loss = 0, test_acc = 0;
  double train_seconds = 0, eval_seconds = 0;
};

// What a run trains, after the options and any checkpoint are resolved.
struct RunInfo {
  std::string net, scheme;
  uint64_t seed = 0;
  int start_epoch = 0, epochs = 0;
  int64_t batch = 0, train_images = 0, test_images = 0;
};

// Seeded permutation of [0, n) for `epoch` (Fisher-Yates on counter-based bits).
std::vector<int64_t> ShuffledOrder(uint64_t seed, int epoch, int64_t n);

// The step context (learning rates, CQ range) for an epoch of a run.
StepContext ContextForEpoch(const Scheme& scheme, uint64_t seed, int epoch, int epochs);

// Runs training; writes <out>/log.csv, <out>/checkpoint/, and <out>/coverage.csv if asked.
// `start` is called once the inputs are checked, `report` after each epoch. On --resume,
// the network, scheme, seed, batch and data limits come from the checkpoint.
std::vector<EpochRecord> Train(const TrainOptions& options, const std::function<void(const RunInfo&)>& start,
                               const std::function<void(const EpochRecord&)>& report);

}  // namespace octet
