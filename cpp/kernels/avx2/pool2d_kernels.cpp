// AVX2 pooling row kernels: vectors of channels (8 floats, 4 doubles), lane masks held in vectors,
// argmax positions in integer lanes as wide as the data's.
//
// AVX2 has no mask registers: a compare gives a vector of all-ones / zero lanes, which selects with
// blendv or AND. vmaskmov loads never touch masked-off memory and are cheap; vmaskmov stores are
// slow on AMD Zen, so a last vector of channels is stored whole when the lanes past the channels
// fall on elements of the same row that a later store of the same kernel overwrites (outputs are
// written in ascending order within a row), and masked only at the end of a row.
#include <immintrin.h>

#include <type_traits>

#include "nncore/kernels/pool2d_kernel.h"

namespace nncore {
namespace {

using idx = std::ptrdiff_t;

// The 8 words starting at kMaskWords + 8 - v have their first v words set.
alignas(32) const int kMaskWords[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

inline __m256i mask_words(idx v) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMaskWords + 8 - v)); }

struct F32 {
  using T = float;
  using V = __m256;   // data, and lane masks (all-ones / zero lanes)
  using I = __m256i;  // positions and lane indices, one int32 per lane
  using L = int;      // one lane of I
  static constexpr int W = 8;
  static V mask(idx n) { return _mm256_castsi256_ps(mask_words(n)); }  // the first n lanes
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(T v) { return _mm256_set1_ps(v); }
  static V load(const T* p) { return _mm256_loadu_ps(p); }
  static V mload(V m, const T* p) { return _mm256_maskload_ps(p, _mm256_castps_si256(m)); }
  static void store(T* p, V v) { _mm256_storeu_ps(p, v); }
  static void mstore(T* p, V m, V v) { _mm256_maskstore_ps(p, _mm256_castps_si256(m), v); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V keep(V m, V v) { return _mm256_and_ps(v, m); }
  static V blend(V m, V a, V b) { return _mm256_blendv_ps(a, b, m); }  // b where m
  // v > best, or v is NaN while best is not.
  static V takes(V v, V best) {
    return _mm256_and_ps(_mm256_cmp_ps(best, best, _CMP_ORD_Q), _mm256_cmp_ps(v, best, _CMP_NLE_UQ));
  }

  static I iota() { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }
  static I iset(idx v) { return _mm256_set1_epi32(static_cast<int>(v)); }
  static I izero() { return _mm256_setzero_si256(); }
  static I iadd(I a, I b) { return _mm256_add_epi32(a, b); }
  static I iblend(V m, I a, I b) {
    return _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), m));
  }
  static I iload(const std::int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static I imload(idx n, const std::int32_t* p) { return _mm256_maskload_epi32(p, mask_words(n)); }
  static void istore(std::int32_t* p, I v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static void imstore(std::int32_t* p, idx n, I v) { _mm256_maskstore_epi32(p, mask_words(n), v); }
  static V ieq(I a, I b) { return _mm256_castsi256_ps(_mm256_cmpeq_epi32(a, b)); }
  static I icount(I cnt, V hit) { return _mm256_sub_epi32(cnt, _mm256_castps_si256(hit)); }
  static idx isum(I v) {
    const __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    const __m128i t = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    return _mm_cvtsi128_si32(_mm_add_epi32(t, _mm_shuffle_epi32(t, 0xb1)));
  }
  // Lane l of the result is lane k[l] of v (k holds lane indices).
  static V perm(V v, I k) { return _mm256_permutevar8x32_ps(v, k); }
  static I iperm(I v, I k) { return _mm256_permutevar8x32_epi32(v, k); }
  static I igt(I a, I b) { return _mm256_cmpgt_epi32(a, b); }
  static I lanes_mod(idx c) {  // l mod c in lane l (c >= 1)
    alignas(32) L k[W];
    for (int l = 0, m = 0; l < W; ++l, m = m + 1 == c ? 0 : m + 1) k[l] = m;  // no division: called per row
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(k));
  }
  static I lanes(const L* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  // p[2 l] in lane l, reading p[0, 2 W - 1) only.
  static V evens(const T* p) {
    const __m256 lo = load(p), hi = mload(mask(W - 1), p + W);
    const __m256 e = _mm256_shuffle_ps(lo, hi, 0x88);  // lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xd8));
  }
  static I isub(I a, I b) { return _mm256_sub_epi32(a, b); }
};

struct F64 {
  using T = double;
  using V = __m256d;
  using I = __m256i;  // int64 lanes: positions compare and blend with the data's lane masks
  using L = long long;
  static constexpr int W = 4;
  static V mask(idx n) { return _mm256_castsi256_pd(mask_words(2 * n)); }
  static V zero() { return _mm256_setzero_pd(); }
  static V set1(T v) { return _mm256_set1_pd(v); }
  static V load(const T* p) { return _mm256_loadu_pd(p); }
  static V mload(V m, const T* p) { return _mm256_maskload_pd(p, _mm256_castpd_si256(m)); }
  static void store(T* p, V v) { _mm256_storeu_pd(p, v); }
  static void mstore(T* p, V m, V v) { _mm256_maskstore_pd(p, _mm256_castpd_si256(m), v); }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
  static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
  static V keep(V m, V v) { return _mm256_and_pd(v, m); }
  static V blend(V m, V a, V b) { return _mm256_blendv_pd(a, b, m); }
  static V takes(V v, V best) {
    return _mm256_and_pd(_mm256_cmp_pd(best, best, _CMP_ORD_Q), _mm256_cmp_pd(v, best, _CMP_NLE_UQ));
  }

  static I iota() { return _mm256_setr_epi64x(0, 1, 2, 3); }
  static I iset(idx v) { return _mm256_set1_epi64x(static_cast<long long>(v)); }
  static I izero() { return _mm256_setzero_si256(); }
  static I iadd(I a, I b) { return _mm256_add_epi64(a, b); }
  static I iblend(V m, I a, I b) {
    return _mm256_castpd_si256(_mm256_blendv_pd(_mm256_castsi256_pd(a), _mm256_castsi256_pd(b), m));
  }
  static __m128i mask32(idx n) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(kMaskWords + 8 - n)); }
  static I iload(const std::int32_t* p) {
    return _mm256_cvtepi32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static I imload(idx n, const std::int32_t* p) { return _mm256_cvtepi32_epi64(_mm_maskload_epi32(p, mask32(n))); }
  // The low words of the four lanes (positions fit int32: the drivers check the image size).
  static __m128i narrow(I v) {
    return _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6)));
  }
  static void istore(std::int32_t* p, I v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), narrow(v)); }
  static void imstore(std::int32_t* p, idx n, I v) { _mm_maskstore_epi32(p, mask32(n), narrow(v)); }
  static V ieq(I a, I b) { return _mm256_castsi256_pd(_mm256_cmpeq_epi64(a, b)); }
  static I icount(I cnt, V hit) { return _mm256_sub_epi64(cnt, _mm256_castpd_si256(hit)); }
  static idx isum(I v) {
    const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    return static_cast<idx>(_mm_cvtsi128_si64(_mm_add_epi64(s, _mm_unpackhi_epi64(s, s))));
  }
  // Lane index k of a 64-bit lane as the pair of 32-bit word indices 2k, 2k + 1.
  static I words(I k) {
    return _mm256_add_epi64(_mm256_or_si256(_mm256_slli_epi64(k, 1), _mm256_slli_epi64(k, 33)),
                            _mm256_set1_epi64x(1LL << 32));
  }
  static V perm(V v, I k) { return _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_castpd_ps(v), words(k))); }
  static I iperm(I v, I k) { return _mm256_permutevar8x32_epi32(v, words(k)); }
  static I igt(I a, I b) { return _mm256_cmpgt_epi64(a, b); }
  static I lanes_mod(idx c) {
    alignas(32) L k[W];
    for (int l = 0, m = 0; l < W; ++l, m = m + 1 == c ? 0 : m + 1) k[l] = m;  // no division: called per row
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(k));
  }
  static I lanes(const L* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static V evens(const T* p) {
    const __m256d e = _mm256_unpacklo_pd(load(p), mload(mask(W - 1), p + W));  // lo0 hi0 lo2 hi2
    return _mm256_permute4x64_pd(e, 0xd8);
  }
  static I isub(I a, I b) { return _mm256_sub_epi64(a, b); }
};

