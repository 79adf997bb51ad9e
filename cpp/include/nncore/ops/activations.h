// Activation functions over contiguous arrays, forward and backward, float and double.
#pragma once
#include "nncore/common.h"
#include "nncore/kernels/eltwise_kernel.h"

namespace nncore {

// y = f(x); y may be x (in place). p0/p1 are the activation's parameters (eltwise_kernel.h).
template <typename T>
void activation_forward(Activation a, const T* x, T* y, index_t n, T p0, T p1);

// gx = gy * f'(x); gx may be gy or x.
template <typename T>
void activation_backward(Activation a, const T* gy, const T* x, T* gx, index_t n, T p0, T p1);

// gx = gy * f'(x) computed from the output y = f(x); only where has_backward_from_output(a).
template <typename T>
void activation_backward_from_output(Activation a, const T* gy, const T* y, T* gx, index_t n, T p0,
                                     T p1);

bool has_backward_from_output(Activation a);

}  // namespace nncore
