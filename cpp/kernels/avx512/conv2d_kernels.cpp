// AVX-512 convolution kernels (placeholder: the generic ones are kept).
#include "nncore/kernels/conv2d_kernel.h"

namespace nncore {

void fill_conv_kernels_avx512(ConvKernelSet& set) { (void)set; }

}  // namespace nncore
