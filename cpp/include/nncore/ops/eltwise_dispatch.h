// Access to the elementwise kernel set (activations, softmax rows) of the active ISA path.
#pragma once
#include "nncore/dispatch.h"
#include "nncore/kernels/eltwise_kernel.h"

namespace nncore {

const EltwiseKernelSet& eltwise_kernel_set();
const EltwiseKernelSet& eltwise_kernel_set(Isa isa);

template <typename T>
const EltwiseKernels<T>& eltwise_kernels();
template <>
inline const EltwiseKernels<float>& eltwise_kernels<float>() { return eltwise_kernel_set().f32; }
template <>
inline const EltwiseKernels<double>& eltwise_kernels<double>() { return eltwise_kernel_set().f64; }

}  // namespace nncore
