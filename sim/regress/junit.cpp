#include "sim/regress/junit.h"

#include <fmt/format.h>

namespace octet::regress {

std::string XmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 allows no control characters but tab, newline and carriage return.
        if (static_cast<unsigned char>(ch) < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') {
          out += '?';
        } else {
          out += ch;
        }
    }
  }
  return out;
}

std::string JunitXml(const SuiteReport& report) {
  int failures = 0, skipped = 0;
  double seconds = 0;
  for (const BlockOutcome& b : report.blocks) {
    failures += b.skipped.empty() && b.result.failures > 0;
    skipped += !b.skipped.empty();
    seconds += b.seconds;
  }
  const auto tests = report.blocks.size();
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += fmt::format("<testsuites name=\"octet regress\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.3f}\">\n",
                     tests, failures, skipped, seconds);
  xml += fmt::format(
      "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.3f}\" timestamp=\"{}\">\n",
      XmlEscape(report.name), tests, failures, skipped, seconds, XmlEscape(report.timestamp));
  for (const BlockOutcome& b : report.blocks) {
    xml += fmt::format("    <testcase classname=\"octet.regress\" name=\"{}\" time=\"{:.3f}\"", XmlEscape(b.result.block),
                       b.seconds);
    if (!b.skipped.empty()) {
      xml += fmt::format(">\n      <skipped message=\"{}\"/>\n    </testcase>\n", XmlEscape(b.skipped));
    } else if (b.result.failures > 0) {
      const std::string summary = fmt::format("{} of {} vectors differ", b.result.failures, b.result.vectors);
      xml += fmt::format(">\n      <failure message=\"{}\" type=\"mismatch\">{}; first: {}</failure>\n    </testcase>\n",
                         XmlEscape(b.result.first_mismatch), XmlEscape(summary), XmlEscape(b.result.first_mismatch));
    } else {
      xml += fmt::format(">\n      <system-out>{} vectors bit-exact</system-out>\n    </testcase>\n", b.result.vectors);
    }
  }
  xml += "  </testsuite>\n</testsuites>\n";
  return xml;
}

}  // namespace octet::regress
