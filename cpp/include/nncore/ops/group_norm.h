// Group normalization on channels-last images (Wu & He, 2018): x is (n, s, c) with s the spatial
// positions of an image and c channels split into `groups` groups of c / groups consecutive
// channels. Per (image, group): mean and biased variance over s x (c / groups) values,
// inv = 1 / sqrt(var + eps), y = (x - mean) inv gamma[c] + beta[c]. gamma / beta may be null.
#pragma once
#include "nncore/common.h"

namespace nncore {

// Writes y and the statistics mean[n, groups], inv[n, groups]. Sums are kept in double (two
// passes: the mean, then squared deviations from it).
template <typename T>
void group_norm_forward(const T* x, const T* gamma, const T* beta, double epsilon, T* y, T* mean,
                        T* inv, index_t n, index_t s, index_t c, index_t groups);

// Gradients of group_norm_forward: dx written, grad_gamma[c] = sum dy x_hat and
// grad_beta[c] = sum dy written (either may be null). Each image's sums run on a grid of tasks
// fixed by its shape, images are added in order: no result depends on the thread count.
template <typename T>
void group_norm_backward(const T* dy, const T* x, const T* gamma, const T* mean, const T* inv,
                         T* dx, T* grad_gamma, T* grad_beta, index_t n, index_t s, index_t c,
                         index_t groups);

}  // namespace nncore
