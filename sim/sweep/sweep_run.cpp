#include "sim/sweep/sweep_run.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <iostream>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "golden/core/error.h"
#include "golden/numerics/scheme.h"
#include "sim/run/model_run.h"
#include "sim/run/step_report.h"

extern char** environ;

namespace octet::sweep {
namespace {

using nlohmann::json;

json PointJson(const SweepPoint& p) {
  return {{"index", p.index}, {"scheme", p.scheme}, {"config", json::parse(model::ArchConfigToJson(p.config))}};
}

// Writes all of `text` to `fd`; false if the reader has gone.
bool WriteAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string ExitText(int status) {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return "unknown status";
}

struct Worker {
  pid_t pid = -1;
  int to = -1, from = -1;  // its stdin (we write) and stdout (we read)
  std::string received;    // bytes of an unfinished line
  std::optional<SweepPoint> busy;
};

// The worker processes of one SimulatePoints call; stops and reaps any still running
// when it goes out of scope (after an error).
class WorkerPool {
 public:
  WorkerPool(const std::string& executable, int count) {
    for (int i = 0; i < count; ++i) workers_.push_back(Spawn(executable));
  }
  ~WorkerPool() {
    for (Worker& w : workers_) {
      CloseFd(w.to);
      CloseFd(w.from);
      if (w.pid > 0) {
        kill(w.pid, SIGTERM);
        int status = 0;
        while (waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
        }
      }
    }
  }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  std::vector<Worker>& workers() { return workers_; }

  // Closes the worker's input (it exits at the end of it) and waits for it to finish.
  void Finish(Worker& w) {
    CloseFd(w.to);
    CloseFd(w.from);
    int status = 0;
    while (waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
    }
    w.pid = -1;
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) Fail("a sweep worker failed: {}", ExitText(status));
  }

  static void CloseFd(int& fd) {
    if (fd >= 0) close(fd);
    fd = -1;
  }

 private:
  static Worker Spawn(const std::string& executable) {
    int in[2], out[2];
    // Close-on-exec, so that no worker holds another's pipe (it would never see its
    // input end); dup2 onto 0 and 1 clears the flag for the worker's own ends.
    if (pipe2(in, O_CLOEXEC) != 0) Fail("cannot create a pipe for a sweep worker: {}", std::strerror(errno));
    if (pipe2(out, O_CLOEXEC) != 0) {
      close(in[0]);
      close(in[1]);
      Fail("cannot create a pipe for a sweep worker: {}", std::strerror(errno));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    // -j 1: the points are the parallelism; a worker's own threads would compete with them.
    std::vector<std::string> argv = {executable, "-j", "1", "sweep-worker"};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    Worker w;
    const int rc = posix_spawn(&w.pid, executable.c_str(), &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
      close(in[1]);
      close(out[0]);
      Fail("cannot start a sweep worker ({}): {}", executable, std::strerror(rc));
    }
    w.to = in[1];
    w.from = out[0];
    return w;
  }

  std::vector<Worker> workers_;
};

std::string SelfExecutable() {
  std::vector<char> path(4096);
  const ssize_t n = readlink("/proc/self/exe", path.data(), path.size() - 1);
  if (n <= 0) Fail("cannot find this program's executable (/proc/self/exe) to start sweep workers");
  return std::string(path.data(), static_cast<size_t>(n));
}

void ParallelSimulate(const std::string& topology, int64_t batch, const std::vector<SweepPoint>& points, int jobs,
                      const PointDone& done, const std::string& executable) {
  // A worker that dies would make our next write raise SIGPIPE; the write's error is
  // reported instead.
  signal(SIGPIPE, SIG_IGN);
  WorkerPool pool(executable.empty() ? SelfExecutable() : executable, jobs);
  std::deque<const SweepPoint*> queue;
  for (const SweepPoint& p : points) queue.push_back(&p);
  const std::string header = json{{"topology", topology}, {"batch", batch}}.dump() + "\n";
  auto feed = [&](Worker& w) {
    if (queue.empty()) {
      w.busy.reset();
      WorkerPool::CloseFd(w.to);  // end of input: the worker exits
      return;
    }
    w.busy = *queue.front();
    queue.pop_front();
    if (!WriteAll(w.to, PointJson(*w.busy).dump() + "\n"))
      Fail("a sweep worker stopped reading (point {})", w.busy->index);
  };
  for (Worker& w : pool.workers()) {
    if (!WriteAll(w.to, header)) Fail("a sweep worker stopped reading at its start");
    feed(w);
  }
  size_t open = pool.workers().size();
  std::vector<pollfd> fds;
  char buffer[65536];
  while (open > 0) {
    fds.clear();
    for (Worker& w : pool.workers()) fds.push_back({w.from, POLLIN, 0});  // fd -1 is ignored
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      Fail("poll failed while waiting for sweep workers: {}", std::strerror(errno));
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      Worker& w = pool.workers()[i];
      if (w.from < 0 || fds[i].revents == 0) continue;
      const ssize_t n = read(w.from, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        // The worker closed its output: it finished its input, or it died.
        if (w.busy) {
          int status = 0;
          while (waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
          }
          w.pid = -1;
          Fail("the sweep worker simulating point {} ended: {}", w.busy->index, ExitText(status));
        }
        pool.Finish(w);
        --open;
        continue;
      }
      w.received.append(buffer, static_cast<size_t>(n));
      for (size_t eol; (eol = w.received.find('\n')) != std::string::npos;) {
        const std::string line = w.received.substr(0, eol);
        w.received.erase(0, eol + 1);
        const json answer = json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (!w.busy || !answer.is_object() || answer.value("index", int64_t{-1}) != w.busy->index)
          Fail("a sweep worker answered out of turn: {}", line.substr(0, 200));
        if (answer.contains("error")) Fail("{}", answer.at("error").get<std::string>());
        const std::string origin = fmt::format("sweep worker, point {}", w.busy->index);
        model::StepResult result = StepResultFromJson(answer.at("run"), origin, nullptr);
        const SweepPoint point = *w.busy;
        done(point, result);
        feed(w);
      }
    }
  }
}

}  // namespace

