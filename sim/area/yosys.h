// Running Yosys (found on PATH) and reading its `stat -liberty` report.
#pragma once

#include <functional>
#include <map>
#include <string>

namespace octet::area {

// The yosys executable on PATH; throws octet::Error (one line) when there is none.
std::string FindYosys();

// `yosys -V`, e.g. "Yosys 0.23 (git sha1 7ce5011c24b)".
std::string YosysVersion(const std::string& yosys);

// Runs `yosys -q -l <log> -s <script>` in directory `cwd`, its output going to the log
// only; `tick` (if set) is called about four times a second while it runs. Returns the
// exit status (128 + signal when killed).
int RunYosysScript(const std::string& yosys, const std::string& script, const std::string& log, const std::string& cwd,
                   const std::function<void()>& tick = {});

// The first error of a Yosys log: an "ERROR: ..." line without the prefix, or a
// "file:line: ERROR: ..." line whole; "" if none.
std::string FirstYosysError(const std::string& log_text);

// One module's section of a `stat` report.
struct StatReport {
  long cells = 0;                          // "Number of cells"
  std::map<std::string, long> cell_types;  // cell type -> count
  double chip_area = -1;                   // "Chip area for module ...", -1 if absent
};

// The section "=== <module> ===" of `stat` output; throws octet::Error naming `what` if
// it is missing or malformed.
StatReport ParseStat(const std::string& text, const std::string& module, const std::string& what);

}  // namespace octet::area