inline idx lo_col(idx j, idx stride, idx pad) {
  const idx s = j * stride - pad;
  return s < 0 ? 0 : s;
}
inline idx hi_col(idx j, idx stride, idx pad, idx size, idx w) {
  const idx e = j * stride - pad + size;
  return e > w ? w : e;
}

// Max (and its first position) of one vector of channels [ch, ch + W) over the window of rows
// [row_lo, row_hi) x columns [c0, c1), any window (the padding may clip it); TAIL: only the lanes
// of m are loaded. Each row is reduced on its own and the rows are then combined in order, which
// shortens the chains of dependent compares and blends and gives the same result (the first
// maximum of a sequence is the first maximum of the first maxima of its parts).
template <class S, bool ARGMAX, bool TAIL>
inline void window_max(const PoolRowArgs<typename S::T>& a, idx c0, idx c1, idx ch, typename S::V m,
                       typename S::V& best_out, typename S::I& pos_out) {
  using T = typename S::T;
  using V = typename S::V;
  using I = typename S::I;
  const auto ld = [&](const T* p) {
    if constexpr (TAIL)
      return S::mload(m, p);
    else
      return S::load(p);
  };
  const I iota = S::iota(), step = S::iset(a.c);
  V best = S::zero();
  I pos = S::izero();
  for (idx r = a.row_lo; r < a.row_hi; ++r) {
    const idx p = (r * a.w + c0) * a.c + ch;
    const T* xp = a.x + p;
    V rbest = ld(xp);
    I rpos = S::iadd(iota, S::iset(p)), cur = rpos;
    for (idx col = c0 + 1; col < c1; ++col) {
      xp += a.c;
      const V v = ld(xp);
      const V t = S::takes(v, rbest);
      rbest = S::blend(t, rbest, v);
      if constexpr (ARGMAX) {
        cur = S::iadd(cur, step);
        rpos = S::iblend(t, rpos, cur);
      }
    }
    if (r == a.row_lo) {
      best = rbest;
      pos = rpos;
    } else {
      const V t = S::takes(rbest, best);
      best = S::blend(t, best, rbest);
      if constexpr (ARGMAX) pos = S::iblend(t, pos, rpos);
    }
  }
  best_out = best;
  pos_out = pos;
}

