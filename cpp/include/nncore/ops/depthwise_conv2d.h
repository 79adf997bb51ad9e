// Depthwise 2-D convolution on NHWC inputs with [kh, kw, C, M] kernels (the Keras layout): output
// channel c * M + m is input channel c convolved with kernel slice [:, :, c, m].
#pragma once
#include "nncore/common.h"
#include "nncore/ops/conv2d.h"

namespace nncore {

// The geometry is that of a convolution with cin = C and cout = C * mult (conv2d_fill_output_size
// fills the output size); callers validate before calling.

// y[n, oh, ow, c*M + m] = bias[c*M + m] + sum_{i, j} x_pad[n, oh*sh + i*dh, ow*sw + j*dw, c] w[i, j, c, m]
// bias may be nullptr; y is written.
template <typename T>
void depthwise_conv2d_forward(const Conv2dGeometry& g, index_t mult, const T* x, const T* w,
                              const T* bias, T* y);

// dx = d(sum(y * dy)) / dx without bias; dx is written.
template <typename T>
void depthwise_conv2d_backward_input(const Conv2dGeometry& g, index_t mult, const T* dy, const T* w,
                                     T* dx);

// dw = d(sum(y * dy)) / dw, shape [kh, kw, C, M]; added to dw when accumulate, else written.
// Output rows are cut into chunks that depend on the shapes only, each summed on its own, and the
// chunk sums added in order: the result does not depend on the thread count.
template <typename T>
void depthwise_conv2d_backward_weight(const Conv2dGeometry& g, index_t mult, const T* x, const T* dy,
                                      T* dw, bool accumulate);

}  // namespace nncore
