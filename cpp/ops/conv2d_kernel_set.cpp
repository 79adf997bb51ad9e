// Picks the convolution kernels of the active ISA path.
#include "conv2d_internal.h"
#include "nncore/dispatch.h"

namespace nncore::conv {
namespace {

ConvKernelSet make_set(Isa isa) {
  ConvKernelSet set;
  fill_conv_kernels_generic(set);
#ifdef NNCORE_HAVE_X86_KERNELS
  // AVX2-only CPUs run the generic kernels: conv is a small share of their time and the AVX-512
  // kernels rely on masked lanes.
  if (isa == Isa::avx512) fill_conv_kernels_avx512(set);
#else
  (void)isa;
#endif
  return set;
}

}  // namespace

const ConvKernelSet& kernels() {
  static const ConvKernelSet sets[3] = {make_set(Isa::generic), make_set(Isa::avx2),
                                        make_set(Isa::avx512)};
  return sets[static_cast<int>(active_isa())];
}

}  // namespace nncore::conv
