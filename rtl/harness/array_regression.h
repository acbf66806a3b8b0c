// The random regression of the Verilated systolic array (docs/rtl.md, "Array"): random
// folds of both dataflows, every operand pairing the layers use, tiles from 1 x 1 to the
// full array, run on the RTL array of one size and compared output by output: the value
// with the exact int64 sum of the operands' values (the golden product), the cycle at which
// it became valid and the fold's length with the SystemC SystolicArray on the same request.
// Counterpart of RunBlockRegression for the array; `octet regress` runs one per built size.
#pragma once

#include <cstdint>

#include "model/array/systolic_array.h"
#include "rtl/harness/block_regressions.h"

namespace octet::rtl {

// Runs random folds on the Verilated array of reference.shape() until at least `vectors`
// outputs (an output: its value and its valid cycle) have been compared, at least one fold.
// Fold f of a run is a pure function of (seed, shape, f). BlockResult::vectors counts the
// outputs compared; a fold that the RTL or the SystemC array rejects (an octet::Error)
// counts its outputs as failures with the message. Throws octet::Error when the size has no
// Verilated instance. `reference` must be constructed before the first sc_start of the
// process (SystemC elaborates once), which is why the caller owns it.
BlockResult RunArrayRegression(model::SystolicArrayBench& reference, uint64_t seed, int64_t vectors,
                               const RegressionOptions& options = {});

}  // namespace octet::rtl
