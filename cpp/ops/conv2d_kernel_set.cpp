// Picks the convolution kernels of the active ISA path.
#include "conv2d_internal.h"
#include "nncore/isa_fills.h"
#include "nncore/kernel_registry.h"

namespace nncore::conv {
namespace {

KernelRegistry<ConvKernelSet>& registry() {
  static KernelRegistry<ConvKernelSet> reg(&fill_conv_kernels_generic, nullptr,
                                           NNCORE_ISA_FILL(conv_kernels, avx512));
  return reg;
}

}  // namespace

const ConvKernelSet& kernels() { return registry().active(); }

}  // namespace nncore::conv
