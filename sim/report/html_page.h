// What the self-contained HTML pages of Octet share (the step report, the sweep's Pareto
// chart): escaping, number formatting, table cells and the page around a body, with one
// style sheet inline (no scripts, no network).
#pragma once

#include <cstdint>
#include <string>

namespace octet::report {

// Text made safe for HTML element content and attribute values.
std::string HtmlEscape(const std::string& text);
// 1234567 -> "1,234,567": commas survive copy and paste into a spreadsheet.
std::string GroupedNumber(int64_t n);
// A table cell with escaped text, right-aligned for numbers.
std::string HtmlCell(const std::string& text, bool numeric = true);
// A whole page: doctype, head with `title` and the shared style sheet, `body` as given.
std::string HtmlPage(const std::string& title, const std::string& body);

}  // namespace octet::report