PointSimulator::PointSimulator(const std::string& topology, int64_t batch) : topology_(LoadTopology(topology, batch)) {}

model::StepResult PointSimulator::Simulate(const model::ArchConfig& config, const std::string& scheme) {
  auto it = programs_.find(scheme);
  if (it == programs_.end()) {
    it = programs_.emplace(scheme, ProgramForTopology(topology_, LoadScheme(scheme))).first;
  }
  return model::SimulateStep(config, it->second, nullptr);
}

void SimulatePoints(const std::string& topology, int64_t batch, const std::vector<SweepPoint>& points, int jobs,
                    const PointDone& done, const std::string& executable) {
  jobs = std::max(1, std::min<int>(jobs, static_cast<int>(points.size())));
  if (jobs == 1) {
    PointSimulator simulator(topology, batch);
    for (const SweepPoint& p : points) {
      model::StepResult result;
      try {
        result = simulator.Simulate(p.config, p.scheme);
      } catch (const Error& e) {
        Fail("point {}: {}", p.index, e.what());  // as a worker reports it
      }
      done(p, result);
    }
    return;
  }
  ParallelSimulate(topology, batch, points, jobs, done, executable);
}

void RunSweepWorker() {
  // Answers go to a private copy of stdout; whatever else prints (SystemC warnings) goes
  // to stderr and cannot corrupt them.
  const int answers_fd = dup(1);
  if (answers_fd < 0 || dup2(2, 1) < 0) Fail("sweep worker: cannot set up its output: {}", std::strerror(errno));
  auto answer = [&](const json& j) {
    if (!WriteAll(answers_fd, j.dump() + "\n")) Fail("sweep worker: its parent stopped reading");
  };
  std::string line;
  if (!std::getline(std::cin, line)) return;
  const json header = json::parse(line);
  PointSimulator simulator(header.at("topology").get<std::string>(), header.at("batch").get<int64_t>());
  while (std::getline(std::cin, line)) {
    const json point = json::parse(line);
    const int64_t index = point.at("index").get<int64_t>();
    try {
      const model::ArchConfig config =
          model::ParseArchConfig(point.at("config").dump(), fmt::format("sweep point {}", index));
      const model::StepResult result = simulator.Simulate(config, point.at("scheme").get<std::string>());
      answer({{"index", index}, {"run", StepReportJson(result, RunInfo{})}});
    } catch (const Error& e) {
      answer({{"index", index}, {"error", fmt::format("point {}: {}", index, e.what())}});
    }
  }
  close(answers_fd);
}

int AvailableCores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
}

}  // namespace octet::sweep
