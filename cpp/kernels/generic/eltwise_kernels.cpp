// Baseline-flag build of the elementwise kernels: the fallback on every CPU and the test oracle.
#include "nncore/kernels/eltwise_kernels_impl.h"

namespace nncore {

void fill_eltwise_kernels_generic(EltwiseKernelSet& set) { fill_eltwise_kernels_impl(set); }

}  // namespace nncore
