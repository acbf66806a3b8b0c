// The results of a simulated training step, per layer and phase: a terminal table, JSON
// and CSV (docs/architecture.md, "Reports"). Formatting returns text so tests can read it.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/accelerator.h"

namespace octet {

struct RunInfo {
  std::string source;   // the trace directory or topology
  std::string mode;     // "data" or "shape-only"
  std::string network;
  std::string scheme;
  // Where the array's values came from (model/array/gemm_backend.h); reported so that a
  // report says which level computed it. Every backend gives the same counters.
  std::string array_backend = "engine";
};

// Utilisation of the array over `c.cycles`: MACs / (cycles * R * C); 0 without cycles.
double Utilisation(const model::Counters& c, const model::ArchConfig& config);

std::vector<std::string> FormatStepTable(const model::StepResult& result, const RunInfo& info);
nlohmann::json StepReportJson(const model::StepResult& result, const RunInfo& info);
std::string StepReportCsv(const model::StepResult& result);

// Reads back a StepReportJson document (`octet run --json`): the configuration and every
// counter, so a saved run can be priced again without simulating it. One-line errors
// name `origin` and the key.
model::StepResult StepResultFromJson(const nlohmann::json& json, const std::string& origin, RunInfo* info);
// True if the text is a JSON object whose "format" is "octet-run".
bool IsStepReportJson(const std::string& text);

}  // namespace octet
