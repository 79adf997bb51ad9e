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
  static constexpr bool kMaskedStoreIsCheap = false;
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
  static V pair_sum2(V a, V b) {
    // hadd: [a01, a23, b01, b23 | a45, a67, b45, b67]; then 64-bit lanes 0, 2, 1, 3.
    const V h = _mm256_hadd_ps(a, b);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(h), 0xD8));
  }
  static V deinterleave(V v) {
    return _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
  }
  static void split_pairs(V v, V& even, V& odd) {
    even = _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0));
    odd = _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(1, 3, 5, 7, 0, 0, 0, 0));
  }
  static V interleave(V a, V b) {
    // unpacklo/hi work within 128-bit halves; the low halves of both hold lanes 0-3 of a and b.
    return _mm256_permute2f128_ps(_mm256_unpacklo_ps(a, b), _mm256_unpackhi_ps(a, b), 0x20);
  }
  static V dup_pairs(V v) {
    return _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3));
  }
  // In-register transpose of an 8 x 8 block: r[i] holds row i on entry, column i on exit.
  static void transpose(V (&r)[W]) {
    V t[W], u[W];
    for (int i = 0; i < W; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int g = 0; g < W; g += 4) {
      u[g] = _mm256_shuffle_ps(t[g], t[g + 2], 0x44);
      u[g + 1] = _mm256_shuffle_ps(t[g], t[g + 2], 0xEE);
      u[g + 2] = _mm256_shuffle_ps(t[g + 1], t[g + 3], 0x44);
      u[g + 3] = _mm256_shuffle_ps(t[g + 1], t[g + 3], 0xEE);
    }
    for (int j = 0; j < 4; ++j) {
      r[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
      r[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
    }
  }
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
  static constexpr bool kMaskedStoreIsCheap = false;
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
  static V pair_sum2(V a, V b) {
    return _mm256_permute4x64_pd(_mm256_hadd_pd(a, b), 0xD8);  // [a01, b01, a23, b23] -> a, a, b, b
  }
  static V deinterleave(V v) { return _mm256_permute4x64_pd(v, 0xD8); }  // lanes 0, 2, 1, 3
  static void split_pairs(V v, V& even, V& odd) {
    even = _mm256_permute4x64_pd(v, 0x08);  // lanes 0, 2
    odd = _mm256_permute4x64_pd(v, 0x0D);   // lanes 1, 3
  }
  static V interleave(V a, V b) {
    return _mm256_permute2f128_pd(_mm256_unpacklo_pd(a, b), _mm256_unpackhi_pd(a, b), 0x20);
  }
  static V dup_pairs(V v) { return _mm256_permute4x64_pd(v, 0x50); }  // lanes 0, 0, 1, 1
  // In-register transpose of a 4 x 4 block: r[i] holds row i on entry, column i on exit.
  static void transpose(V (&r)[W]) {
    const V t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    const V t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
  }
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
