// The RTL regression as `octet regress` runs it (docs/rtl.md, "octet regress"): the
// Verilated blocks of rtl/ (the seven vector-unit blocks and the systolic array at every
// built size) driven either by random vectors or by the tensors of a golden trace, and
// compared bit for bit.
//
//   random suite  the block regressions of rtl/harness/block_regressions.h (edge cases and
//                 counter-based random vectors against the golden element functions) and
//                 random folds on each Verilated array (rtl/harness/array_regression.h,
//                 against the exact products and the SystemC array);
//   trace suite   each block fed with the trace's own inputs and checked against the
//                 trace's outputs (TraceRegression below).
//
// Both suites name their blocks alike: the unit blocks, then array_<R>x<C> per built size.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/array/systolic_array.h"
#include "rtl/harness/block_regressions.h"
#include "sim/io/trace.h"

namespace octet::regress {

// flag_encoder ... bn_normalise (RegressionBlocks()), then array_1x1 ... array_32x32.
std::vector<std::string> SuiteBlocks();
// The array size of an array_<R>x<C> block; false for the unit blocks.
bool ArrayBlockShape(const std::string& block, model::ArrayShape& shape);
// Throws octet::Error listing the blocks when `block` is not one of SuiteBlocks().
void CheckBlockName(const std::string& block);

// The random suite. The SystemC reference arrays are created for the array blocks in
// `blocks` when the suite is constructed (SystemC elaborates once per process, before the
// first fold), so construct it before running anything.
class RandomSuite {
 public:
  RandomSuite(uint64_t seed, int64_t vectors, const std::vector<std::string>& blocks);
  ~RandomSuite();
  rtl::BlockResult Run(const std::string& block);

 private:
  uint64_t seed_;
  int64_t vectors_;
  std::vector<std::unique_ptr<model::SystolicArrayBench>> references_;
};

// The trace suite on the trace in `dir` (loaded and checked when constructed; a malformed
// trace is an octet::Error naming its file). Each block runs on every quantized layer whose
// tensors it has; a vector is one element of a checked tensor:
//
//   flag_encoder  dx1 -> e3_flag, t from the scales of dx1 and e3 (flag-mode traces)
//   flag_decoder  e3_flag -> e3 (flag-mode traces)
//   e1_quantizer  dL/dx4 -> e0, where dL/dx4 is integer: a block's conv1 (conv2's e4) and
//                 a conv2 feeding another block (the next block's e4 sum, as the golden
//                 network forms it); the last conv2's error comes from the float head
//   relu_qa       x2, gamma_q, beta_q, residual -> x3, x4, and e1 = e0 where relu_pass
//   cq            g_W -> g_W_q under the trace's seed, step, layer and dr
//   update_unit   g_W_q / g_gamma_q / g_beta_q with W, gamma, beta and their Acc_q before
//                 -> the state after, Acc_* and dW, dgamma, dbeta
//   bn_normalise  x1, mu_q, sigma_q -> x2
//   array_<R>x<C> the forward, error and weight-gradient GEMMs through that Verilated
//                 array in both dataflows -> x1, e4, g_W
//
// The unit blocks are built with the wageubn8 bit widths: on a trace of another scheme a
// block whose widths differ (the flag blocks without flag-mode E2) is not applicable.
class TraceRegression {
 public:
  explicit TraceRegression(const std::string& dir);
  ~TraceRegression();
  // Why `block` cannot run on this trace, or empty.
  std::string NotApplicable(const std::string& block) const;
  // Throws octet::Error for a block that is not applicable or a malformed trace tensor.
  rtl::BlockResult Run(const std::string& block);

  struct Data;  // the loaded manifest and layer structure (regress.cpp)

 private:
  std::unique_ptr<Data> data_;
};

}  // namespace octet::regress
