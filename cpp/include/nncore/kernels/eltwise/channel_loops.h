// Per-channel loops over blocks of wide rows: column sums (in double) and affine maps.
// Internal linkage, builtins only: compiled once per ISA through eltwise_kernels_impl.h.
#pragma once
#include <cstddef>

#include "nncore/kernels/simd_pragma.h"

namespace nncore {
namespace {

// y = (x - center) scale + shift, shared by the affine map and the batch-norm + activation
// kernels that recompute it.
template <typename T>
inline T bn_pre(T x, T center, T scale, T shift) {
  return (x - center) * scale + shift;
}

// The sums read `rows` rows of `width` elements, `ld` apart (a column block of wide rows); each
// column's result depends only on that column's values, never on the block it arrives in.
template <typename T>
void channel_sum_loop(const T* x, std::ptrdiff_t rows, std::ptrdiff_t width, std::ptrdiff_t ld,
                      double* acc) {
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* xr = x + r * ld;
    NNCORE_SIMD
    for (std::ptrdiff_t j = 0; j < width; ++j) acc[j] += static_cast<double>(xr[j]);
  }
}

// Eight rows are first added pairwise in T (error <= 3 eps of their magnitudes), then once into
// the double accumulators: one conversion per eight elements instead of one per element.
template <typename T>
void channel_sum_fast_loop(const T* x, std::ptrdiff_t rows, std::ptrdiff_t width,
                           std::ptrdiff_t ld, double* acc) {
  std::ptrdiff_t r = 0;
  for (; r + 8 <= rows; r += 8) {
    const T* x0 = x + r * ld;
    NNCORE_SIMD
    for (std::ptrdiff_t j = 0; j < width; ++j) {
      const T s = ((x0[j] + x0[ld + j]) + (x0[2 * ld + j] + x0[3 * ld + j])) +
                  ((x0[4 * ld + j] + x0[5 * ld + j]) + (x0[6 * ld + j] + x0[7 * ld + j]));
      acc[j] += static_cast<double>(s);
    }
  }
  for (; r < rows; ++r) {
    const T* xr = x + r * ld;
    NNCORE_SIMD
    for (std::ptrdiff_t j = 0; j < width; ++j) acc[j] += static_cast<double>(xr[j]);
  }
}

template <typename T>
void channel_sum_sq_dev_loop(const T* x, const double* center, std::ptrdiff_t rows,
                             std::ptrdiff_t width, std::ptrdiff_t ld, double* acc) {
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* xr = x + r * ld;
    NNCORE_SIMD
    for (std::ptrdiff_t j = 0; j < width; ++j) {
      const double d = static_cast<double>(xr[j]) - center[j];
      acc[j] += d * d;
    }
  }
}

template <typename T>
void channel_sum_shifted_sq_loop(const T* x, const double* shift, std::ptrdiff_t rows,
                                 std::ptrdiff_t width, std::ptrdiff_t ld, double* acc0,
                                 double* acc1) {
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* xr = x + r * ld;
    NNCORE_SIMD
    for (std::ptrdiff_t j = 0; j < width; ++j) {
      const double d = static_cast<double>(xr[j]) - shift[j];
      acc0[j] += d;
      acc1[j] += d * d;
    }
  }
}

template <typename T>
void channel_sum_grad_dev_loop(const T* g, const T* x, const T* center, std::ptrdiff_t rows,
                               std::ptrdiff_t width, std::ptrdiff_t ld, double* acc0,
                               double* acc1) {
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* gr = g + r * ld;
    const T* xr = x + r * ld;
    NNCORE_SIMD
    for (std::ptrdiff_t j = 0; j < width; ++j) {
      const double gj = static_cast<double>(gr[j]);
      acc0[j] += gj;
      acc1[j] += gj * static_cast<double>(xr[j] - center[j]);
    }
  }
}

