// Baseline-flag build of the depthwise kernels (SSE2 on x86-64): the fallback on every CPU.
#define NNCORE_DW_BLOCK_BYTES 128
#include "nncore/kernels/depthwise_kernels_impl.h"

namespace nncore {

void fill_depthwise_kernels_generic(DepthwiseKernelSet& set) { fill_depthwise_kernels_impl(set); }

}  // namespace nncore
