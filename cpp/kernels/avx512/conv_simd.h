// Vector traits the AVX-512 convolution kernels are written over (float x 16 / x 8, double x 8)
// and the fill functions of the kernel files.
// Included only by cpp/kernels/avx512/conv2d_*.cpp; everything but the fill functions sits in an
// anonymous namespace so that each file keeps its own copy, compiled with the AVX-512 flags, and
// nothing is shared with baseline code through the linker (see gemm_kernel.h).
#pragma once
#include <immintrin.h>

#include <cstddef>

#include "nncore/kernels/conv2d_kernel.h"

#include "../static_for.h"

namespace nncore {

// Each fills its part of the set: gather and gather_block, wgrad and wgrad_prefers_dy_runs,
// packed_* (conv2d_gather.cpp, conv2d_wgrad.cpp, conv2d_packed.cpp: one translation unit each, so
// that they compile in parallel).
void fill_conv_gather_avx512(ConvKernelSet& set);
void fill_conv_wgrad_avx512(ConvKernelSet& set);
void fill_conv_packed_avx512(ConvKernelSet& set);

namespace {

using idx = std::ptrdiff_t;

// The broadcast-FMAs below are written out as inline asm: with dozens of them in an unrolled tile
// GCC hoists the loads into registers, broadcasts through the shuffle unit and spills, and it
// cannot fold a broadcast into a masked FMA at all. The address is written as base register plus
// immediate (an indexed address can cost an extra uop on Intel cores); the element it reads is
// also passed as an "m" operand, so that the compiler knows the asm reads that memory and keeps
// earlier stores to it before the asm.

struct F32x16 {
  using T = float;
  using V = __m512;
  using M = __mmask16;
  static constexpr int W = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(const T* p) { return _mm512_set1_ps(*p); }
  static V load(const T* p) { return _mm512_loadu_ps(p); }
  static V mload(M k, const T* p) { return _mm512_maskz_loadu_ps(k, p); }
  static void store(T* p, V v) { _mm512_storeu_ps(p, v); }
  static void mstore(T* p, M k, V v) { _mm512_mask_storeu_ps(p, k, v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  // c += broadcast(base[OFF]) * b: one instruction, base register plus immediate.
  template <int OFF>
  static V fma_at(const T* base, V b, V c) {
    __asm__("vfmadd231ps %c[off](%[base])%{1to16%}, %[b], %[c]"
            : [c] "+v"(c)
            : [b] "v"(b), [base] "r"(base), [off] "i"(OFF * 4), [x] "m"(base[OFF]));
    return c;
  }
  // c += broadcast(*x) * b in the lanes of k (other lanes add 0 * b). A zero-masked broadcast
  // plus a plain FMA: the load keeps x off the lanes where it would meet a zero weight
  // (0 * inf = NaN).
  static V mfma_bcast(M k, const T* x, V b, V c) {
    return _mm512_fmadd_ps(_mm512_maskz_broadcastss_ps(k, _mm_load_ss(x)), b, c);
  }
  // c += broadcast(base[OFF]) * b in the lanes of k, as one instruction at a fixed place.
  template <int OFF>
  static V mfma_at(M k, const T* base, V b, V c) {
    __asm__("vfmadd231ps %c[off](%[base])%{1to16%}, %[b], %[c]%{%[k]%}"
            : [c] "+v"(c)
            : [b] "v"(b), [base] "r"(base), [off] "i"(OFF * 4), [x] "m"(base[OFF]),
              [k] "Yk"(k));
    return c;
  }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  // max(v, 0) that keeps NaN: 0 only where v <= 0.
  static V relu(V v) { return _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, zero(), _CMP_LE_OQ), zero()); }
};

struct F32x8 {
  using T = float;
  using V = __m256;
  using M = __mmask8;
  static constexpr int W = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(const T* p) { return _mm256_set1_ps(*p); }
  static V load(const T* p) { return _mm256_loadu_ps(p); }
  static V mload(M k, const T* p) { return _mm256_maskz_loadu_ps(k, p); }
  static void store(T* p, V v) { _mm256_storeu_ps(p, v); }
  static void mstore(T* p, M k, V v) { _mm256_mask_storeu_ps(p, k, v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  template <int OFF>
  static V fma_at(const T* base, V b, V c) {
    __asm__("vfmadd231ps %c[off](%[base])%{1to8%}, %[b], %[c]"
            : [c] "+v"(c)
            : [b] "v"(b), [base] "r"(base), [off] "i"(OFF * 4), [x] "m"(base[OFF]));
    return c;
  }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V relu(V v) { return _mm256_mask_mov_ps(v, _mm256_cmp_ps_mask(v, zero(), _CMP_LE_OQ), zero()); }
};

struct F64x8 {
  using T = double;
  using V = __m512d;
  using M = __mmask8;
  static constexpr int W = 8;
  static V zero() { return _mm512_setzero_pd(); }
  static V set1(const T* p) { return _mm512_set1_pd(*p); }
  static V load(const T* p) { return _mm512_loadu_pd(p); }
  static V mload(M k, const T* p) { return _mm512_maskz_loadu_pd(k, p); }
  static void store(T* p, V v) { _mm512_storeu_pd(p, v); }
  static void mstore(T* p, M k, V v) { _mm512_mask_storeu_pd(p, k, v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  template <int OFF>
  static V fma_at(const T* base, V b, V c) {
    __asm__("vfmadd231pd %c[off](%[base])%{1to8%}, %[b], %[c]"
            : [c] "+v"(c)
            : [b] "v"(b), [base] "r"(base), [off] "i"(OFF * 8), [x] "m"(base[OFF]));
    return c;
  }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static V relu(V v) { return _mm512_mask_mov_pd(v, _mm512_cmp_pd_mask(v, zero(), _CMP_LE_OQ), zero()); }
};

template <class S>
typename S::M lane_mask(idx valid) {
  if (valid <= 0) return 0;
  if (valid >= S::W) return static_cast<typename S::M>((1u << S::W) - 1u);
  return static_cast<typename S::M>((1u << valid) - 1u);
}

}  // namespace
}  // namespace nncore
