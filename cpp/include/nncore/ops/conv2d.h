// 2-D convolution on NHWC inputs with HWIO weights [kh, kw, cin, cout] (the Keras layouts).
#pragma once
#include <string>

#include "nncore/common.h"

namespace nncore {

// Everything a convolution needs to know about its shapes. The input is padded by pad_top/bottom
// rows and pad_left/right columns of zeros; out_h = (h + pad_top + pad_bottom - dil_h*(kh-1) - 1)
// / stride_h + 1 (likewise out_w). Callers validate (conv2d_geometry_error) before calling any op.
struct Conv2dGeometry {
  index_t n = 0, h = 0, w = 0, cin = 0;
  index_t kh = 1, kw = 1, cout = 0;
  index_t stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  index_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  index_t out_h = 0, out_w = 0;
};

// Fills out_h/out_w from the other fields. Returns an empty string when the geometry is usable,
// else what is wrong (non-positive stride/dilation, negative padding or sizes, kernel larger
// than the padded input).
std::string conv2d_fill_output_size(Conv2dGeometry& g);

// The activation applied as the output is written (the elementwise ops have their own, longer
// list: nncore::Activation in kernels/eltwise_kernel.h).
enum class Conv2dActivation : int { none = 0, relu = 1 };

// y[n, oh, ow, co] = act(bias[co] + sum x[n, oh*sh - pt + i*dh, ow*sw - pl + j*dw, ci] w[i, j, ci, co])
// bias may be nullptr. y is written, never read.
template <typename T>
void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* bias, T* y,
                    Conv2dActivation act);

// dx = d(sum(y * dy)) / dx for y = conv2d_forward(x, w) without bias/activation. dx is written.
template <typename T>
void conv2d_backward_input(const Conv2dGeometry& g, const T* dy, const T* w, T* dx);

// dw = d(sum(y * dy)) / dw, shape [kh, kw, cin, cout]; added to dw when accumulate, else written.
template <typename T>
void conv2d_backward_weight(const Conv2dGeometry& g, const T* x, const T* dy, T* dw, bool accumulate);

// Whether 3x3 stride-1 convolutions with enough channels may take the Winograd F(4x4, 3x3) path
// (forward and input gradient; see conv2d_winograd.cpp). set_winograd(1) / (0) forces it on or
// off for the process; set_winograd(-1) returns to the environment variable NNCORE_WINOGRAD
// ("0" turns it off), read on every call. set_winograd(2) takes it for every 3x3 stride-1 layer
// with enough channels, however small its maps (tests reach it with small shapes).
bool winograd_enabled();
void set_winograd(int mode);

// The backward of a layer y = relu(conv2d(x, w) + bias) or without relu (relu_y == nullptr) in one
// pass over grad_y: g = relu'(y) * dy (relu_y: the layer's output y; written into dy_out when not
// nullptr), dw from g as conv2d_backward_weight, db = g summed over pixels (when db is not
// nullptr; added when db_accumulate). dy_out must not overlap dy or relu_y.
template <typename T>
void conv2d_backward_weight_fused(const Conv2dGeometry& g, const T* x, const T* dy, const T* relu_y, T* dw,
                                  bool accumulate, T* db, bool db_accumulate, T* dy_out);

// Whether conv2d_backward_weight(_fused) takes Winograd F(2x2, 3x3) for the float32 3x3 stride-1
// layers it suits (default on; also off while winograd_enabled() is false); off: the direct sum
// everywhere.
void conv2d_set_wgrad_winograd(bool enabled);
bool conv2d_wgrad_winograd_enabled();

}  // namespace nncore
