// Global average pooling: the mean over all pixels of each image, per channel, and its gradient.
#include <limits>

#include "nncore/aligned_buffer.h"
#include "pool2d_internal.h"

namespace nncore {

template <typename T>
void global_avg_pool2d_forward(index_t n, index_t hw, index_t c, const T* x, T* y) {
  if (n == 0 || c == 0) return;
  // One thread sums an image's pixels in order: the split over images cannot change a result.
  parallel_for(
      0, n, 1,
      [&](index_t lo, index_t hi) {
        // float32 sums run in double: a large image would otherwise lose digits.
        double* acc = scratch(Scratch::op_temp).get<double>(static_cast<std::size_t>(c));
        for (index_t i = lo; i < hi; ++i) {
          for (index_t k = 0; k < c; ++k) acc[k] = 0.0;
          const T* img = x + i * hw * c;
          for (index_t p = 0; p < hw; ++p)
            for (index_t k = 0; k < c; ++k) acc[k] += static_cast<double>(img[p * c + k]);
          // The mean of no pixels is NaN, as in NumPy.
          const double scale = hw > 0 ? 1.0 / static_cast<double>(hw) : std::numeric_limits<double>::quiet_NaN();
          for (index_t k = 0; k < c; ++k) y[i * c + k] = static_cast<T>(acc[k] * scale);
        }
      },
      pool::threads_for(double(n) * hw * c * sizeof(T), n));
}

template <typename T>
void global_avg_pool2d_backward(index_t n, index_t hw, index_t c, const T* dy, T* dx) {
  const index_t rows = n * hw;
  if (rows == 0 || c == 0) return;
  const T scale = T(1) / static_cast<T>(hw);
  parallel_for(
      0, rows, 1,
      [&](index_t lo, index_t hi) {
        for (index_t r = lo; r < hi; ++r) {
          const T* g = dy + (r / hw) * c;
          T* d = dx + r * c;
          for (index_t k = 0; k < c; ++k) d[k] = g[k] * scale;
        }
      },
      pool::threads_for(double(rows) * c * sizeof(T), rows));
}

template void global_avg_pool2d_forward<float>(index_t, index_t, index_t, const float*, float*);
template void global_avg_pool2d_forward<double>(index_t, index_t, index_t, const double*, double*);
template void global_avg_pool2d_backward<float>(index_t, index_t, index_t, const float*, float*);
template void global_avg_pool2d_backward<double>(index_t, index_t, index_t, const double*, double*);

}  // namespace nncore
