// The layer normalization row kernels each ISA file implements (plain types only, see
// gemm_kernel.h). Rows are contiguous vectors of d features; one call handles rows [r0, r1).
#pragma once
#include <cstddef>

namespace nncore {

template <typename T>
struct LayerNormKernels {
  // Per row: mean, inv = 1 / sqrt(var + eps) (biased variance, two passes), and
  // y = ((center ? x - mean : x) * inv) * gamma + beta; gamma / beta may be null. mean and inv are
  // indexed by row (r0 .. r1), x and y point at row 0.
  void (*forward)(const T* x, const T* gamma, const T* beta, std::ptrdiff_t r0, std::ptrdiff_t r1,
                  std::ptrdiff_t d, double eps, bool center, T* y, T* mean, T* inv);
  // Per row, with gh = dy * gamma and xh the forward's normalized x:
  //   center: dx = inv (gh - sum(gh) / d - xh sum(gh xh) / d)
  //   else:   dx = inv (gh - (x - mean) inv^2 sum(gh x) / d)
  // and, when part_gamma / part_beta are not null, part_gamma[j] += dy xh, part_beta[j] += dy
  // over the rows in order (double partials of the caller's row chunk).
  void (*backward)(const T* dy, const T* x, const T* gamma, const T* mean, const T* inv,
                   std::ptrdiff_t r0, std::ptrdiff_t r1, std::ptrdiff_t d, bool center, T* dx,
                   double* part_gamma, double* part_beta);
};

struct LayerNormKernelSet {
  LayerNormKernels<float> f32;
  LayerNormKernels<double> f64;
};

void fill_layer_norm_kernels_generic(LayerNormKernelSet& set);
void fill_layer_norm_kernels_avx2(LayerNormKernelSet& set);
void fill_layer_norm_kernels_avx512(LayerNormKernelSet& set);

}  // namespace nncore
