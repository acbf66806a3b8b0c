// The report as a terminal table, JSON, CSV (one row per layer and phase) and the area
// breakdown as CSV. Each returns text, so tests read exactly what a user gets.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/report/report.h"

namespace octet::report {

std::vector<std::string> FormatReportTable(const Report& report);
nlohmann::ordered_json ReportJson(const Report& report);
// layer,phase,cycles,...,energy_pj,<component>_pj...,power_w,pj_per_mac,tops_per_w
std::string ReportCsv(const Report& report);
// item,block,instances,nand2_eq,kib,mm2,percent,note; only the header without an area.
std::string AreaCsv(const Report& report);

// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
std::string CsvField(const std::string& text);

}  // namespace octet::report
