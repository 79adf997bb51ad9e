// The GEMM micro-kernel interface each ISA file implements, and the block sizes it runs best with.
//
// ISA kernel files are compiled with extra -m flags. They must include only headers like this one:
// plain types and declarations, no inline functions or templates that other files also use, because
// the linker may keep the AVX-512 copy of such a function and hand it to generic code (an illegal
// instruction on an older CPU).
#pragma once
#include <cstddef>

namespace nncore {

// c[i*ldc + j] = alpha * sum_p a[p*mr + i] * b[p*nr + j] + beta * c[i*ldc + j]
// for i < m <= mr, j < n <= nr. `a` is a packed micro-panel of A (mr values per k step), `b` of B
// (nr values per k step). beta == 0 writes C without reading it.
template <typename T>
using GemmMicroKernel = void (*)(std::ptrdiff_t k, const T* a, const T* b, T* c, std::ptrdiff_t ldc,
                                 std::ptrdiff_t m, std::ptrdiff_t n, T alpha, T beta);

template <typename T>
struct GemmKernel {
  GemmMicroKernel<T> ukernel = nullptr;
  int mr = 0, nr = 0;              // register tile
  std::ptrdiff_t mc = 0;           // rows of A packed per block (A block lives in L2)
  std::ptrdiff_t kc = 0;           // depth per block (a B micro-panel kc x nr lives in L1)
  std::ptrdiff_t nc = 0;           // columns of B packed per block (B block lives in L3)
};

struct GemmKernelSet {
  GemmKernel<float> f32;
  GemmKernel<double> f64;
};

void fill_gemm_kernels_generic(GemmKernelSet& set);
void fill_gemm_kernels_avx2(GemmKernelSet& set);
void fill_gemm_kernels_avx512(GemmKernelSet& set);

}  // namespace nncore
