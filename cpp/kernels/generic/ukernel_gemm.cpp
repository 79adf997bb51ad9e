// Portable GEMM kernels: plain loops over a register tile that the compiler vectorizes with the
// baseline instruction set. Also the oracle the ISA kernels are tested against, so it stays simple.
#include "nncore/kernels/gemm_kernel.h"

namespace nncore {
namespace {

using idx = std::ptrdiff_t;

// A full tile with contiguous columns of A and rows of B (packed panels): fixed trip counts, so the accumulators live in (vector)
// registers. Kept out of line: inlined into the caller, whose own accumulator array is indexed
// with run-time bounds, the compiler keeps them in memory (4x slower).
template <typename T, int MR, int NR>
#if defined(__GNUC__)
__attribute__((noinline))
#endif
void full_tile(idx k, const T* a, idx acs, const T* b, idx brs, T (&out)[MR][NR]) {
  T acc[MR][NR] = {};
  for (idx p = 0; p < k; ++p, a += acs, b += brs)
    for (int i = 0; i < MR; ++i) {
      const T ai = a[i];
      for (int j = 0; j < NR; ++j) acc[i][j] += ai * b[j];
    }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) out[i][j] = acc[i][j];
}

template <typename T, int MR, int NR>
void block(const GemmBlockArgs<T>& g) {
  // Packed panels are just another pair of strides.
  const idx ars = g.a_packed ? 1 : g.a_rs, acs = g.a_packed ? MR : g.a_cs;
  const idx brs = g.b_packed ? NR : g.b_rs, bcs = g.b_packed ? 1 : g.b_cs;
  for (idx i0 = 0; i0 < g.m; i0 += MR) {
    const idx mm = (g.m - i0 < MR) ? g.m - i0 : MR;
    const T* ap = g.a_packed ? g.a + (i0 / MR) * MR * g.k : g.a + i0 * g.a_rs;
    for (idx j0 = 0; j0 < g.n; j0 += NR) {
      const idx nn = (g.n - j0 < NR) ? g.n - j0 : NR;
      const T* bp = g.b_packed ? g.b + (j0 / NR) * NR * g.k : g.b + j0 * g.b_cs;
      T acc[MR][NR] = {};
      if (mm == MR && nn == NR && ars == 1 && bcs == 1) {
        full_tile<T, MR, NR>(g.k, ap, acs, bp, brs, acc);
      } else {
        for (idx p = 0; p < g.k; ++p)
          for (idx i = 0; i < mm; ++i) {
            const T ai = ap[i * ars + p * acs];
            for (idx j = 0; j < nn; ++j) acc[i][j] += ai * bp[p * brs + j * bcs];
          }
      }
      for (idx i = 0; i < mm; ++i) {
        T* row = g.c + (i0 + i) * g.ldc + j0;
        for (idx j = 0; j < nn; ++j) {
          T r = g.alpha * acc[i][j];
          if (g.beta != T(0)) r += g.beta * row[j];
          if (g.bias) r += g.bias[j0 + j];
          if (g.relu && r < T(0)) r = T(0);  // NaN stays NaN
          row[j] = r;
        }
      }
    }
  }
}

template <typename T, int MR>
void pack_a(idx m, idx k, const T* a, idx rs, idx cs, T* out) {
  for (idx i0 = 0; i0 < m; i0 += MR, out += MR * k)
    for (idx p = 0; p < k; ++p)
      for (idx i = 0; i < MR; ++i) out[p * MR + i] = (i0 + i < m) ? a[(i0 + i) * rs + p * cs] : T(0);
}

template <typename T, int NR>
void pack_b(idx k, idx n, const T* b, idx rs, idx cs, T* out) {
  for (idx j0 = 0; j0 < n; j0 += NR, out += NR * k)
    for (idx p = 0; p < k; ++p)
      for (idx j = 0; j < NR; ++j) out[p * NR + j] = (j0 + j < n) ? b[p * rs + (j0 + j) * cs] : T(0);
}

template <typename T, int MR, int NR>
GemmKernel<T> make_kernel() {
  GemmKernel<T> kern{};
  kern.block = &block<T, MR, NR>;
  kern.pack_a = &pack_a<T, MR>;
  kern.pack_b = &pack_b<T, NR>;
  kern.mr = MR;
  kern.nr = NR;
  kern.vec = 1;
  return kern;
}

}  // namespace

void fill_gemm_kernels_generic(GemmKernelSet& set) {
  set.f32 = make_kernel<float, 4, 8>();
  set.f64 = make_kernel<double, 4, 4>();
}

}  // namespace nncore
