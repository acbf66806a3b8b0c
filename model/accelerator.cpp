#include "model/accelerator.h"

#include <memory>

#include <systemc>

#include "golden/core/error.h"
#include "model/array/array_unit.h"
#include "model/memory/buffer.h"
#include "model/memory/dram.h"
#include "model/units/act_unit.h"
#include "model/units/bn_unit.h"
#include "model/units/cq_unit.h"
#include "model/units/e1_unit.h"
#include "model/units/e2_unit.h"
#include "model/units/update_unit.h"

namespace octet::model {

namespace {

class Accelerator : public sc_core::sc_module {
 public:
  explicit Accelerator(sc_core::sc_module_name name)
      : sc_module(name),
        dram("dram", stats),
        act_buffer("act_buffer", BufferId::kActivation, stats),
        weight_buffer("weight_buffer", BufferId::kWeight, stats),
        error_buffer("error_buffer", BufferId::kError, stats),
        output_buffer("output_buffer", BufferId::kOutput, stats),
        array("array", stats, residency),
        bn("bn", stats, residency),
        act("act", stats, residency),
        e1("e1", stats, residency),
        e2("e2", stats, residency),
        cq("cq", stats, residency),
        update("update", stats, residency),
        controller("controller", stats) {
    Buffer* buffers[kBufferCount] = {&act_buffer, &weight_buffer, &error_buffer, &output_buffer};
    array.dram(dram);
    for (int b = 0; b < kBufferCount; ++b) array.buffers[b](*buffers[b]);
    for (VectorUnit* unit : vector_units()) {
      unit->dram(dram);
      for (int b = 0; b < kBufferCount; ++b) unit->buffers[b](*buffers[b]);
    }
    controller.array(array);
    controller.bn(bn);
    controller.act(act);
    controller.e1(e1);
    controller.e2(e2);
    controller.cq(cq);
    controller.update(update);
  }

  void Configure(const ArchConfig& c, const std::string& array_backend) {
    dram.Configure(c.dram_bytes_per_cycle, c.dram_latency_cycles);
    act_buffer.Configure(c.act_buffer_kib);
    weight_buffer.Configure(c.weight_buffer_kib);
    error_buffer.Configure(c.error_buffer_kib);
    output_buffer.Configure(c.output_buffer_kib);
    array.Configure({c.array_rows, c.array_cols}, c.dataflow, array_backend);
    const UnitThroughput& u = c.units;
    bn.Configure(u.bn, u.max_abs);
    act.Configure(u.act, u.max_abs);
    e1.Configure(u.e1, u.max_abs);
    e2.Configure(u.e2, u.max_abs);
    cq.Configure(u.cq, u.max_abs);
    update.Configure(u.update, u.max_abs);
    residency.Clear();
    stats.Clear();
  }

  std::vector<VectorUnit*> vector_units() { return {&bn, &act, &e1, &e2, &cq, &update}; }

  StepStats stats;
  Residency residency;
  Dram dram;
  Buffer act_buffer, weight_buffer, error_buffer, output_buffer;
  ArrayUnit array;
  BnUnit bn;
  ActUnit act;
  E1Unit e1;
  E2Unit e2;
  CqUnit cq;
  UpdateUnit update;
  Controller controller;
};

Accelerator& Instance() {
  static std::unique_ptr<Accelerator> instance = std::make_unique<Accelerator>("octet");
  return *instance;
}

}  // namespace

StepResult SimulateStep(const ArchConfig& config, const StepProgram& program, StepData* data,
                        const ProgressCallback& progress, const std::string& array_backend) {
  config.Validate(config.name);
  Accelerator& acc = Instance();
  acc.Configure(config, array_backend);
  const int64_t start = NowCycles();
  acc.controller.Start(program, data, progress);
  sc_core::sc_start();  // returns when the controller waits for its next step
  if (std::string error = acc.controller.TakeError(); !error.empty()) Fail("{}", error);
  if (acc.controller.busy()) Fail("model: the simulation stopped before the step finished");
  StepResult result;
  result.config = config;
  result.layers = acc.stats.layers();
  result.total = acc.stats.Total();
  result.cycles = NowCycles() - start;
  return result;
}

}  // namespace octet::model
