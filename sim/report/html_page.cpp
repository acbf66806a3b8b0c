#include "sim/report/html_page.h"

#include <fmt/format.h>

namespace octet::report {
namespace {

constexpr const char* kStyle = R"(body{font-family:sans-serif;margin:2em;color:#222;max-width:75em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}
table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0}
th,td{border:1px solid #ccc;padding:2px 6px}th{background:#eee}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.layer-total td{font-weight:bold;background:#f6f6f6}tr.step-total td{font-weight:bold;background:#e8eef6}
dl.summary{display:grid;grid-template-columns:max-content auto;gap:2px 1em}dl.summary dt{font-weight:bold}dl.summary dd{margin:0}
svg.chart text{font-size:12px;fill:#222}svg.chart text.value{fill:#555})";

}  // namespace

std::string HtmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string GroupedNumber(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string HtmlCell(const std::string& text, bool numeric) {
  return fmt::format("<td{}>{}</td>", numeric ? " class=\"n\"" : "", HtmlEscape(text));
}

std::string HtmlPage(const std::string& title, const std::string& body) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n{}\n</style>\n"
      "</head>\n<body>\n{}</body>\n</html>\n",
      HtmlEscape(title), kStyle, body);
}

}  // namespace octet::report
