// AVX2 build of the upsampling kernels.
#include "nncore/kernels/upsample_kernels_impl.h"

namespace nncore {

void fill_upsample_kernels_avx2(UpsampleKernelSet& set) { fill_upsample_kernels_impl(set); }

}  // namespace nncore