// The windows wholly inside the row all have one shape: the offsets of their elements from the
// first one (rows, then columns: the generic kernel's order) are tabulated once per row, which
// leaves one loop with no index arithmetic per window.
constexpr int kMaxCells = 32;

template <class S>
struct Cells {
  idx n;
  idx off[kMaxCells];
  typename S::I voff[kMaxCells];  // off in every lane
};

// Max (and its first position) of one register of channels over two whole windows at once, xw
// and xw + step (flat positions p and p + step): two independent chains of dependent compares and
// blends, which is what limits this loop, and half the loop overhead per window.
template <class S, bool ARGMAX, bool TAIL, class F>
inline void cells_max2(const typename S::T* xw, idx p, idx step, const Cells<S>& cells, typename S::V m, F&& out) {
  using V = typename S::V;
  using I = typename S::I;
  const auto ld = [&](const typename S::T* q) {
    if constexpr (TAIL)
      return S::mload(m, q);
    else
      return S::load(q);
  };
  const I base0 = S::iadd(S::iota(), S::iset(p)), base1 = S::iadd(base0, S::iset(step));
  const typename S::T* xw1 = xw + step;
  V b0 = ld(xw), b1 = ld(xw1);
  I q0 = base0, q1 = base1;
  for (idx e = 1; e < cells.n; ++e) {
    const V v0 = ld(xw + cells.off[e]), v1 = ld(xw1 + cells.off[e]);
    const V t0 = S::takes(v0, b0), t1 = S::takes(v1, b1);
    b0 = S::blend(t0, b0, v0);
    b1 = S::blend(t1, b1, v1);
    if constexpr (ARGMAX) {
      q0 = S::iblend(t0, q0, S::iadd(base0, cells.voff[e]));
      q1 = S::iblend(t1, q1, S::iadd(base1, cells.voff[e]));
    }
  }
  out(0, b0, q0);
  out(1, b1, q1);
}

// One channel, windows of stride 1 or 2: W whole windows in one register, lane l holding window
// l, loaded whole (stride 1) or as the even elements of two registers (stride 2). Gathers would
// do any stride, but cost more on AMD Zen than these loads (and QEMU 7.2, which the tests run
// under, decodes a gather whose index register is ymm4 as one without index).
template <class S, bool ARGMAX, int STRIDE>
inline void group_max(const typename S::T* xw, idx p, const Cells<S>& cells, typename S::V& best_out,
                      typename S::I& pos_out) {
  using V = typename S::V;
  using I = typename S::I;
  const auto ld = [](const typename S::T* q) {
    if constexpr (STRIDE == 1)
      return S::load(q);
    else
      return S::evens(q);
  };
  I lanes = S::iota();
  if constexpr (STRIDE == 2) lanes = S::iadd(lanes, lanes);
  const I base = S::iadd(lanes, S::iset(p));
  V best = ld(xw);
  I pos = base;
  for (idx e = 1; e < cells.n; ++e) {
    const V v = ld(xw + cells.off[e]);
    const V t = S::takes(v, best);
    best = S::blend(t, best, v);
    if constexpr (ARGMAX) pos = S::iblend(t, pos, S::iadd(base, cells.voff[e]));
  }
  best_out = best;
  pos_out = pos;
}

