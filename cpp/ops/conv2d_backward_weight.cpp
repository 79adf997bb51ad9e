// conv2d backward-weight: dw[i, j, ci, co] = sum over (n, oh, ow) of
// x[n, oh*sh - pt + i*dh, ow*sw - pl + j*dw, ci] * dy[n, oh, ow, co].
//
// A reduction over every output pixel: each thread accumulates its share of (image, output row)
// into a private copy of dw, and the copies are summed in a fixed order at the end (results do not
// depend on scheduling). The weight rows of one kernel row i are contiguous in the padded input
// when dil_w == 1 (kw * cin values side by side), else per tap (cin values): the wgrad kernel
// takes one such run at a time.
#include <cstring>

#include "conv2d_internal.h"
#include "nncore/aligned_buffer.h"
#include "nncore/ops/conv2d.h"

namespace nncore {

template <typename T>
void conv2d_backward_weight(const Conv2dGeometry& g, const T* x, const T* dy, T* dw, bool accumulate) {
  const index_t ksize = g.kh * g.kw * g.cin * g.cout;
  if (ksize == 0) return;
  const index_t rows = g.n * g.out_h;
  if (rows == 0 || g.out_w == 0) {
    if (!accumulate) std::memset(dw, 0, static_cast<std::size_t>(ksize) * sizeof(T));
    return;
  }
  const ConvKernels<T>& kern = conv::kernels_for<T>();
  const bool padded = g.pad_top || g.pad_bottom || g.pad_left || g.pad_right;
  const index_t cols = padded ? (g.out_w - 1) * g.stride_w + (g.kw - 1) * g.dil_w + 1 : g.w;
  const index_t rs = cols * g.cin;
  const bool row_runs = g.dil_w == 1;
  const index_t run_len = row_runs ? g.kw * g.cin : g.cin;

  // Output rows per kernel call: enough pixels to amortize loading the dw tile, few enough that
  // the rows of x and dy stay in L1 across the tiles of a run.
  const index_t pixel_bytes = (g.cout + g.stride_w * g.cin) * static_cast<index_t>(sizeof(T));
  const index_t call_rows = std::max<index_t>(1, 24 * 1024 / std::max<index_t>(1, pixel_bytes * g.out_w));
  const index_t row_bytes = rs * static_cast<index_t>(sizeof(T));
  const index_t chunk_rows = std::max<index_t>(
      1, static_cast<index_t>(conv::kPaddedChunkBytes) / std::max<index_t>(1, row_bytes * g.stride_h));

  const double work = double(rows) * g.out_w * double(ksize);
  const int nt = conv::threads_for(work, rows);
  const index_t part_size = round_up(ksize, 16);
  T* parts = nt > 1 ? scratch(Scratch::op_temp).get<T>(static_cast<std::size_t>(nt * part_size)) : nullptr;

  auto run_share = [&](index_t lo, index_t hi, T* acc) {
    ConvWgradArgs<T> a{};
    a.x_px = g.stride_w * g.cin;
    a.x_rs = g.stride_h * rs;
    a.dy_rs = g.out_w * g.cout;
    a.cols = g.out_w;
    a.len = run_len;
    a.nruns = row_runs ? g.kh : g.kw;
    a.run_x = row_runs ? g.dil_h * rs : g.dil_w * g.cin;
    a.run_dw = run_len * g.cout;
    a.cout = g.cout;
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
        base = buf;
      } else {
        base = img + oh0 * g.stride_h * rs;
      }
      for (index_t oc = oh0; oc < oh1; oc += call_rows) {
        a.rows = std::min(call_rows, oh1 - oc);
        a.dy = dy + (n * g.out_h + oc) * g.out_w * g.cout;
        const T* xr = base + (oc - oh0) * g.stride_h * rs;
        if (row_runs) {  // one run per kernel row, dil_h rows apart
          a.x = xr;
          a.dw = acc;
          kern.wgrad(a);
        } else {  // one run per tap: kernel rows in turn, each with kw runs dil_w pixels apart
          for (index_t i = 0; i < g.kh; ++i) {
            a.x = xr + i * g.dil_h * rs;
            a.dw = acc + i * g.kw * run_len * g.cout;
            kern.wgrad(a);
          }
        }
      }
      r += oh1 - oh0;
    }
  };

  if (nt <= 1) {
    if (!accumulate) std::memset(dw, 0, static_cast<std::size_t>(ksize) * sizeof(T));
    run_share(0, rows, dw);
    return;
  }
  parallel_for(
      0, nt, 1,
      [&](index_t t0, index_t t1) {
        for (index_t t = t0; t < t1; ++t) {
          T* acc = parts + t * part_size;
          std::memset(acc, 0, static_cast<std::size_t>(ksize) * sizeof(T));
          run_share(rows * t / nt, rows * (t + 1) / nt, acc);
        }
      },
      nt);
  for (index_t e = 0; e < ksize; ++e) {
    T s = accumulate ? dw[e] : T(0);
    for (int t = 0; t < nt; ++t) s += parts[t * part_size + e];
    dw[e] = s;
  }
}

template void conv2d_backward_weight<float>(const Conv2dGeometry&, const float*, const float*, float*,
                                            bool);
template void conv2d_backward_weight<double>(const Conv2dGeometry&, const double*, const double*,
                                             double*, bool);

}  // namespace nncore
