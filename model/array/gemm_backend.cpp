#include "model/array/gemm_backend.h"

#include <map>

#include "golden/core/error.h"

namespace octet::model {

namespace {

struct Entry {
  std::string description;
  GemmBackendFactory factory;
};

std::map<std::string, Entry>& Registry() {
  static std::map<std::string, Entry> registry;
  return registry;
}

class EngineBackend : public GemmBackend {
 public:
  EngineBackend(ArrayShape array, Dataflow dataflow) : engine_(array, dataflow) {}
  GemmRun Run(const OperandView& ifmap, const OperandView& filter) override { return engine_.Run(ifmap, filter); }

 private:
  GemmEngine engine_;
};

}  // namespace

bool RegisterGemmBackend(const std::string& name, const std::string& description, GemmBackendFactory factory) {
  Registry()[name] = Entry{description, std::move(factory)};
  return true;
}

std::unique_ptr<GemmBackend> MakeGemmBackend(const std::string& name, ArrayShape array, Dataflow dataflow) {
  if (name == "engine") return std::make_unique<EngineBackend>(array, dataflow);
  const auto it = Registry().find(name);
  if (it == Registry().end()) {
    std::string names = "engine";
    for (const auto& [n, e] : Registry()) names += ", " + n;
    Fail("unknown array backend \"{}\" (available: {})", name, names);
  }
  return it->second.factory(array, dataflow);
}

std::vector<std::pair<std::string, std::string>> GemmBackends() {
  std::vector<std::pair<std::string, std::string>> out = {{"engine", "the fast GemmEngine (default)"}};
  for (const auto& [n, e] : Registry()) out.emplace_back(n, e.description);
  return out;
}

}  // namespace octet::model
