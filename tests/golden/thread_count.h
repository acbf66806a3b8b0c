// Sets the OpenMP thread count for a scope and restores it at exit. Tests that compare
// thread counts use it; random sweeps run single-threaded, which is fastest on a busy
// machine (each kernel call is an OpenMP parallel region).
#pragma once

#include <omp.h>

namespace octet {

class ThreadCount {
 public:
  explicit ThreadCount(int n) : saved_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~ThreadCount() { omp_set_num_threads(saved_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int saved_;
};

}  // namespace octet
