// AVX-512 build of the Winograd F(4x4, 3x3) tile transforms.
#include "nncore/kernels/winograd_kernels_impl.h"

namespace nncore {

void fill_winograd_kernels_avx512(WinogradKernelSet& set) { fill_winograd_kernels_impl(set); }

}  // namespace nncore
