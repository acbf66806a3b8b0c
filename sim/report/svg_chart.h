// Inline SVG bar charts of Octet's self-contained HTML pages (the report of `octet report`
// and the precision comparison of `octet precision`): no scripts, no network.
#pragma once

#include <string>
#include <vector>

namespace octet::report {

struct Segment {
  double value = 0;
  std::string colour;
  std::string tooltip;
};

struct Bar {
  std::string label;
  std::vector<Segment> segments;
  std::string value_text;  // printed after the bar
};

struct LegendEntry {
  std::string label, colour;
};

// A horizontal bar chart as an <svg> with `id`, a <title> and an aria-label: one row per
// bar, segments stacked left to right (one <rect> each), scaled to the longest bar.
// Zero-width segments are left out (they would draw nothing).
std::string BarChart(const std::string& id, const std::string& title, const std::vector<Bar>& bars,
                     const std::vector<LegendEntry>& legend);

}  // namespace octet::report
