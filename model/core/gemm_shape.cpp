#include "model/core/gemm_shape.h"

namespace octet::model {

const char* DataflowName(Dataflow dataflow) {
  return dataflow == Dataflow::kWeightStationary ? "ws" : "os";
}

}  // namespace octet::model
