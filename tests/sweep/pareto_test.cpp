// The Pareto front of a sweep: which points are dominated, with ties, and the chart and
// table `octet sweep merge` draws from a hand-made sweep CSV.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "golden/core/error.h"
#include "sim/sweep/pareto.h"
#include "sim/sweep/sweep_csv.h"

namespace octet::sweep {
namespace {

TEST(Pareto, DominatedPointsAreNotOptimal) {
  const std::vector<CostPoint> points = {
      {10, 5},   // optimal
      {20, 3},   // optimal: more cycles, less energy
      {15, 6},   // dominated by (10, 5)
      {30, 3},   // dominated by (20, 3): equal energy, more cycles
      {10, 7},   // dominated by (10, 5): equal cycles, more energy
      {5, 100},  // optimal: fewest cycles
      {40, 1},   // optimal: least energy
  };
  const std::vector<bool> expected = {true, true, false, false, false, true, true};
  EXPECT_EQ(ParetoOptimal(points), expected);
}

TEST(Pareto, EqualPointsShareTheirFate) {
  EXPECT_EQ(ParetoOptimal({{10, 5}, {10, 5}, {20, 9}, {20, 9}}), (std::vector<bool>{true, true, false, false}));
  EXPECT_EQ(ParetoOptimal({{3, 3}}), std::vector<bool>{true});
  EXPECT_TRUE(ParetoOptimal({}).empty());
}

// A whole sweep CSV of `costs` (cycles, energy) with the other columns at 0.
std::string HandMadeSweep(const std::vector<CostPoint>& costs) {
  SweepHeader h;
  h.id = "0123456789abcdef";
  h.points = static_cast<int64_t>(costs.size());
  h.topology = "hand-made";
  std::string text = FormatSweepHeader(h) + SweepCsvColumns();
  std::string columns = SweepCsvColumns();
  columns.pop_back();
  std::vector<std::string> names;
  for (size_t start = 0, comma; start <= columns.size(); start = comma + 1) {
    comma = columns.find(',', start);
    if (comma == std::string::npos) comma = columns.size();
    names.push_back(columns.substr(start, comma - start));
  }
  for (size_t i = 0; i < costs.size(); ++i) {
    std::string row;
    for (const std::string& n : names) {
      std::string v = "0";
      if (n == "index") v = std::to_string(i);
      if (n == "cycles") v = fmt::format("{}", costs[i].cycles);
      if (n == "energy_pj") v = fmt::format("{}", costs[i].energy_pj);
      if (n == "dataflow") v = "ws";
      if (n == "e2") v = "flag";
      if (n == "area_mm2") v = "";
      row += (row.empty() && n == "index" ? "" : ",") + v;
    }
    text += row + "\n";
  }
  return text;
}

TEST(Pareto, HtmlListsExactlyTheOptimalPoints) {
  const SweepCsv csv = ParseSweepCsv(HandMadeSweep({{100, 5e6}, {200, 3e6}, {150, 6e6}, {300, 3e6}, {50, 9e6}}), "hand.csv");
  const std::string html = ParetoHtml(csv);
  const size_t table = html.find("<table id=\"table-pareto\">");
  ASSERT_NE(table, std::string::npos);
  const std::string body = html.substr(table, html.find("</table>", table) - table);
  // The first cell of each row is the point's index, in increasing cycles.
  std::vector<std::string> listed;
  const std::regex first_cell("<tr><td class=\"n\">([0-9]+)</td>");
  for (auto it = std::sregex_iterator(body.begin(), body.end(), first_cell); it != std::sregex_iterator(); ++it)
    listed.push_back((*it)[1]);
  EXPECT_EQ(listed, (std::vector<std::string>{"4", "0", "1"}));
  // Every point drawn: three highlighted, two not.
  size_t pareto = 0, dominated = 0;
  for (size_t at = 0; (at = html.find("<circle class=\"", at)) != std::string::npos; ++at)
    (html.compare(at + 15, 6, "pareto") == 0 ? pareto : dominated)++;
  EXPECT_EQ(pareto, 3u);
  EXPECT_EQ(dominated, 2u);
  EXPECT_NE(html.find("3 of 5 points"), std::string::npos);
  const std::string svg = ParetoSvg(csv);
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg id=\"chart-pareto\""), std::string::npos);
}

TEST(SweepCsv, RejectsATruncatedRow) {
  std::string text = HandMadeSweep({{1, 2}, {3, 4}});
  text = text.substr(0, text.size() - 10) + "\n";
  try {
    ParseSweepCsv(text, "cut.csv");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cut.csv: line 4 has"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace octet::sweep
