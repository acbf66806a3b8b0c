// The report as one self-contained HTML page: no scripts, no network, the charts drawn as
// inline SVG (cycles per layer and phase, energy by component, area by block) next to the
// tables. Each chart is an <svg> with an id (chart-cycles, chart-energy, chart-area), a
// <title> and an aria-label, and one <rect> per bar segment.
#pragma once

#include <string>

#include "sim/report/html_page.h"
#include "sim/report/report.h"

namespace octet::report {

std::string ReportHtml(const Report& report);

}  // namespace octet::report
