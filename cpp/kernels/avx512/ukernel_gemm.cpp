// AVX-512 GEMM micro-kernels: 12 x 32 floats / 12 x 16 doubles held in 24 ZMM accumulators.
#include <immintrin.h>

#include "nncore/kernels/gemm_kernel.h"

namespace nncore {
namespace {

struct F32 {
  using T = float;
  using V = __m512;
  using M = __mmask16;
  static constexpr int W = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(const T* p) { return _mm512_set1_ps(*p); }
  static V set1v(T x) { return _mm512_set1_ps(x); }
  static V load(const T* p) { return _mm512_loadu_ps(p); }
  static void store(T* p, V v) { _mm512_storeu_ps(p, v); }
  static V mload(M k, const T* p) { return _mm512_maskz_loadu_ps(k, p); }
  static void mstore(T* p, M k, V v) { _mm512_mask_storeu_ps(p, k, v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
};

struct F64 {
  using T = double;
  using V = __m512d;
  using M = __mmask8;
  static constexpr int W = 8;
  static V zero() { return _mm512_setzero_pd(); }
  static V set1(const T* p) { return _mm512_set1_pd(*p); }
  static V set1v(T x) { return _mm512_set1_pd(x); }
  static V load(const T* p) { return _mm512_loadu_pd(p); }
  static void store(T* p, V v) { _mm512_storeu_pd(p, v); }
  static V mload(M k, const T* p) { return _mm512_maskz_loadu_pd(k, p); }
  static void mstore(T* p, M k, V v) { _mm512_mask_storeu_pd(p, k, v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
};

template <class S>
typename S::M lane_mask(std::ptrdiff_t valid) {
  if (valid <= 0) return 0;
  if (valid >= S::W) return static_cast<typename S::M>(~0u);
  return static_cast<typename S::M>((1u << valid) - 1u);
}

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
  const V vb = S::set1v(beta);
  if (m == MR && n == NR) {
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
  const auto k0 = lane_mask<S>(n);
  const auto k1 = lane_mask<S>(n - W);
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    if (i >= m) break;
    T* row = c + i * ldc;
    V r0 = S::mul(va, acc[i][0]);
    V r1 = S::mul(va, acc[i][1]);
    if (beta != T(0)) {
      r0 = S::fma(vb, S::mload(k0, row), r0);
      r1 = S::fma(vb, S::mload(k1, row + W), r1);
    }
    S::mstore(row, k0, r0);
    S::mstore(row + W, k1, r1);
  }
}

}  // namespace

void fill_gemm_kernels_avx512(GemmKernelSet& set) {
  set.f32.ukernel = &ukernel<F32, 12>;
  set.f32.mr = 12;
  set.f32.nr = 32;
  set.f32.mc = 144;
  set.f32.kc = 384;
  set.f32.nc = 3072;
  set.f64.ukernel = &ukernel<F64, 12>;
  set.f64.mr = 12;
  set.f64.nr = 16;
  set.f64.mc = 96;
  set.f64.kc = 384;
  set.f64.nc = 3072;
}

}  // namespace nncore
