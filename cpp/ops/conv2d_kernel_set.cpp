// Picks the convolution kernels of the active ISA path.
#include "conv2d_internal.h"
#include "nncore/isa_fills.h"
#include "nncore/kernel_registry.h"

namespace nncore::conv {
namespace {

#ifdef NNCORE_HAVE_X86_KERNELS
// The AVX2 entries come from several files, each filling the kernels it implements; the rest stay
// the generic ones the registry filled first. Runs only after the run-time check for AVX2 (the
// fill functions are AVX2 code), and is itself baseline code that only calls them.
void fill_avx2(ConvKernelSet& s) {
  fill_conv_gather_kernels_avx2(s);
  fill_conv_wgrad_kernels_avx2(s);
}
#define NNCORE_CONV_AVX2_FILL (&fill_avx2)
#else
#define NNCORE_CONV_AVX2_FILL nullptr
#endif

KernelRegistry<ConvKernelSet>& registry() {
  static KernelRegistry<ConvKernelSet> reg(&fill_conv_kernels_generic, NNCORE_CONV_AVX2_FILL,
                                           NNCORE_ISA_FILL(conv_kernels, avx512));
  return reg;
}

}  // namespace

const ConvKernelSet& kernels() { return registry().active(); }

}  // namespace nncore::conv
