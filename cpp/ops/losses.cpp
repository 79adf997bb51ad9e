// Fused softmax / sigmoid cross-entropy losses with their gradients.
#include "nncore/ops/losses.h"

#include <cmath>
#include <limits>
#include <vector>

#include "nncore/kernels/eltwise_math.h"
#include "nncore/kernels/simd_pragma.h"
#include "nncore/parallel.h"

namespace nncore {
namespace {

constexpr index_t kGrainElems = index_t(1) << 13;

// Sums fn(lo, hi) over [0, n) split in parallel; the partial sums are added in chunk order.
template <class F>
double parallel_sum(index_t n, index_t grain, F&& fn) {
  int nt = num_threads();
  const index_t max_chunks = ceil_div(n > 0 ? n : 1, grain);
  if (max_chunks < nt) nt = static_cast<int>(max_chunks);
  if (nt <= 1) return fn(index_t(0), n);
  double partial[256];
  if (nt > 256) nt = 256;
  parallel_for(
      0, nt, 1,
      [&](index_t lo, index_t hi) {
        for (index_t t = lo; t < hi; ++t) partial[t] = fn(n * t / nt, n * (t + 1) / nt);
      },
      nt);
  double total = 0.0;
  for (int t = 0; t < nt; ++t) total += partial[t];
  return total;
}

// probs[c] = exp(x[c] - m) / s for one row; returns log s and sets m.
template <typename T>
T softmax_row(const T* x, T* probs, index_t cols, T& m_out) {
  T m = -std::numeric_limits<T>::infinity();
  NNCORE_SIMD_REDUCTION(max, m)
  for (index_t c = 0; c < cols; ++c) m = x[c] > m ? x[c] : m;
  T s = 0;
  NNCORE_SIMD_REDUCTION(+, s)
  for (index_t c = 0; c < cols; ++c) {
    const T e = exp_v(x[c] - m);
    probs[c] = e;
    s += e;
  }
  const T inv = T(1) / s;
  NNCORE_SIMD
  for (index_t c = 0; c < cols; ++c) probs[c] *= inv;
  m_out = m;
  return std::log(s);
}

index_t rows_grain(index_t cols) { return cols > 0 ? ceil_div(kGrainElems, cols) : kGrainElems; }

}  // namespace

template <typename T>
double softmax_cross_entropy(const T* logits, const T* target, T* probs, T* grad, index_t rows,
                             index_t cols, double grad_scale) {
  const T scale = static_cast<T>(grad_scale);
  return parallel_sum(rows, rows_grain(cols), [&](index_t lo, index_t hi) {
    double loss = 0.0;
    for (index_t r = lo; r < hi; ++r) {
      const T* x = logits + r * cols;
      const T* t = target + r * cols;
      T* p = probs + r * cols;
      T* g = grad + r * cols;
      T m;
      const T log_s = softmax_row(x, p, cols, m);
      // loss_r = sum_c t_c ((m + log s) - x_c), written as t_c (log s - (x_c - m)) so that large
      // logits keep their low bits.
      T row_loss = 0, t_sum = 0;
      NNCORE_SIMD_REDUCTION(+, row_loss, t_sum)
      for (index_t c = 0; c < cols; ++c) {
        row_loss += t[c] != T(0) ? t[c] * (log_s - (x[c] - m)) : T(0);
        t_sum += t[c];
      }
      NNCORE_SIMD
      for (index_t c = 0; c < cols; ++c) g[c] = scale * (p[c] * t_sum - t[c]);
      loss += static_cast<double>(row_loss);
    }
    return loss;
  });
}

template <typename T>
double sparse_softmax_cross_entropy(const T* logits, const std::int64_t* labels, T* probs, T* grad,
                                    index_t rows, index_t cols, double grad_scale) {
  const T scale = static_cast<T>(grad_scale);
  return parallel_sum(rows, rows_grain(cols), [&](index_t lo, index_t hi) {
    double loss = 0.0;
    for (index_t r = lo; r < hi; ++r) {
      const T* x = logits + r * cols;
      T* p = probs + r * cols;
      T* g = grad + r * cols;
      T m;
      const T log_s = softmax_row(x, p, cols, m);
      const index_t label = static_cast<index_t>(labels[r]);
      loss += static_cast<double>(log_s - (x[label] - m));
      NNCORE_SIMD
      for (index_t c = 0; c < cols; ++c) g[c] = scale * p[c];
      g[label] -= scale;
    }
    return loss;
  });
}

template <typename T>
double sigmoid_binary_cross_entropy(const T* logits, const T* target, T* probs, T* grad, index_t n,
                                    double grad_scale) {
  const T scale = static_cast<T>(grad_scale);
  return parallel_sum(n, kGrainElems, [&](index_t lo, index_t hi) {
    T loss = 0;
    double total = 0.0;
    // Blocks keep the float accumulator short; block sums are added in double.
    constexpr index_t kBlock = 1024;
    for (index_t b = lo; b < hi; b += kBlock) {
      const index_t e = hi - b < kBlock ? hi : b + kBlock;
      loss = 0;
      NNCORE_SIMD_REDUCTION(+, loss)
      for (index_t i = b; i < e; ++i) {
        const T x = logits[i], z = target[i];
        const T pos = x > T(0) ? x : T(0);
        const T neg = x < T(0) ? -x : T(0);
        const T l = (z != T(1) ? (T(1) - z) * pos : T(0)) + (z != T(0) ? z * neg : T(0)) +
                    log1p_unit(exp_v(-abs_of(x)));
        const T p = sigmoid_v(x);
        probs[i] = p;
        grad[i] = scale * (p - z);
        loss += l;
      }
      total += static_cast<double>(loss);
    }
    return total;
  });
}

#define NNCORE_INSTANTIATE(T)                                                                     \
  template double softmax_cross_entropy<T>(const T*, const T*, T*, T*, index_t, index_t, double); \
  template double sparse_softmax_cross_entropy<T>(const T*, const std::int64_t*, T*, T*, index_t, \
                                                  index_t, double);                              \
  template double sigmoid_binary_cross_entropy<T>(const T*, const T*, T*, T*, index_t, double);
NNCORE_INSTANTIATE(float)
NNCORE_INSTANTIATE(double)
#undef NNCORE_INSTANTIATE

}  // namespace nncore
