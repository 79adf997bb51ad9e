// The activation loops: y = f(x), gx = gy f'(x) and gx = gy f'(y) over a range.
// Internal linkage, builtins only: compiled once per ISA through eltwise_kernels_impl.h.
#pragma once
#include <cstddef>

#include "nncore/kernels/activation_functions.h"
#include "nncore/kernels/simd_pragma.h"

namespace nncore {
namespace {

template <typename T, class F>
void activation_forward_loop(const T* x, T* y, std::ptrdiff_t n, T p0, T p1) {
  NNCORE_SIMD
  for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = F::f(x[i], p0, p1);
}

template <typename T, class F>
void activation_backward_loop(const T* gy, const T* x, T* gx, std::ptrdiff_t n, T p0, T p1) {
  NNCORE_SIMD
  for (std::ptrdiff_t i = 0; i < n; ++i) gx[i] = gy[i] * F::df(x[i], p0, p1);
}

template <typename T, class F>
void activation_backward_from_output_loop(const T* gy, const T* y, T* gx, std::ptrdiff_t n, T p0,
                                          T p1) {
  NNCORE_SIMD
  for (std::ptrdiff_t i = 0; i < n; ++i) gx[i] = gy[i] * F::df_y(y[i], p0, p1);
}

}  // namespace
}  // namespace nncore
