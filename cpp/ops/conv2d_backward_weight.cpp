// conv2d backward-weight: dw[i, j, ci, co] = sum over (n, oh, ow) of
// x[n, oh*sh - pt + i*dh, ow*sw - pl + j*dw, ci] * dy[n, oh, ow, co].
//
// Split over weight tiles: the dw columns k of every run are cut into slices, and a thread owns
// a contiguous set of slices for every pixel, summing each dw element itself as one chain of
// multiply-adds in pixel order (kernel tiles do not change that order, so neither does the cut).
// Only layers with too few slices for the threads a machine may have (kPlannedThreads) also cut
// the (image, output row) pairs into a few chunks, a number fixed by the problem size, each chunk
// into its own copy of dw (the first into dw itself), added in chunk order: the bits never depend
// on the thread count. The weight rows of one kernel row i are contiguous in the padded input when
// dil_w == 1 (kw * cin values side by side), else per tap (cin values): the wgrad kernel takes one
// such run at a time.
//
// The fused form also applies relu'(y) to dy and sums the bias gradient while each chunk of dy
// rows streams through: the thread owning a chunk's first slice writes the masked rows and adds
// them to the bias sums; the others mask the rows into a private buffer that stays in L2.
#include <cstring>
#include <vector>

#include "conv2d_backward_epilogue.h"
#include "conv2d_internal.h"
#include "conv2d_wgrad_winograd.h"
#include "nncore/aligned_buffer.h"
#include "nncore/ops/conv2d.h"