// Output pixels [j0, j1), whose windows are whole, two at a time (the last one, if alone, is
// done with its neighbour before it again). Returns j1. Channels: WHOLE - whole registers only,
// ONE - one partial register, else any count (separate loops keep the usual ones tight).
enum Chans { kWhole, kOne, kAny };
template <class S, bool ARGMAX, Chans CH>
idx whole_windows(const PoolRowArgs<typename S::T>& a, idx j0, idx j1, const Cells<S>& cells) {
  using V = typename S::V;
  using I = typename S::I;
  const idx full = CH == kWhole ? a.c : CH == kOne ? 0 : a.c - a.c % S::W;
  const idx orow = a.out_w * a.c, step = a.stride_w * a.c;
  const V all = S::mask(S::W), tail = S::mask(a.c - full);
  for (idx j = j0; j < j1; j += 2) {
    if (j + 2 > j1) j = j1 - 2;  // rewrites pixel j1 - 2 with the same values
    const idx p = (a.row_lo * a.w + j * a.stride_w - a.pad_left) * a.c, o = j * a.c;
    // The partial registers first: the first window's reaches into the second's channels, which
    // its whole registers then overwrite.
    if (CH != kWhole && full < a.c)
      cells_max2<S, ARGMAX, true>(a.x + p + full, p + full, step, cells, tail, [&](int k, V best, I pos) {
        const idx q = o + k * a.c + full;
        if (q + S::W <= orow) {
          S::store(a.y + q, best);
          if constexpr (ARGMAX) S::istore(a.argmax + q, pos);
        } else {
          S::mstore(a.y + q, tail, best);
          if constexpr (ARGMAX) S::imstore(a.argmax + q, a.c - full, pos);
        }
      });
    for (idx ch = 0; ch < full; ch += S::W)
      cells_max2<S, ARGMAX, false>(a.x + p + ch, p + ch, step, cells, all, [&](int k, V best, I pos) {
        S::store(a.y + o + k * a.c + ch, best);
        if constexpr (ARGMAX) S::istore(a.argmax + o + k * a.c + ch, pos);
      });
  }
  return j1;
}

// Kernels copy their arguments first: stores through the output pointers may alias anything,
// which would otherwise make the compiler reload every field after each store.
template <class S, bool ARGMAX>
void max_row_impl(const PoolRowArgs<typename S::T>& args) {
  const PoolRowArgs<typename S::T> a = args;
  using V = typename S::V;
  using I = typename S::I;
  const idx orow = a.out_w * a.c, full = a.c - a.c % S::W;
  const V all = S::mask(S::W), tail = S::mask(a.c - full);
  // Output pixel j from compute(ch, tail tag, best, pos) per register of channels.
  const auto pixel = [&](idx j, auto&& compute) {
    const idx o = j * a.c;
    V best;
    I pos;
    for (idx ch = 0; ch < full; ch += S::W) {
      compute(ch, std::false_type{}, best, pos);
      S::store(a.y + o + ch, best);
      if constexpr (ARGMAX) S::istore(a.argmax + o + ch, pos);
    }
    if (full < a.c) {
      compute(full, std::true_type{}, best, pos);
      if (o + full + S::W <= orow) {
        S::store(a.y + o + full, best);
        if constexpr (ARGMAX) S::istore(a.argmax + o + full, pos);
      } else {
        S::mstore(a.y + o + full, tail, best);
        if constexpr (ARGMAX) S::imstore(a.argmax + o + full, a.c - full, pos);
      }
    }
  };
  const auto one_window = [&](idx j) {
    const idx c0 = lo_col(j, a.stride_w, a.pad_left), c1 = hi_col(j, a.stride_w, a.pad_left, a.pool_w, a.w);
    pixel(j, [&](idx ch, auto is_tail, V& best, I& pos) {
      window_max<S, ARGMAX, decltype(is_tail)::value>(a, c0, c1, ch, is_tail ? tail : all, best, pos);
    });
  };
  // Whole windows are [jf0, jf1): the padding clips at most the first and last few.
  idx jf0 = 0, jf1 = a.out_w;
  while (jf0 < a.out_w && jf0 * a.stride_w < a.pad_left) ++jf0;
  while (jf1 > jf0 && (jf1 - 1) * a.stride_w - a.pad_left + a.pool_w > a.w) --jf1;
  const idx rows = a.row_hi - a.row_lo;
  idx j = 0;
  if (rows * a.pool_w <= kMaxCells && jf0 < jf1) {
    Cells<S> cells;
    cells.n = rows * a.pool_w;
    for (idx r = 0, e = 0; r < rows; ++r)
      for (idx col = 0; col < a.pool_w; ++col, ++e) {
        cells.off[e] = (r * a.w + col) * a.c;
        cells.voff[e] = S::iset(cells.off[e]);
      }
    for (; j < jf0; ++j) one_window(j);
    if (a.c == 1 && (a.stride_w == 1 || a.stride_w == 2))
      for (; j + S::W <= jf1; j += S::W) {
        const idx p = a.row_lo * a.w + j * a.stride_w - a.pad_left;
        V best;
        I pos;
        if (a.stride_w == 1)
          group_max<S, ARGMAX, 1>(a.x + p, p, cells, best, pos);
        else
          group_max<S, ARGMAX, 2>(a.x + p, p, cells, best, pos);
        S::store(a.y + j, best);
        if constexpr (ARGMAX) S::istore(a.argmax + j, pos);
      }
    if (jf1 - j >= 2) {
      if (a.c % S::W == 0)
        j = whole_windows<S, ARGMAX, kWhole>(a, j, jf1, cells);
      else if (a.c < S::W)
        j = whole_windows<S, ARGMAX, kOne>(a, j, jf1, cells);
      else
        j = whole_windows<S, ARGMAX, kAny>(a, j, jf1, cells);
    }
  }
  for (; j < a.out_w; ++j) one_window(j);
}

