// Picks the pooling kernels of the active ISA path.
#include "nncore/dispatch.h"
#include "pool2d_internal.h"

namespace nncore::pool {
namespace {

PoolKernelSet make_set(Isa isa) {
  PoolKernelSet set;
  fill_pool_kernels_generic(set);
#ifdef NNCORE_HAVE_X86_KERNELS
  if (isa == Isa::avx512) fill_pool_kernels_avx512(set);
#else
  (void)isa;
#endif
  return set;
}

}  // namespace

const PoolKernelSet& kernels() {
  static const PoolKernelSet sets[3] = {make_set(Isa::generic), make_set(Isa::avx2),
                                        make_set(Isa::avx512)};
  return sets[static_cast<int>(active_isa())];
}

}  // namespace nncore::pool
