// Thread count and a parallel_for over an index range that never lets an exception escape OpenMP.
#pragma once
#include <exception>
#include <mutex>

#include "nncore/common.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace nncore {

// Threads a parallel region will use: OpenMP's current setting (OMP_NUM_THREADS, set_num_threads,
// threadpoolctl all act on it), 1 without OpenMP, inside another parallel region or in a forked
// child. Every parallel region must take its size from here (num_threads clause), never default.
int num_threads();
void set_num_threads(int n);
bool have_openmp();
// True in a process forked from one that had loaded nncore: it runs single-threaded.
bool in_forked_child();
// Name of the OpenMP runtime library actually loaded (e.g. "libgomp.so.1"), or "none".
const char* openmp_runtime();

// Runs fn(lo, hi) over [begin, end) split into at most num_threads() contiguous chunks of at least
// `grain` indices. The first exception thrown by any chunk is rethrown on the calling thread.
template <class F>
void parallel_for(index_t begin, index_t end, index_t grain, F&& fn, int nthreads = 0) {
  const index_t n = end - begin;
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  int nt = nthreads > 0 ? nthreads : num_threads();
  const index_t max_chunks = ceil_div(n, grain);
  if (max_chunks < nt) nt = static_cast<int>(max_chunks);
  if (nt <= 1) {
    fn(begin, end);
    return;
  }
#ifdef _OPENMP
  std::exception_ptr error;
  std::mutex error_mutex;
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    const int team = omp_get_num_threads();
    const index_t lo = begin + n * t / team;
    const index_t hi = begin + n * (t + 1) / team;
    try {
      if (lo < hi) fn(lo, hi);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
#else
  fn(begin, end);
#endif
}

}  // namespace nncore
