// The sum of two arrays, optionally clamped to [0, hi] (the ReLU or ReLU6 after a residual add).
// Internal linkage, builtins only: compiled once per ISA through eltwise_kernels_impl.h.
#pragma once
#include <cstddef>

#include "nncore/kernels/simd_pragma.h"

namespace nncore {
namespace {

template <typename T>
void add_loop(const T* a, const T* b, T* y, std::ptrdiff_t n) {
  NNCORE_SIMD
  for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

// NaN stays NaN (the comparisons are false for it), as in the activations' relu and relu6.
template <typename T>
void add_clamp_loop(const T* a, const T* b, T* y, std::ptrdiff_t n, T hi) {
  NNCORE_SIMD
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    const T s = a[i] + b[i];
    const T lo = s < T(0) ? T(0) : s;
    y[i] = lo > hi ? hi : lo;
  }
}

}  // namespace
}  // namespace nncore
