#include "sim/sweep/pareto.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "golden/core/error.h"
#include "sim/report/html_page.h"

namespace octet::sweep {
namespace {

using report::HtmlCell;
using report::HtmlEscape;

// One row of the sweep with what the chart and table show.
struct ChartPoint {
  int64_t index = 0;
  CostPoint cost;
  std::string label;  // "16x16 ws, buffers 512/256/512/512 KiB, 32 B/cycle, E2 flag"
  const SweepCsv::Row* row = nullptr;
  bool optimal = false;
};

double Number(const SweepCsv& csv, const SweepCsv::Row& row, size_t column) {
  const std::string& text = row.fields[column];
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(v))
    Fail("{}: line {}: {} = \"{}\" is not a number", csv.origin, row.line, csv.columns[column], text);
  return v;
}

std::vector<ChartPoint> ChartPoints(const SweepCsv& csv) {
  const size_t cycles = csv.Column("cycles"), energy = csv.Column("energy_pj"), rows = csv.Column("rows"),
               cols = csv.Column("cols"), dataflow = csv.Column("dataflow"), act = csv.Column("act_buffer_kib"),
               weight = csv.Column("weight_buffer_kib"), error = csv.Column("error_buffer_kib"),
               output = csv.Column("output_buffer_kib"), dram = csv.Column("dram_bytes_per_cycle"), e2 = csv.Column("e2");
  std::vector<ChartPoint> points;
  std::vector<CostPoint> costs;
  for (const SweepCsv::Row& r : csv.rows) {
    const auto& f = r.fields;
    ChartPoint p;
    p.index = r.index;
    p.cost = {Number(csv, r, cycles), Number(csv, r, energy)};
    p.label = fmt::format("{}x{} {}, buffers {}/{}/{}/{} KiB, {} B/cycle, E2 {}", f[rows], f[cols], f[dataflow], f[act],
                          f[weight], f[error], f[output], f[dram], f[e2]);
    p.row = &r;
    points.push_back(p);
    costs.push_back(p.cost);
  }
  const std::vector<bool> optimal = ParetoOptimal(costs);
  for (size_t i = 0; i < points.size(); ++i) points[i].optimal = optimal[i];
  return points;
}

// Tick positions for [lo, hi]: steps of 1, 2 or 5 times a power of ten, about five.
std::vector<double> Ticks(double lo, double hi) {
  const double span = hi - lo;
  const double raw = span / 5;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * magnitude) {
      step = m * magnitude;
      break;
    }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);  // no "-0" from rounding
  return ticks;
}

// A short tick label: 1.5M, 250k, 12.
std::string Short(double v) {
  const double a = std::fabs(v);
  if (a >= 1e9) return fmt::format("{:g}G", v / 1e9);
  if (a >= 1e6) return fmt::format("{:g}M", v / 1e6);
  if (a >= 1e3) return fmt::format("{:g}k", v / 1e3);
  return fmt::format("{:g}", v);
}

