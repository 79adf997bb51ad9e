// Softmax / log-softmax of contiguous rows.
// Internal linkage, builtins only: compiled once per ISA through eltwise_kernels_impl.h.
#pragma once
#include <cstddef>

#include "nncore/kernels/eltwise_math.h"
#include "nncore/kernels/simd_pragma.h"

namespace nncore {
namespace {

inline float log_of(float x) { return __builtin_logf(x); }
inline double log_of(double x) { return __builtin_log(x); }

// Per row: m = max, s = sum exp(x - m); softmax = exp(x - m) / s, log_softmax = (x - m) - log s.
// Subtracting the row maximum keeps every exponent <= 0 (no overflow for any finite logits); a NaN
// anywhere in a row makes that whole row NaN.
template <typename T>
void softmax_rows_loop(const T* x, T* y, std::ptrdiff_t rows, std::ptrdiff_t cols, bool log) {
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    T m = -T(__builtin_inf());
    NNCORE_SIMD_REDUCTION(max, m)
    for (std::ptrdiff_t c = 0; c < cols; ++c) m = xr[c] > m ? xr[c] : m;
    T s = 0;
    if (log) {
      NNCORE_SIMD_REDUCTION(+, s)
      for (std::ptrdiff_t c = 0; c < cols; ++c) s += exp_v(xr[c] - m);
      const T log_s = log_of(s);
      NNCORE_SIMD
      for (std::ptrdiff_t c = 0; c < cols; ++c) yr[c] = (xr[c] - m) - log_s;
    } else {
      NNCORE_SIMD_REDUCTION(+, s)
      for (std::ptrdiff_t c = 0; c < cols; ++c) {
        const T e = exp_v(xr[c] - m);
        yr[c] = e;
        s += e;
      }
      const T inv = T(1) / s;
      NNCORE_SIMD
      for (std::ptrdiff_t c = 0; c < cols; ++c) yr[c] *= inv;
    }
  }
}

}  // namespace
}  // namespace nncore
