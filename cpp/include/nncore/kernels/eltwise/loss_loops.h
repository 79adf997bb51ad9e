// Fused softmax and sigmoid cross-entropy: loss, probabilities and gradient in one pass.
// Internal linkage, builtins only: compiled once per ISA through eltwise_kernels_impl.h.
#pragma once
#include <cstddef>
#include <cstdint>

#include "nncore/kernels/eltwise/softmax_loops.h"
#include "nncore/kernels/eltwise_math.h"
#include "nncore/kernels/simd_pragma.h"

namespace nncore {
namespace {

// One softmax row: writes exp(x - m) / s into p; returns log s and sets m.
template <typename T>
inline T softmax_row(const T* x, T* p, std::ptrdiff_t cols, T& m_out) {
  T m = -T(__builtin_inf());
  NNCORE_SIMD_REDUCTION(max, m)
  for (std::ptrdiff_t c = 0; c < cols; ++c) m = x[c] > m ? x[c] : m;
  T s = 0;
  NNCORE_SIMD_REDUCTION(+, s)
  for (std::ptrdiff_t c = 0; c < cols; ++c) {
    const T e = exp_v(x[c] - m);
    p[c] = e;
    s += e;
  }
  const T inv = T(1) / s;
  NNCORE_SIMD
  for (std::ptrdiff_t c = 0; c < cols; ++c) p[c] *= inv;
  m_out = m;
  return log_of(s);
}

template <typename T>
double softmax_xent_loop(const T* x, const T* target, const std::int64_t* labels, T* probs, T* grad,
                         std::ptrdiff_t rows, std::ptrdiff_t cols, T scale) {
  double loss = 0.0;
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* p = probs + r * cols;
    T* g = grad + r * cols;
    T m;
    const T log_s = softmax_row(xr, p, cols, m);
    if (labels) {
      const std::ptrdiff_t label = static_cast<std::ptrdiff_t>(labels[r]);
      loss += static_cast<double>(log_s - (xr[label] - m));
      NNCORE_SIMD
      for (std::ptrdiff_t c = 0; c < cols; ++c) g[c] = scale * p[c];
      g[label] -= scale;
    } else {
      const T* t = target + r * cols;
      // sum_c t_c ((m + log s) - x_c), as t_c (log s - (x_c - m)) so that large logits keep their
      // low bits; classes with t_c = 0 are skipped (a -inf logit there is fine).
      T row_loss = 0, t_sum = 0;
      NNCORE_SIMD_REDUCTION(+, row_loss, t_sum)
      for (std::ptrdiff_t c = 0; c < cols; ++c) {
        row_loss += t[c] != T(0) ? t[c] * (log_s - (xr[c] - m)) : T(0);
        t_sum += t[c];
      }
      NNCORE_SIMD
      for (std::ptrdiff_t c = 0; c < cols; ++c) g[c] = scale * (p[c] * t_sum - t[c]);
      loss += static_cast<double>(row_loss);
    }
  }
  return loss;
}

// loss = (1 - z) max(x, 0) + z max(-x, 0) + log1p(exp(-|x|)); the first two terms are dropped
// where their weight is exactly 0 so that x = +-inf with a matching target is finite.
template <typename T>
double sigmoid_xent_loop(const T* x, const T* z, T* probs, T* grad, std::ptrdiff_t n, T scale) {
  double total = 0.0;
  constexpr std::ptrdiff_t kBlock = 1024;  // float partial sums stay short; blocks add in double
  for (std::ptrdiff_t b = 0; b < n; b += kBlock) {
    const std::ptrdiff_t e = n - b < kBlock ? n : b + kBlock;
    T loss = 0;
    NNCORE_SIMD_REDUCTION(+, loss)
    for (std::ptrdiff_t i = b; i < e; ++i) {
      const T xi = x[i], zi = z[i];
      const T pos = xi > T(0) ? xi : T(0);
      const T neg = xi < T(0) ? -xi : T(0);
      loss += (zi != T(1) ? (T(1) - zi) * pos : T(0)) + (zi != T(0) ? zi * neg : T(0)) +
              log1p_unit(exp_v(-abs_of(xi)));
      const T p = sigmoid_v(xi);
      probs[i] = p;
      grad[i] = scale * (p - zi);
    }
    total += static_cast<double>(loss);
  }
  return total;
}

}  // namespace
}  // namespace nncore