template <class S>
void max_row(const PoolRowArgs<typename S::T>& a) {
  if (a.argmax)
    max_row_impl<S, true>(a);
  else
    max_row_impl<S, false>(a);
}

// Sum in the order of the generic kernel (rows, then columns), so both give the same bits.
template <class S, bool TAIL>
inline typename S::V window_sum(const PoolRowArgs<typename S::T>& a, idx c0, idx c1, idx ch, typename S::V m) {
  using T = typename S::T;
  typename S::V sum = S::zero();
  for (idx r = a.row_lo; r < a.row_hi; ++r) {
    const T* xp = a.x + (r * a.w + c0) * a.c + ch;
    for (idx col = c0; col < c1; ++col, xp += a.c) {
      if constexpr (TAIL)
        sum = S::add(sum, S::mload(m, xp));
      else
        sum = S::add(sum, S::load(xp));
    }
  }
  return sum;
}

template <class S>
void avg_row(const PoolRowArgs<typename S::T>& args) {
  const PoolRowArgs<typename S::T> a = args;
  using T = typename S::T;
  using V = typename S::V;
  const idx orow = a.out_w * a.c, full = a.c - a.c % S::W;
  const V tail = S::mask(a.c - full);
  for (idx j = 0; j < a.out_w; ++j) {
    const idx c0 = lo_col(j, a.stride_w, a.pad_left), c1 = hi_col(j, a.stride_w, a.pad_left, a.pool_w, a.w);
    const V scale = S::set1(T(1) / static_cast<T>((a.row_hi - a.row_lo) * (c1 - c0)));
    T* y = a.y + j * a.c;
    for (idx ch = 0; ch < full; ch += S::W) S::store(y + ch, S::mul(window_sum<S, false>(a, c0, c1, ch, tail), scale));
    if (full < a.c) {
      const V v = S::mul(window_sum<S, true>(a, c0, c1, full, tail), scale);
      if (j * a.c + full + S::W <= orow)
        S::store(y + full, v);
      else
        S::mstore(y + full, tail, v);
    }
  }
}

// Zeroes n elements: whole vectors, the last one overlapping the previous.
template <class S>
void zero_fill(typename S::T* d, idx n) {
  if (n < S::W) {
    for (idx i = 0; i < n; ++i) d[i] = 0;
    return;
  }
  const typename S::V z = S::zero();
  idx i = 0;
  for (; i + S::W <= n; i += S::W) S::store(d + i, z);
  if (i < n) S::store(d + n - S::W, z);
}

// Zeroes columns [from, to) of the window rows.
template <class S>
void zero_cols(const PoolBackRowArgs<typename S::T>& a, idx from, idx to) {
  if (from >= to) return;
  for (idx r = a.win_lo; r < a.win_hi; ++r) zero_fill<S>(a.dx + (r * a.w + from) * a.c, (to - from) * a.c);
}

// Stores register g (the valid lanes; all of them when `whole`) at d and at the same column of the
// next rows - 1 rows, `row` elements apart; with ARGMAX only in lanes whose argmax entry is the
// element's position (first = d's), counting those lanes into `matched`. Returns the count.
template <class S, bool ARGMAX>
typename S::I store_down_rows(typename S::T* d, idx first, idx row, idx rows, typename S::V g, typename S::I am,
                              typename S::V valid, bool whole, typename S::I matched) {
  using V = typename S::V;
  using I = typename S::I;
  I pos = S::iadd(S::iota(), S::iset(first));
  const I rstep = S::iset(row);
  for (idx r = 0; r < rows; ++r, d += row) {
    V out = g;
    if constexpr (ARGMAX) {
      const V hit = S::ieq(am, pos);
      matched = S::icount(matched, S::keep(valid, hit));
      out = S::keep(hit, g);
      pos = S::iadd(pos, rstep);
    }
    if (whole)
      S::store(d, out);
    else
      S::mstore(d, valid, out);
  }
  return matched;
}

