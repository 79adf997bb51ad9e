// Average pooling: each output is the mean of the input elements inside its window (padding is
// not counted, as in Keras with padding="same"); the backward pass spreads the gradient back.
#include <cstring>

#include "pool2d_internal.h"

namespace nncore {

template <typename T>
void avg_pool2d_forward(const Pool2dGeometry& g, const T* x, T* y) {
  const index_t rows = g.n * g.out_h;
  if (rows == 0 || g.out_w == 0 || g.c == 0) return;
  const PoolKernels<T>& kern = pool::kernels_for<T>();
  const index_t image = g.h * g.w * g.c;
  const index_t orow = g.out_w * g.c;
  const double bytes = double(g.n) * image * sizeof(T);
  parallel_for(
      0, rows, 1,
      [&](index_t lo, index_t hi) {
        for (index_t r = lo; r < hi; ++r) {
          const index_t n = r / g.out_h, oh = r % g.out_h;
          const pool::Span rs = pool::window(oh, g.stride_h, g.pad_top, g.pool_h, g.h);
          kern.avg_row(PoolRowArgs<T>{x + n * image, g.w, g.c, rs.lo, rs.hi, g.out_w, g.pool_w,
                                      g.stride_w, g.pad_left, y + r * orow, nullptr});
        }
      },
      pool::threads_for(bytes, rows));
}

template <typename T>
void avg_pool2d_backward(const Pool2dGeometry& g, const T* dy, T* dx) {
  if (g.n == 0 || g.h == 0 || g.w == 0 || g.c == 0) return;
  const index_t image = g.h * g.w * g.c;
  const index_t row = g.w * g.c;
  const pool::Units units = pool::backward_units(g);
  const double bytes = double(g.n) * image * sizeof(T);
  if (units.bands && g.stride_w >= g.pool_w) {
    // Windows that do not overlap: every dx element of a band is written once, no zeroing pass.
    const PoolKernels<T>& kern = pool::kernels_for<T>();
    const index_t orow = g.out_w * g.c;
    parallel_for(
        0, units.count, 1,
        [&](index_t u0, index_t u1) {
          pool::for_units(g, units, u0, u1, [&](index_t n, index_t oh, index_t, index_t r0, index_t r1) {
            const pool::Span rs = pool::window(oh, g.stride_h, g.pad_top, g.pool_h, g.h);
            kern.back_row(PoolBackRowArgs<T>{dy + (n * g.out_h + oh) * orow, nullptr, dx + n * image,
                                             g.h, g.w, g.c, r0, r1, rs.lo, rs.hi, g.out_w, g.pool_w,
                                             g.stride_w, g.pad_left});
          });
        },
        pool::threads_for(bytes, units.count));
    return;
  }
  parallel_for(
      0, units.count, 1,
      [&](index_t u0, index_t u1) {
        pool::for_units(g, units, u0, u1, [&](index_t n, index_t oh0, index_t oh1, index_t r0, index_t r1) {
          T* dimg = dx + n * image;
          std::memset(dimg + r0 * row, 0, static_cast<std::size_t>((r1 - r0) * row) * sizeof(T));
          for (index_t oh = oh0; oh < oh1; ++oh) {
            const pool::Span rs = pool::window(oh, g.stride_h, g.pad_top, g.pool_h, g.h);
            for (index_t ow = 0; ow < g.out_w; ++ow) {
              const pool::Span cs = pool::window(ow, g.stride_w, g.pad_left, g.pool_w, g.w);
              const T* gy = dy + ((n * g.out_h + oh) * g.out_w + ow) * g.c;
              const T scale = T(1) / static_cast<T>((rs.hi - rs.lo) * (cs.hi - cs.lo));
              for (index_t i = rs.lo; i < rs.hi; ++i)
                for (index_t j = cs.lo; j < cs.hi; ++j) {
                  T* d = dimg + (i * g.w + j) * g.c;
                  for (index_t c = 0; c < g.c; ++c) d[c] += gy[c] * scale;
                }
            }
          }
        });
      },
      pool::threads_for(bytes, units.count));
}

template void avg_pool2d_forward<float>(const Pool2dGeometry&, const float*, float*);
template void avg_pool2d_forward<double>(const Pool2dGeometry&, const double*, double*);
template void avg_pool2d_backward<float>(const Pool2dGeometry&, const float*, float*);
template void avg_pool2d_backward<double>(const Pool2dGeometry&, const double*, double*);

}  // namespace nncore
