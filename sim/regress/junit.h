// JUnit XML of an `octet regress` run, for CI systems that read test reports: one
// <testsuite> per run, one <testcase> per block, a <failure> with the first mismatch when a
// block failed, <skipped> when it could not run. The de-facto schema of JUnit/Ant reports
// (testsuites > testsuite > testcase, counts and times as attributes).
#pragma once

#include <string>
#include <vector>

#include "rtl/harness/block_regressions.h"

namespace octet::regress {

struct BlockOutcome {
  rtl::BlockResult result;
  double seconds = 0;
  std::string skipped;  // why the block did not run, or empty
};

struct SuiteReport {
  std::string name;       // "random seed 1, 100000 vectors" or "trace <dir>"
  std::string timestamp;  // ISO 8601, the start of the run
  std::vector<BlockOutcome> blocks;
};

std::string JunitXml(const SuiteReport& report);

// Text escaped for an XML attribute or element.
std::string XmlEscape(const std::string& text);

}  // namespace octet::regress
