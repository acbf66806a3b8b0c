// The architecture of one accelerator instance: array, dataflow, buffers, DRAM, clock and
// the throughput of every vector unit. One JSON file holds all of it (docs/configuration.md
// lists every key, unit, default and range; the default is model/configs/default.json,
// embedded at build time); a SCALE-Sim .cfg is accepted for the keys the two share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/core/gemm_shape.h"

namespace octet::model {

// Elements per cycle of each vector unit (docs/architecture.md, "Vector units").
struct UnitThroughput {
  int64_t max_abs = 32;  // max|x| reduction pass before E1 / E2 / CQ
  int64_t bn = 32;       // BN statistics, normalise, scale/offset; BN backward
  int64_t act = 32;      // ReLU + Q_A
  int64_t e1 = 32;       // E1 shift quantizer
  int64_t e2 = 32;       // Flag QE2 encoder / SQ(., 16)
  int64_t cq = 32;       // CQ with stochastic rounding
  int64_t update = 16;   // momentum and weight update (Acc 13-bit, W 24-bit)

  bool operator==(const UnitThroughput&) const = default;
};

struct ArchConfig {
  std::string name = "default";
  int64_t array_rows = 32;  // R: PE rows (reduction dimension in WS)
  int64_t array_cols = 32;  // C: PE columns
  Dataflow dataflow = Dataflow::kWeightStationary;
  double clock_mhz = 1000.0;

  // On-chip buffers, KiB each; every buffer is double-buffered (two halves of this size
  // in total: a tile is loaded into one half while the array works from the other).
  int64_t act_buffer_kib = 512;     // activations x0 (8-bit) and lowered x0
  int64_t weight_buffer_kib = 256;  // W_q (8-bit)
  int64_t error_buffer_kib = 512;   // e3 (9-bit flag words, or 16-bit SQ errors), e4 partial sums
  int64_t output_buffer_kib = 512;  // accumulator results (Acc width bits per entry)

  // DRAM port.
  double dram_bytes_per_cycle = 32.0;
  int64_t dram_latency_cycles = 100;

  UnitThroughput units;

  // Throws octet::Error naming `origin` and the key when a value is out of range.
  void Validate(const std::string& origin) const;

  bool operator==(const ArchConfig&) const = default;
};

// Parses the JSON configuration (unknown keys are errors; missing keys keep defaults).
ArchConfig ParseArchConfig(const std::string& json_text, const std::string& origin);
// A SCALE-Sim .cfg (INI): ArrayHeight, ArrayWidth, IfmapSramSzkB, FilterSramSzkB,
// OfmapSramSzkB, Bandwidth (words = bytes per cycle), Dataflow (ws / os; is is rejected).
// Its other keys ([general], [architecture_presets], [run_presets], [layout], [sparsity],
// [network_presets]) are ignored with the rest at defaults; keys SCALE-Sim does not know
// either are errors. The configuration is named after the file (origin's stem).
ArchConfig ParseScaleSimConfig(const std::string& ini_text, const std::string& origin);
// A file path: .cfg is read as SCALE-Sim, anything else as Octet JSON. "default" (or an
// empty name) is the built-in default.
ArchConfig LoadArchConfig(const std::string& name_or_path);
// Every key, in the layout of the JSON file: ParseArchConfig reads it back unchanged.
std::string ArchConfigToJson(const ArchConfig& config);
// The built-in configurations (model/configs/*.json), by name.
std::vector<std::string> BuiltinArchConfigNames();

}  // namespace octet::model
