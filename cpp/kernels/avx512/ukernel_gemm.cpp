// AVX-512 GEMM kernels: register tiles of 12 x 32 floats / 12 x 16 doubles (24 ZMM accumulators).
#include <immintrin.h>

#include <cstring>

#include "../gemm_simd.h"

namespace nncore {
namespace {

struct F32 {
  using T = float;
  using V = __m512;
  using M = __mmask16;
  static constexpr int W = 16;
  static constexpr bool kMaskedLoadIsCheap = true;
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(T x) { return _mm512_set1_ps(x); }
  static V bcast(const T* p) { return _mm512_set1_ps(*p); }
  static V load(const T* p) { return _mm512_loadu_ps(p); }
  static void store(T* p, V v) { _mm512_storeu_ps(p, v); }
  static V mload(M k, const T* p) { return _mm512_maskz_loadu_ps(k, p); }
  static void mstore(T* p, M k, V v) { _mm512_mask_storeu_ps(p, k, v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static V bcast2(const T* p) {
    double pair;
    std::memcpy(&pair, p, sizeof pair);
    return _mm512_castpd_ps(_mm512_set1_pd(pair));
  }
  static V pair_sum(V v) {
    const V s = _mm512_add_ps(v, _mm512_permute_ps(v, 0xB1));  // both lanes of a pair hold the sum
    return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0), s);
  }
  static void split_pairs(V v, V& even, V& odd) {
    even = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0), v);
    odd = _mm512_permutexvar_ps(_mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 0, 0, 0, 0, 0, 0, 0, 0), v);
  }
  static V interleave(V a, V b) {
    return _mm512_permutex2var_ps(a, _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), b);
  }
  static V dup_pairs(V v) {
    return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7), v);
  }
  static M mask(std::ptrdiff_t valid) {
    return valid >= W ? M(0xFFFF) : valid <= 0 ? M(0) : M((1u << valid) - 1u);
  }
};

struct F64 {
  using T = double;
  using V = __m512d;
  using M = __mmask8;
  static constexpr int W = 8;
  static constexpr bool kMaskedLoadIsCheap = true;
  static V zero() { return _mm512_setzero_pd(); }
  static V set1(T x) { return _mm512_set1_pd(x); }
  static V bcast(const T* p) { return _mm512_set1_pd(*p); }
  static V load(const T* p) { return _mm512_loadu_pd(p); }
  static void store(T* p, V v) { _mm512_storeu_pd(p, v); }
  static V mload(M k, const T* p) { return _mm512_maskz_loadu_pd(k, p); }
  static void mstore(T* p, M k, V v) { _mm512_mask_storeu_pd(p, k, v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static V max(V a, V b) { return _mm512_max_pd(a, b); }
  static V bcast2(const T* p) { return _mm512_broadcast_f64x2(_mm_loadu_pd(p)); }
  static V pair_sum(V v) {
    const V s = _mm512_add_pd(v, _mm512_permute_pd(v, 0x55));
    return _mm512_permutexvar_pd(_mm512_setr_epi64(0, 2, 4, 6, 0, 0, 0, 0), s);
  }
  static void split_pairs(V v, V& even, V& odd) {
    even = _mm512_permutexvar_pd(_mm512_setr_epi64(0, 2, 4, 6, 0, 0, 0, 0), v);
    odd = _mm512_permutexvar_pd(_mm512_setr_epi64(1, 3, 5, 7, 0, 0, 0, 0), v);
  }
  static V interleave(V a, V b) {
    return _mm512_permutex2var_pd(a, _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11), b);
  }
  static V dup_pairs(V v) { return _mm512_permutexvar_pd(_mm512_setr_epi64(0, 0, 1, 1, 2, 2, 3, 3), v); }
  static M mask(std::ptrdiff_t valid) {
    return valid >= W ? M(0xFF) : valid <= 0 ? M(0) : M((1u << valid) - 1u);
  }
};

}  // namespace

void fill_gemm_kernels_avx512(GemmKernelSet& set) {
  set.f32 = make_kernel<F32, 12, 2>();
  set.f64 = make_kernel<F64, 12, 2>();
}

}  // namespace nncore
