// Access to the GEMM kernel set of an ISA path.
#pragma once
#include "nncore/dispatch.h"
#include "nncore/kernels/gemm_kernel.h"

namespace nncore {

// Kernels and block sizes of the active path, or of a given one (which must be supported).
const GemmKernelSet& gemm_kernels();
const GemmKernelSet& gemm_kernels(Isa isa);

template <typename T>
const GemmKernel<T>& gemm_kernel_for(const GemmKernelSet& set);
template <>
inline const GemmKernel<float>& gemm_kernel_for<float>(const GemmKernelSet& set) { return set.f32; }
template <>
inline const GemmKernel<double>& gemm_kernel_for<double>(const GemmKernelSet& set) { return set.f64; }

}  // namespace nncore
