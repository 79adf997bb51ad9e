// Fused softmax / sigmoid cross-entropy: rows (or elements) cut into chunks fixed by the size, each
// run by the active ISA's kernel; the chunks' loss sums are added in chunk order.
#include "nncore/ops/losses.h"

#include "nncore/ops/eltwise_dispatch.h"
#include "nncore/parallel.h"

namespace nncore {
namespace {

// Elements per thread below which threads do not pay (exp-bound work).
constexpr index_t kGrainElems = index_t(1) << 13;
// Smallest chunk of a loss sum, in elements (chunks are fixed by the size, see parallel.h).
constexpr index_t kChunkElems = index_t(1) << 11;

// Sums a row kernel over fixed chunks of rows: the loss does not depend on the thread count.
template <class F>
double sum_over_rows(index_t rows, index_t cols, F&& fn) {
  const index_t c = cols > 0 ? cols : 1;
  return parallel_sum_chunks(rows, ceil_div(kChunkElems, c), 1, ceil_div(kGrainElems, c), fn);
}

}  // namespace

template <typename T>
double softmax_cross_entropy(const T* logits, const T* target, T* probs, T* grad, index_t rows,
                             index_t cols, double grad_scale) {
  const auto kernel = eltwise_kernels<T>().softmax_xent;
  const T scale = static_cast<T>(grad_scale);
  return sum_over_rows(rows, cols, [&](index_t lo, index_t hi) {
    const index_t off = lo * cols;
    return kernel(logits + off, target + off, nullptr, probs + off, grad + off, hi - lo, cols,
                  scale);
  });
}

template <typename T>
double sparse_softmax_cross_entropy(const T* logits, const std::int64_t* labels, T* probs, T* grad,
                                    index_t rows, index_t cols, double grad_scale) {
  const auto kernel = eltwise_kernels<T>().softmax_xent;
  const T scale = static_cast<T>(grad_scale);
  return sum_over_rows(rows, cols, [&](index_t lo, index_t hi) {
    const index_t off = lo * cols;
    return kernel(logits + off, nullptr, labels + lo, probs + off, grad + off, hi - lo, cols,
                  scale);
  });
}

template <typename T>
double sigmoid_binary_cross_entropy(const T* logits, const T* target, T* probs, T* grad, index_t n,
                                    double grad_scale) {
  const auto kernel = eltwise_kernels<T>().sigmoid_xent;
  const T scale = static_cast<T>(grad_scale);
  return parallel_sum_chunks(n, kChunkElems, 64, kGrainElems, [&](index_t lo, index_t hi) {
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
