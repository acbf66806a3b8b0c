// The CSV of a sweep (docs/sweep.md, "The CSV"): a comment line naming the sweep (format
// version, identity hash, number of points, shard), the column names, and one row per
// point in index order. `octet sweep merge` reads shares back, checks that they belong
// to one sweep and cover every point once, and joins them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/report/report.h"
#include "sim/sweep/sweep_space.h"

namespace octet::sweep {

inline constexpr int kSweepCsvVersion = 1;

// What the first line of a sweep CSV says.
struct SweepHeader {
  int version = kSweepCsvVersion;
  std::string id;       // HashHex of the sweep's definition: equal ids, same points and pricing
  int64_t points = 0;   // in the whole sweep, not this share
  Shard shard;          // 1/1 for a whole sweep and a merge
  std::string topology; // informative: the network's name
  int64_t batch = 1;
  std::string tech;     // informative: the technology table's name
};
std::string FormatSweepHeader(const SweepHeader& h);  // "# octet-sweep version=1 id=... ...\n"

// The column names line ("index,rows,cols,...\n").
std::string SweepCsvColumns();
// One point's row: its parameters, the step's counters and metrics (`step`, as a report
// prices it) and the area if computed (empty otherwise).
std::string SweepCsvRow(const SweepPoint& point, const report::ReportRow& step, std::optional<double> area_mm2);

// A parsed sweep CSV (a share or a whole sweep).
struct SweepCsv {
  std::string origin;  // the file, for messages
  SweepHeader header;
  std::vector<std::string> columns;
  struct Row {
    int64_t index = 0;
    int line = 0;       // 1-based line number in the file
    std::string text;   // the row as written, with its newline
    std::vector<std::string> fields;
  };
  std::vector<Row> rows;

  // The column's position; a one-line error naming the file if there is none.
  size_t Column(const std::string& name) const;
};
SweepCsv ParseSweepCsv(const std::string& text, const std::string& origin);

// The shares joined in point order: the header of a whole sweep, every point once.
// One-line errors name the share from another sweep, a point given twice (both files)
// or the points no share holds.
std::string MergeSweepCsvs(const std::vector<SweepCsv>& shares);

}  // namespace octet::sweep
