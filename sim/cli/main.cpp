// octet: the command-line front end. Errors in user input print one line
// "octet: <file or option>: <problem>" and exit with status 2.
#include <malloc.h>
#include <omp.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "golden/core/error.h"
#include "sim/cli/commands.h"

namespace {

int RunOctet(int argc, char** argv) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);  // keep reports free of the banner
  // A training step allocates and frees tensors of a few MB each. By default glibc serves
  // them with mmap/munmap (or trims the heap top), so every step page-faults its working
  // set back in. Keep freed memory in the heap instead: allocations up to 32 MiB come from
  // the heap and the heap is never trimmed. Speed only; no result depends on it.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  CLI::App app{"Octet: a bit-exact simulator of INT8 training hardware (WAGEUBN)", "octet"};
  app.require_subcommand(1);
  app.fallthrough();
  int threads = 0;
  app.add_option("-j,--threads", threads, "Worker threads (default: all cores); results do not depend on it")
      ->check(CLI::Range(1, 1024));
  app.parse_complete_callback([&] {
    if (threads > 0) omp_set_num_threads(threads);
  });
  octet::cli::AddTrainCommand(app);
  octet::cli::AddTraceCommand(app);
  octet::cli::AddRunCommand(app);
  octet::cli::AddAreaCommand(app);
  octet::cli::AddReportCommand(app);
  octet::cli::AddPrecisionCommand(app);
  octet::cli::AddRegressCommand(app);
  octet::cli::AddSweepCommand(app);
  octet::cli::AddListCommands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const octet::Error& e) {
    fmt::print(stderr, "octet: {}\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "octet: out of memory\n");
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Idle OpenMP workers should spin only briefly, then sleep. libgomp's default spins long
  // enough that, on a machine shared with other jobs (a cluster node, a CI runner), the
  // spinning workers take the cores the busy ones need: a training epoch took up to 1.9
  // times as long. Never spinning costs about 20 % on an idle machine instead, where a
  // worker woken through the kernel at each of the ~300 parallel regions of a training
  // step arrives late. A short spin (3000 iterations, a few microseconds) keeps both
  // (docs/results.md). libgomp reads these variables when it is loaded, before main, so
  // the defaults are set by running this program once more with them; settings the user
  // made are kept. Speed only: no result depends on them. If the exec fails, octet runs
  // on with libgomp's defaults.
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && std::getenv("GOMP_SPINCOUNT") == nullptr) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    setenv("GOMP_SPINCOUNT", "3000", 1);  // overrides the passive policy's spin count of 0
    execv("/proc/self/exe", argv);
  }
  return RunOctet(argc, argv);
}

// libsystemc.so defines main() and calls sc_main(); ours takes precedence, but the
// library's reference to sc_main must resolve: it runs the same front end.
extern "C" int sc_main(int argc, char** argv) { return RunOctet(argc, argv); }
