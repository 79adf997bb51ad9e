// Baseline-flag build of the layer normalization kernels (SSE2 on x86-64): the fallback on every CPU.
#define NNCORE_LN_LANE_BYTES 32
#include "nncore/kernels/layer_norm_kernels_impl.h"

namespace nncore {

void fill_layer_norm_kernels_generic(LayerNormKernelSet& set) { fill_layer_norm_kernels_impl(set); }

}  // namespace nncore
