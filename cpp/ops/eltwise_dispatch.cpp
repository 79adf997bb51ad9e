// Picks the elementwise kernels of the active ISA path (each ISA file fills the whole set).
#include "nncore/ops/eltwise_dispatch.h"

namespace nncore {
namespace {

EltwiseKernelSet make_set(Isa isa) {
  EltwiseKernelSet set{};
  fill_eltwise_kernels_generic(set);
#ifdef NNCORE_HAVE_X86_KERNELS
  if (isa == Isa::avx2) fill_eltwise_kernels_avx2(set);
  if (isa == Isa::avx512) fill_eltwise_kernels_avx512(set);
#else
  (void)isa;
#endif
  return set;
}

}  // namespace

const EltwiseKernelSet& eltwise_kernel_set(Isa isa) {
  static const EltwiseKernelSet sets[3] = {make_set(Isa::generic), make_set(Isa::avx2),
                                           make_set(Isa::avx512)};
  return sets[static_cast<int>(isa)];
}

const EltwiseKernelSet& eltwise_kernel_set() { return eltwise_kernel_set(active_isa()); }

}  // namespace nncore
