// Layer normalization passes: the row kernels of the active ISA path over fixed chunks of rows.
#include "nncore/ops/layer_norm.h"

#include <limits>
#include <vector>

#include "nncore/isa_fills.h"
#include "nncore/kernel_registry.h"
#include "nncore/kernels/layer_norm_kernel.h"
#include "nncore/parallel.h"

namespace nncore {
namespace {

KernelRegistry<LayerNormKernelSet>& registry() {
  static KernelRegistry<LayerNormKernelSet> reg(&fill_layer_norm_kernels_generic,
                                                NNCORE_ISA_FILL(layer_norm_kernels, avx2),
                                                NNCORE_ISA_FILL(layer_norm_kernels, avx512));
  return reg;
}

template <typename T>
const LayerNormKernels<T>& kernels_for();
template <>
const LayerNormKernels<float>& kernels_for<float>() { return registry().active().f32; }
template <>
const LayerNormKernels<double>& kernels_for<double>() { return registry().active().f64; }

// Elements per thread below which a pass stays on one thread (memory-bound rows).
constexpr index_t kGrainElems = index_t(1) << 15;

}  // namespace

template <typename T>
void layer_norm_forward(const T* x, const T* gamma, const T* beta, double epsilon, bool center,
                        T* y, T* mean, T* inv, index_t rows, index_t d) {
  if (d == 0) {  // the statistics of empty rows are 0 / 0, as NumPy's mean gives
    for (index_t r = 0; r < rows; ++r) mean[r] = inv[r] = std::numeric_limits<T>::quiet_NaN();
    return;
  }
  if (rows == 0) return;
  const LayerNormKernels<T>& k = kernels_for<T>();
  // Rows are independent, so any split gives the same bits.
  parallel_for(0, rows, ceil_div(kGrainElems, d), [&](index_t lo, index_t hi) {
    k.forward(x, gamma, beta, lo, hi, d, epsilon, center, y, mean, inv);
  });
}

template <typename T>
void layer_norm_backward(const T* dy, const T* x, const T* gamma, const T* mean, const T* inv,
                         bool center, T* dx, T* grad_gamma, T* grad_beta, index_t rows, index_t d) {
  if (d == 0) return;
  const LayerNormKernels<T>& k = kernels_for<T>();
  const bool params = grad_gamma || grad_beta;
  if (rows == 0 || !params) {
    if (rows > 0)
      parallel_for(0, rows, ceil_div(kGrainElems, d), [&](index_t lo, index_t hi) {
        k.backward(dy, x, gamma, mean, inv, lo, hi, d, center, dx, nullptr, nullptr);
      });
    for (index_t j = 0; j < d; ++j) {
      if (grad_gamma) grad_gamma[j] = T(0);
      if (grad_beta) grad_beta[j] = T(0);
    }
    return;
  }
  // Chunks of rows fixed by the shape (at most kMaxChunks), each with its own double partials.
  const index_t chunk = fixed_chunk(rows, ceil_div(kGrainElems / 8, d), 1);
  const index_t nchunks = ceil_div(rows, chunk);
  const std::size_t width = static_cast<std::size_t>(2 * d);
  std::vector<double> parts(static_cast<std::size_t>(nchunks) * width, 0.0);
  parallel_for_chunks(rows, chunk, ceil_div(kGrainElems, d), [&](index_t c, index_t lo, index_t hi) {
    double* p = parts.data() + static_cast<std::size_t>(c) * width;
    k.backward(dy, x, gamma, mean, inv, lo, hi, d, center, dx, grad_gamma ? p : nullptr,
               grad_beta ? p + d : nullptr);
  });
  for (index_t j = 0; j < d; ++j) {
    double sg = parts[j], sb = parts[d + j];
    for (index_t c = 1; c < nchunks; ++c) {
      sg += parts[c * width + j];
      sb += parts[c * width + d + j];
    }
    if (grad_gamma) grad_gamma[j] = static_cast<T>(sg);
    if (grad_beta) grad_beta[j] = static_cast<T>(sb);
  }
}

#define NNCORE_INSTANTIATE(T)                                                                    \
  template void layer_norm_forward<T>(const T*, const T*, const T*, double, bool, T*, T*, T*,    \
                                      index_t, index_t);                                         \
  template void layer_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, bool,   \
                                       T*, T*, T*, index_t, index_t);
NNCORE_INSTANTIATE(float)
NNCORE_INSTANTIATE(double)
#undef NNCORE_INSTANTIATE

}  // namespace nncore
