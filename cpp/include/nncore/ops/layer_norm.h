// Layer normalization over the last axis of a (rows, d) array (Ba et al., 2016): per row,
// mean, biased variance, inv = 1 / sqrt(var + eps), y = (x - mean) inv gamma + beta. Without
// `center` (Keras' deprecated rms_scaling) y = x inv gamma: the variance still takes the mean out,
// the output does not. gamma / beta may be null.
#pragma once
#include "nncore/common.h"

namespace nncore {

// Writes y (rows, d) and the per-row mean and inv. Rows run in parallel, each on one thread.
template <typename T>
void layer_norm_forward(const T* x, const T* gamma, const T* beta, double epsilon, bool center,
                        T* y, T* mean, T* inv, index_t rows, index_t d);

// Gradients of layer_norm_forward: dx (rows, d) written; grad_gamma[j] = sum_r dy x_hat and
// grad_beta[j] = sum_r dy written (either may be null). The parameter sums run over row chunks
// fixed by the shape and are added in chunk order: no result depends on the thread count.
template <typename T>
void layer_norm_backward(const T* dy, const T* x, const T* gamma, const T* mean, const T* inv,
                         bool center, T* dx, T* grad_gamma, T* grad_beta, index_t rows, index_t d);

}  // namespace nncore
