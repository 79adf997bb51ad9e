// 2-D upsampling of NHWC images by integer factors (sh, sw): "nearest" repeats each pixel over
// an sh x sw block; "bilinear" interpolates between pixel centers (half-pixel taps, see
// kernels/upsample_kernel.h), rows first, then columns.
#pragma once
#include "nncore/common.h"

namespace nncore {

enum class UpsampleMode { nearest = 0, bilinear = 1 };

// y (n, h * sh, w * sw, c) from x (n, h, w, c); y is written. Output rows run in parallel.
template <typename T>
void upsample2d_forward(UpsampleMode mode, const T* x, T* y, index_t n, index_t h, index_t w,
                        index_t c, index_t sh, index_t sw);

// dx (n, h, w, c) = the gradient of upsample2d_forward given dy (n, h * sh, w * sw, c); dx is
// written. Input-gradient rows run in parallel, each summing its terms in a fixed order.
template <typename T>
void upsample2d_backward(UpsampleMode mode, const T* dy, T* dx, index_t n, index_t h, index_t w,
                         index_t c, index_t sh, index_t sw);

}  // namespace nncore
