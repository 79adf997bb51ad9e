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
  static I lane_index() { return iota(); }
  // p[l % c] in lane l (c divides W): a channel vector repeated across the register.
  static V vrepeat(const T* p, idx c, I mod) {
    if (c == 8) return _mm512_broadcast_f32x8(_mm256_loadu_ps(p));
    return _mm512_permutexvar_ps(mod, _mm512_maskz_loadu_ps(static_cast<M>((1u << c) - 1u), p));
  }
  static I irepeat(const std::int32_t* p, idx c, I mod) {
    if (c == 8) return _mm512_broadcast_i32x8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_permutexvar_epi32(mod, _mm512_maskz_loadu_epi32(static_cast<M>((1u << c) - 1u), p));
  }
  static I imod(idx c) { return _mm512_and_si512(iota(), _mm512_set1_epi32(static_cast<int>(c - 1))); }
  static I izero() { return _mm512_setzero_si512(); }
  static I icount(I cnt, M hit) { return _mm512_mask_sub_epi32(cnt, hit, cnt, _mm512_set1_epi32(-1)); }
  static idx isum(I v) { return _mm512_reduce_add_epi32(v); }
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
  static V vrepeat(const T* p, idx c, I mod) {
    return _mm512_permutexvar_pd(_mm512_cvtepi32_epi64(mod), _mm512_maskz_loadu_pd(static_cast<M>((1u << c) - 1u), p));
  }
  static I irepeat(const std::int32_t* p, idx c, I mod) {
    return _mm256_permutexvar_epi32(mod, _mm256_maskz_loadu_epi32(static_cast<M>((1u << c) - 1u), p));
  }
  static I imod(idx c) { return _mm256_and_si256(iota(), _mm256_set1_epi32(static_cast<int>(c - 1))); }
  static I izero() { return _mm256_setzero_si256(); }
  static I icount(I cnt, M hit) { return _mm256_mask_sub_epi32(cnt, hit, cnt, _mm256_set1_epi32(-1)); }
  static idx isum(I v) {
    const __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    const __m128i t = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    return _mm_cvtsi128_si32(_mm_add_epi32(t, _mm_shuffle_epi32(t, 0xb1)));
  }
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

