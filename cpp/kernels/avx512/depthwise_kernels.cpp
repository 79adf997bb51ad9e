// AVX-512 build of the depthwise kernels (16 floats per vector, 8 vectors of accumulators).
#define NNCORE_DW_BLOCK_BYTES 512
#define NNCORE_DW_TILE_PIXELS 6
#include "nncore/kernels/depthwise_kernels_impl.h"

namespace nncore {

void fill_depthwise_kernels_avx512(DepthwiseKernelSet& set) { fill_depthwise_kernels_impl(set); }

}  // namespace nncore