namespace nncore {
namespace {

// The most threads the split plans for: a layer whose runs give at least this many slices is
// never cut into pixel chunks. Slices keep at least kMinSliceCols columns of every run (a thread
// merges the consecutive slices it gets, so this only bounds how finely many threads can share).
constexpr index_t kPlannedThreads = 16;
constexpr index_t kMinSliceCols = 4;
constexpr index_t kMaxSlices = 64;

// At most this many chunks (so at most this many partial sums per dw element, and copies of dw),
// each worth a thread's minimum share of work, and their copies past dw itself within this many
// bytes.
constexpr index_t kMaxChunks = 8;
constexpr double kMinChunkWork = 4.0e4;
constexpr index_t kPartialBytes = index_t(4) << 20;

index_t partial_chunks(index_t want, double work, index_t rows, index_t dw_bytes) {
  index_t c = std::min({kMaxChunks, rows, want});
  if (work < double(c) * kMinChunkWork) c = std::max<index_t>(1, static_cast<index_t>(work / kMinChunkWork));
  return std::max<index_t>(1, std::min<index_t>(c, 1 + kPartialBytes / std::max<index_t>(1, dw_bytes)));
}

}  // namespace

template <typename T>
void conv2d_backward_weight_fused(const Conv2dGeometry& g, const T* x, const T* dy, const T* relu_y, T* dw,
                                  bool accumulate, T* db, bool db_accumulate, T* dy_out) {
  const index_t ksize = g.kh * g.kw * g.cin * g.cout;
  const index_t rows = g.n * g.out_h;
  const index_t dy_rs = g.out_w * g.cout;
  if (ksize == 0 || rows == 0 || g.out_w == 0) {
    if (ksize != 0 && !accumulate) std::memset(dw, 0, static_cast<std::size_t>(ksize) * sizeof(T));
    if (relu_y && dy_out) conv::mask_relu(dy, relu_y, rows * dy_rs, dy_out);
    if (db) {
      std::vector<double> sums(static_cast<std::size_t>(g.cout), 0.0);
      conv::add_pixels(relu_y && dy_out ? dy_out : dy, rows * g.out_w, g.cout, sums.data());
      if (relu_y && !dy_out) {  // rows masked on the fly
        std::fill(sums.begin(), sums.end(), 0.0);
        std::vector<T> row(static_cast<std::size_t>(dy_rs));
        for (index_t r = 0; r < rows; ++r) {
          conv::mask_relu(dy + r * dy_rs, relu_y + r * dy_rs, dy_rs, row.data());
          conv::add_pixels(row.data(), g.out_w, g.cout, sums.data());
        }
      }
      conv::write_bias(sums.data(), 1, g.cout, db, db_accumulate);
    }
    return;
  }
  // winograd_enabled(): the user's switch (set_winograd, NNCORE_WINOGRAD) covers every Winograd
  // path; conv2d_wgrad_winograd_enabled() turns off this one alone.
  if (conv::wgrad_winograd_applies<T>(g) && conv2d_wgrad_winograd_enabled() && winograd_enabled() &&
      conv::kernels_for<T>().wino_input)
    return conv::wgrad_winograd(g, x, dy, relu_y, dw, accumulate, db, db_accumulate, dy_out);
  const ConvKernels<T>& kern = conv::kernels_for<T>();
  const bool padded = g.pad_top || g.pad_bottom || g.pad_left || g.pad_right;
  const index_t cols = padded ? (g.out_w - 1) * g.stride_w + (g.kw - 1) * g.dil_w + 1 : g.w;
  const index_t rs = cols * g.cin;
  const bool row_runs = g.dil_w == 1;
  const index_t run_len = row_runs ? g.kw * g.cin : g.cin;
  const index_t run_dw = run_len * g.cout;
  const index_t total_runs = ksize / run_dw;

  // Output rows per kernel call: each register tile of dw streams these rows of x and dy once, so
  // more rows amortize loading and storing the tile; they stream from L2 at a fraction of its
  // bandwidth (measured: 1 row of a 64->64 layer 5.3, 16 rows 7.3 FMA/ns of 7.7).
  const index_t pixel_bytes = (g.cout + g.stride_w * g.cin) * static_cast<index_t>(sizeof(T));
  const index_t call_rows =
      std::max<index_t>(1, 160 * 1024 / std::max<index_t>(1, pixel_bytes * g.out_w));
  const index_t row_bytes = rs * static_cast<index_t>(sizeof(T));
  // With relu, the masked grad_y rows of a chunk share the budget: they too should stay in L2
  // until the last tile of the chunk has read them.
  const index_t masked_bytes = relu_y ? dy_rs * static_cast<index_t>(sizeof(T)) : 0;
  const index_t chunk_rows = std::max<index_t>(
      1, static_cast<index_t>(conv::kPaddedChunkBytes) /
             std::max<index_t>(1, row_bytes * g.stride_h + masked_bytes));

  // Stride-1 rows can instead pair each input row with the kernel rows * grad_y rows it meets
  // (input row q of the chunk serves grad_y row q - i*dil_h through kernel row i): one call covers
  // the rows where every kernel row has its grad_y row inside the chunk, and the pairs left at the
  // chunk's edges go kernel row by kernel row. drows holds grad_y rows [oh0, oh1).
  const bool dy_runs = row_runs && g.stride_h == 1 && g.kh > 1 && kern.wgrad_prefers_dy_runs &&
                       kern.wgrad_prefers_dy_runs(g.cout);
  auto rows_along_dy = [&](ConvWgradArgs<T> a, const T* base, const T* drows, index_t oh0, index_t oh1,
                           T* acc) {
    const index_t reach = (g.kh - 1) * g.dil_h;  // input rows a grad_y row reaches past its own
    // Whole pairs: input rows q in [oh0 + reach, oh1) (as grad_y row numbers).
    a.nruns = g.kh;
    a.run_x = 0;
    a.run_dy = -g.dil_h * a.dy_rs;
    a.dw = acc;
    for (index_t q = oh0 + reach; q < oh1; q += call_rows) {
      a.rows = std::min(call_rows, oh1 - q);
      a.x = base + (q - oh0) * rs;
      a.dy = drows + (q - oh0) * a.dy_rs;
      kern.wgrad(a);
    }
    // Edges: kernel row i pairs grad_y rows [oh0, lo_i) and [hi_i, oh1) with input rows oh + i*dil_h.
    a.nruns = 1;
    a.run_dy = 0;
    for (index_t i = 0; i < g.kh; ++i) {
      const index_t lo_i = oh0 + reach - i * g.dil_h, hi_i = oh1 - i * g.dil_h;
      auto edge = [&](index_t from, index_t to) {
        for (index_t oc = from; oc < to; oc += call_rows) {
          a.rows = std::min(call_rows, to - oc);
          a.x = base + (oc - oh0 + i * g.dil_h) * rs;
          a.dy = drows + (oc - oh0) * a.dy_rs;
          a.dw = acc + i * run_dw;
          kern.wgrad(a);
        }
      };
      if (lo_i >= hi_i) {
        edge(oh0, oh1);
      } else {
        edge(oh0, std::min(lo_i, oh1));
        edge(std::max(hi_i, oh0), oh1);
      }
    }
  };

  // Rows [lo, hi) into acc, dw columns [k0, k1) of every run (x and dw shifted by k0 columns).
  // The owner of a chunk (the thread with its first columns) writes the masked grad_y rows and
  // adds them to the bias sums `bias_acc`.
  auto run_share = [&](index_t lo, index_t hi, index_t k0, index_t k1, T* acc, double* bias_acc) {
    const bool owner = k0 == 0;
    ConvWgradArgs<T> a{};
    a.x_px = g.stride_w * g.cin;
    a.x_rs = g.stride_h * rs;
    a.dy_rs = dy_rs;
    a.cols = g.out_w;
    a.len = k1 - k0;
    a.nruns = row_runs ? g.kh : g.kw;
    a.run_x = row_runs ? g.dil_h * rs : g.dil_w * g.cin;
    a.run_dy = 0;
    a.run_dw = run_dw;
    a.cout = g.cout;
    acc += k0 * g.cout;
    for (index_t r = lo; r < hi;) {
      const index_t n = r / g.out_h;
      const index_t oh0 = r % g.out_h;
      const index_t oh1 = std::min({g.out_h, oh0 + (hi - r), oh0 + chunk_rows});
      const T* img = x + n * g.h * g.w * g.cin;
      const T* base;
      if (padded) {
        const index_t row0 = oh0 * g.stride_h - g.pad_top;
        const index_t nrows = (oh1 - 1 - oh0) * g.stride_h + (g.kh - 1) * g.dil_h + 1;
        T* buf = scratch(Scratch::conv_im2col).get<T>(static_cast<std::size_t>(nrows * rs));
        conv::copy_padded(img, g.h, g.w, g.cin, row0, nrows, -g.pad_left, cols, buf);
        base = buf + k0;
      } else {
        base = img + oh0 * g.stride_h * rs + k0;
      }
      const index_t first = (n * g.out_h + oh0) * dy_rs;  // grad_y row oh0 of image n
      const index_t nvals = (oh1 - oh0) * dy_rs;
      const T* drows = dy + first;
      if (relu_y) {
        T* dst = owner && dy_out ? dy_out + first
                                 : scratch(Scratch::conv_col_grad).get<T>(static_cast<std::size_t>(nvals));
        conv::mask_relu(dy + first, relu_y + first, nvals, dst);
        drows = dst;
      }
      if (owner && bias_acc) conv::add_pixels(drows, (oh1 - oh0) * g.out_w, g.cout, bias_acc);
      if (dy_runs) {
        rows_along_dy(a, base, drows, oh0, oh1, acc);
      } else {
        for (index_t oc = oh0; oc < oh1; oc += call_rows) {
          a.rows = std::min(call_rows, oh1 - oc);
          a.dy = drows + (oc - oh0) * a.dy_rs;
          const T* xr = base + (oc - oh0) * g.stride_h * rs;
          if (row_runs) {  // one run per kernel row, dil_h rows apart
            a.x = xr;
            a.dw = acc;
            kern.wgrad(a);
          } else {  // one run per tap: kernel rows in turn, each with kw runs dil_w pixels apart
            for (index_t i = 0; i < g.kh; ++i) {
              a.x = xr + i * g.dil_h * rs;
              a.dw = acc + i * g.kw * run_dw;
              kern.wgrad(a);
            }
          }
        }
      }
      r += oh1 - oh0;
    }
  };

  // The plan depends on the problem alone: slices of every run's columns, and pixel chunks only
  // when the slices are too few for kPlannedThreads threads.
  const double work = double(rows) * g.out_w * double(ksize);
  const index_t slices = std::clamp<index_t>(run_len / kMinSliceCols, 1, kMaxSlices);
  const index_t chunks = slices >= kPlannedThreads
                             ? 1
                             : partial_chunks(ceil_div(kPlannedThreads, slices), work, rows,
                                              ksize * static_cast<index_t>(sizeof(T)));
  const int nt = conv::threads_for(work, chunks * slices);
  const index_t part_size = round_up(ksize, 16);
  T* parts = chunks > 1 ? scratch(Scratch::op_temp).get<T>(static_cast<std::size_t>((chunks - 1) * part_size))
                        : nullptr;
  std::vector<double> bias_parts(db ? static_cast<std::size_t>(chunks * g.cout) : 0, 0.0);
  // Chunk c, slices [s0, s1): one pass over the chunk's pixels for all those columns.
  auto piece = [&](index_t c, index_t s0, index_t s1) {
    const index_t k0 = run_len * s0 / slices, k1 = run_len * s1 / slices;
    T* acc = c == 0 ? dw : parts + (c - 1) * part_size;
    if (c > 0 || !accumulate)
      for (index_t u = 0; u < total_runs; ++u)
        std::memset(acc + u * run_dw + k0 * g.cout, 0,
                    static_cast<std::size_t>((k1 - k0) * g.cout) * sizeof(T));
    run_share(rows * c / chunks, rows * (c + 1) / chunks, k0, k1, acc,
              db ? bias_parts.data() + c * g.cout : nullptr);
  };
  parallel_for(
      0, chunks * slices, 1,
      [&](index_t p0, index_t p1) {
        for (index_t p = p0; p < p1;) {
          const index_t c = p / slices, s0 = p % slices;
          const index_t s1 = std::min(slices, s0 + (p1 - p));
          piece(c, s0, s1);
          p += s1 - s0;
        }
      },
      nt);
  if (db) conv::write_bias(bias_parts.data(), chunks, g.cout, db, db_accumulate);
  if (chunks == 1) return;

  // dw += copy 1 + copy 2 + ... in that order for every element, in blocks that stay in L1.
  constexpr index_t kBlock = 2048;
  const index_t nblocks = ceil_div(ksize, kBlock);
  parallel_for(
      0, nblocks, 1,
      [&](index_t b0, index_t b1) {
        for (index_t b = b0; b < b1; ++b) {
          const index_t e0 = b * kBlock, e1 = std::min(ksize, e0 + kBlock);
          for (index_t c = 1; c < chunks; ++c) {
            const T* part = parts + (c - 1) * part_size;
            for (index_t e = e0; e < e1; ++e) dw[e] += part[e];
          }
        }
      },
      conv::threads_for(double(ksize) * double(chunks - 1) / 4.0, nblocks));
}

template <typename T>
void conv2d_backward_weight(const Conv2dGeometry& g, const T* x, const T* dy, T* dw, bool accumulate) {
  conv2d_backward_weight_fused<T>(g, x, dy, nullptr, dw, accumulate, nullptr, false, nullptr);
}

template void conv2d_backward_weight<float>(const Conv2dGeometry&, const float*, const float*, float*,
                                            bool);
template void conv2d_backward_weight<double>(const Conv2dGeometry&, const double*, const double*,
                                             double*, bool);
template void conv2d_backward_weight_fused<float>(const Conv2dGeometry&, const float*, const float*,
                                                  const float*, float*, bool, float*, bool, float*);
template void conv2d_backward_weight_fused<double>(const Conv2dGeometry&, const double*, const double*,
                                                   const double*, double*, bool, double*, bool, double*);

}  // namespace nncore