// Fewer channels than lanes: window j's dx segment in one row is (c1 - c0) * c contiguous elements
// whose lane pattern repeats every c lanes, so each register covers several pixels: lane l of the
// register at offset q takes channel (q + l) mod c, picked from the window's channel vector with a
// permute. The pattern of a register is the same in every row of the window: rows are the inner
// loop, so that a window row costs a compare and a store.
template <class S, bool ARGMAX>
idx back_few(const PoolBackRowArgs<typename S::T>& a) {
  using T = typename S::T;
  using V = typename S::V;
  using I = typename S::I;
  const idx row = a.w * a.c, rows = a.win_hi - a.win_lo;
  const I k0 = S::lanes_mod(a.c);  // the lane pattern of a segment's first register
  const idx shift = S::W % a.c;     // how far it moves from one register to the next
  const I ishift = S::iset(shift), cmax = S::iset(a.c - 1), cset = S::iset(a.c);
  const V cmask = S::mask(a.c), all = S::mask(S::W);
  I matched = S::izero();
  idx done = 0;
  for (idx j = 0; j < a.out_w; ++j) {
    const idx c0 = lo_col(j, a.stride_w, a.pad_left), c1 = hi_col(j, a.stride_w, a.pad_left, a.pool_w, a.w);
    if (c0 > done) zero_cols<S>(a, done, c0);
    done = c1;
    const idx n = (c1 - c0) * a.c, s = (a.win_lo * a.w + c0) * a.c;
    V gl = S::mload(cmask, a.dy + j * a.c);
    I al = S::izero();
    if constexpr (ARGMAX)
      al = S::imload(a.c, a.argmax + j * a.c);
    else
      gl = S::mul(gl, S::set1(T(1) / static_cast<T>(rows * (c1 - c0))));
    I k = k0;
    for (idx q = 0; q < n; q += S::W) {
      const V g = S::perm(gl, k);
      const I am = S::iperm(al, k);
      const V valid = q + S::W <= n ? all : S::mask(n - q);
      // Lanes past the segment fall on later columns of the row, which later stores overwrite.
      const bool whole = c0 * a.c + q + S::W <= row;
      matched = store_down_rows<S, ARGMAX>(a.dx + s + q, s + q, row, rows, g, am, valid, whole, matched);
      if (shift) {
        k = S::iadd(k, ishift);
        k = S::isub(k, _mm256_and_si256(S::igt(k, cmax), cset));
      }
    }
  }
  zero_cols<S>(a, done, a.w);
  return S::isum(matched);
}

// Few channels on windows that tile the row from column 0: the window rows of the band are one
// run of out_w * pool_w * c elements, in which a register may span several windows (4 windows of
// 2 pixels of 1 channel, ...). Lane l of the register at offset q takes the window (q + l) / span
// and channel (q + l) mod c; relative to the register's first window that is a lane pattern of
// the dy (argmax) elements loaded from there, repeating every lcm(W, span) elements. Up to 8
// patterns are tabulated per call; false when they do not fit (then back_few is used).
template <class S, bool ARGMAX>
bool back_spans(const PoolBackRowArgs<typename S::T>& a, idx& result) {
  using T = typename S::T;
  using V = typename S::V;
  using I = typename S::I;
  constexpr int kMaxPatterns = 8;
  const idx span = a.pool_w * a.c;
  alignas(32) typename S::L tab[kMaxPatterns * S::W];
  idx wstep[kMaxPatterns];  // windows from the first window of pattern p's register to the next's
  int patterns = 0;
  for (idx win = 0, in = 0, ch = 0;;) {
    if (patterns == kMaxPatterns) return false;
    const idx first = win;
    for (int l = 0; l < S::W; ++l) {
      const idx lane = (win - first) * a.c + ch;  // of the W elements loaded from the first window
      if (lane >= S::W) return false;
      tab[patterns * S::W + l] = static_cast<typename S::L>(lane);
      ch = ch + 1 == a.c ? 0 : ch + 1;
      if (++in == span) in = 0, ++win;
    }
    wstep[patterns++] = win - first;
    if (in == 0 && ch == 0) break;  // back at a window's start: the patterns repeat
  }
  const idx row = a.w * a.c, rows = a.win_hi - a.win_lo, run = a.out_w * span, orow = a.out_w * a.c;
  const V all = S::mask(S::W), scale = S::set1(T(1) / static_cast<T>(rows * a.pool_w));
  I matched = S::izero();
  idx jw = 0;
  int p = 0;
  for (idx q = 0; q < run; q += S::W) {
    const idx left = orow - jw * a.c;  // dy elements from the register's first window on
    const I k = S::lanes(tab + p * S::W);
    V g;
    I am = S::izero();
    if (left >= S::W) {
      g = S::load(a.dy + jw * a.c);
      if constexpr (ARGMAX) am = S::iload(a.argmax + jw * a.c);
    } else {
      g = S::mload(S::mask(left), a.dy + jw * a.c);
      if constexpr (ARGMAX) am = S::imload(left, a.argmax + jw * a.c);
    }
    g = S::perm(g, k);
    if constexpr (ARGMAX)
      am = S::iperm(am, k);
    else
      g = S::mul(g, scale);
    const V valid = q + S::W <= run ? all : S::mask(run - q);
    // Lanes past the run fall on columns the zeroing below overwrites.
    const bool whole = q + S::W <= row;
    matched = store_down_rows<S, ARGMAX>(a.dx + a.win_lo * row + q, a.win_lo * row + q, row, rows, g, am,
                                         valid, whole, matched);
    jw += wstep[p];
    p = p + 1 == patterns ? 0 : p + 1;
  }
  zero_cols<S>(a, a.out_w * a.pool_w, a.w);
  result = S::isum(matched);
  return true;
}

