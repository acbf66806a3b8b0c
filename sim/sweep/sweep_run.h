// Simulating the points of a sweep (docs/sweep.md). The SystemC model elaborates one
// accelerator per process and is not thread-safe (model/accelerator.h), so a parallel
// sweep runs worker processes: this executable again as `octet sweep-worker`, fed one
// point at a time over a pipe and answering with the point's counters. Results do not
// depend on which process simulated a point.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/accelerator.h"
#include "sim/io/topology.h"
#include "sim/sweep/sweep_space.h"

namespace octet::sweep {

// Simulates points of one topology shape-only, each on its own configuration and scheme
// (the programs are built once per scheme).
class PointSimulator {
 public:
  PointSimulator(const std::string& topology, int64_t batch);
  model::StepResult Simulate(const model::ArchConfig& config, const std::string& scheme);

 private:
  Topology topology_;
  std::map<std::string, model::StepProgram> programs_;  // by scheme
};

// Called in the calling thread as each point finishes, in no particular order.
using PointDone = std::function<void(const SweepPoint& point, const model::StepResult& result)>;

// Simulates `points` of `topology` (as given on the command line: every worker loads it
// again) with `jobs` processes: jobs == 1 in this process, otherwise worker processes of
// `executable` (empty: /proc/self/exe), each given the next point when it finishes one.
// A failing point or worker is an octet::Error; the other workers are stopped.
void SimulatePoints(const std::string& topology, int64_t batch, const std::vector<SweepPoint>& points, int jobs,
                    const PointDone& done, const std::string& executable = "");

// The worker's side (`octet sweep-worker`): reads a header line and then one point per
// line from standard input until it closes, answering each on standard output (which
// nothing else may write to: the model's own prints are moved to stderr).
void RunSweepWorker();

// The number of processors this process may run on.
int AvailableCores();

}  // namespace octet::sweep