// Kernels copy their arguments first: the masked stores below may alias anything, which would
// otherwise make the compiler reload every field after each store.
template <class S, bool ARGMAX>
void max_row_impl(const PoolRowArgs<typename S::T>& args) {
  const PoolRowArgs<typename S::T> a = args;
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
void avg_row(const PoolRowArgs<typename S::T>& args) {
  const PoolRowArgs<typename S::T> a = args;
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

// Window j's dx segment in one row is (c1 - c0) * c contiguous elements whose lane pattern
// repeats every c lanes; with c dividing the vector width one register per 16 (8) elements covers
// several pixels, instead of a mostly empty register per pixel. Rows are the inner loop so that
// the pattern registers are built once per window.
template <class S>
idx back_segments(const PoolBackRowArgs<typename S::T>& a) {
  using T = typename S::T;
  using V = typename S::V;
  using I = typename S::I;
  const I iota = S::iota();
  const I mod = S::imod(a.c);
  const idx row = a.w * a.c;
  I matched = S::izero();
  idx done = 0;
  for (idx j = 0; j < a.out_w; ++j) {
    const idx c0 = lo_col(j, a.stride_w, a.pad_left), c1 = hi_col(j, a.stride_w, a.pad_left, a.pool_w, a.w);
    if (c0 > done)
      for (idx r = a.win_lo; r < a.win_hi; ++r) zero_fill<S>(a.dx + r * row + done * a.c, (c0 - done) * a.c);
    const idx n = (c1 - c0) * a.c;
    V g = S::vrepeat(a.dy + j * a.c, a.c, mod);
    if (a.argmax) {
      const I am = S::irepeat(a.argmax + j * a.c, a.c, mod);
      for (idx r = a.win_lo; r < a.win_hi; ++r) {
        T* seg = a.dx + r * row + c0 * a.c;
        const I base = S::iadd(iota, (r * a.w + c0) * a.c);
        const typename S::M full = lane_mask<S>(S::W);
        idx q = 0;
        for (; q + S::W <= n; q += S::W) {
          const typename S::M hit = S::ieq(full, am, S::iadd(base, q));
          matched = S::icount(matched, hit);
          S::mstore(seg + q, full, S::keep(hit, g));
        }
        if (q < n) {
          const typename S::M k = lane_mask<S>(n - q);
          const typename S::M hit = S::ieq(k, am, S::iadd(base, q));
          matched = S::icount(matched, hit);
          S::mstore(seg + q, k, S::keep(hit, g));
        }
      }
    } else {
      g = S::mul(g, S::set1(T(1) / static_cast<T>((a.win_hi - a.win_lo) * (c1 - c0))));
      for (idx r = a.win_lo; r < a.win_hi; ++r) {
        T* seg = a.dx + r * row + c0 * a.c;
        for (idx q = 0; q < n; q += S::W) S::mstore(seg + q, lane_mask<S>(n - q), g);
      }
    }
    done = c1 > done ? c1 : done;
  }
  if (done < a.w)
    for (idx r = a.win_lo; r < a.win_hi; ++r) zero_fill<S>(a.dx + r * row + done * a.c, (a.w - done) * a.c);
  return S::isum(matched);
}

// Any channel count: one (masked) register of channels per pixel.
template <class S>
idx back_pixels(const PoolBackRowArgs<typename S::T>& a) {
  using T = typename S::T;
  using V = typename S::V;
  using I = typename S::I;
  const I iota = S::iota();
  const idx row = a.w * a.c;
  I matched = S::izero();
  idx done = 0;
  for (idx j = 0; j < a.out_w; ++j) {
    const idx c0 = lo_col(j, a.stride_w, a.pad_left), c1 = hi_col(j, a.stride_w, a.pad_left, a.pool_w, a.w);
    if (c0 > done)
      for (idx r = a.win_lo; r < a.win_hi; ++r) zero_fill<S>(a.dx + r * row + done * a.c, (c0 - done) * a.c);
    const T* g = a.dy + j * a.c;
    const V scale = S::set1(T(1) / static_cast<T>((a.win_hi - a.win_lo) * (c1 - c0)));
    for (idx ch = 0; ch < a.c; ch += S::W) {
      const typename S::M k = lane_mask<S>(a.c - ch);
      const V gv = S::mload(k, g + ch);
      if (a.argmax) {
        const I am = S::iload(k, a.argmax + j * a.c + ch);
        for (idx r = a.win_lo; r < a.win_hi; ++r)
          for (idx col = c0; col < c1; ++col) {
            const idx p = (r * a.w + col) * a.c + ch;
            const typename S::M hit = S::ieq(k, am, S::iadd(iota, p));
            matched = S::icount(matched, hit);
            S::mstore(a.dx + p, k, S::keep(hit, gv));
          }
      } else {
        const V v = S::mul(gv, scale);
        for (idx r = a.win_lo; r < a.win_hi; ++r)
          for (idx col = c0; col < c1; ++col) S::mstore(a.dx + (r * a.w + col) * a.c + ch, k, v);
      }
    }
    done = c1 > done ? c1 : done;
  }
  if (done < a.w)
    for (idx r = a.win_lo; r < a.win_hi; ++r) zero_fill<S>(a.dx + r * row + done * a.c, (a.w - done) * a.c);
  return S::isum(matched);
}

// The common layout (2x2 windows on 8 float channels, 4x4 on 4, ...): windows tile the row from
// column 0 and each window row is exactly one register. A tight loop without masks or clipping.
template <class S>
idx back_one_vector(const PoolBackRowArgs<typename S::T>& a) {
  using T = typename S::T;
  using I = typename S::I;
  const I mod = S::imod(a.c);
  const idx row = a.w * a.c, rows = a.win_hi - a.win_lo;
  const typename S::M full = lane_mask<S>(S::W);
  I matched = S::izero();
  const I first = S::iadd(S::iota(), a.win_lo * row);
  for (idx j = 0; j < a.out_w; ++j) {
    const auto g = S::vrepeat(a.dy + j * a.c, a.c, mod);
    const I am = S::irepeat(a.argmax + j * a.c, a.c, mod);
    T* d = a.dx + a.win_lo * row + j * S::W;
    I pos = S::iadd(first, j * S::W);
    for (idx r = 0; r < rows; ++r) {
      const typename S::M hit = S::ieq(full, am, pos);
      matched = S::icount(matched, hit);
      S::mstore(d + r * row, full, S::keep(hit, g));
      pos = S::iadd(pos, row);
    }
  }
  const idx done = a.out_w * S::W;
  if (done < row)
    for (idx r = a.win_lo; r < a.win_hi; ++r) zero_fill<S>(a.dx + r * row + done, row - done);
  return S::isum(matched);
}

// Windows tiling the row from column 0 on a whole number of registers of channels per pixel.
template <class S>
idx back_wide(const PoolBackRowArgs<typename S::T>& a) {
  using T = typename S::T;
  using I = typename S::I;
  const idx row = a.w * a.c;
  const typename S::M full = lane_mask<S>(S::W);
  const I iota = S::iota();
  I matched = S::izero();
  for (idx j = 0; j < a.out_w; ++j)
    for (idx ch = 0; ch < a.c; ch += S::W) {
      const auto g = S::mload(full, a.dy + j * a.c + ch);
      const I am = S::iload(full, a.argmax + j * a.c + ch);
      for (idx r = a.win_lo; r < a.win_hi; ++r)
        for (idx col = j * a.pool_w; col < (j + 1) * a.pool_w; ++col) {
          const idx p = (r * a.w + col) * a.c + ch;
          const typename S::M hit = S::ieq(full, am, S::iadd(iota, p));
          matched = S::icount(matched, hit);
          S::mstore(a.dx + p, full, S::keep(hit, g));
        }
    }
  const idx done = a.out_w * a.pool_w * a.c;
  if (done < row)
    for (idx r = a.win_lo; r < a.win_hi; ++r) zero_fill<S>(a.dx + r * row + done, row - done);
  return S::isum(matched);
}

template <class S>
idx back_row(const PoolBackRowArgs<typename S::T>& args) {
  const PoolBackRowArgs<typename S::T> a = args;
  const idx row = a.w * a.c;
  for (idx r = a.row_lo; r < a.row_hi; ++r)
    if (r < a.win_lo || r >= a.win_hi) zero_fill<S>(a.dx + r * row, row);
  if (a.win_lo >= a.win_hi) return 0;
  const bool segments = a.c < S::W && (S::W % a.c) == 0;
  const bool tiled = a.argmax && a.pad_left == 0 && a.stride_w == a.pool_w && a.out_w * a.pool_w <= a.w;
  if (tiled && segments && a.pool_w * a.c == S::W) return back_one_vector<S>(a);
  if (tiled && a.c % S::W == 0) return back_wide<S>(a);
  return segments ? back_segments<S>(a) : back_pixels<S>(a);
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
