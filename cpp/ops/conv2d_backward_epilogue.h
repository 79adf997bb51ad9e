// What the fused conv2d backward does to grad_y besides the weight gradient: the relu mask and the
// bias sums, in one order whatever the thread count.
#pragma once
#include "nncore/common.h"

namespace nncore::conv {

// relu'(y) * dy as relu_backward_from_output computes it: 1 where y > 0, NaN kept, else 0.
template <typename T>
void mask_relu(const T* dy, const T* y, index_t n, T* out) {
  for (index_t e = 0; e < n; ++e) {
    const T v = y[e];
    out[e] = dy[e] * (v > T(0) ? T(1) : (v != v ? v : T(0)));
  }
}

// Bias sums in float64, pixel by pixel.
template <typename T>
void add_pixels(const T* g, index_t pixels, index_t cout, double* acc) {
  for (index_t p = 0; p < pixels; ++p)
    for (index_t c = 0; c < cout; ++c) acc[c] += static_cast<double>(g[p * cout + c]);
}

// db (+)= the chunks' sums added in chunk order.
template <typename T>
void write_bias(const double* parts, index_t chunks, index_t cout, T* db, bool accumulate) {
  for (index_t c = 0; c < cout; ++c) {
    double s = 0.0;
    for (index_t k = 0; k < chunks; ++k) s += parts[k * cout + c];
    db[c] = accumulate ? static_cast<T>(db[c] + s) : static_cast<T>(s);
  }
}

}  // namespace nncore::conv
