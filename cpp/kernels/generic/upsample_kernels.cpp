// Baseline-flag build of the upsampling kernels (SSE2 on x86-64): the fallback on every CPU.
#include "nncore/kernels/upsample_kernels_impl.h"

namespace nncore {

void fill_upsample_kernels_generic(UpsampleKernelSet& set) { fill_upsample_kernels_impl(set); }

}  // namespace nncore
