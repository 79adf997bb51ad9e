// Portable GEMM micro-kernel: plain loops over a register tile that the compiler vectorizes with
// the baseline instruction set. Also the oracle the ISA kernels are tested against.
#include "nncore/kernels/gemm_kernel.h"

namespace nncore {
namespace {

template <typename T, int MR, int NR>
void ukernel(std::ptrdiff_t k, const T* a, const T* b, T* c, std::ptrdiff_t ldc, std::ptrdiff_t m,
             std::ptrdiff_t n, T alpha, T beta) {
  T acc[MR][NR] = {};
  for (std::ptrdiff_t p = 0; p < k; ++p) {
    for (int i = 0; i < MR; ++i) {
      const T ai = a[i];
      for (int j = 0; j < NR; ++j) acc[i][j] += ai * b[j];
    }
    a += MR;
    b += NR;
  }
  for (std::ptrdiff_t i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    if (beta == T(0)) {
      for (std::ptrdiff_t j = 0; j < n; ++j) row[j] = alpha * acc[i][j];
    } else {
      for (std::ptrdiff_t j = 0; j < n; ++j) row[j] = alpha * acc[i][j] + beta * row[j];
    }
  }
}

}  // namespace

void fill_gemm_kernels_generic(GemmKernelSet& set) {
  set.f32.ukernel = &ukernel<float, 4, 8>;
  set.f32.mr = 4;
  set.f32.nr = 8;
  set.f32.mc = 128;
  set.f32.kc = 256;
  set.f32.nc = 2048;
  set.f64.ukernel = &ukernel<double, 4, 4>;
  set.f64.mr = 4;
  set.f64.nr = 4;
  set.f64.mc = 128;
  set.f64.kc = 256;
  set.f64.nc = 2048;
}

}  // namespace nncore
