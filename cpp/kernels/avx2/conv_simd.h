// Vector traits the AVX2 convolution kernels are written over (float x 8, double x 4). Included
// only by cpp/kernels/avx2/conv2d_*.cpp; everything sits in an anonymous namespace so that each
// file keeps its own copy, compiled with the AVX2 flags, and nothing is shared with baseline code
// through the linker (see gemm_kernel.h).
//
// AVX2 has no mask registers: a lane mask is a vector whose lanes are all-ones or zero, used by
// vmaskmov loads/stores (which never touch masked-off memory) and by AND (to zero lanes).
#pragma once
#include <immintrin.h>

#include <cstddef>

#include "../static_for.h"

namespace nncore {
namespace {

using idx = std::ptrdiff_t;

// The 8 words starting at kConvMaskWords + 8 - v have their first v words set.
alignas(32) const int kConvMaskWords[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

struct F32x8 {
  using T = float;
  using V = __m256;
  using M = __m256i;
  static constexpr int W = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(const T* p) { return _mm256_broadcast_ss(p); }
  static V load(const T* p) { return _mm256_loadu_ps(p); }
  static void store(T* p, V v) { _mm256_storeu_ps(p, v); }
  // The first `valid` lanes (clamped to [0, W]).
  static M mask(idx valid) {
    const idx v = valid >= W ? W : valid <= 0 ? 0 : valid;
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kConvMaskWords + 8 - v));
  }
  static V mload(M k, const T* p) { return _mm256_maskload_ps(p, k); }
  static void mstore(T* p, M k, V v) { _mm256_maskstore_ps(p, k, v); }
  static V keep(M k, V v) { return _mm256_and_ps(v, _mm256_castsi256_ps(k)); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  // max(v, 0) that keeps NaN: vmaxps returns its second operand when either is NaN.
  static V relu(V v) { return _mm256_max_ps(zero(), v); }
};

struct F64x4 {
  using T = double;
  using V = __m256d;
  using M = __m256i;
  static constexpr int W = 4;
  static V zero() { return _mm256_setzero_pd(); }
  static V set1(const T* p) { return _mm256_broadcast_sd(p); }
  static V load(const T* p) { return _mm256_loadu_pd(p); }
  static void store(T* p, V v) { _mm256_storeu_pd(p, v); }
  static M mask(idx valid) {
    const idx v = valid >= W ? W : valid <= 0 ? 0 : valid;
    // 64-bit lanes: two mask words per lane.
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kConvMaskWords + 8 - 2 * v));
  }
  static V mload(M k, const T* p) { return _mm256_maskload_pd(p, k); }
  static void mstore(T* p, M k, V v) { _mm256_maskstore_pd(p, k, v); }
  static V keep(M k, V v) { return _mm256_and_pd(v, _mm256_castsi256_pd(k)); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
  static V relu(V v) { return _mm256_max_pd(zero(), v); }
};

}  // namespace
}  // namespace nncore
