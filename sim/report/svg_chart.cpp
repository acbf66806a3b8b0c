#include "sim/report/svg_chart.h"

#include "sim/report/html_page.h"

#include <algorithm>

#include <fmt/format.h>

namespace octet::report {

// A horizontal bar chart, one row per bar, segments stacked left to right, scaled to the
// longest bar. Zero-width segments are left out (they would draw nothing).
std::string BarChart(const std::string& id, const std::string& title, const std::vector<Bar>& bars,
                     const std::vector<LegendEntry>& legend) {
  constexpr int kLabelWidth = 170, kBarWidth = 520, kValueWidth = 150, kRow = 22, kBarHeight = 16, kTop = 8;
  const int legend_height = legend.empty() ? 0 : 28;
  const int width = kLabelWidth + kBarWidth + kValueWidth;
  const int height = kTop + static_cast<int>(bars.size()) * kRow + legend_height + 4;
  double longest = 0;
  for (const Bar& b : bars) {
    double sum = 0;
    for (const Segment& s : b.segments) sum += s.value;
    longest = std::max(longest, sum);
  }
  std::string svg = fmt::format(
      "<svg id=\"{0}\" class=\"chart\" role=\"img\" aria-label=\"{1}\" xmlns=\"http://www.w3.org/2000/svg\" "
      "width=\"{2}\" height=\"{3}\" viewBox=\"0 0 {2} {3}\">\n<title>{1}</title>\n",
      id, HtmlEscape(title), width, height);
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const int y = kTop + static_cast<int>(i) * kRow;
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"label\">{}</text>\n", kLabelWidth - 6,
                       y + kBarHeight - 3, HtmlEscape(b.label));
    double x = kLabelWidth;
    for (const Segment& s : b.segments) {
      const double w = longest > 0 ? kBarWidth * s.value / longest : 0;
      if (w <= 0) continue;
      svg += fmt::format("<rect x=\"{:.2f}\" y=\"{}\" width=\"{:.2f}\" height=\"{}\" fill=\"{}\"><title>{}</title></rect>\n",
                         x, y, std::max(w, 0.5), kBarHeight, s.colour, HtmlEscape(s.tooltip));
      x += w;
    }
    svg += fmt::format("<text x=\"{:.2f}\" y=\"{}\" class=\"value\">{}</text>\n", x + 6, y + kBarHeight - 3,
                       HtmlEscape(b.value_text));
  }
  double lx = kLabelWidth;
  const int ly = kTop + static_cast<int>(bars.size()) * kRow + 10;
  for (const LegendEntry& e : legend) {
    svg += fmt::format("<rect x=\"{:.0f}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/>"
                       "<text x=\"{:.0f}\" y=\"{}\" class=\"label\">{}</text>\n",
                       lx, ly, e.colour, lx + 16, ly + 10, HtmlEscape(e.label));
    lx += 24 + 7.5 * static_cast<double>(e.label.size());
  }
  return svg + "</svg>\n";
}


}  // namespace octet::report
