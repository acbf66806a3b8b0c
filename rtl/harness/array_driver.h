// Drivers of the Verilated systolic array (rtl/array/octet_systolic_array.sv, docs/rtl.md).
//
// ArrayDriver runs one fold on a Verilated array instance from the same FoldRequest as the
// SystemC SystolicArray and returns the same FoldResult: every output's value and the fold
// cycle at which it became valid (captured at that rising edge), and the fold's length. It
// feeds the edge streams one vector per cycle (the array skews them itself), counts each
// column's outputs in their fixed order, and stops after the last output, padding
// included. Folds run back to back without a reset, as on the hardware; when a fold's
// dataflow differs from the previous one, the driver first spends one idle edge loading
// the array's mode register (not part of either fold).
//
// RtlGemmBackend runs whole GEMMs on it fold by fold, in GemmEngine's order (column folds
// outer, row folds inner, the digit passes of a tile back to back), adding fold results in
// a 48-bit output buffer; its cycles are the sum of the folds' measured lengths. It is the
// "rtl" GemmBackend (rtl/harness/register.h).
//
// One Verilated model exists per array size (rtl/array/blocks.cmake); MakeArrayDriver
// picks it by ArrayShape.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "model/array/gemm_backend.h"
#include "model/array/gemm_engine.h"
#include "model/array/systolic_array.h"

namespace octet::rtl {

class ArrayDriver {
 public:
  virtual ~ArrayDriver() = default;

  // Runs one fold. Throws octet::Error, as SystolicArray::StartFold and RunFold do, when
  // the tile does not fit, the operand counts do not match the shape, or the operands'
  // shifts together exceed the PE's shifter; and when the array raises overflow_o (a 48-bit
  // sum left its range) or the fold outlives a hang guard. After an error the array is
  // reset, ready for the next fold.
  virtual model::FoldResult RunFold(const model::FoldRequest& request) = 0;

  // Holds rst_ni low for one clock edge (not counted in any fold).
  virtual void Reset() = 0;

  const model::ArrayShape& shape() const { return shape_; }
  // Clock cycles simulated so far (every fold cycle and reset edge).
  int64_t cycles_simulated() const { return cycles_simulated_; }

 protected:
  explicit ArrayDriver(model::ArrayShape shape) : shape_(shape) {}
  model::ArrayShape shape_;
  int64_t cycles_simulated_ = 0;
};

// The array sizes with a Verilated instance.
std::vector<model::ArrayShape> RtlArrayShapes();
bool HasRtlArray(const model::ArrayShape& shape);
// Throws octet::Error naming the available sizes when `shape` has no Verilated instance.
std::unique_ptr<ArrayDriver> MakeArrayDriver(const model::ArrayShape& shape);

// Whole GEMMs on the Verilated array.
class RtlGemmBackend : public model::GemmBackend {
 public:
  // Throws octet::Error when the array size has no Verilated instance.
  RtlGemmBackend(model::ArrayShape array, model::Dataflow dataflow);

  // C = A * B, as GemmEngine::Run: the same checks and errors, exact int64 outputs; cycles
  // as the RTL ran them; folds, passes, MACs, utilisation and mapping efficiency as the
  // engine reports them.
  model::GemmRun Run(const model::OperandView& ifmap, const model::OperandView& filter) override;

  ArrayDriver& driver() { return *driver_; }
  model::Dataflow dataflow() const { return dataflow_; }

 private:
  std::unique_ptr<ArrayDriver> driver_;
  model::Dataflow dataflow_;
};

}  // namespace octet::rtl
