// The array as a unit of the accelerator: the GemmEngine's arithmetic and fold timing,
// fed from the activation / weight / error buffers and drained into the output buffer,
// with the DRAM traffic of tiling. Folds run back to back; the operands of fold f+1 are
// loaded from DRAM while fold f computes (double buffering), so a fold starts when both
// the array and its operands are ready, and the wait is counted as stall
// (docs/architecture.md, "Tiling and DRAM").
#pragma once

#include <memory>
#include <string>

#include <systemc>

#include "model/array/gemm_backend.h"
#include "model/array/gemm_engine.h"
#include "model/memory/buffer.h"
#include "model/memory/dram.h"
#include "model/stats/step_stats.h"
#include "model/units/unit_interfaces.h"
#include "model/units/vector_unit.h"

namespace octet::model {

// One GEMM for the array: its shape, where its operands and result live, their widths,
// and in data mode the operand views.
struct GemmJob {
  GemmShape shape;
  int passes = 1;          // 2 when the ifmap is a 16-bit SQ error
  bool flag_operand = false;  // the ifmap is 9-bit Flag QE2 words (counted as flag MACs)
  Stream ifmap, filter;    // elements = M*K and K*N; bits per element as stored
  Stream output;           // M*N results written back to DRAM at `output.bits`
  const OperandView* ifmap_view = nullptr;   // data mode
  const OperandView* filter_view = nullptr;  // data mode
};

class ArrayUnit : public sc_core::sc_module, public ArrayIf {
 public:
  sc_core::sc_port<DramIf> dram;
  sc_core::sc_port<BufferIf> buffers[kBufferCount];

  ArrayUnit(sc_core::sc_module_name name, StepStats& stats, Residency& residency);

  // Snapshot of the array shape, dataflow and value backend (gemm_backend.h), taken at
  // the start of each job.
  void Configure(ArrayShape array, Dataflow dataflow, const std::string& backend = "engine");
  // Runs the GEMM; returns the engine's result (values in data mode) with the cycles the
  // unit took, stalls included.
  GemmRun Run(const GemmJob& job) override;

 private:
  struct FoldTraffic;
  FoldTraffic FoldLoads(const GemmJob& job, int64_t fold_row, int64_t fold_col, int64_t pass) const;

  StepStats& stats_;
  Residency& residency_;
  ArrayShape array_;
  Dataflow dataflow_ = Dataflow::kWeightStationary;
  std::unique_ptr<GemmBackend> backend_;
};

}  // namespace octet::model
