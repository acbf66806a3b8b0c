#include "sim/area/yosys.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <thread>
#include <sstream>
#include <vector>

#include "golden/core/error.h"
#include "golden/core/strings.h"

extern char** environ;

namespace octet::area {
namespace {

namespace fs = std::filesystem;

// Runs argv without a shell in `cwd` (if not empty), stdin from /dev/null, stdout to
// `out_path` (or /dev/null), stderr merged into it; returns the exit status.
// While it runs, `tick` (if set) is called about four times a second.
int Spawn(const std::vector<std::string>& argv, const std::string& cwd, const std::string& out_path,
          const std::function<void()>& tick = {}) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  const std::string out = out_path.empty() ? "/dev/null" : out_path;
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  // posix_spawn_file_actions_addchdir_np is glibc >= 2.29; run from cwd through it.
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) Fail("cannot run {}: {}", argv[0], std::strerror(rc));
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(pid, &status, tick ? WNOHANG : 0);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) Fail("cannot wait for {}: {}", argv[0], std::strerror(errno));
    if (done == 0) {
      tick();
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

std::string FindYosys() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) dir = ".";
    const fs::path candidate = fs::path(dir) / "yosys";
    if (access(candidate.c_str(), X_OK) == 0 && fs::is_regular_file(candidate)) return candidate.string();
  }
  Fail("yosys: not found on PATH (octet area synthesises with Yosys: apt-get install yosys)");
}

std::string YosysVersion(const std::string& yosys) {
  char name[] = "/tmp/octet_yosys_version_XXXXXX";
  const int fd = mkstemp(name);
  if (fd < 0) Fail("cannot create a temporary file: {}", std::strerror(errno));
  close(fd);
  const int rc = Spawn({yosys, "-V"}, "", name);
  std::ifstream in(name);
  std::string line;
  std::getline(in, line);
  std::remove(name);
  if (rc != 0 || line.rfind("Yosys", 0) != 0) Fail("{}: not a working Yosys (`yosys -V` failed)", yosys);
  return std::string(Trim(line));
}

int RunYosysScript(const std::string& yosys, const std::string& script, const std::string& log, const std::string& cwd,
                   const std::function<void()>& tick) {
  return Spawn({yosys, "-q", "-l", log, "-s", script}, cwd, "", tick);
}

std::string FirstYosysError(const std::string& log_text) {
  std::istringstream in(log_text);
  for (std::string line; std::getline(in, line);) {
    const auto t = Trim(line);
    if (t.rfind("ERROR:", 0) == 0) return std::string(Trim(t.substr(6)));
    if (t.find(": ERROR: ") != std::string_view::npos) return std::string(t);  // file:line: ERROR: ...
  }
  return "";
}

StatReport ParseStat(const std::string& text, const std::string& module, const std::string& what) {
  std::istringstream in(text);
  std::string line;
  const std::string header = "=== " + module + " ===";
  bool found = false;
  while (std::getline(in, line)) {
    if (Trim(line) == header) {
      found = true;
      break;
    }
  }
  if (!found) Fail("{}: the Yosys stat report has no section for module {}", what, module);
  StatReport r;
  bool have_cells = false;
  bool in_types = false;
  while (std::getline(in, line)) {
    const std::string t(Trim(line));
    if (t.rfind("===", 0) == 0) break;
    if (t.rfind("Number of cells:", 0) == 0) {
      r.cells = std::stol(t.substr(16));
      have_cells = true;
      in_types = true;
      continue;
    }
    if (in_types) {
      std::istringstream fields(t);
      std::string type, count, extra;
      if (t.empty() || !(fields >> type >> count) || (fields >> extra) ||
          count.find_first_not_of("0123456789") != std::string::npos) {
        in_types = false;
      } else {
        r.cell_types[type] += std::stol(count);
        continue;
      }
    }
    const std::string chip = "Chip area for module ";
    if (t.rfind(chip, 0) == 0) {
      const auto colon = t.rfind(':');
      if (colon == std::string::npos) Fail("{}: malformed Yosys stat line: {}", what, t);
      r.chip_area = std::stod(t.substr(colon + 1));
    }
  }
  if (!have_cells) Fail("{}: the Yosys stat report for {} has no cell count", what, module);
  long sum = 0;
  for (const auto& [type, n] : r.cell_types) sum += n;
  if (sum != r.cells)
    Fail("{}: the Yosys stat report for {} lists {} cells by type but counts {}", what, module, sum, r.cells);
  return r;
}

}  // namespace octet::area
