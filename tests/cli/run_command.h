// Header-only helpers of the CLI tests: run a program (the octet binary, by default)
// with an argument vector, capture its stdout and stderr separately and its exit
// status; plus a per-test scratch directory and small file utilities.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern char** environ;

namespace octet::testing {

namespace fs = std::filesystem;

struct CommandResult {
  int exit_code = -1;  // the exit status, or 128 + signal number if killed by a signal
  std::string out;     // everything written to stdout
  std::string err;     // everything written to stderr
  std::string command; // the command line, for failure messages

  std::string output() const { return out + err; }
  // Non-empty lines of one stream.
  static std::vector<std::string> Lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) lines.push_back(line);
    }
    return lines;
  }
  std::vector<std::string> out_lines() const { return Lines(out); }
  std::vector<std::string> err_lines() const { return Lines(err); }
  // For EXPECT_...() << r.Describe().
  std::string Describe() const {
    return "command: " + command + "\nexit: " + std::to_string(exit_code) + "\n--- stdout ---\n" + out +
           "--- stderr ---\n" + err;
  }
};

// Reads the child's two output descriptors together until both close (so that neither
// can fill up and block the child), closes them, waits for the child and records its exit
// status in r (128 + signal number if it was killed).
inline void DrainAndWait(int out_fd, int err_fd, pid_t pid, CommandResult& r) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  char buffer[65536];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs argv[0] (a path, not searched in PATH) with the arguments, without a shell, and
// waits for it. stdin is /dev/null.
inline CommandResult RunProgram(const std::vector<std::string>& argv) {
  CommandResult r;
  for (const auto& a : argv) r.command += (r.command.empty() ? "" : " ") + a;
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) posix_spawn_file_actions_addclose(&actions, fd);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(rc));
  }
  DrainAndWait(out_pipe[0], err_pipe[0], pid, r);
  return r;
}

// Runs the octet binary under test with these arguments.
inline CommandResult RunOctet(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {OCTET_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv);
}

// Checks the error contract of the CLI: exit status 2, exactly one line on stderr that
// starts with "octet: " and contains every one of `mentions`, and no stdout line that
// claims a result.
inline void ExpectCliError(const CommandResult& r, const std::vector<std::string>& mentions) {
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  const auto lines = r.err_lines();
  ASSERT_EQ(lines.size(), 1u) << "expected exactly one stderr line\n" << r.Describe();
  EXPECT_EQ(lines[0].rfind("octet: ", 0), 0u) << r.Describe();
  for (const auto& m : mentions) EXPECT_NE(lines[0].find(m), std::string::npos) << "missing \"" << m << "\"\n" << r.Describe();
  for (const char* claim : {"bit-exact", "trace: ", "log: ", "checkpoint: "})
    EXPECT_EQ(r.out.find(claim), std::string::npos) << "stdout claims success\n" << r.Describe();
}

// A fresh directory for one test, removed at the end of it (kept, to look at, if the
// environment variable OCTET_KEEP_TEST_DIRS is set and the test failed).
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "scratch";
    for (char& c : name)
      if (c == '/') c = '_';
    path_ = fs::temp_directory_path() / ("octet_cli_" + std::to_string(getpid()) + "_" + name);
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    if (!(std::getenv("OCTET_KEEP_TEST_DIRS") && ::testing::Test::HasFailure())) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return (path_ / rel).string(); }

 private:
  fs::path path_;
};

inline std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// Relative paths of every regular file under dir, sorted.
inline std::vector<std::string> ListFiles(const fs::path& dir) {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(fs::relative(e.path(), dir).string());
  std::sort(files.begin(), files.end());
  return files;
}

// `octet -j 1 run` with `args` and --json and --csv into dir/out: expects the one-line
// error naming `mentions`, nothing on stdout, and neither report file (nor any temporary
// file) in dir/out.
inline void ExpectRunError(const ScratchDir& dir, std::vector<std::string> args,
                           const std::vector<std::string>& mentions) {
  const fs::path out = dir.path() / "out";
  fs::create_directories(out);
  args.insert(args.begin(), {"-j", "1", "run"});
  args.insert(args.end(), {"--json", (out / "r.json").string(), "--csv", (out / "r.csv").string()});
  const CommandResult r = RunOctet(args);
  ExpectCliError(r, mentions);
  EXPECT_EQ(r.out, "") << r.Describe();
  for (const auto& f : ListFiles(out)) ADD_FAILURE() << "left behind: " << f << "\n" << r.Describe();
}

}  // namespace octet::testing
