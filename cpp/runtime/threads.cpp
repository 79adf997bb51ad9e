// Thread-count control and a description of the OpenMP runtime in use.
#include <atomic>
#include <mutex>
#include <string>

#include "nncore/parallel.h"

#if defined(_OPENMP) && defined(__linux__)
#include <dlfcn.h>
#endif
#if defined(_OPENMP) && defined(__unix__)
#include <pthread.h>
#endif

namespace nncore {

namespace {

// GNU libgomp cannot run a parallel region in a child forked after the parent used its thread
// pool: the child waits forever for workers that were not copied by fork(). A forked child
// therefore runs single-threaded (as PyTorch does); parallel_for then never enters OpenMP.
bool g_forked_child = false;

#if defined(_OPENMP) && defined(__unix__)
void mark_forked_child() { g_forked_child = true; }
[[maybe_unused]] const int g_atfork_registered = pthread_atfork(nullptr, nullptr, &mark_forked_child);
#endif

#ifdef _OPENMP
// OpenMP keeps the thread count per thread: omp_set_num_threads in the main thread does not reach
// a Python thread started later. set_num_threads is meant for the whole process, so it records
// the request under a new generation number and every thread adopts it on its next call here.
// After that a thread may still change its own count (threadpoolctl does, and restores it).
std::atomic<int> g_requested{0};
std::atomic<unsigned> g_generation{0};
thread_local unsigned t_seen_generation = 0;

void adopt_process_setting() {
  const unsigned gen = g_generation.load(std::memory_order_acquire);
  if (gen != t_seen_generation) {
    t_seen_generation = gen;
    omp_set_num_threads(g_requested.load(std::memory_order_relaxed));
  }
}
#endif

}  // namespace

bool in_forked_child() { return g_forked_child; }

int num_threads() {
#ifdef _OPENMP
  if (g_forked_child || omp_in_parallel()) return 1;
  adopt_process_setting();
  const int n = omp_get_max_threads();
  return n > 0 ? n : 1;
#else
  return 1;
#endif
}

void set_num_threads(int n) {
#ifdef _OPENMP
  static std::mutex m;
  std::lock_guard<std::mutex> lock(m);
  g_requested.store(n > 0 ? n : 1, std::memory_order_relaxed);
  g_generation.fetch_add(1, std::memory_order_release);
  adopt_process_setting();
#else
  (void)n;
#endif
}

bool have_openmp() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

const char* openmp_runtime() {
#if defined(_OPENMP) && defined(__linux__)
  static const std::string name = [] {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&omp_get_max_threads), &info) && info.dli_fname) {
      std::string path = info.dli_fname;
      const auto slash = path.find_last_of('/');
      return slash == std::string::npos ? path : path.substr(slash + 1);
    }
    return std::string("unknown OpenMP runtime");
  }();
  return name.c_str();
#elif defined(_OPENMP)
  return "OpenMP (runtime name unknown on this platform)";
#else
  return "none";
#endif
}

}  // namespace nncore
