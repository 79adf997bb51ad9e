// 2-D max and average pooling on NHWC inputs, and global average pooling.
#pragma once
#include <cstdint>
#include <string>

#include "nncore/common.h"

namespace nncore {

// Window pool_h x pool_w moved by stride_h x stride_w over the input padded by pad_top rows and
// pad_left columns (padding is never read: max ignores it, average divides by the number of
// input elements in the window). out_h/out_w are given; windows must start inside the input.
struct Pool2dGeometry {
  index_t n = 0, h = 0, w = 0, c = 0;
  index_t pool_h = 1, pool_w = 1, stride_h = 1, stride_w = 1;
  index_t pad_top = 0, pad_left = 0;
  index_t out_h = 0, out_w = 0;
};

// Empty when usable, else what is wrong (sizes, a window that reads no input element, ...).
std::string pool2d_check(const Pool2dGeometry& g);

// y = max over each window; NaN wins (a window holding NaN gives NaN). When argmax is given it
// receives, per output element, the flat index (ih * w + iw) * c + ch of the chosen input element
// inside its image (TensorFlow's max_pool_with_argmax with include_batch_in_index=False); the
// first maximum in row-major window order wins ties.
template <typename T>
void max_pool2d_forward(const Pool2dGeometry& g, const T* x, T* y, std::int32_t* argmax);

// dx (written) = grad_y routed to each window's maximum of x (recomputed), summed over windows.
template <typename T>
void max_pool2d_backward(const Pool2dGeometry& g, const T* dy, const T* x, T* dx);

// dx (written, n images of image_size elements) = dy[i] added at argmax[i] within its image; dy
// and argmax hold per_image elements per image. Returns false (dx then incomplete) when an argmax
// entry lies outside [0, image_size).
template <typename T>
bool max_pool2d_backward_argmax(index_t n, index_t image_size, index_t per_image, const T* dy,
                                const std::int32_t* argmax, T* dx);

template <typename T>
void avg_pool2d_forward(const Pool2dGeometry& g, const T* x, T* y);

// dx (written) = each grad_y spread evenly over the input elements of its window.
template <typename T>
void avg_pool2d_backward(const Pool2dGeometry& g, const T* dy, T* dx);

// y[n, c] = mean of x[n, :, :, c] over h * w pixels.
template <typename T>
void global_avg_pool2d_forward(index_t n, index_t hw, index_t c, const T* x, T* y);

// dx[n, p, c] = dy[n, c] / hw.
template <typename T>
void global_avg_pool2d_backward(index_t n, index_t hw, index_t c, const T* dy, T* dx);

}  // namespace nncore
