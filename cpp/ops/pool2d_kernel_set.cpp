// Picks the pooling kernels of the active ISA path.
#include "nncore/isa_fills.h"
#include "nncore/kernel_registry.h"
#include "pool2d_internal.h"

namespace nncore::pool {
namespace {

KernelRegistry<PoolKernelSet>& registry() {
  static KernelRegistry<PoolKernelSet> reg(&fill_pool_kernels_generic, NNCORE_ISA_FILL(pool_kernels, avx2),
                                           NNCORE_ISA_FILL(pool_kernels, avx512));
  return reg;
}

}  // namespace

const PoolKernelSet& kernels() { return registry().active(); }

}  // namespace nncore::pool
