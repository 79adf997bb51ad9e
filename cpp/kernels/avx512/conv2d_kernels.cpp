// The AVX-512 convolution kernel table: its three parts are compiled as separate files
// (conv2d_gather.cpp, conv2d_wgrad.cpp, conv2d_packed.cpp) so that they build in parallel.
#include "conv_simd.h"

namespace nncore {

void fill_conv_kernels_avx512(ConvKernelSet& set) {
  fill_conv_gather_avx512(set);
  fill_conv_wgrad_avx512(set);
  fill_conv_packed_avx512(set);
}

}  // namespace nncore
