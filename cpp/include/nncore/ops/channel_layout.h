// Per-channel work on channels-last arrays (rows, cols): bias, batch norm.
//
// With few channels (NHWC conv activations have 8-64) a loop over one row is too short to
// vectorize, so the flat array is re-read as "wide rows" of k consecutive rows, k * cols >= 64
// elements, with per-channel parameters repeated k times. The flat length n = rows * cols splits
// into full wide rows plus one shorter last row whose length is still a multiple of cols, so
// element j of any wide row always belongs to channel j % cols.
#pragma once
#include <stdexcept>

#include "nncore/aligned_buffer.h"
#include "nncore/common.h"
#include "nncore/parallel.h"

namespace nncore::channels {

constexpr index_t kMinWide = 64;
// Elements per thread below which channel ops stay on one thread (memory-bound work).
constexpr index_t kGrainElems = index_t(1) << 15;

struct WideLayout {
  index_t rows = 0, cols = 0;
  index_t wide = 0;       // elements per wide row: cols * k
  index_t full_rows = 0;  // wide rows of length `wide`
  index_t rem = 0;        // length of the last, shorter wide row (0 if none)

  index_t count() const { return full_rows + (rem > 0 ? 1 : 0); }
  index_t length(index_t r) const { return r < full_rows ? wide : rem; }
  index_t grain() const { return wide > 0 ? ceil_div(kGrainElems, wide) : 1; }
};

inline WideLayout wide_layout(index_t rows, index_t cols) {
  WideLayout w;
  w.rows = rows;
  w.cols = cols;
  const index_t k = cols >= kMinWide || cols == 0 ? 1 : ceil_div(kMinWide, cols);
  w.wide = cols * k;
  const index_t n = rows * cols;
  w.full_rows = w.wide > 0 ? n / w.wide : 0;
  w.rem = n - w.full_rows * w.wide;
  return w;
}

// Repeats the per-channel values src[c] (or `fill` when src is null) over a wide row.
template <typename D, typename S>
void expand(const WideLayout& w, const S* src, D fill, D* dst) {
  for (index_t j = 0; j < w.wide; ++j) dst[j] = src ? static_cast<D>(src[j % w.cols]) : fill;
}

// Bump allocation out of this thread's op scratch buffer (grows once per new size, then reused).
// Every piece is rounded up to 8 doubles (64 bytes); reserve 8 extra doubles per piece.
class Workspace {
 public:
  explicit Workspace(std::size_t doubles)
      : base_(scratch(Scratch::op_temp).get<double>(doubles)), capacity_(doubles) {}
  double* take(std::size_t doubles) {
    const std::size_t rounded = (doubles + 7) / 8 * 8;
    if (used_ + rounded > capacity_) throw std::logic_error("nncore: channel workspace too small");
    double* p = base_ + used_;
    used_ += rounded;
    return p;
  }

 private:
  double* base_;
  std::size_t capacity_;
  std::size_t used_ = 0;
};

// Threads channel_sums uses, and the doubles of partial sums it needs for `nacc` accumulators.
inline int channel_sums_threads(const WideLayout& w) {
  int nt = num_threads();
  const index_t nrows = w.count();
  const index_t max_chunks = ceil_div(nrows > 0 ? nrows : 1, w.grain());
  return max_chunks < nt ? static_cast<int>(max_chunks) : nt;
}
inline std::size_t channel_sums_workspace(const WideLayout& w, int nacc) {
  return static_cast<std::size_t>(channel_sums_threads(w) * nacc * w.wide);
}

// Calls k(offset, rows, width) for the wide rows [r0, r1): once for the full-width rows among
// them, once more for the shorter last row if it is included. offset is in elements.
template <class K>
void for_row_blocks(const WideLayout& w, index_t r0, index_t r1, K&& k) {
  const index_t full_end = r1 < w.full_rows ? r1 : w.full_rows;
  if (full_end > r0) k(r0 * w.wide, full_end - r0, w.wide);
  if (w.rem > 0 && r0 <= w.full_rows && r1 > w.full_rows) k(w.full_rows * w.wide, 1, w.rem);
}

// out[a * cols + c] = sum over the rows of accumulator a for channel c, where
// fn(offset, rows, width, acc) adds a block of wide rows into acc[a * wide + j]. Rows are split
// over threads, each into its own zeroed partial; partials are added in thread order, so the
// result depends only on the data and the thread count. Sums are kept in double. `part` holds
// channel_sums_workspace(w, nacc) doubles.
template <class BlockFn>
void channel_sums(const WideLayout& w, int nacc, double* part, double* out, BlockFn&& fn) {
  const index_t width = nacc * w.wide;
  const index_t nrows = w.count();
  const int nt = channel_sums_threads(w);
  parallel_for(
      0, nt, 1,
      [&](index_t lo, index_t hi) {
        for (index_t t = lo; t < hi; ++t) {
          double* acc = part + t * width;
          for (index_t j = 0; j < width; ++j) acc[j] = 0.0;
          for_row_blocks(w, nrows * t / nt, nrows * (t + 1) / nt,
                         [&](index_t off, index_t rows, index_t len) { fn(off, rows, len, acc); });
        }
      },
      nt);
  for (index_t j = 1; j < nt; ++j) {
    const double* p = part + j * width;
    for (index_t i = 0; i < width; ++i) part[i] += p[i];
  }
  for (int a = 0; a < nacc; ++a) {
    double* o = out + a * w.cols;
    for (index_t c = 0; c < w.cols; ++c) o[c] = 0.0;
    const double* p = part + a * w.wide;
    for (index_t j = 0; j < w.wide; ++j) o[j % w.cols] += p[j];
  }
}

// Runs fn(offset, rows, width) over blocks of wide rows, split over threads.
template <class BlockFn>
void for_each_row_block(const WideLayout& w, BlockFn&& fn) {
  parallel_for(0, w.count(), w.grain(), [&](index_t lo, index_t hi) {
    for_row_blocks(w, lo, hi, fn);
  });
}

}  // namespace nncore::channels
