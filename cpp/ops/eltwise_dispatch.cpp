// Picks the elementwise kernels of the active ISA path (each ISA file fills the whole set).
#include "nncore/ops/eltwise_dispatch.h"

#include "nncore/isa_fills.h"
#include "nncore/kernel_registry.h"

namespace nncore {
namespace {

KernelRegistry<EltwiseKernelSet>& registry() {
  static KernelRegistry<EltwiseKernelSet> reg(&fill_eltwise_kernels_generic,
                                              NNCORE_ISA_FILL(eltwise_kernels, avx2),
                                              NNCORE_ISA_FILL(eltwise_kernels, avx512));
  return reg;
}

}  // namespace

const EltwiseKernelSet& eltwise_kernel_set(Isa isa) { return registry().get(isa); }

const EltwiseKernelSet& eltwise_kernel_set() { return registry().active(); }

}  // namespace nncore
