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

// Channel sums run on a grid of tasks fixed by the shape alone (DESIGN.md convention 13):
//  - row chunks of chunk_rows wide rows, each summed into its own zeroed double partial; the
//    partials are added by a fixed pairwise tree (below). chunk_rows is a multiple of 8
//    (sum_fast's groups of 8 rows stay in place) and at least 64, so adding the partials costs at
//    most 1/64 of the sum itself;
//  - column blocks, which never change a result (every column is one chain of its chunk's rows)
//    but let wide rows with few rows (Dense gradients: 32 x 4096) use threads without partials.
constexpr index_t kMinChunkRows = 64;
// Smallest row chunk, in elements: the per-thread grain, so that a sum big enough for two threads
// has two chunks, and no smaller (each chunk costs a kernel call, a zeroed partial and an add).
constexpr index_t kChunkElems = kGrainElems;
constexpr index_t kMaxRowChunks = 16;
constexpr index_t kMinColBlock = 256;  // column blocks of 1 KiB (float) or more
constexpr index_t kMaxColBlocks = 8;

struct SumGrid {
  index_t chunk_rows = 1, row_chunks = 0;  // wide rows per row chunk, row chunks
  index_t col_block = 1, col_blocks = 0;   // elements per column block, column blocks

  index_t tasks() const { return row_chunks * col_blocks; }
};

inline SumGrid sum_grid(const WideLayout& w) {
  SumGrid g;
  const index_t nrows = w.count();
  if (nrows == 0 || w.wide == 0) return g;
  if (nrows * w.wide <= kChunkElems) {  // one task, found without a division (tiny calls)
    g.chunk_rows = nrows;
    g.row_chunks = 1;
    g.col_block = w.wide;
    g.col_blocks = 1;
    return g;
  }
  index_t rows = ceil_div(kChunkElems, w.wide);
  if (rows < kMinChunkRows) rows = kMinChunkRows;
  if (rows < ceil_div(nrows, kMaxRowChunks)) rows = ceil_div(nrows, kMaxRowChunks);
  g.chunk_rows = round_up(rows, 8);
  g.row_chunks = ceil_div(nrows, g.chunk_rows);
  g.col_block = w.wide;
  if (w.wide >= 2 * kMinColBlock) {
    const index_t b = ceil_div(w.wide, kMaxColBlocks);
    g.col_block = round_up(b > kMinColBlock ? b : kMinColBlock, 64);
  }
  g.col_blocks = ceil_div(w.wide, g.col_block);
  return g;
}

// Doubles of partial sums channel_sums needs for `nacc` accumulators.
inline std::size_t channel_sums_workspace(const WideLayout& w, int nacc) {
  return static_cast<std::size_t>(sum_grid(w).row_chunks * nacc * w.wide);
}

// Calls k(offset, rows, width) for the wide rows [r0, r1): once for the full-width rows among
// them, once more for the shorter last row if it is included. offset is in elements.
template <class K>
void for_row_blocks(const WideLayout& w, index_t r0, index_t r1, K&& k) {
  const index_t full_end = r1 < w.full_rows ? r1 : w.full_rows;
  if (full_end > r0) k(r0 * w.wide, full_end - r0, w.wide);
  if (w.rem > 0 && r0 <= w.full_rows && r1 > w.full_rows) k(w.full_rows * w.wide, 1, w.rem);
}

// A block of the data for a sum kernel: `rows` rows of `width` elements starting at element
// `offset`, rows `ld` elements apart, covering columns [col, col + width) of the wide row.
struct SumBlock {
  index_t offset, col, rows, width, ld;
};

// The row-chunk partials of one column block, added by a fixed pairwise tree: node [lo, hi) of
// row chunks is node [lo, mid) plus node [mid, hi), mid = lo + (hi - lo) / 2, kept in the partial
// of chunk lo. The same additions whoever performs them: each thread adds the nodes whose chunks
// it computed itself while they are in its cache (at 2 or 4 threads that is all but the top), and
// the calling thread adds the few nodes left, reading few partials from other cores.
struct PartialTree {
  double* part;
  index_t width, wide;  // doubles per row chunk's partial (nacc * wide), per accumulator
  int nacc;
  index_t j0, j1;       // the column block

  void add(index_t dst, index_t src) const {
    for (int a = 0; a < nacc; ++a) {
      double* d = part + dst * width + a * wide;
      const double* p = part + src * width + a * wide;
      for (index_t j = j0; j < j1; ++j) d[j] += p[j];
    }
  }
  // Node [lo, hi), every chunk of it computed (all on this thread).
  void reduce(index_t lo, index_t hi) const {
    if (hi - lo < 2) return;
    const index_t mid = lo + (hi - lo) / 2;
    reduce(lo, mid);
    reduce(mid, hi);
    add(lo, mid);
  }
  // On a thread that computed chunks [a, b): adds the largest nodes of [lo, hi) inside [a, b) and
  // records in done[n] the end of the node it left in partial n.
  void reduce_inside(index_t lo, index_t hi, index_t a, index_t b, index_t* done) const {
    if (hi <= a || lo >= b) return;
    if (a <= lo && hi <= b) {
      reduce(lo, hi);
      done[lo] = hi;
      return;
    }
    const index_t mid = lo + (hi - lo) / 2;
    reduce_inside(lo, mid, a, b, done);
    reduce_inside(mid, hi, a, b, done);
  }
  // Afterwards, on one thread: completes node [lo, hi) from what reduce_inside left.
  void finish(index_t lo, index_t hi, const index_t* done) const {
    if (hi - lo < 2 || done[lo] == hi) return;
    const index_t mid = lo + (hi - lo) / 2;
    finish(lo, mid, done);
    finish(mid, hi, done);
    add(lo, mid);
  }
};

