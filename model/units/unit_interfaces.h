// The interfaces through which the controller drives the units: each unit is bound to the
// controller's port of its type (NVDLA C-model style, one port per unit). Calls block the
// controller's thread for the unit's cycles.
#pragma once

#include <systemc>

#include "golden/net/quant_layer.h"
#include "model/core/layer_job.h"

namespace octet::model {

struct GemmJob;
struct GemmRun;
struct Residual;
struct OutputError;
struct Stream;

class ArrayIf : public virtual sc_core::sc_interface {
 public:
  virtual GemmRun Run(const GemmJob& job) = 0;
};

class BnIf : public virtual sc_core::sc_interface {
 public:
  virtual void Forward(const LayerJob& job) = 0;
  virtual void Backward(const LayerJob& job) = 0;
};

class ActIf : public virtual sc_core::sc_interface {
 public:
  virtual void ScaleOffsetActivate(const LayerJob& job, const Residual* residual, bool writes_x3) = 0;
};

class E1If : public virtual sc_core::sc_interface {
 public:
  virtual void AddErrors(const Stream& a, const Stream& b, const Stream& sum, const IntError* a_values,
                         const IntError* b_values, IntError* out) = 0;
  virtual void Quantize(const LayerJob& job, const OutputError& error) = 0;
};

class E2If : public virtual sc_core::sc_interface {
 public:
  virtual void Quantize(const LayerJob& job) = 0;
};

class CqIf : public virtual sc_core::sc_interface {
 public:
  virtual void Quantize(const LayerJob& job, const StepContext& ctx) = 0;
};

class UpdateIf : public virtual sc_core::sc_interface {
 public:
  virtual void QuantizeWeights(const LayerJob& job) = 0;
  virtual void QuantizeBnGradients(const LayerJob& job) = 0;
  virtual void Update(const LayerJob& job, int64_t lr) = 0;
};

}  // namespace octet::model
