// Regressions of the vector units' RTL blocks against the golden model's element functions
// (docs/rtl.md, "Vector units"). One uniform entry point per block, so a runner (tests/rtl,
// `octet regress`) iterates over RegressionBlocks().
//
// A regression applies the block's edge cases (ties, saturation, zero, max|x| at powers of
// two, region and flag boundaries, largest products) and then `vectors` random vectors to
// the Verilated block through its driver (units_driver.h), and compares every output field
// with the golden function bit for bit. Random vector i of a block is a pure function of
// (seed, block, i): a counter-based generator (Mix64 of the counter, as
// golden/numerics/counter_rng.h), no state and no std:: distribution, so a run is
// reproducible for a seed and any vector can be regenerated on its own.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace octet::rtl {

struct BlockResult {
  std::string block;
  int64_t vectors = 0;   // edge cases + random vectors applied
  int64_t failures = 0;  // vectors with at least one output field different from golden
  std::string first_mismatch;  // the first failing vector: inputs, field, expected, rtl
};

// The blocks, in the order of docs/rtl.md: flag_encoder, flag_decoder, e1_quantizer,
// relu_qa, cq, update_unit, bn_normalise.
std::vector<std::string> RegressionBlocks();

// Runs the edge cases and `vectors` random vectors of `block` under `seed`. An unknown block
// is an octet::Error. A protocol error of a clocked block (an output at the wrong cycle)
// counts as failures of the vectors not yet compared, with its message as first_mismatch.
BlockResult RunBlockRegression(const std::string& block, uint64_t seed, int64_t vectors);

// For tests of the harness itself: corrupt_every > 0 flips bit 0 of the first expected
// field of every vector whose index (edge cases first) is a multiple of it, so that exactly
// those vectors must be reported.
struct RegressionOptions {
  int64_t corrupt_every = 0;
};
BlockResult RunBlockRegression(const std::string& block, uint64_t seed, int64_t vectors,
                               const RegressionOptions& options);

// The comparison of one vector's outputs, field by field: counts the vectors that differ and
// keeps a description of the first.
class MismatchRecorder {
 public:
  using Fields = std::vector<std::pair<const char*, int64_t>>;

  // True when every field agrees. Otherwise counts the vector and, if it is the first
  // failure, keeps "vector <v> {<inputs()>}: <field> expected <e>, rtl <a>" (inputs is only
  // called then).
  bool Compare(int64_t vector, const Fields& expected, const Fields& actual,
               const std::function<std::string()>& inputs);
  // A failure that is not a field comparison (a protocol error) for `count` vectors.
  void Record(int64_t count, const std::string& message);

  int64_t failures() const { return failures_; }
  const std::string& first_mismatch() const { return first_mismatch_; }

 private:
  int64_t failures_ = 0;
  std::string first_mismatch_;
};

}  // namespace octet::rtl
