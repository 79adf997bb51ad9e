// Picks the GEMM micro-kernels and block sizes of the active ISA path.
#include "nncore/gemm_dispatch.h"

#include "nncore/isa_fills.h"
#include "nncore/kernel_registry.h"

namespace nncore {
namespace {

KernelRegistry<GemmKernelSet>& registry() {
  static KernelRegistry<GemmKernelSet> reg(&fill_gemm_kernels_generic, NNCORE_ISA_FILL(gemm_kernels, avx2),
                                           NNCORE_ISA_FILL(gemm_kernels, avx512));
  return reg;
}

}  // namespace

const GemmKernelSet& gemm_kernels(Isa isa) { return registry().get(isa); }

const GemmKernelSet& gemm_kernels() { return registry().active(); }

}  // namespace nncore
