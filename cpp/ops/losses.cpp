// Fused softmax / sigmoid cross-entropy: rows (or elements) split over threads, each chunk run by
// the active ISA's kernel; the chunks' loss sums are added in chunk order.
#include "nncore/ops/losses.h"

#include "nncore/ops/eltwise_dispatch.h"
#include "nncore/parallel.h"

namespace nncore {
namespace {

// Elements per thread below which threads do not pay (exp-bound work).
constexpr index_t kGrainElems = index_t(1) << 13;
constexpr int kMaxChunks = 256;

// Sums fn(lo, hi) over [0, n) split into at most num_threads() chunks of >= grain indices.
template <class F>
double parallel_sum(index_t n, index_t grain, F&& fn) {
  int nt = num_threads();
  const index_t max_chunks = ceil_div(n > 0 ? n : 1, grain);
  if (max_chunks < nt) nt = static_cast<int>(max_chunks);
  if (nt > kMaxChunks) nt = kMaxChunks;
  if (nt <= 1) return fn(index_t(0), n);
  double partial[kMaxChunks];
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

index_t rows_grain(index_t cols) { return cols > 0 ? ceil_div(kGrainElems, cols) : kGrainElems; }

}  // namespace

template <typename T>
double softmax_cross_entropy(const T* logits, const T* target, T* probs, T* grad, index_t rows,
                             index_t cols, double grad_scale) {
  const auto kernel = eltwise_kernels<T>().softmax_xent;
  const T scale = static_cast<T>(grad_scale);
  return parallel_sum(rows, rows_grain(cols), [&](index_t lo, index_t hi) {
    const index_t off = lo * cols;
    return kernel(logits + off, target + off, nullptr, probs + off, grad + off, hi - lo, cols, scale);
  });
}

template <typename T>
double sparse_softmax_cross_entropy(const T* logits, const std::int64_t* labels, T* probs, T* grad,
                                    index_t rows, index_t cols, double grad_scale) {
  const auto kernel = eltwise_kernels<T>().softmax_xent;
  const T scale = static_cast<T>(grad_scale);
  return parallel_sum(rows, rows_grain(cols), [&](index_t lo, index_t hi) {
    const index_t off = lo * cols;
    return kernel(logits + off, nullptr, labels + lo, probs + off, grad + off, hi - lo, cols, scale);
  });
}

template <typename T>
double sigmoid_binary_cross_entropy(const T* logits, const T* target, T* probs, T* grad, index_t n,
                                    double grad_scale) {
  const auto kernel = eltwise_kernels<T>().sigmoid_xent;
  const T scale = static_cast<T>(grad_scale);
  return parallel_sum(n, kGrainElems, [&](index_t lo, index_t hi) {
    return kernel(logits + lo, target + lo, probs + lo, grad + lo, hi - lo, scale);
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