std::string Chart(const std::vector<ChartPoint>& points) {
  constexpr int kWidth = 760, kHeight = 460, kLeft = 80, kRight = 20, kTop = 20, kBottom = 70;
  constexpr int kPlotW = kWidth - kLeft - kRight, kPlotH = kHeight - kTop - kBottom;
  double x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
  if (!points.empty()) {
    auto [xmin, xmax] = std::minmax_element(points.begin(), points.end(),
                                            [](const auto& a, const auto& b) { return a.cost.cycles < b.cost.cycles; });
    auto [ymin, ymax] = std::minmax_element(points.begin(), points.end(), [](const auto& a, const auto& b) {
      return a.cost.energy_pj < b.cost.energy_pj;
    });
    // 5 % of margin around the points (or around the value, when all are equal).
    auto pad = [](double lo, double hi) {
      const double m = hi > lo ? 0.05 * (hi - lo) : std::max(1.0, 0.05 * std::fabs(lo));
      return std::pair{lo - m, hi + m};
    };
    std::tie(x_lo, x_hi) = pad(xmin->cost.cycles, xmax->cost.cycles);
    std::tie(y_lo, y_hi) = pad(ymin->cost.energy_pj * 1e-6, ymax->cost.energy_pj * 1e-6);
  }
  auto X = [&](double cycles) { return kLeft + kPlotW * (cycles - x_lo) / (x_hi - x_lo); };
  auto Y = [&](double uj) { return kTop + kPlotH * (1 - (uj - y_lo) / (y_hi - y_lo)); };
  const std::string title = "Energy against cycles of every design point; Pareto-optimal points highlighted";
  std::string svg = fmt::format(
      "<svg id=\"chart-pareto\" class=\"chart\" role=\"img\" aria-label=\"{0}\" xmlns=\"http://www.w3.org/2000/svg\" "
      "width=\"{1}\" height=\"{2}\" viewBox=\"0 0 {1} {2}\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<title>{0}</title>\n"
      "<rect x=\"{3}\" y=\"{4}\" width=\"{5}\" height=\"{6}\" fill=\"none\" stroke=\"#888\"/>\n",
      HtmlEscape(title), kWidth, kHeight, kLeft, kTop, kPlotW, kPlotH);
  for (double t : Ticks(x_lo, x_hi))
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#eee\"/>"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\" fill=\"#222\">{4}</text>\n",
        X(t), kTop, kTop + kPlotH, kTop + kPlotH + 16, Short(t));
  for (double t : Ticks(y_lo, y_hi))
    svg += fmt::format(
        "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#eee\"/>"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\" fill=\"#222\">{5}</text>\n",
        kLeft, Y(t), kLeft + kPlotW, kLeft - 6, Y(t) + 4, Short(t));
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#222\">cycles per training step</text>\n",
                     kLeft + kPlotW / 2, kTop + kPlotH + 36);
  svg += fmt::format(
      "<text x=\"16\" y=\"{0}\" text-anchor=\"middle\" fill=\"#222\" transform=\"rotate(-90 16 {0})\">energy per "
      "step (uJ)</text>\n",
      kTop + kPlotH / 2);
  // The front as a staircase through the optimal points, under the dots.
  std::vector<const ChartPoint*> front;
  for (const ChartPoint& p : points)
    if (p.optimal) front.push_back(&p);
  std::sort(front.begin(), front.end(), [](const ChartPoint* a, const ChartPoint* b) {
    return a->cost.cycles != b->cost.cycles ? a->cost.cycles < b->cost.cycles : a->cost.energy_pj < b->cost.energy_pj;
  });
  if (front.size() > 1) {
    std::string path;
    for (size_t i = 0; i < front.size(); ++i) {
      const double x = X(front[i]->cost.cycles), y = Y(front[i]->cost.energy_pj * 1e-6);
      if (i > 0) path += fmt::format(" {:.1f},{:.1f}", x, Y(front[i - 1]->cost.energy_pj * 1e-6));
      path += fmt::format(" {:.1f},{:.1f}", x, y);
    }
    svg += fmt::format("<polyline class=\"front\" points=\"{}\" fill=\"none\" stroke=\"#e15759\" stroke-width=\"1\"/>\n",
                       path.substr(1));
  }
  // Dominated points first, so the optimal ones are drawn on top.
  for (bool optimal : {false, true})
    for (const ChartPoint& p : points) {
      if (p.optimal != optimal) continue;
      svg += fmt::format(
          "<circle class=\"{}\" cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"{}\" fill=\"{}\" fill-opacity=\"0.8\">"
          "<title>point {}: {}; {} cycles, {:.3f} uJ{}</title></circle>\n",
          optimal ? "pareto" : "dominated", X(p.cost.cycles), Y(p.cost.energy_pj * 1e-6), optimal ? 5 : 3,
          optimal ? "#e15759" : "#9a9a9a", p.index, HtmlEscape(p.label), report::GroupedNumber(static_cast<int64_t>(p.cost.cycles)),
          p.cost.energy_pj * 1e-6, optimal ? " (Pareto-optimal)" : "");
    }
  const int ly = kHeight - 18;
  svg += fmt::format(
      "<circle cx=\"{0}\" cy=\"{1}\" r=\"3\" fill=\"#9a9a9a\"/><text x=\"{2}\" y=\"{3}\" fill=\"#222\">dominated</text>"
      "<circle cx=\"{4}\" cy=\"{1}\" r=\"5\" fill=\"#e15759\"/><text x=\"{5}\" y=\"{3}\" fill=\"#222\">Pareto-optimal "
      "(no point has fewer cycles and less energy)</text>\n",
      kLeft, ly, kLeft + 10, ly + 4, kLeft + 110, kLeft + 120);
  return svg + "</svg>\n";
}

}  // namespace

