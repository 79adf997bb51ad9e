// Average pooling: each output is the mean of the input elements inside its window (padding is
// not counted, as in Keras with padding="same"); the backward pass spreads the gradient back.
#include <cstring>

#include "pool2d_internal.h"

namespace nncore {

template <typename T>
void avg_pool2d_forward(const Pool2dGeometry& g, const T* x, T* y) {
  const index_t rows = g.n * g.out_h;
  if (rows == 0 || g.out_w == 0 || g.c == 0) return;
  const index_t image = g.h * g.w * g.c;
  const double bytes = double(g.n) * image * sizeof(T);
  parallel_for(
      0, rows, 1,
      [&](index_t lo, index_t hi) {
        for (index_t r = lo; r < hi; ++r) {
          const index_t n = r / g.out_h, oh = r % g.out_h;
          const pool::Span rs = pool::window(oh, g.stride_h, g.pad_top, g.pool_h, g.h);
          const T* img = x + n * image;
          for (index_t ow = 0; ow < g.out_w; ++ow) {
            const pool::Span cs = pool::window(ow, g.stride_w, g.pad_left, g.pool_w, g.w);
            T* out = y + (r * g.out_w + ow) * g.c;
            const T scale = T(1) / static_cast<T>((rs.hi - rs.lo) * (cs.hi - cs.lo));
            std::memset(out, 0, static_cast<std::size_t>(g.c) * sizeof(T));
            for (index_t i = rs.lo; i < rs.hi; ++i)
              for (index_t j = cs.lo; j < cs.hi; ++j) {
                const T* v = img + (i * g.w + j) * g.c;
                for (index_t c = 0; c < g.c; ++c) out[c] += v[c];
              }
            for (index_t c = 0; c < g.c; ++c) out[c] *= scale;
          }
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
