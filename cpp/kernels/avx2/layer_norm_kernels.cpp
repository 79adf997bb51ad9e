// AVX2 build of the layer normalization kernels (two 8-float vectors of lanes).
#define NNCORE_LN_LANE_BYTES 64
#include "nncore/kernels/layer_norm_kernels_impl.h"

namespace nncore {

void fill_layer_norm_kernels_avx2(LayerNormKernelSet& set) { fill_layer_norm_kernels_impl(set); }

}  // namespace nncore
