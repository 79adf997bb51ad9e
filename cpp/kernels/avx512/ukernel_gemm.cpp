// AVX-512 GEMM kernels: register tiles of 12 x 32 floats / 12 x 16 doubles (24 ZMM accumulators).
// GCC 12 implements _mm512_undefined_* as a self-initialized local, which its own
// -Wuninitialized then reports wherever an intrinsic uses one as a don't-care operand (GCC bug
// 105593, fixed in GCC 13). The suppression covers the intrinsic headers only; the shared template
// code still gets these warnings through the AVX2 file, which includes no such intrinsics.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif

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
  static constexpr bool kMaskedStoreIsCheap = true;
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
  static __m512i even_lanes() {
    return _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
  }
  static __m512i odd_lanes() {
    return _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 0, 0, 0, 0, 0, 0, 0, 0);
  }
  static V pair_sum(V v) {
    const V s = _mm512_add_ps(v, _mm512_permute_ps(v, 0xB1));  // both lanes of a pair hold the sum
    return _mm512_permutexvar_ps(even_lanes(), s);
  }
  static V pair_sum2(V a, V b) {
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i od = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    return _mm512_add_ps(_mm512_permutex2var_ps(a, ev, b), _mm512_permutex2var_ps(a, od, b));
  }
  static V deinterleave(V v) {
    const __m512i idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    return _mm512_permutexvar_ps(idx, v);
  }
  static void split_pairs(V v, V& even, V& odd) {
    even = _mm512_permutexvar_ps(even_lanes(), v);
    odd = _mm512_permutexvar_ps(odd_lanes(), v);
  }
  static V interleave(V a, V b) {
    const __m512i idx = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    return _mm512_permutex2var_ps(a, idx, b);
  }
  static V dup_pairs(V v) {
    const __m512i idx = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    return _mm512_permutexvar_ps(idx, v);
  }
  // In-register transpose of a 16 x 16 block: r[i] holds row i on entry, column i on exit.
  static void transpose(V (&r)[W]) {
    V t[W];
    for (int i = 0; i < W; i += 2) {
      t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < W; i += 4) {
      const __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]);
      const __m512d c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
      r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
      r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
      r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
      r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    // r[4g + j] holds columns j, j + 4, j + 8, j + 12 of rows 4g..4g+3, one per 128-bit lane.
    for (int j = 0; j < 4; ++j) {
      t[j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);
      t[4 + j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xDD);
      t[8 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
      t[12 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xDD);
    }
    for (int j = 0; j < 4; ++j) {
      r[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);
      r[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xDD);
      r[4 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0x88);
      r[12 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0xDD);
    }
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
  static constexpr bool kMaskedStoreIsCheap = true;
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
  static V pair_sum2(V a, V b) {
    const __m512i ev = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const __m512i od = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
    return _mm512_add_pd(_mm512_permutex2var_pd(a, ev, b), _mm512_permutex2var_pd(a, od, b));
  }
  static V deinterleave(V v) {
    return _mm512_permutexvar_pd(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7), v);
  }
  static void split_pairs(V v, V& even, V& odd) {
    even = _mm512_permutexvar_pd(_mm512_setr_epi64(0, 2, 4, 6, 0, 0, 0, 0), v);
    odd = _mm512_permutexvar_pd(_mm512_setr_epi64(1, 3, 5, 7, 0, 0, 0, 0), v);
  }
  static V interleave(V a, V b) {
    return _mm512_permutex2var_pd(a, _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11), b);
  }
  static V dup_pairs(V v) {
    return _mm512_permutexvar_pd(_mm512_setr_epi64(0, 0, 1, 1, 2, 2, 3, 3), v);
  }
  // In-register transpose of an 8 x 8 block: r[i] holds row i on entry, column i on exit.
  static void transpose(V (&r)[W]) {
    V t[W];
    for (int i = 0; i < W; i += 2) {
      t[i] = _mm512_unpacklo_pd(r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_pd(r[i], r[i + 1]);
    }
    V u[W];
    for (int g = 0; g < W; g += 4) {
      u[g] = _mm512_shuffle_f64x2(t[g], t[g + 2], 0x88);
      u[g + 2] = _mm512_shuffle_f64x2(t[g], t[g + 2], 0xDD);
      u[g + 1] = _mm512_shuffle_f64x2(t[g + 1], t[g + 3], 0x88);
      u[g + 3] = _mm512_shuffle_f64x2(t[g + 1], t[g + 3], 0xDD);
    }
    for (int j = 0; j < 4; ++j) {
      r[j] = _mm512_shuffle_f64x2(u[j], u[4 + j], 0x88);
      r[4 + j] = _mm512_shuffle_f64x2(u[j], u[4 + j], 0xDD);
    }
  }
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