// At least one register of channels: one register at a time per pixel, the last one masked.
template <class S, bool ARGMAX>
idx back_pixels(const PoolBackRowArgs<typename S::T>& a) {
  using T = typename S::T;
  using V = typename S::V;
  using I = typename S::I;
  const idx row = a.w * a.c, full = a.c - a.c % S::W, rest = a.c - full;
  const I iota = S::iota();
  const V tail = S::mask(rest);
  I matched = S::izero();
  idx done = 0;
  for (idx j = 0; j < a.out_w; ++j) {
    const idx c0 = lo_col(j, a.stride_w, a.pad_left), c1 = hi_col(j, a.stride_w, a.pad_left, a.pool_w, a.w);
    zero_cols<S>(a, done, c0);
    const T* g = a.dy + j * a.c;
    const std::int32_t* am = ARGMAX ? a.argmax + j * a.c : nullptr;
    const V scale = S::set1(ARGMAX ? T(1) : T(1) / static_cast<T>((a.win_hi - a.win_lo) * (c1 - c0)));
    for (idx r = a.win_lo; r < a.win_hi; ++r)
      for (idx col = c0; col < c1; ++col) {
        const idx p = (r * a.w + col) * a.c;
        T* d = a.dx + p;
        for (idx ch = 0; ch < full; ch += S::W) {
          if constexpr (ARGMAX) {
            const V hit = S::ieq(S::iload(am + ch), S::iadd(iota, S::iset(p + ch)));
            matched = S::icount(matched, hit);
            S::store(d + ch, S::keep(hit, S::load(g + ch)));
          } else {
            S::store(d + ch, S::mul(S::load(g + ch), scale));
          }
        }
        if (rest) {
          V out;
          if constexpr (ARGMAX) {
            const V hit = S::keep(tail, S::ieq(S::imload(rest, am + full), S::iadd(iota, S::iset(p + full))));
            matched = S::icount(matched, hit);
            out = S::keep(hit, S::mload(tail, g + full));
          } else {
            out = S::mul(S::mload(tail, g + full), scale);
          }
          if (col * a.c + full + S::W <= row)
            S::store(d + full, out);
          else
            S::mstore(d + full, tail, out);
        }
      }
    done = c1 > done ? c1 : done;
  }
  zero_cols<S>(a, done, a.w);
  return S::isum(matched);
}

// The common layout (2x2 windows of stride 2 on 8 or 16 float channels, ...): windows tile the row
// from column 0 and every pixel is whole registers, so the channel registers of a window are
// loaded once and every store is a full one, with positions advanced by adds.
template <class S, bool ARGMAX>
idx back_tiled(const PoolBackRowArgs<typename S::T>& a) {
  using T = typename S::T;
  using V = typename S::V;
  using I = typename S::I;
  const idx row = a.w * a.c, rows = a.win_hi - a.win_lo;
  const I iota = S::iota(), cstep = S::iset(a.c), rstep = S::iset(row);
  const V scale = S::set1(T(1) / static_cast<T>(rows * a.pool_w));
  I matched = S::izero();
  for (idx j = 0; j < a.out_w; ++j)
    for (idx k = 0; k < a.c; k += S::W) {
      const idx b = (a.win_lo * a.w + j * a.pool_w) * a.c + k;
      T* d = a.dx + b;
      if constexpr (ARGMAX) {
        const V g = S::load(a.dy + j * a.c + k);
        const I am = S::iload(a.argmax + j * a.c + k);
        I pr = S::iadd(iota, S::iset(b));
        for (idx r = 0; r < rows; ++r, d += row, pr = S::iadd(pr, rstep)) {
          I p = pr;
          for (idx col = 0; col < a.pool_w; ++col, p = S::iadd(p, cstep)) {
            const V hit = S::ieq(am, p);
            matched = S::icount(matched, hit);
            S::store(d + col * a.c, S::keep(hit, g));
          }
        }
      } else {
        const V g = S::mul(S::load(a.dy + j * a.c + k), scale);
        for (idx r = 0; r < rows; ++r, d += row)
          for (idx col = 0; col < a.pool_w; ++col) S::store(d + col * a.c, g);
      }
    }
  zero_cols<S>(a, a.out_w * a.pool_w, a.w);
  return S::isum(matched);
}

