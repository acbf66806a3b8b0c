// The design space of `octet sweep` (docs/sweep.md): the axes (array size, dataflow,
// buffer sizes, DRAM bandwidth, E2 mode), their cartesian product in a fixed order, and
// the configuration and scheme of each point. A point's index is its position in the
// product, so every run, shard and merge agrees on which point is which.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/config/arch_config.h"

namespace octet::sweep {

// The E2 modes a sweep can compare, each a built-in scheme.
struct E2Mode {
  const char* name;    // the axis value: "flag", "sq16", "sq8"
  const char* scheme;  // "wageubn8", "wageubn16", "wageubn8-noflag"
};
const std::vector<E2Mode>& E2Modes();

// The axes, outermost first; the last axis varies fastest. Values are the user's, checked
// and normalised ("16x16", "ws", 512, 32.5, "flag"). An axis the user leaves out holds the
// base configuration's value (E2: "flag").
struct SweepSpace {
  std::vector<std::string> array;  // "RxC"
  std::vector<std::string> dataflow;
  std::vector<int64_t> act_buffer_kib, weight_buffer_kib, error_buffer_kib, output_buffer_kib;
  std::vector<double> dram_bytes_per_cycle;
  std::vector<std::string> e2;

  int64_t PointCount() const;
  // The space file's form (docs/sweep.md), every axis present: what the sweep's identity
  // hashes and what a space file given back reproduces.
  nlohmann::ordered_json ToJson() const;
};

// The axes as given: each either absent or a list of texts, from the command line
// ("--array 8x8,16x16") or a space file (where numbers may be JSON numbers).
struct AxisTexts {
  std::optional<std::vector<std::string>> array, dataflow, act_buffer_kib, weight_buffer_kib, error_buffer_kib,
      output_buffer_kib, dram_bytes_per_cycle, e2;
};

// Reads a space file (JSON object with any of the axis keys, each a non-empty list, and an
// optional "description"); an unknown key or a value of the wrong type is a one-line
// error naming the file.
AxisTexts LoadSpaceFile(const std::string& path);

// Checks every value against the configuration's ranges and normalises it; each error is
// one line naming the axis as `origin` gives it ("--array 0x8: array.rows = 0 is out of
// range [1, 1024]"). `origin(axis)` names an axis ("--array", "space.json: array").
// Missing axes take the base configuration's value.
SweepSpace ResolveSpace(const AxisTexts& axes, const model::ArchConfig& base,
                        const std::function<std::string(const std::string& axis)>& origin);

struct SweepPoint {
  int64_t index = 0;
  model::ArchConfig config;  // the base configuration with this point's axis values
  std::string e2;            // an E2Mode name
  std::string scheme;        // its scheme
};

// The point at `index` (0 <= index < PointCount()).
SweepPoint PointAt(const SweepSpace& space, const model::ArchConfig& base, int64_t index);

// The shard "I/N" (1 <= I <= N): which points it takes (docs/sweep.md, "Sharding").
struct Shard {
  int64_t index = 1, count = 1;  // I, N
  std::string Text() const;  // "I/N"
  // The shard's points of a sweep of `points`, in increasing index: every N-th point of a
  // fixed pseudo-random order of all points, so each shard gets the same number of points
  // (to one) and the same mix of cheap and costly ones, whatever the axes' sizes. (A plain
  // index % N would give each shard one E2 mode when N divides the E2 axis.)
  std::vector<int64_t> Points(int64_t points) const;
};
Shard ParseShard(const std::string& text);  // one-line error naming --shard

// 16 hex digits: FNV-1a 64 of `text`.
std::string HashHex(const std::string& text);

}  // namespace octet::sweep