// The tasks of a grid of more than one: partial sums of every row chunk into
// part[chunk * nacc * wide + a * wide + j], added up by the tree into chunk 0's.
template <class BlockFn>
void sum_tasks(const WideLayout& w, const SumGrid& g, int nacc, double* part, BlockFn& fn) {
  const index_t width = nacc * w.wide;
  const index_t nrows = w.count();
  const index_t nr = g.row_chunks;
  const auto tree = [&](index_t cb) {
    const index_t j0 = cb * g.col_block;
    const index_t j1 = w.wide - j0 < g.col_block ? w.wide : j0 + g.col_block;
    return PartialTree{part, width, w.wide, nacc, j0, j1};
  };
  index_t done[kMaxRowChunks * kMaxColBlocks];
  for (index_t i = 0; i < g.tasks(); ++i) done[i] = 0;
  // Tasks run column block by column block, so that a thread's tasks of one block are one
  // contiguous range of row chunks.
  const index_t task_elems = g.chunk_rows * g.col_block;
  parallel_for(0, g.tasks(), ceil_div(kGrainElems, task_elems), [&](index_t t0, index_t t1) {
    for (index_t t = t0; t < t1; ++t) {
      const index_t cb = t / nr, rc = t % nr;
      const PartialTree tr = tree(cb);
      double* acc = part + rc * width + tr.j0;
      for (int a = 0; a < nacc; ++a)
        for (index_t j = 0; j < tr.j1 - tr.j0; ++j) acc[a * w.wide + j] = 0.0;
      const index_t r0 = rc * g.chunk_rows;
      const index_t r1 = nrows - r0 < g.chunk_rows ? nrows : r0 + g.chunk_rows;
      for_row_blocks(w, r0, r1, [&](index_t off, index_t rows, index_t len) {
        // The shorter last wide row holds only the columns below its length.
        const index_t hi = tr.j1 < len ? tr.j1 : len;
        if (hi > tr.j0) fn(SumBlock{off + tr.j0, tr.j0, rows, hi - tr.j0, w.wide}, acc);
      });
    }
    for (index_t cb = t0 / nr; cb * nr < t1; ++cb) {
      const index_t a = t0 > cb * nr ? t0 - cb * nr : 0;
      const index_t b = t1 - cb * nr < nr ? t1 - cb * nr : nr;
      tree(cb).reduce_inside(0, nr, a, b, done + cb * nr);
    }
  });
  for (index_t cb = 0; cb < g.col_blocks; ++cb) tree(cb).finish(0, nr, done + cb * nr);
}

// out[a * cols + c] = sum over the rows of accumulator a for channel c, where fn(block, acc) adds
// the block into acc[a * wide + j - block.col] (acc points at the block's first column of
// accumulator 0). Sums are kept in double; the result depends only on the data and the shape.
// `part` holds channel_sums_workspace(w, nacc) doubles.
template <class BlockFn>
void channel_sums(const WideLayout& w, int nacc, double* part, double* out, BlockFn&& fn) {
  const SumGrid g = sum_grid(w);
  if (g.tasks() == 1) {  // one chunk, one block: its partial is the sum
    for (index_t i = 0; i < nacc * w.wide; ++i) part[i] = 0.0;
    for_row_blocks(w, 0, w.count(), [&](index_t off, index_t rows, index_t len) {
      fn(SumBlock{off, 0, rows, len, w.wide}, part);
    });
  } else if (g.tasks() > 1) {
    sum_tasks(w, g, nacc, part, fn);
  }
  // Fold the wide row's k copies of each channel, in order.
  for (int a = 0; a < nacc; ++a) {
    double* o = out + a * w.cols;
    for (index_t c = 0; c < w.cols; ++c) o[c] = 0.0;
    if (g.tasks() == 0) continue;
    const double* p = part + a * w.wide;
    for (index_t j0 = 0; j0 < w.wide; j0 += w.cols)
      for (index_t c = 0; c < w.cols; ++c) o[c] += p[j0 + c];
  }
}

// Runs fn(offset, rows, width) over blocks of wide rows, in chunks of rows fixed by the shape
// (elementwise work: the chunks only keep each kernel call's range independent of the threads).
template <class BlockFn>
void for_each_row_block(const WideLayout& w, BlockFn&& fn) {
  if (w.wide == 0) return;
  if (w.count() * w.wide <= kGrainElems / 8) {  // one chunk (tiny calls: no divisions)
    for_row_blocks(w, 0, w.count(), fn);
    return;
  }
  const index_t chunk = fixed_chunk(w.count(), ceil_div(kGrainElems / 8, w.wide), 1);
  parallel_for_chunks(w.count(), chunk, w.grain(), [&](index_t, index_t lo, index_t hi) {
    for_row_blocks(w, lo, hi, fn);
  });
}

}  // namespace nncore::channels
