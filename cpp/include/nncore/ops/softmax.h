// Softmax and log-softmax along one axis, forward and backward (from the output).
#pragma once
#include "nncore/common.h"

namespace nncore {

// The array is C-contiguous with shape (outer, len, inner) and the softmax runs along len. y may be
// x (in place). A row of length 0 is a no-op; NaN anywhere in a row makes that row NaN.
template <typename T>
void softmax_forward(const T* x, T* y, index_t outer, index_t len, index_t inner, bool log);

// From the output y of softmax_forward:
//   softmax:      gx = y * (gy - sum(gy * y))
//   log_softmax:  gx = gy - exp(y) * sum(gy)
// with the sums along len. gx may be gy or y.
template <typename T>
void softmax_backward(const T* gy, const T* y, T* gx, index_t outer, index_t len, index_t inner,
                      bool log);

}  // namespace nncore