// The usual case of back_tiled (2x2 windows of stride 2 on 8 or 16 float channels): windows of two
// columns on NV registers of channels per pixel. Each window row is 2 * NV stores with no inner
// loop, one dx row after the other with positions advanced by adds.
template <class S, bool ARGMAX, int NV>
idx back_pairs(const PoolBackRowArgs<typename S::T>& a) {
  using T = typename S::T;
  using V = typename S::V;
  using I = typename S::I;
  const idx row = a.w * a.c;
  const I vstep = S::iset(S::W);
  const V scale = S::set1(T(1) / static_cast<T>((a.win_hi - a.win_lo) * 2));
  I matched = S::izero();
  for (idx r = a.win_lo; r < a.win_hi; ++r) {
    T* d = a.dx + r * row;
    I pos = S::iadd(S::iota(), S::iset(r * row));
    const T* g = a.dy;
    const std::int32_t* am = a.argmax;
    for (idx j = 0; j < a.out_w; ++j, d += 2 * NV * S::W, g += NV * S::W) {
      V gv[NV];
      for (int v = 0; v < NV; ++v) gv[v] = S::load(g + v * S::W);
      if constexpr (ARGMAX) {
        I av[NV];
        for (int v = 0; v < NV; ++v) av[v] = S::iload(am + v * S::W);
        am += NV * S::W;
        for (int col = 0; col < 2; ++col)
          for (int v = 0; v < NV; ++v) {
            const V hit = S::ieq(av[v], pos);
            pos = S::iadd(pos, vstep);
            matched = S::icount(matched, hit);
            S::store(d + (col * NV + v) * S::W, S::keep(hit, gv[v]));
          }
      } else {
        for (int v = 0; v < NV; ++v) gv[v] = S::mul(gv[v], scale);
        for (int col = 0; col < 2; ++col)
          for (int v = 0; v < NV; ++v) S::store(d + (col * NV + v) * S::W, gv[v]);
      }
    }
  }
  zero_cols<S>(a, a.out_w * 2, a.w);
  return S::isum(matched);
}

template <class S>
idx back_row(const PoolBackRowArgs<typename S::T>& args) {
  const PoolBackRowArgs<typename S::T> a = args;
  const idx row = a.w * a.c;
  for (idx r = a.row_lo; r < a.row_hi; ++r)
    if (r < a.win_lo || r >= a.win_hi) zero_fill<S>(a.dx + r * row, row);
  if (a.win_lo >= a.win_hi) return 0;
  const bool tiled = a.pad_left == 0 && a.stride_w == a.pool_w && a.out_w * a.pool_w <= a.w;
  if (tiled && a.pool_w == 2 && a.c == S::W) return a.argmax ? back_pairs<S, true, 1>(a) : back_pairs<S, false, 1>(a);
  if (tiled && a.pool_w == 2 && a.c == 2 * S::W)
    return a.argmax ? back_pairs<S, true, 2>(a) : back_pairs<S, false, 2>(a);
  if (tiled && a.c % S::W == 0) return a.argmax ? back_tiled<S, true>(a) : back_tiled<S, false>(a);
  if (a.c < S::W) {
    idx matched = 0;
    if (tiled && (a.argmax ? back_spans<S, true>(a, matched) : back_spans<S, false>(a, matched))) return matched;
    return a.argmax ? back_few<S, true>(a) : back_few<S, false>(a);
  }
  return a.argmax ? back_pixels<S, true>(a) : back_pixels<S, false>(a);
}

template <class S>
void fill(PoolKernels<typename S::T>& k) {
  k.max_row = &max_row<S>;
  k.avg_row = &avg_row<S>;
  k.back_row = &back_row<S>;
}

}  // namespace

void fill_pool_kernels_avx2(PoolKernelSet& set) {
  fill<F32>(set.f32);
  fill<F64>(set.f64);
}

}  // namespace nncore
