// The Pareto front of a sweep over (cycles, energy), both to be minimised, and its chart:
// every point a dot, the Pareto-optimal ones highlighted and listed (docs/sweep.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/sweep/sweep_csv.h"

namespace octet::sweep {

struct CostPoint {
  double cycles = 0, energy_pj = 0;
};

// optimal[i]: no other point is at least as good in both costs and better in one. Points
// with equal costs are all optimal or all not.
std::vector<bool> ParetoOptimal(const std::vector<CostPoint>& points);

// The chart alone, a standalone SVG document (id "chart-pareto"; one <circle> per point,
// class "pareto" or "dominated", each with a <title> tooltip).
std::string ParetoSvg(const SweepCsv& sweep);
// A self-contained page: summary, the chart, the table of Pareto-optimal points
// (id "table-pareto", in increasing cycles).
std::string ParetoHtml(const SweepCsv& sweep);

}  // namespace octet::sweep
