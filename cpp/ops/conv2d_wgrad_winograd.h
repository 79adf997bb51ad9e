// Weight gradient of 3x3 stride-1 convolutions by Winograd F(2x2, 3x3): 16 multiplies per 2x2
// output tile and channel pair instead of 36 (Lavin & Gray, 2016).
#pragma once
#include "nncore/ops/conv2d.h"

namespace nncore::conv {

// Whether this layer takes it: float32, 3x3, stride 1, no dilation, at least 32 input and output
// channels (8 input-channel slices: work for 16 threads), its 16 * C_in * C_out transformed sums
// within 8 MiB (up to 256 -> 512 channels). Depends on the problem alone.
template <typename T>
bool wgrad_winograd_applies(const Conv2dGeometry& g);

// As conv2d_backward_weight_fused (rows > 0, out_w > 0).
template <typename T>
void wgrad_winograd(const Conv2dGeometry& g, const T* x, const T* dy, const T* relu_y, T* dw, bool accumulate,
                    T* db, bool db_accumulate, T* dy_out);

}  // namespace nncore::conv