std::vector<bool> ParetoOptimal(const std::vector<CostPoint>& points) {
  std::vector<size_t> order(points.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return points[a].cycles != points[b].cycles ? points[a].cycles < points[b].cycles
                                                : points[a].energy_pj < points[b].energy_pj;
  });
  std::vector<bool> optimal(points.size(), false);
  // Walking in increasing cycles: a point is optimal when its energy is below that of
  // every point with fewer cycles, and it is the least energy of its own cycle count.
  double best_before = INFINITY;  // least energy among points with fewer cycles
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && points[order[j]].cycles == points[order[i]].cycles) ++j;
    const double least = points[order[i]].energy_pj;  // the group's least energy (sorted)
    if (least < best_before)
      for (size_t k = i; k < j && points[order[k]].energy_pj == least; ++k) optimal[order[k]] = true;
    best_before = std::min(best_before, least);
    i = j;
  }
  return optimal;
}

std::string ParetoSvg(const SweepCsv& sweep) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + Chart(ChartPoints(sweep));
}

std::string ParetoHtml(const SweepCsv& sweep) {
  const std::vector<ChartPoint> points = ChartPoints(sweep);
  std::vector<const ChartPoint*> front;
  for (const ChartPoint& p : points)
    if (p.optimal) front.push_back(&p);
  std::sort(front.begin(), front.end(), [](const ChartPoint* a, const ChartPoint* b) {
    return a->cost.cycles != b->cost.cycles ? a->cost.cycles < b->cost.cycles : a->index < b->index;
  });
  const SweepHeader& h = sweep.header;
  std::string body = fmt::format("<h1>Octet sweep: {}</h1>\n<dl class=\"summary\">\n", HtmlEscape(h.topology));
  auto item = [&](const std::string& key, const std::string& value) {
    body += fmt::format("<dt>{}</dt><dd>{}</dd>\n", HtmlEscape(key), HtmlEscape(value));
  };
  item("topology", fmt::format("{} (batch {})", h.topology, h.batch));
  item("technology", h.tech);
  item("sweep", fmt::format("id {}, {} points{}", h.id, h.points,
                            static_cast<int64_t>(sweep.rows.size()) == h.points
                                ? ""
                                : fmt::format(" ({} in this file, shard {})", sweep.rows.size(), h.shard.Text())));
  item("Pareto-optimal", fmt::format("{} of {} points (energy and cycles both minimised)", front.size(), points.size()));
  body += "</dl>\n<h2>Energy against cycles</h2>\n" + Chart(points);
  const size_t pj_per_mac = sweep.Column("pj_per_mac"), tops = sweep.Column("tops_per_w"),
               utilisation = sweep.Column("utilisation"), area = sweep.Column("area_mm2");
  body +=
      "<h2>Pareto-optimal points</h2>\n<table id=\"table-pareto\"><thead><tr><th>point</th><th>design</th>"
      "<th>cycles</th><th>energy (uJ)</th><th>util %</th><th>pJ/MAC</th><th>TOPS/W</th><th>area (mm2)</th></tr>"
      "</thead><tbody>\n";
  for (const ChartPoint* p : front) {
    const auto& f = p->row->fields;
    const double util = Number(sweep, *p->row, utilisation);
    body += "<tr>" + HtmlCell(std::to_string(p->index)) + HtmlCell(p->label, false) +
            HtmlCell(report::GroupedNumber(static_cast<int64_t>(p->cost.cycles))) +
            HtmlCell(fmt::format("{:.3f}", p->cost.energy_pj * 1e-6)) + HtmlCell(fmt::format("{:.1f}", 100 * util)) +
            HtmlCell(fmt::format("{:.3f}", Number(sweep, *p->row, pj_per_mac))) +
            HtmlCell(fmt::format("{:.4f}", Number(sweep, *p->row, tops))) +
            HtmlCell(f[area].empty() ? "-" : fmt::format("{:.3f}", Number(sweep, *p->row, area))) + "</tr>\n";
  }
  body += "</tbody></table>\n<p>Columns and method: docs/sweep.md.</p>\n";
  return report::HtmlPage(fmt::format("Octet sweep: {}", h.topology), body);
}

}  // namespace octet::sweep
