// The GEMM kernel interface each ISA file implements: a block kernel, packing routines and the
// register tile they are built around.
//
// ISA kernel files are compiled with extra -m flags. They must include only headers like this one:
// plain types and declarations, no inline functions or templates that other files also use, because
// the linker may keep the AVX-512 copy of such a function and hand it to generic code (an illegal
// instruction on an older CPU).
#pragma once
#include <cstddef>

namespace nncore {

// One block of a GEMM, handed to an ISA block kernel:
//   C[0:m, 0:n] = epilogue(alpha * A[0:m, 0:k] B[0:k, 0:n] + beta * C)
// where the epilogue adds bias[j] to column j (when bias is set), then applies max(0, x) (relu).
// beta == 0 writes C without reading it (NaN in C does not propagate), as in BLAS.
//
// A is either packed (a_packed: ceil(m / mr) panels of mr rows, panel q at a + q*mr*k, element
// (i, p) of a panel at [p*mr + i], zero-padded) or read in place: element (i, p) at
// a[i*a_rs + p*a_cs], where a_rs == 1 or a_cs == 1.
// B is either packed (b_packed: panels of nr columns, panel q at b + q*nr*k, element (p, j) of a
// panel at [p*nr + j], zero-padded) or read in place: element (p, j) at b[p*b_rs + j*b_cs], where
// b_cs == 1, except for a narrow block, which the kernel repacks itself.
// narrow: the product is at most vec / 2 wide (n of the whole product, not of this block) and
// both operands are in place; its elements are summed in another order (kernels/gemm_simd.h),
// so the driver sets it for every block of such a product and for no other.
// C: element (i, j) at c[i*ldc + j].
// work: scratch of at least k * GemmKernel::work elements, for the kernel's own use.
//
// Plain aggregates without default member initializers: an implicit constructor would be an inline
// function shared by every file that builds one (see above).
template <typename T>
struct GemmBlockArgs {
  std::ptrdiff_t m, n, k;
  const T* a;
  std::ptrdiff_t a_rs, a_cs;
  bool a_packed;
  const T* b;
  std::ptrdiff_t b_rs, b_cs;
  bool b_packed;
  T* c;
  std::ptrdiff_t ldc;
  T alpha, beta;
  const T* bias;  // n values, or nullptr
  bool relu;
  bool narrow;
  T* work;
};

template <typename T>
using GemmBlockKernel = void (*)(const GemmBlockArgs<T>& args);

// Packs op(A)[0:m, 0:k] (element (i, p) at a[i*rs + p*cs]) into ceil(m / mr) panels.
template <typename T>
using GemmPackA = void (*)(std::ptrdiff_t m, std::ptrdiff_t k, const T* a, std::ptrdiff_t rs,
                           std::ptrdiff_t cs, T* out);
// Packs op(B)[0:k, 0:n] (element (p, j) at b[p*rs + j*cs]) into ceil(n / nr) panels.
template <typename T>
using GemmPackB = void (*)(std::ptrdiff_t k, std::ptrdiff_t n, const T* b, std::ptrdiff_t rs,
                           std::ptrdiff_t cs, T* out);

template <typename T>
struct GemmKernel {
  GemmBlockKernel<T> block;
  GemmPackA<T> pack_a;
  GemmPackB<T> pack_b;
  int mr, nr;  // register tile: rows of A per panel, columns of B per panel
  int vec;     // elements per vector register
  int work;    // scratch elements per depth step the block kernel needs (GemmBlockArgs::work)
};

struct GemmKernelSet {
  GemmKernel<float> f32;
  GemmKernel<double> f64;
};

void fill_gemm_kernels_generic(GemmKernelSet& set);
void fill_gemm_kernels_avx2(GemmKernelSet& set);
void fill_gemm_kernels_avx512(GemmKernelSet& set);

}  // namespace nncore
