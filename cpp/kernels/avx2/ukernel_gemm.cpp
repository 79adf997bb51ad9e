// AVX2 + FMA GEMM kernels: register tiles of 6 x 16 floats / 6 x 8 doubles (12 YMM accumulators).
#include <immintrin.h>

#include <cstring>

#include "../gemm_simd.h"

namespace nncore {
namespace {

// Lane masks for vmaskmov: the 8 words starting at kMaskTable + 8 - v have the first v lanes on.
alignas(32) const int kMaskTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

struct F32 {
  using T = float;
  using V = __m256;
  using M = __m256i;
  static constexpr int W = 8;
  // vmaskmovps loads are slower than plain loads; the inner loop uses them only when it must.
  static constexpr bool kMaskedLoadIsCheap = false;
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(T x) { return _mm256_set1_ps(x); }
  static V bcast(const T* p) { return _mm256_broadcast_ss(p); }
  static V load(const T* p) { return _mm256_loadu_ps(p); }
  static void store(T* p, V v) { _mm256_storeu_ps(p, v); }
  static V mload(M k, const T* p) { return _mm256_maskload_ps(p, k); }
  static void mstore(T* p, M k, V v) { _mm256_maskstore_ps(p, k, v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static V bcast2(const T* p) {
    double pair;
    std::memcpy(&pair, p, sizeof pair);
    return _mm256_castpd_ps(_mm256_set1_pd(pair));
  }
  static V pair_sum(V v) {
    // hadd: [a0+a1, a2+a3, ., . | a4+a5, a6+a7, ., .]; then gather the 64-bit lanes 0 and 2.
    const V h = _mm256_hadd_ps(v, v);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(h), 0x08));
  }
  static void split_pairs(V v, V& even, V& odd) {
    even = _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0));
    odd = _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(1, 3, 5, 7, 0, 0, 0, 0));
  }
  static V interleave(V a, V b) {
    // unpacklo/hi work within 128-bit halves; the low halves of both hold lanes 0-3 of a and b.
    return _mm256_permute2f128_ps(_mm256_unpacklo_ps(a, b), _mm256_unpackhi_ps(a, b), 0x20);
  }
  static V dup_pairs(V v) { return _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3)); }
  static M mask(std::ptrdiff_t valid) {
    const std::ptrdiff_t v = valid >= W ? W : valid <= 0 ? 0 : valid;
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMaskTable + 8 - v));
  }
};

struct F64 {
  using T = double;
  using V = __m256d;
  using M = __m256i;
  static constexpr int W = 4;
  static constexpr bool kMaskedLoadIsCheap = false;
  static V zero() { return _mm256_setzero_pd(); }
  static V set1(T x) { return _mm256_set1_pd(x); }
  static V bcast(const T* p) { return _mm256_broadcast_sd(p); }
  static V load(const T* p) { return _mm256_loadu_pd(p); }
  static void store(T* p, V v) { _mm256_storeu_pd(p, v); }
  static V mload(M k, const T* p) { return _mm256_maskload_pd(p, k); }
  static void mstore(T* p, M k, V v) { _mm256_maskstore_pd(p, k, v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
  static V max(V a, V b) { return _mm256_max_pd(a, b); }
  static V bcast2(const T* p) { return _mm256_broadcast_pd(reinterpret_cast<const __m128d*>(p)); }
  static V pair_sum(V v) {
    const V h = _mm256_hadd_pd(v, v);  // [a0+a1, a0+a1, a2+a3, a2+a3]
    return _mm256_permute4x64_pd(h, 0x08);
  }
  static void split_pairs(V v, V& even, V& odd) {
    even = _mm256_permute4x64_pd(v, 0x08);  // lanes 0, 2
    odd = _mm256_permute4x64_pd(v, 0x0D);   // lanes 1, 3
  }
  static V interleave(V a, V b) {
    return _mm256_permute2f128_pd(_mm256_unpacklo_pd(a, b), _mm256_unpackhi_pd(a, b), 0x20);
  }
  static V dup_pairs(V v) { return _mm256_permute4x64_pd(v, 0x50); }  // lanes 0, 0, 1, 1
  static M mask(std::ptrdiff_t valid) {
    const std::ptrdiff_t v = valid >= W ? W : valid <= 0 ? 0 : valid;
    // 64-bit lanes: two mask words per lane.
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMaskTable + 8 - 2 * v));
  }
};

}  // namespace

void fill_gemm_kernels_avx2(GemmKernelSet& set) {
  set.f32 = make_kernel<F32, 6, 2>();
  set.f64 = make_kernel<F64, 6, 2>();
}

}  // namespace nncore
