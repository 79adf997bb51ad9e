// AVX2 + FMA GEMM micro-kernels: 6 x 16 floats / 6 x 8 doubles held in 12 YMM accumulators.
#include <immintrin.h>

#include "nncore/kernels/gemm_kernel.h"

namespace nncore {
namespace {

struct F32 {
  using T = float;
  using V = __m256;
  static constexpr int W = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(const T* p) { return _mm256_broadcast_ss(p); }
  static V set1v(T x) { return _mm256_set1_ps(x); }
  static V load(const T* p) { return _mm256_loadu_ps(p); }
  static void store(T* p, V v) { _mm256_storeu_ps(p, v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
};

struct F64 {
  using T = double;
  using V = __m256d;
  static constexpr int W = 4;
  static V zero() { return _mm256_setzero_pd(); }
  static V set1(const T* p) { return _mm256_broadcast_sd(p); }
  static V set1v(T x) { return _mm256_set1_pd(x); }
  static V load(const T* p) { return _mm256_loadu_pd(p); }
  static void store(T* p, V v) { _mm256_storeu_pd(p, v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
};

// MR rows x (2 vectors) columns.
template <class S, int MR>
void ukernel(std::ptrdiff_t k, const typename S::T* a, const typename S::T* b, typename S::T* c,
             std::ptrdiff_t ldc, std::ptrdiff_t m, std::ptrdiff_t n, typename S::T alpha,
             typename S::T beta) {
  using T = typename S::T;
  using V = typename S::V;
  constexpr int W = S::W;
  constexpr int NR = 2 * W;
  V acc[MR][2];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = S::zero();
  for (std::ptrdiff_t p = 0; p < k; ++p) {
    const V b0 = S::load(b);
    const V b1 = S::load(b + W);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const V ai = S::set1(a + i);
      acc[i][0] = S::fma(ai, b0, acc[i][0]);
      acc[i][1] = S::fma(ai, b1, acc[i][1]);
    }
    a += MR;
    b += NR;
  }
  const V va = S::set1v(alpha);
  if (m == MR && n == NR) {
    const V vb = S::set1v(beta);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      T* row = c + i * ldc;
      V r0 = S::mul(va, acc[i][0]);
      V r1 = S::mul(va, acc[i][1]);
      if (beta != T(0)) {
        r0 = S::fma(vb, S::load(row), r0);
        r1 = S::fma(vb, S::load(row + W), r1);
      }
      S::store(row, r0);
      S::store(row + W, r1);
    }
    return;
  }
  // Edge tile: spill the scaled tile, then copy the valid part.
  alignas(64) T tile[MR * NR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    S::store(tile + i * NR, S::mul(va, acc[i][0]));
    S::store(tile + i * NR + W, S::mul(va, acc[i][1]));
  }
  for (std::ptrdiff_t i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    const T* t = tile + i * NR;
    if (beta == T(0)) {
      for (std::ptrdiff_t j = 0; j < n; ++j) row[j] = t[j];
    } else {
      for (std::ptrdiff_t j = 0; j < n; ++j) row[j] = t[j] + beta * row[j];
    }
  }
}

}  // namespace

void fill_gemm_kernels_avx2(GemmKernelSet& set) {
  set.f32.ukernel = &ukernel<F32, 6>;
  set.f32.mr = 6;
  set.f32.nr = 16;
  set.f32.mc = 144;
  set.f32.kc = 256;
  set.f32.nc = 2048;
  set.f64.ukernel = &ukernel<F64, 6>;
  set.f64.mr = 6;
  set.f64.nr = 8;
  set.f64.mc = 96;
  set.f64.kc = 256;
  set.f64.nc = 2048;
}

}  // namespace nncore
