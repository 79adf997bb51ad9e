// Picks the GEMM micro-kernels and block sizes of the active ISA path.
#include "nncore/gemm_dispatch.h"

#include "nncore/dispatch.h"

namespace nncore {
namespace {

GemmKernelSet make_set(Isa isa) {
  GemmKernelSet set{};
  fill_gemm_kernels_generic(set);
#ifdef NNCORE_HAVE_X86_KERNELS
  if (isa == Isa::avx2) fill_gemm_kernels_avx2(set);
  if (isa == Isa::avx512) fill_gemm_kernels_avx512(set);
#else
  (void)isa;
#endif
  return set;
}

}  // namespace

const GemmKernelSet& gemm_kernels(Isa isa) {
  static const GemmKernelSet sets[3] = {make_set(Isa::generic), make_set(Isa::avx2),
                                        make_set(Isa::avx512)};
  return sets[static_cast<int>(isa)];
}

const GemmKernelSet& gemm_kernels() { return gemm_kernels(active_isa()); }

}  // namespace nncore