template <typename T>
void channel_add_loop(const T* x, const T* b, std::ptrdiff_t rows, std::ptrdiff_t width, T* y) {
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* xr = x + r * width;
    T* yr = y + r * width;
    NNCORE_SIMD
    for (std::ptrdiff_t j = 0; j < width; ++j) yr[j] = xr[j] + b[j];
  }
}

template <typename T>
void channel_affine_loop(const T* x, const T* center, const T* scale, const T* shift,
                         std::ptrdiff_t rows, std::ptrdiff_t width, T* y) {
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* xr = x + r * width;
    T* yr = y + r * width;
    NNCORE_SIMD
    for (std::ptrdiff_t j = 0; j < width; ++j) yr[j] = bn_pre(xr[j], center[j], scale[j], shift[j]);
  }
}

template <typename T>
void channel_grad_affine_loop(const T* g, const T* x, const T* center, const T* a, const T* b,
                              const T* c, std::ptrdiff_t rows, std::ptrdiff_t width, T* gx) {
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* gr = g + r * width;
    const T* xr = x + r * width;
    T* o = gx + r * width;
    NNCORE_SIMD
    for (std::ptrdiff_t j = 0; j < width; ++j)
      o[j] = a[j] * gr[j] + b[j] * (xr[j] - center[j]) + c[j];
  }
}

// Batch norm followed by ReLU (hi = +inf) or ReLU6 (hi = 6). The pre-activation is the expression
// of channel_affine_loop, so the backward kernels recompute exactly the forward's value and its
// mask: relu'(y) = [y > 0], relu6'(y) = [0 < y < 6], as the from-output derivatives.

// 1 or 0, multiplied into the gradient as the activations' derivatives are (a NaN gradient stays
// NaN); arithmetic rather than a select, which SSE2 code would not vectorize. relu's hi is +inf:
// only an overflowed pre-activation of +inf reads as off, where no gradient is meaningful.
template <typename T>
inline T bn_act_mask(T pre, T hi) {
  return static_cast<T>((pre > T(0)) & (pre < hi));
}

template <typename T>
void channel_affine_act_loop(const T* x, const T* center, const T* scale, const T* shift, T hi,
                             std::ptrdiff_t rows, std::ptrdiff_t width, T* y) {
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* xr = x + r * width;
    T* yr = y + r * width;
    NNCORE_SIMD
    for (std::ptrdiff_t j = 0; j < width; ++j) {
      const T v = bn_pre(xr[j], center[j], scale[j], shift[j]);
      const T lo = v < T(0) ? T(0) : v;
      yr[j] = lo > hi ? hi : lo;
    }
  }
}

template <typename T>
void channel_sum_grad_dev_act_loop(const T* g, const T* x, const T* center, const T* scale,
                                   const T* shift, T hi, std::ptrdiff_t rows, std::ptrdiff_t width,
                                   std::ptrdiff_t ld, double* acc0, double* acc1) {
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* gr = g + r * ld;
    const T* xr = x + r * ld;
    NNCORE_SIMD
    for (std::ptrdiff_t j = 0; j < width; ++j) {
      const T d = xr[j] - center[j];
      const T gm = gr[j] * bn_act_mask(bn_pre(xr[j], center[j], scale[j], shift[j]), hi);
      const double gj = static_cast<double>(gm);
      acc0[j] += gj;
      acc1[j] += gj * static_cast<double>(d);
    }
  }
}

template <typename T>
void channel_grad_affine_act_loop(const T* g, const T* x, const T* center, const T* scale,
                                  const T* shift, T hi, const T* a, const T* b, const T* c,
                                  std::ptrdiff_t rows, std::ptrdiff_t width, T* gx) {
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* gr = g + r * width;
    const T* xr = x + r * width;
    T* o = gx + r * width;
    NNCORE_SIMD
    for (std::ptrdiff_t j = 0; j < width; ++j) {
      const T gj = gr[j] * bn_act_mask(bn_pre(xr[j], center[j], scale[j], shift[j]), hi);
      o[j] = a[j] * gj + b[j] * (xr[j] - center[j]) + c[j];
    }
  }
}

}  // namespace
}  // namespace nncore
