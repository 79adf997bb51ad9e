// AVX2 + FMA build of the elementwise kernels (same source as generic, 8 floats per vector).
#include "nncore/kernels/eltwise_kernels_impl.h"

namespace nncore {

void fill_eltwise_kernels_avx2(EltwiseKernelSet& set) { fill_eltwise_kernels_impl(set); }

}  // namespace nncore
