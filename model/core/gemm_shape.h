// The GEMM view of every array operation, in SCALE-Sim's names so its users read the same
// figures: an "ifmap" operand M x K streamed into the array, a "filter" operand K x N, and
// an output M x N. docs/architecture.md, "Lowering", maps each phase of a layer's training
// step onto these three letters.
#pragma once

#include <cstdint>
#include <string>

namespace octet::model {

enum class Dataflow {
  kWeightStationary,  // filter tile held in the PEs, ifmap rows stream through
  kOutputStationary,  // each PE owns one output, ifmap and filter stream through
};

const char* DataflowName(Dataflow dataflow);  // "ws" / "os"

struct GemmShape {
  int64_t m = 0;  // ifmap rows, output rows
  int64_t n = 0;  // filter columns, output columns
  int64_t k = 0;  // reduction length
  int64_t macs() const { return m * n * k; }
};

}  // namespace octet::model
