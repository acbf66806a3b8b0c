// What the model counts: per layer and per phase of a training step, the cycles, the
// stall cycles, the MACs, the buffer traffic in bits and the DRAM traffic in bytes, plus
// the action counts of every unit (the energy model multiplies these by energy per action).
// Units add to the bucket of the layer and phase the controller has opened.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace octet::model {

// The phases of a layer's training step, in the order the controller runs them.
enum class Phase : int {
  kForward,     // forward GEMM x1 = W_q x0 (and W_q = Q_W(W))
  kBn,          // BN statistics, normalise, scale/offset, residual, ReLU + Q_A
  kQuantize,    // E1 (+ error sum), BN backward, E2, CQ and their max|x| passes
  kError,       // error GEMM e4 = W_q^T e3 (with col2im)
  kWeightGrad,  // weight-gradient GEMM g_W = e3 x0^T
  kUpdate,      // momentum and weight update, gradient Q of gamma/beta
  kCount
};
inline constexpr int kPhaseCount = static_cast<int>(Phase::kCount);
const char* PhaseName(Phase phase);  // "forward", "bn", "quantize", "error", "weight_grad", "update"

enum class BufferId : int { kActivation, kWeight, kError, kOutput, kCount };
inline constexpr int kBufferCount = static_cast<int>(BufferId::kCount);
const char* BufferName(BufferId id);  // "act", "weight", "error", "output"

// Vector units (docs/architecture.md, "Vector units").
enum class UnitId : int { kMaxAbs, kBn, kAct, kE1, kE2, kCq, kUpdate, kCount };
inline constexpr int kUnitCount = static_cast<int>(UnitId::kCount);
const char* UnitName(UnitId id);  // "max_abs", "bn", "act", "e1", "e2", "cq", "update"

struct Counters {
  int64_t cycles = 0;        // elapsed cycles of the phase
  int64_t stall_cycles = 0;  // of which waiting for DRAM
  int64_t macs = 0;          // useful MACs (M * N * K of each GEMM)
  // Multiply-accumulates the PEs performed: macs x digit passes (a GEMM on 16-bit SQ
  // errors runs twice, once per 8-bit digit). What the energy model charges per MAC.
  int64_t pe_macs = 0;
  // Of pe_macs, those with a 9-bit Flag QE2 operand (the error and weight-gradient GEMMs
  // under a flag E2 scheme): the product is shifted by 7 when the flag is set.
  int64_t flag_macs = 0;
  int64_t array_cycles = 0;  // cycles the array was computing (for utilisation)
  std::array<int64_t, kBufferCount> buffer_read_bits{};
  std::array<int64_t, kBufferCount> buffer_write_bits{};
  int64_t dram_read_bytes = 0;
  int64_t dram_write_bytes = 0;
  std::array<int64_t, kUnitCount> unit_elements{};  // elements processed per vector unit

  Counters& operator+=(const Counters& other);
  bool operator==(const Counters&) const = default;
};

struct LayerStats {
  std::string name;
  std::array<Counters, kPhaseCount> phases{};
  Counters Total() const;
};

// The counters of one training step, filled while the model runs.
class StepStats {
 public:
  // Opens the bucket (layer, phase) at cycle `now`; units add to it until the next Open or
  // Close, which add the elapsed cycles to it. Layers are listed in the order they are
  // first opened.
  void Open(const std::string& layer, Phase phase, int64_t now);
  void Close(int64_t now);
  Counters& current();
  const std::vector<LayerStats>& layers() const { return layers_; }
  Counters Total() const;
  void Clear() { layers_.clear(); layer_ = -1; }

 private:
  std::vector<LayerStats> layers_;
  int layer_ = -1;
  Phase phase_ = Phase::kForward;
  int64_t opened_at_ = 0;
};

}  // namespace octet::model
