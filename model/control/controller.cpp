#include "model/control/controller.h"

#include "golden/core/error.h"
#include "golden/net/quant_ops.h"
#include "model/control/lowering.h"
#include "model/memory/dram.h"
#include "model/units/act_unit.h"
#include "model/units/e1_unit.h"

namespace octet::model {

Controller::Controller(sc_core::sc_module_name name, StepStats& stats) : sc_module(name), stats_(stats) {
  SC_HAS_PROCESS(Controller);
  SC_THREAD(Thread);
}

const char* ProgressStageName(ProgressEvent::Stage stage) {
  switch (stage) {
    case ProgressEvent::Stage::kForward: return "forward";
    case ProgressEvent::Stage::kBackward: return "backward";
    case ProgressEvent::Stage::kUpdate: return "update";
  }
  return "?";
}

void Controller::Start(const StepProgram& program, StepData* data, ProgressCallback progress) {
  if (busy()) Fail("model: a step is already running");
  if (data != nullptr && data->layers.size() != program.layers.size())
    Fail("model: {} layer tensor sets for {} layers", data->layers.size(), program.layers.size());
  program_ = &program;
  data_ = data;
  progress_ = std::move(progress);
  start_.notify(sc_core::SC_ZERO_TIME);
}

void Controller::Thread() {
  for (;;) {
    while (program_ == nullptr) sc_core::wait(start_);
    // A unit's octet::Error (bad shapes, an accumulator overflow) ends the step; it is
    // handed to the caller of sc_start instead of escaping into the SystemC kernel.
    try {
      RunStep();
    } catch (const Error& e) {
      error_ = e.what();
    }
    stats_.Close(NowCycles());
    program_ = nullptr;
    data_ = nullptr;
    progress_ = nullptr;
  }
}

QuantLayerTensors* Controller::tensors(int layer) { return data_ ? &data_->layers[layer] : nullptr; }

void Controller::Open(int layer, Phase phase) { stats_.Open(jobs_[layer].name, phase, NowCycles()); }

void Controller::Report(int layer, ProgressEvent::Stage stage) {
  if (progress_) {
    const int64_t total = 3 * static_cast<int64_t>(jobs_.size());
    progress_({stage, jobs_[layer].name, progress_done_, total, NowCycles() - step_start_});
  }
  ++progress_done_;
}

void Controller::RunStep() {
  const StepProgram& p = *program_;
  jobs_ = p.layers;
  for (size_t i = 0; i < jobs_.size(); ++i) jobs_[i].tensors = tensors(static_cast<int>(i));
  col_.assign(jobs_.size(), {});
  progress_done_ = 0;
  step_start_ = NowCycles();
  const StorageBits& bits = jobs_.front().bits;

  // Forward, stage by stage.
  const Tensor<uint8_t>* x = data_ ? &data_->input : nullptr;
  for (const Stage& stage : p.stages) {
    if (data_) tensors(stage.conv1)->x0 = *x;
    Forward(stage.conv1, nullptr, false);
    if (!stage.residual()) {
      x = data_ ? &tensors(stage.conv1)->x4 : nullptr;
      continue;
    }
    LayerJob& conv2 = jobs_[stage.conv2];
    Residual residual;
    Tensor<int64_t> block_input;  // data mode, identity shortcut: x at frac_x3 bits
    if (stage.shortcut >= 0) {
      if (data_) tensors(stage.shortcut)->x0 = *x;
      Forward(stage.shortcut, nullptr, true);
      const LayerJob& sc = jobs_[stage.shortcut];
      residual.stream = {sc.Tensor("x3"), BufferId::kOutput, sc.outputs(), bits.x3};
      residual.values = data_ ? &tensors(stage.shortcut)->x3 : nullptr;
    } else {
      residual.stream = {jobs_[stage.conv1].input_tensor, BufferId::kActivation, conv2.outputs(), bits.activation};
      if (data_) {
        block_input = Tensor<int64_t>(x->shape);
        ActivationAsResidual(*p.scheme, Span(*x), Span(block_input));
        residual.values = &block_input;
      }
    }
    if (data_) tensors(stage.conv2)->x0 = tensors(stage.conv1)->x4;
    Forward(stage.conv2, &residual, false);
    x = data_ ? &tensors(stage.conv2)->x4 : nullptr;
  }

  // Backward, stages in reverse. `error` is dL/d(output of the current stage).
  const LayerJob& last = jobs_[p.stages.back().residual() ? p.stages.back().conv2 : p.stages.back().conv1];
  OutputError error{{"host/error", BufferId::kError, last.outputs(), bits.host_error}, nullptr,
                    data_ ? &data_->host_error : nullptr};
  IntError error_values;  // data mode: the integer error of `error`
  for (auto it = p.stages.rbegin(); it != p.stages.rend(); ++it) {
    const Stage& stage = *it;
    const int top = stage.residual() ? stage.conv2 : stage.conv1;
    Report(top, ProgressEvent::Stage::kBackward);
    Open(top, Phase::kQuantize);
    e1->Quantize(jobs_[top], error);
    BackwardFromE1(top);
    if (!stage.residual()) {
      const LayerJob& l = jobs_[stage.conv1];
      if (!l.input_error) break;
      if (data_) error_values = tensors(stage.conv1)->e4;
      error = OutputError{{l.Tensor("e4"), BufferId::kOutput, l.inputs(), bits.psum}, data_ ? &error_values : nullptr, nullptr};
      continue;
    }
    const LayerJob& conv2 = jobs_[stage.conv2];
    if (stage.shortcut >= 0) {  // the shortcut shares conv2's e1 (no E1 of its own)
      Report(stage.shortcut, ProgressEvent::Stage::kBackward);
      if (data_) {
        QuantLayerTensors& sc = *tensors(stage.shortcut);
        sc.e0 = Int8Error{};
        sc.e1 = tensors(stage.conv2)->e1;
      }
      BackwardFromE1(stage.shortcut);
    }
    IntError conv2_e4;
    if (data_) conv2_e4 = tensors(stage.conv2)->e4;
    Report(stage.conv1, ProgressEvent::Stage::kBackward);
    Open(stage.conv1, Phase::kQuantize);
    e1->Quantize(jobs_[stage.conv1],
                 OutputError{{conv2.Tensor("e4"), BufferId::kOutput, conv2.inputs(), bits.psum}, data_ ? &conv2_e4 : nullptr, nullptr});
    BackwardFromE1(stage.conv1);
    // dL/d(block input) = conv1's e4 + (the shortcut's e4, or the identity path's e1).
    const LayerJob& conv1 = jobs_[stage.conv1];
    IntError a, b;
    Stream b_stream;
    if (data_) a = tensors(stage.conv1)->e4;
    if (stage.shortcut >= 0) {
      const LayerJob& sc = jobs_[stage.shortcut];
      b_stream = {sc.Tensor("e4"), BufferId::kOutput, sc.inputs(), bits.psum};
      if (data_) b = tensors(stage.shortcut)->e4;
    } else {
      b_stream = {conv2.Tensor("e1"), BufferId::kError, conv2.outputs(), bits.e1};
      if (data_) b = ToIntError(tensors(stage.conv2)->e1);
    }
    const Stream sum{conv1.name + "+sum", BufferId::kOutput, conv1.inputs(), bits.wide_error};
    Open(stage.conv1, Phase::kQuantize);
    e1->AddErrors({conv1.Tensor("e4"), BufferId::kOutput, conv1.inputs(), bits.psum}, b_stream, sum,
                  data_ ? &a : nullptr, data_ ? &b : nullptr, &error_values);
    error = OutputError{sum, data_ ? &error_values : nullptr, nullptr};
  }
  if (data_) data_->input_error = error_values;

  // Update of every layer.
  for (size_t i = 0; i < jobs_.size(); ++i) {
    Report(static_cast<int>(i), ProgressEvent::Stage::kUpdate);
    Open(static_cast<int>(i), Phase::kUpdate);
    update->Update(jobs_[i], p.context.lr);
  }
}

void Controller::Forward(int layer, const Residual* residual, bool writes_x3) {
  const LayerJob& l = jobs_[layer];
  const ConvGeometry& g = l.geometry;
  const StorageBits& bits = l.bits;
  Report(layer, ProgressEvent::Stage::kForward);
  Open(layer, Phase::kQuantize);
  update->QuantizeWeights(l);

  Open(layer, Phase::kForward);
  GemmJob job;
  job.shape = {g.gemm_n(), g.gemm_m(), g.gemm_k()};  // ifmap = lowered x0 [P][K], filter = W_q^T [K][K_out]
  job.ifmap = {l.input_tensor, BufferId::kActivation, g.gemm_n() * g.gemm_k(), bits.activation, g.input_count()};
  job.filter = {l.Tensor("W_q"), BufferId::kWeight, g.weight_count(), bits.weight_q};
  job.output = {l.Tensor("x1"), BufferId::kOutput, g.output_count(), bits.x1};
  OperandView ifmap, filter;
  if (l.data()) {
    QuantLayerTensors& t = *l.tensors;
    col_[layer] = LowerActivations(g, t.x0.ptr());
    ifmap = ActivationMatrix(col_[layer].data(), g.gemm_n(), g.gemm_k());
    filter = WeightMatrix(t.wq.ptr(), g.gemm_k(), g.gemm_m(), MatrixLayout::kColumnMajor);
    job.ifmap_view = &ifmap;
    job.filter_view = &filter;
  }
  GemmRun run = array->Run(job);
  if (l.data()) {
    l.tensors->x1 = Tensor<int32_t>({g.batch, g.out_channels, g.out_height(), g.out_width()});
    ScatterForward(g, run.output, l.tensors->x1.ptr());
  }

  Open(layer, Phase::kBn);
  bn->Forward(l);
  act->ScaleOffsetActivate(l, residual, writes_x3);
}

namespace {

using ErrorOperand = Controller::ErrorOperand;

// The error operand e3 as the array reads it: pixel-major [P][K_out] rows of flag words
// or SQ values.
ErrorOperand PixelMajorError(const LayerJob& l) {
  ErrorOperand e;
  const Scheme& s = *l.scheme;
  if (s.e2_mode == E2Mode::kFlag) {
    if (l.data()) e.words = PixelMajor(l.geometry, l.tensors->e3_words.ptr());
  } else {
    if (l.data()) e.values = PixelMajor(l.geometry, l.tensors->e3.ptr());
    e.passes = OperandPasses(s.k_E2 > 8 ? OperandKind::kShiftError16 : OperandKind::kShiftError8);
  }
  return e;
}

OperandView ErrorView(const LayerJob& l, const ErrorOperand& e, MatrixLayout layout) {
  const ConvGeometry& g = l.geometry;
  const int64_t rows = layout == MatrixLayout::kRowMajor ? g.gemm_n() : g.out_channels;
  const int64_t cols = layout == MatrixLayout::kRowMajor ? g.out_channels : g.gemm_n();
  if (l.scheme->e2_mode == E2Mode::kFlag) return FlagErrorMatrix(e.words.data(), rows, cols, layout);
  return ShiftErrorMatrix(e.values.data(), l.scheme->k_E2 > 8 ? 16 : 8, rows, cols, layout);
}

}  // namespace

void Controller::BackwardFromE1(int layer) {
  const LayerJob& l = jobs_[layer];
  Open(layer, Phase::kBn);
  bn->Backward(l);
  Open(layer, Phase::kQuantize);
  e2->Quantize(l);
  const ErrorOperand e3 = PixelMajorError(l);  // stored once, read by both GEMMs
  if (l.input_error) ErrorGemm(layer, e3);
  WeightGradGemm(layer, e3);
  Open(layer, Phase::kQuantize);
  cq->Quantize(l, program_->context);
  update->QuantizeBnGradients(l);
}


void Controller::ErrorGemm(int layer, const ErrorOperand& e3) {
  const LayerJob& l = jobs_[layer];
  const ConvGeometry& g = l.geometry;
  Open(layer, Phase::kError);
  GemmJob job;
  job.shape = {g.gemm_n(), g.gemm_k(), g.gemm_m()};  // ifmap = e3 [P][K_out], filter = W_q [K_out][K]
  job.passes = e3.passes;
  job.flag_operand = l.scheme->e2_mode == E2Mode::kFlag;
  job.ifmap = {l.Tensor("e3"), BufferId::kError, g.gemm_n() * g.gemm_m(), l.bits.e3};
  job.filter = {l.Tensor("W_q"), BufferId::kWeight, g.weight_count(), l.bits.weight_q};
  job.output = {l.Tensor("e4"), BufferId::kOutput, g.gemm_n() * g.gemm_k(), l.bits.psum, g.input_count()};
  OperandView ifmap, filter;
  if (l.data()) {
    ifmap = ErrorView(l, e3, MatrixLayout::kRowMajor);
    filter = WeightMatrix(l.tensors->wq.ptr(), g.gemm_m(), g.gemm_k());
    job.ifmap_view = &ifmap;
    job.filter_view = &filter;
  }
  GemmRun run = array->Run(job);
  if (l.data()) {
    QuantLayerTensors& t = *l.tensors;
    t.e4.m = Tensor<int64_t>(t.x0.shape);
    Col2Im(g, run.output, t.e4.m.ptr());
    t.e4.exp = t.e3_exp - l.scheme->frac_W();
  }
}

void Controller::WeightGradGemm(int layer, const ErrorOperand& e3) {
  const LayerJob& l = jobs_[layer];
  const ConvGeometry& g = l.geometry;
  Open(layer, Phase::kWeightGrad);
  GemmJob job;
  job.shape = {g.gemm_m(), g.gemm_k(), g.gemm_n()};  // ifmap = e3^T [K_out][P], filter = col [P][K]
  job.passes = e3.passes;
  job.flag_operand = l.scheme->e2_mode == E2Mode::kFlag;
  job.ifmap = {l.Tensor("e3"), BufferId::kError, g.gemm_n() * g.gemm_m(), l.bits.e3};
  job.filter = {l.input_tensor, BufferId::kActivation, g.gemm_n() * g.gemm_k(), l.bits.activation, g.input_count()};
  job.output = {l.Tensor("g_W"), BufferId::kOutput, g.weight_count(), l.bits.psum};
  OperandView ifmap, filter;
  if (l.data()) {
    ifmap = ErrorView(l, e3, MatrixLayout::kColumnMajor);
    filter = ActivationMatrix(col_[layer].data(), g.gemm_n(), g.gemm_k());
    job.ifmap_view = &ifmap;
    job.filter_view = &filter;
  }
  GemmRun run = array->Run(job);
  if (l.data()) {
    QuantLayerTensors& t = *l.tensors;
    t.g_w.m = Tensor<int64_t>(t.w.shape, std::move(run.output));
    t.g_w.exp = t.e3_exp - l.scheme->frac_A();
  }
}

}  // namespace octet::model
