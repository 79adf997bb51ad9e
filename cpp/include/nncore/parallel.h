// Thread count, a parallel_for over an index range that never lets an exception escape OpenMP, and
// its fixed-chunk variants whose results do not depend on the thread count.
#pragma once
#include <exception>
#include <mutex>

#include "nncore/common.h"

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#else
#include <cfenv>
#endif

namespace nncore {

namespace detail {

// The calling thread's floating-point modes (x86: the MXCSR rounding, flush-to-zero and
// denormals-are-zero bits), which every thread of a parallel region takes on for its duration:
// OpenMP workers keep their own modes, so a caller that flushes subnormals (as
// torch.set_flush_denormal does) would otherwise get other bits from two threads than from one.
class FpModes {
 public:
#if defined(__x86_64__) || defined(__i386__)
  FpModes() : csr_(_mm_getcsr()) {}
  bool operator==(const FpModes& o) const { return (csr_ & kModeBits) == (o.csr_ & kModeBits); }
  void apply() const { _mm_setcsr(csr_); }

 private:
  static constexpr unsigned kModeBits = 0xFFC0;  // all but the sticky exception flags
  unsigned csr_;
#else
  FpModes() { std::fegetenv(&env_); }
  bool operator==(const FpModes&) const { return false; }
  void apply() const { std::fesetenv(&env_); }

 private:
  std::fenv_t env_;
#endif
};

// Gives this thread the modes `want` until the end of the scope.
class FpModesScope {
 public:
  explicit FpModesScope(const FpModes& want) : changed_(!(saved_ == want)) {
    if (changed_) want.apply();
  }
  ~FpModesScope() {
    if (changed_) saved_.apply();
  }
  FpModesScope(const FpModesScope&) = delete;
  FpModesScope& operator=(const FpModesScope&) = delete;

 private:
  FpModes saved_;
  bool changed_;
};

}  // namespace detail

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
  const detail::FpModes modes;
#pragma omp parallel num_threads(nt)
  {
    const detail::FpModesScope same_modes(modes);
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

// Deterministic work splitting (DESIGN.md convention 13). parallel_for's ranges move with the
// thread count, which is harmless only when fn's result for an index does not depend on the range
// it arrives in. Whenever it might (a partial sum, a blocked loop, a vector loop's scalar tail),
// the range is cut into chunks whose size comes from the problem alone, fn runs once per chunk,
// and threads take whole chunks: every chunk is computed the same way whatever the thread count,
// only the thread that runs it changes. Partial results are combined in chunk order.

// Most chunks a range is cut into: enough for an even share at 1-4 threads (and more), few enough
// that per-chunk partial results stay small and their sequential combination cheap.
constexpr index_t kMaxChunks = 64;

// The chunk size for n indices: n / kMaxChunks, at least min_chunk, rounded up to a multiple of
// `align` (64 elements keep float and double chunks cache-line aligned, so two threads never
// write the same line). Depends only on its arguments, never on the thread count.
inline index_t fixed_chunk(index_t n, index_t min_chunk, index_t align = 64) {
  index_t c = ceil_div(n > 0 ? n : 1, kMaxChunks);
  if (c < min_chunk) c = min_chunk;
  if (align < 1) align = 1;
  return round_up(c < 1 ? 1 : c, align);
}

// Runs fn(chunk_index, lo, hi) for every chunk [lo, hi) of [0, n) cut every `chunk` indices (the
// last one shorter), on at most num_threads() threads with about `grain` indices or more each.
template <class F>
void parallel_for_chunks(index_t n, index_t chunk, index_t grain, F&& fn) {
  if (n <= 0) return;
  if (n <= chunk) {  // one chunk: no divisions, no parallel region (tiny calls are common)
    fn(index_t(0), index_t(0), n);
    return;
  }
  if (chunk < 1) chunk = 1;
  const index_t nchunks = ceil_div(n, chunk);
  parallel_for(0, nchunks, ceil_div(grain > 0 ? grain : 1, chunk), [&](index_t c0, index_t c1) {
    for (index_t c = c0; c < c1; ++c) {
      const index_t lo = c * chunk;
      fn(c, lo, n - lo < chunk ? n : lo + chunk);
    }
  });
}

// Independent work over [0, n) in fixed chunks of about grain / 8 indices or more (an even share
// at any thread count), fn(lo, hi) once per chunk, threads only from `grain` indices each. Chunks
// are multiples of `align` indices (64 for elements; rows of a matrix may use 1).
template <class F>
void parallel_for_fixed(index_t n, index_t grain, F&& fn, index_t align = 64) {
  parallel_for_chunks(n, fixed_chunk(n, grain / 8, align), grain,
                      [&](index_t, index_t lo, index_t hi) { fn(lo, hi); });
}

// The sum of fn(lo, hi) (a double) over the chunks of fixed_chunk(n, min_chunk, align), added in
// chunk order on the calling thread.
template <class F>
double parallel_sum_chunks(index_t n, index_t min_chunk, index_t align, index_t grain, F&& fn) {
  const index_t chunk = fixed_chunk(n, min_chunk, align);
  if (n <= chunk) return fn(index_t(0), n > 0 ? n : index_t(0));
  double partial[kMaxChunks];  // fixed_chunk never makes more than kMaxChunks chunks
  parallel_for_chunks(n, chunk, grain,
                      [&](index_t c, index_t lo, index_t hi) { partial[c] = fn(lo, hi); });
  double total = partial[0];
  for (index_t c = 1, nchunks = ceil_div(n, chunk); c < nchunks; ++c) total += partial[c];
  return total;
}

}  // namespace nncore
