// Baseline-flag build (SSE2 on x86-64): the fallback on every CPU of the Winograd F(4x4, 3x3) tile transforms.
#include "nncore/kernels/winograd_kernels_impl.h"

namespace nncore {

void fill_winograd_kernels_generic(WinogradKernelSet& set) { fill_winograd_kernels_impl(set); }

}  // namespace nncore
