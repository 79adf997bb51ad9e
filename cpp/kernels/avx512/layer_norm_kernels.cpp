// AVX-512 build of the layer normalization kernels (two 16-float vectors of lanes).
#define NNCORE_LN_LANE_BYTES 128
#include "nncore/kernels/layer_norm_kernels_impl.h"

namespace nncore {

void fill_layer_norm_kernels_avx512(LayerNormKernelSet& set) { fill_layer_norm_kernels_impl(set); }

}  // namespace nncore
