// AVX-512 pooling row kernels: one vector of channels at a time, masked for the last few, with
// int32 position vectors for the argmax.
#include <immintrin.h>

#include "nncore/kernels/pool2d_kernel.h"

namespace nncore {
namespace {

using idx = std::ptrdiff_t;

struct F32 {
  using T = float;
  using V = __m512;
  using I = __m512i;  // positions, one int32 per lane
  using M = __mmask16;
  static constexpr int W = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(T v) { return _mm512_set1_ps(v); }
  static V mload(M k, const T* p) { return _mm512_maskz_loadu_ps(k, p); }
  static void mstore(T* p, M k, V v) { _mm512_mask_storeu_ps(p, k, v); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V blend(M k, V a, V b) { return _mm512_mask_mov_ps(a, k, b); }
  static V keep(M k, V a) { return _mm512_maskz_mov_ps(k, a); }
  // v > best, or v is NaN while best is not.
  static M takes(M k, V v, V best) {
    return _mm512_mask_cmp_ps_mask(_mm512_mask_cmp_ps_mask(k, best, best, _CMP_ORD_Q), v, best, _CMP_NLE_UQ);
  }
  static I iota() { return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); }
  static I iadd(I a, idx b) { return _mm512_add_epi32(a, _mm512_set1_epi32(static_cast<int>(b))); }
  static I iblend(M k, I a, I b) { return _mm512_mask_mov_epi32(a, k, b); }
  static I iload(M k, const std::int32_t* p) { return _mm512_maskz_loadu_epi32(k, p); }
  static void istore(std::int32_t* p, M k, I v) { _mm512_mask_storeu_epi32(p, k, v); }
  static M ieq(M k, I a, I b) { return _mm512_mask_cmpeq_epi32_mask(k, a, b); }
};

struct F64 {
  using T = double;
  using V = __m512d;
  using I = __m256i;
  using M = __mmask8;
  static constexpr int W = 8;
  static V zero() { return _mm512_setzero_pd(); }
  static V set1(T v) { return _mm512_set1_pd(v); }
  static V mload(M k, const T* p) { return _mm512_maskz_loadu_pd(k, p); }
  static void mstore(T* p, M k, V v) { _mm512_mask_storeu_pd(p, k, v); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
  static V blend(M k, V a, V b) { return _mm512_mask_mov_pd(a, k, b); }
  static V keep(M k, V a) { return _mm512_maskz_mov_pd(k, a); }
  static M takes(M k, V v, V best) {
    return _mm512_mask_cmp_pd_mask(_mm512_mask_cmp_pd_mask(k, best, best, _CMP_ORD_Q), v, best, _CMP_NLE_UQ);
  }
  static I iota() { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }
  static I iadd(I a, idx b) { return _mm256_add_epi32(a, _mm256_set1_epi32(static_cast<int>(b))); }
  static I iblend(M k, I a, I b) { return _mm256_mask_mov_epi32(a, k, b); }
  static I iload(M k, const std::int32_t* p) { return _mm256_maskz_loadu_epi32(k, p); }
  static void istore(std::int32_t* p, M k, I v) { _mm256_mask_storeu_epi32(p, k, v); }
  static M ieq(M k, I a, I b) { return _mm256_mask_cmpeq_epi32_mask(k, a, b); }
};

template <class S>
typename S::M lane_mask(idx valid) {
  if (valid >= S::W) return static_cast<typename S::M>((1u << S::W) - 1u);
  return static_cast<typename S::M>((1u << valid) - 1u);
}

inline idx lo_col(idx j, idx stride, idx pad) {
  const idx s = j * stride - pad;
  return s < 0 ? 0 : s;
}
inline idx hi_col(idx j, idx stride, idx pad, idx size, idx w) {
  const idx e = j * stride - pad + size;
  return e > w ? w : e;
}

template <class S, bool ARGMAX>
void max_row_impl(const PoolRowArgs<typename S::T>& a) {
  using T = typename S::T;
  using V = typename S::V;
  using I = typename S::I;
  const I iota = S::iota();
  for (idx j = 0; j < a.out_w; ++j) {
    const idx c0 = lo_col(j, a.stride_w, a.pad_left), c1 = hi_col(j, a.stride_w, a.pad_left, a.pool_w, a.w);
    for (idx ch = 0; ch < a.c; ch += S::W) {
      const typename S::M k = lane_mask<S>(a.c - ch);
      const idx p0 = (a.row_lo * a.w + c0) * a.c + ch;
      V best = S::mload(k, a.x + p0);
      I pos = S::iadd(iota, p0);
      for (idx r = a.row_lo; r < a.row_hi; ++r) {
        const T* xr = a.x + (r * a.w) * a.c + ch;
        for (idx col = (r == a.row_lo ? c0 + 1 : c0); col < c1; ++col) {
          const V v = S::mload(k, xr + col * a.c);
          const typename S::M t = S::takes(k, v, best);
          best = S::blend(t, best, v);
          if constexpr (ARGMAX) pos = S::iblend(t, pos, S::iadd(iota, (r * a.w + col) * a.c + ch));
        }
      }
      S::mstore(a.y + j * a.c + ch, k, best);
      if constexpr (ARGMAX) S::istore(a.argmax + j * a.c + ch, k, pos);
    }
  }
}

template <class S>
void max_row(const PoolRowArgs<typename S::T>& a) {
  if (a.argmax)
    max_row_impl<S, true>(a);
  else
    max_row_impl<S, false>(a);
}

template <class S>
void avg_row(const PoolRowArgs<typename S::T>& a) {
  using T = typename S::T;
  using V = typename S::V;
  for (idx j = 0; j < a.out_w; ++j) {
    const idx c0 = lo_col(j, a.stride_w, a.pad_left), c1 = hi_col(j, a.stride_w, a.pad_left, a.pool_w, a.w);
    const V scale = S::set1(T(1) / static_cast<T>((a.row_hi - a.row_lo) * (c1 - c0)));
    for (idx ch = 0; ch < a.c; ch += S::W) {
      const typename S::M k = lane_mask<S>(a.c - ch);
      V sum = S::zero();
      for (idx r = a.row_lo; r < a.row_hi; ++r) {
        const T* xr = a.x + (r * a.w) * a.c + ch;
        for (idx col = c0; col < c1; ++col) sum = S::add(sum, S::mload(k, xr + col * a.c));
      }
      S::mstore(a.y + j * a.c + ch, k, S::mul(sum, scale));
    }
  }
}

// Zeroes n elements.
template <class S>
void zero_fill(typename S::T* d, idx n) {
  const typename S::V z = S::zero();
  idx i = 0;
  for (; i + S::W <= n; i += S::W) S::mstore(d + i, lane_mask<S>(S::W), z);
  if (i < n) S::mstore(d + i, lane_mask<S>(n - i), z);
}

template <class S>
void back_row(const PoolBackRowArgs<typename S::T>& a) {
  using T = typename S::T;
  using V = typename S::V;
  using I = typename S::I;
  const I iota = S::iota();
  const idx row = a.w * a.c;
  for (idx r = a.row_lo; r < a.row_hi; ++r) {
    T* d = a.dx + r * row;
    if (r < a.win_lo || r >= a.win_hi) {
      zero_fill<S>(d, row);
      continue;
    }
    idx done = 0;  // columns written so far
    for (idx j = 0; j < a.out_w; ++j) {
      const idx c0 = lo_col(j, a.stride_w, a.pad_left), c1 = hi_col(j, a.stride_w, a.pad_left, a.pool_w, a.w);
      if (c0 > done) zero_fill<S>(d + done * a.c, (c0 - done) * a.c);
      const T* g = a.dy + j * a.c;
      const V scale = S::set1(T(1) / static_cast<T>((a.win_hi - a.win_lo) * (c1 - c0)));
      for (idx ch = 0; ch < a.c; ch += S::W) {
        const typename S::M k = lane_mask<S>(a.c - ch);
        const V gv = S::mload(k, g + ch);
        if (a.argmax) {
          const I am = S::iload(k, a.argmax + j * a.c + ch);
          for (idx col = c0; col < c1; ++col) {
            const idx p = (r * a.w + col) * a.c + ch;
            S::mstore(d + col * a.c + ch, k, S::keep(S::ieq(k, am, S::iadd(iota, p)), gv));
          }
        } else {
          const V v = S::mul(gv, scale);
          for (idx col = c0; col < c1; ++col) S::mstore(d + col * a.c + ch, k, v);
        }
      }
      done = c1 > done ? c1 : done;
    }
    if (done < a.w) zero_fill<S>(d + done * a.c, (a.w - done) * a.c);
  }
}

template <class S>
void fill(PoolKernels<typename S::T>& k) {
  k.max_row = &max_row<S>;
  k.avg_row = &avg_row<S>;
  k.back_row = &back_row<S>;
}

}  // namespace

void fill_pool_kernels_avx512(PoolKernelSet& set) {
  fill<F32>(set.f32);
  fill<F64>(set.f64);
}

}  // namespace nncore
