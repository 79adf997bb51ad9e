// AVX-512 convolution kernels: register tiles of MR pixels (gather) or MR im2col columns (wgrad)
// times NV vectors of output channels. Eight or fewer float channels (four doubles) use 256-bit
// vectors with AVX-512VL masks, so a 3->8 channel layer does not waste half of every register.
#include <immintrin.h>

#include "nncore/kernels/conv2d_kernel.h"

namespace nncore {
namespace {

using idx = std::ptrdiff_t;

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
  // c += broadcast(base[OFF]) * b (see mfma_at).
  template <int OFF>
  static V fma_at(const T* base, V b, V c) {
    __asm__("vfmadd231ps %c[off](%[base])%{1to16%}, %[b], %[c]"
            : [c] "+v"(c) : [b] "v"(b), [base] "r"(base), [off] "i"(OFF * 4));
    return c;
  }
  // c += broadcast(*x) * b in the lanes of k (other lanes add 0 * b). A zero-masked broadcast
  // plus a plain FMA: GCC cannot fold a broadcast into a masked FMA, and the load keeps x off the
  // lanes where it would meet a zero weight (0 * inf = NaN).
  static V mfma_bcast(M k, const T* x, V b, V c) {
    return _mm512_fmadd_ps(_mm512_maskz_broadcastss_ps(k, _mm_load_ss(x)), b, c);
  }
  // c += broadcast(base[OFF]) * b in the lanes of k, as one instruction at a fixed place. Written
  // out because with dozens of these in an unrolled tile GCC hoists the loads into registers,
  // broadcasts through the shuffle unit and spills; it also cannot fold a broadcast into a masked
  // FMA. The memory read is not declared: callers only read buffers filled before the kernel.
  template <int OFF>
  static V mfma_at(M k, const T* base, V b, V c) {
    __asm__("vfmadd231ps %c[off](%[base])%{1to16%}, %[b], %[c]%{%[k]%}"
            : [c] "+v"(c)
            : [b] "v"(b), [base] "r"(base), [off] "i"(OFF * 4), [k] "Yk"(k));
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
            : [c] "+v"(c) : [b] "v"(b), [base] "r"(base), [off] "i"(OFF * 4));
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
            : [c] "+v"(c) : [b] "v"(b), [base] "r"(base), [off] "i"(OFF * 8));
    return c;
  }
  static V mfma_bcast(M k, const T* x, V b, V c) {
    return _mm512_fmadd_pd(_mm512_maskz_broadcastsd_pd(k, _mm_load_sd(x)), b, c);
  }
  template <int OFF>
  static V mfma_at(M k, const T* base, V b, V c) {
    __asm__("vfmadd231pd %c[off](%[base])%{1to8%}, %[b], %[c]%{%[k]%}"
            : [c] "+v"(c)
            : [b] "v"(b), [base] "r"(base), [off] "i"(OFF * 8), [k] "Yk"(k));
    return c;
  }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static V relu(V v) { return _mm512_mask_mov_pd(v, _mm512_cmp_pd_mask(v, zero(), _CMP_LE_OQ), zero()); }
};

struct F64x4 {
  using T = double;
  using V = __m256d;
  using M = __mmask8;
  static constexpr int W = 4;
  static V zero() { return _mm256_setzero_pd(); }
  static V set1(const T* p) { return _mm256_set1_pd(*p); }
  static V load(const T* p) { return _mm256_loadu_pd(p); }
  static V mload(M k, const T* p) { return _mm256_maskz_loadu_pd(k, p); }
  static void store(T* p, V v) { _mm256_storeu_pd(p, v); }
  static void mstore(T* p, M k, V v) { _mm256_mask_storeu_pd(p, k, v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  template <int OFF>
  static V fma_at(const T* base, V b, V c) {
    __asm__("vfmadd231pd %c[off](%[base])%{1to4%}, %[b], %[c]"
            : [c] "+v"(c) : [b] "v"(b), [base] "r"(base), [off] "i"(OFF * 8));
    return c;
  }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
  static V relu(V v) { return _mm256_mask_mov_pd(v, _mm256_cmp_pd_mask(v, zero(), _CMP_LE_OQ), zero()); }
};

template <class S>
typename S::M lane_mask(idx valid) {
  if (valid <= 0) return 0;
  if (valid >= S::W) return static_cast<typename S::M>((1u << S::W) - 1u);
  return static_cast<typename S::M>((1u << valid) - 1u);
}

// Compile-time loops: f(Int<I>{}) for I in [B, E), so that indices can be template arguments.
template <int I>
struct Int {
  static constexpr int value = I;
};
template <int B, int E, class F>
inline void static_for(F&& f) {
  if constexpr (B < E) {
    f(Int<B>{});
    static_for<B + 1, E>(f);
  }
}

// ------------------------------------------------------------------------------------- gather

// MR pixels x NV vectors of one packed block. `valid` output channels of the block are stored.
// CIN > 0: the input channel count is CIN and consecutive pixels are CIN apart (stride-1 rows);
// every input address is then one base register plus an immediate, where a run-time pixel step
// would need MR live pointers (more than x86-64 has registers for).
template <class S, int MR, int NV, int CIN = 0>
void gather_tile(const ConvGatherArgs<typename S::T>& a, const typename S::T* x, typename S::T* y,
                 const typename S::T* wb, idx valid, const typename S::T* bias) {
  using T = typename S::T;
  using V = typename S::V;
  constexpr int W = S::W;
  constexpr int NB = NV * W;
  V acc[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = S::zero();
  const idx px = CIN > 0 ? CIN : a.x_px;
  const idx cin = CIN > 0 ? CIN : a.cin;
  for (idx t = 0; t < a.ntaps; ++t) {
    const T* xp = x + a.x_off[t];
    const T* wp = wb + a.w_off[t];
    if constexpr (CIN > 0 && CIN <= 16) {
      static_for<0, CIN>([&](auto c) {
        V wv[NV];
        static_for<0, NV>([&](auto v) { wv[v.value] = S::load(wp + c.value * NB + v.value * W); });
        static_for<0, MR>([&](auto i) {
          static_for<0, NV>([&](auto v) {
            acc[i.value][v.value] = S::template fma_at<i.value * CIN + c.value>(xp, wv[v.value], acc[i.value][v.value]);
          });
        });
      });
    } else if constexpr (CIN > 0) {
      // Long channel loops stay loops; the pointer walks the channels.
      for (idx c = 0; c < CIN; ++c) {
        const T* xc = xp + c;
        V wv[NV];
        static_for<0, NV>([&](auto v) { wv[v.value] = S::load(wp + c * NB + v.value * W); });
        static_for<0, MR>([&](auto i) {
          static_for<0, NV>([&](auto v) {
            acc[i.value][v.value] = S::template fma_at<i.value * CIN>(xc, wv[v.value], acc[i.value][v.value]);
          });
        });
      }
    } else {
      for (idx c = 0; c < cin; ++c) {
        V wv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) wv[v] = S::load(wp + c * NB + v * W);
#pragma GCC unroll 32
        for (int i = 0; i < MR; ++i) {
          const V xi = S::set1(xp + i * px + c);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) acc[i][v] = S::fma(xi, wv[v], acc[i][v]);
        }
      }
    }
  }
  V bv[NV];
  typename S::M mk[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    mk[v] = lane_mask<S>(valid - v * W);
    bv[v] = bias ? S::mload(mk[v], bias + v * W) : S::zero();
  }
  const bool full = valid >= NB;
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
    T* out = y + i * a.y_px;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      V r = S::add(acc[i][v], bv[v]);
      if (a.relu) r = S::relu(r);
      if (full)
        S::store(out + v * W, r);
      else
        S::mstore(out + v * W, mk[v], r);
    }
  }
}

// Exactly `rest` (< R + 1) pixels with one tile of that many rows.
template <class S, int NV, int R>
void gather_rest(const ConvGatherArgs<typename S::T>& a, const typename S::T* x, typename S::T* y,
                 const typename S::T* wb, idx valid, const typename S::T* bias, idx rest) {
  if constexpr (R > 0) {
    if (rest == R)
      gather_tile<S, R, NV>(a, x, y, wb, valid, bias);
    else
      gather_rest<S, NV, R - 1>(a, x, y, wb, valid, bias, rest);
  }
}

// A whole row segment: per packed block, full MR-pixel tiles. The last tile is shifted back to
// end at the last pixel (recomputing a few pixels already written: gather only writes y, so the
// values are identical); rows shorter than MR take one tile of exactly their length.
template <class S, int MR, int NV, int CIN>
void gather_blocks(const ConvGatherArgs<typename S::T>& a) {
  using T = typename S::T;
  constexpr idx NB = NV * S::W;
  for (idx co = 0; co < a.cout; co += NB) {
    const idx valid = (a.cout - co < NB) ? a.cout - co : NB;
    const T* wb = a.w + (co / NB) * a.w_block;
    const T* bias = a.bias ? a.bias + co : nullptr;
    T* y = a.y + co;
    if (a.npix < MR) {
      gather_rest<S, NV, MR - 1>(a, a.x, y, wb, valid, bias, a.npix);
      continue;
    }
    for (idx j = 0;; j += MR) {
      if (j + MR > a.npix) j = a.npix - MR;
      gather_tile<S, MR, NV, CIN>(a, a.x + j * a.x_px, y + j * a.y_px, wb, valid, bias);
      if (j + MR >= a.npix) break;
    }
  }
}

template <class S, int MR, int NV>
void gather_shape(const ConvGatherArgs<typename S::T>& a) {
  if (a.x_px == a.cin) {
    switch (a.cin) {
      case 1: return gather_blocks<S, MR, NV, 1>(a);
      case 2: return gather_blocks<S, MR, NV, 2>(a);
      case 3: return gather_blocks<S, MR, NV, 3>(a);
      case 4: return gather_blocks<S, MR, NV, 4>(a);
      case 8: return gather_blocks<S, MR, NV, 8>(a);
      case 16: return gather_blocks<S, MR, NV, 16>(a);
      case 32: return gather_blocks<S, MR, NV, 32>(a);
      case 64: return gather_blocks<S, MR, NV, 64>(a);
      default: break;
    }
  }
  gather_blocks<S, MR, NV, 0>(a);
}

// Block widths: one 256-bit vector for up to 8 floats / 4 doubles, one 512-bit vector for up to
// 16 / 8, else blocks of two 512-bit vectors.
template <typename T>
idx gather_block(idx cout) {
  constexpr idx w = 64 / sizeof(T);
  if (cout <= w / 2) return w / 2;
  if (cout <= w) return w;
  return 2 * w;
}

void gather_f32(const ConvGatherArgs<float>& a) {
  if (a.nb == 8)
    gather_shape<F32x8, 16, 1>(a);
  else if (a.nb == 16)
    gather_shape<F32x16, 16, 1>(a);
  else
    gather_shape<F32x16, 12, 2>(a);
}

void gather_f64(const ConvGatherArgs<double>& a) {
  if (a.nb == 4)
    gather_shape<F64x4, 16, 1>(a);
  else if (a.nb == 8)
    gather_shape<F64x8, 16, 1>(a);
  else
    gather_shape<F64x8, 12, 2>(a);
}

// -------------------------------------------------------------------------------------- wgrad

// dw columns [k0, k0 + MR) of R runs (starting at run u0) x channels [co0, co0 + NV*W), the last
// vector masked to `valid` lanes. Every x address is a run's base register plus an immediate.
template <class S, int R, int MR, int NV>
void wgrad_tile(const ConvWgradArgs<typename S::T>& a, idx u0, idx k0, idx co0, idx valid) {
  using T = typename S::T;
  using V = typename S::V;
  constexpr int W = S::W;
  typename S::M mk[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) mk[v] = lane_mask<S>(valid - v * W);
  V acc[R][MR][NV];
  T* dw = a.dw + u0 * a.run_dw + k0 * a.cout + co0;
#pragma GCC unroll 4
  for (int u = 0; u < R; ++u)
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[u][i][v] = S::mload(mk[v], dw + u * a.run_dw + i * a.cout + v * W);
  const T* x0 = a.x + u0 * a.run_x + k0;
  for (idx r = 0; r < a.rows; ++r) {
    const T* xr = x0 + r * a.x_rs;
    const T* dr = a.dy + r * a.dy_rs + co0;
    for (idx p = 0; p < a.cols; ++p) {
      const T* xp = xr + p * a.x_px;
      V d[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) d[v] = S::mload(mk[v], dr + p * a.cout + v * W);
      static_for<0, R>([&](auto u) {
        const T* xu = xp + u.value * a.run_x;
        static_for<0, MR>([&](auto i) {
          static_for<0, NV>([&](auto v) {
            acc[u.value][i.value][v.value] =
                S::template fma_at<i.value>(xu, d[v.value], acc[u.value][i.value][v.value]);
          });
        });
      });
    }
  }
#pragma GCC unroll 4
  for (int u = 0; u < R; ++u)
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) S::mstore(dw + u * a.run_dw + i * a.cout + v * W, mk[v], acc[u][i][v]);
}

// A tile of exactly `rest` (<= M) columns.
template <class S, int R, int NV, int M>
void wgrad_rest(const ConvWgradArgs<typename S::T>& a, idx u0, idx k0, idx co0, idx valid, idx rest) {
  if constexpr (M > 0) {
    if (rest == M)
      wgrad_tile<S, R, M, NV>(a, u0, k0, co0, valid);
    else
      wgrad_rest<S, R, NV, M - 1>(a, u0, k0, co0, valid, rest);
  }
}

// Runs u0 .. u0+R-1 together: full MR-column tiles, then one tile of the remainder.
template <class S, int R, int MR, int NV>
void wgrad_runs(const ConvWgradArgs<typename S::T>& a, idx u0, idx co, idx valid) {
  idx k = 0;
  for (; k + MR <= a.len; k += MR) wgrad_tile<S, R, MR, NV>(a, u0, k, co, valid);
  if (k < a.len) wgrad_rest<S, R, NV, MR - 1>(a, u0, k, co, valid, a.len - k);
}

// ACC accumulators per tile: short runs are taken three or two at a time.
template <class S, int NV, int ACC>
void wgrad_shape(const ConvWgradArgs<typename S::T>& a) {
  constexpr idx NB = NV * S::W;
  constexpr int MR1 = ACC / NV, MR2 = ACC / (2 * NV), MR3 = ACC / (3 * NV);
  for (idx co = 0; co < a.cout; co += NB) {
    const idx valid = (a.cout - co < NB) ? a.cout - co : NB;
    idx u = 0;
    if (a.len <= MR3)
      for (; u + 3 <= a.nruns; u += 3) wgrad_runs<S, 3, MR3, NV>(a, u, co, valid);
    if (a.len <= MR2)
      for (; u + 2 <= a.nruns; u += 2) wgrad_runs<S, 2, MR2, NV>(a, u, co, valid);
    for (; u < a.nruns; ++u) wgrad_runs<S, 1, MR1, NV>(a, u, co, valid);
  }
}

void wgrad_f32(const ConvWgradArgs<float>& a) {
  if (a.cout <= 8)
    wgrad_shape<F32x8, 1, 27>(a);
  else if (a.cout <= 16)
    wgrad_shape<F32x16, 1, 27>(a);
  else
    wgrad_shape<F32x16, 2, 24>(a);
}

void wgrad_f64(const ConvWgradArgs<double>& a) {
  if (a.cout <= 4)
    wgrad_shape<F64x4, 1, 27>(a);
  else if (a.cout <= 8)
    wgrad_shape<F64x8, 1, 27>(a);
  else
    wgrad_shape<F64x8, 2, 24>(a);
}

// ------------------------------------------------------------------------------ packed gather

// MR groups of P pixels in NR output rows, one 512-bit accumulator each. CIN > 0 fixes the channel
// count so that every input address is a base register plus an immediate.
template <class S, int MR, int NR, int CIN, int P>
void packed_tile(const ConvPackedArgs<typename S::T>& a, const typename S::T* x, typename S::T* y,
                 typename S::V bias, typename S::M store_mask) {
  using T = typename S::T;
  using V = typename S::V;
  constexpr int L = S::W;
  const idx cin = CIN > 0 ? CIN : a.cin;
  const idx gx = P * cin;
  const idx cstep = a.ncols * L;
  V acc[NR][MR];
#pragma GCC unroll 2
  for (int q = 0; q < NR; ++q)
#pragma GCC unroll 16
    for (int g = 0; g < MR; ++g) acc[q][g] = S::zero();
  for (idx r = 0; r < a.nrows; ++r) {
    const T* xr = x + a.row_off[r];
    const T* wr = a.w + a.row_w[r] * cin * cstep;
    for (idx d = 0; d < a.ncols; ++d) {
      const typename S::M m = static_cast<typename S::M>(a.mask[d]);
      const T* xd = xr + d * cin;
      const T* wd = wr + d * L;
      if constexpr (CIN > 0) {
        const T* xd1 = xd + (NR > 1 ? a.x_row : 0);
        static_for<0, CIN>([&](auto c) {
          const V wv = S::load(wd + c.value * cstep);
          static_for<0, MR>([&](auto g) {
            constexpr int off = g.value * P * CIN + c.value;
            acc[0][g.value] = S::template mfma_at<off>(m, xd, wv, acc[0][g.value]);
            if constexpr (NR > 1) acc[NR - 1][g.value] = S::template mfma_at<off>(m, xd1, wv, acc[NR - 1][g.value]);
          });
        });
      } else {
        for (idx c = 0; c < cin; ++c) {
          const V wv = S::load(wd + c * cstep);
#pragma GCC unroll 2
          for (int q = 0; q < NR; ++q)
#pragma GCC unroll 16
            for (int g = 0; g < MR; ++g)
              acc[q][g] = S::mfma_bcast(m, xd + q * a.x_row + g * gx + c, wv, acc[q][g]);
        }
      }
    }
  }
#pragma GCC unroll 2
  for (int q = 0; q < NR; ++q)
#pragma GCC unroll 16
    for (int g = 0; g < MR; ++g) {
      V v = S::add(acc[q][g], bias);
      if (a.relu) v = S::relu(v);
      S::mstore(y + q * a.y_row + g * P * a.cout, store_mask, v);
    }
}

template <class S, int NR, int CIN, int P, int M>
void packed_rest(const ConvPackedArgs<typename S::T>& a, const typename S::T* x, typename S::T* y,
                 typename S::V bias, typename S::M sm, idx groups) {
  if constexpr (M > 0) {
    if (groups == M)
      packed_tile<S, M, NR, CIN, P>(a, x, y, bias, sm);
    else
      packed_rest<S, NR, CIN, P, M - 1>(a, x, y, bias, sm, groups);
  }
}

// Groups per tile: 8 per row, two rows at once (16 accumulators hide the FMA latency even when a
// row has only a few groups).
constexpr int kPackedMr = 8;

template <class S, int NR, int CIN, int P>
void packed_rows(const ConvPackedArgs<typename S::T>& a, const typename S::T* x, typename S::T* y,
                 typename S::V bias, typename S::M sm) {
  const idx groups = a.npix / P;
  const idx gx = P * a.cin, gy = P * a.cout;
  if (groups < kPackedMr) {
    packed_rest<S, NR, CIN, P, kPackedMr - 1>(a, x, y, bias, sm, groups);
    return;
  }
  // Full tiles; the last one shifted back onto groups already written (same values again).
  for (idx g = 0;; g += kPackedMr) {
    if (g + kPackedMr > groups) g = groups - kPackedMr;
    packed_tile<S, kPackedMr, NR, CIN, P>(a, x + g * gx, y + g * gy, bias, sm);
    if (g + kPackedMr >= groups) break;
  }
}

template <class S, int CIN, int P>
void packed_all(const ConvPackedArgs<typename S::T>& a) {
  using T = typename S::T;
  constexpr int L = S::W;
  T lanes[L] = {};
  for (idx l = 0; l < P * a.cout; ++l) lanes[l] = a.bias ? a.bias[l % a.cout] : T(0);
  const typename S::V bias = S::load(lanes);
  const typename S::M sm = lane_mask<S>(P * a.cout);
  idx q = 0;
  for (; q + 2 <= a.nout; q += 2) packed_rows<S, 2, CIN, P>(a, a.x + q * a.x_row, a.y + q * a.y_row, bias, sm);
  if (q < a.nout) packed_rows<S, 1, CIN, P>(a, a.x + q * a.x_row, a.y + q * a.y_row, bias, sm);
}

template <class S, int P>
void packed_cin(const ConvPackedArgs<typename S::T>& a) {
  switch (a.cin) {
    case 1: return packed_all<S, 1, P>(a);
    case 3: return packed_all<S, 3, P>(a);
    case 8: return packed_all<S, 8, P>(a);
    case 16: return packed_all<S, 16, P>(a);
    default: return packed_all<S, 0, P>(a);
  }
}

template <typename T>
idx packed_pixels(idx cout) {
  constexpr idx lanes = 64 / sizeof(T);
  if (cout < 1 || 2 * cout > lanes) return 0;
  const idx p = lanes / cout;
  return p == 3 ? 2 : p;  // no 3-pixel kernels: 5 channels use two pixels
}

void packed_gather_f32(const ConvPackedArgs<float>& a) {
  switch (a.pixels) {
    case 16: return packed_cin<F32x16, 16>(a);
    case 8: return packed_cin<F32x16, 8>(a);
    case 5: return packed_cin<F32x16, 5>(a);
    case 4: return packed_cin<F32x16, 4>(a);
    default: return packed_cin<F32x16, 2>(a);
  }
}

void packed_gather_f64(const ConvPackedArgs<double>& a) {
  switch (a.pixels) {
    case 8: return packed_cin<F64x8, 8>(a);
    case 4: return packed_cin<F64x8, 4>(a);
    default: return packed_cin<F64x8, 2>(a);
  }
}

}  // namespace

void fill_conv_kernels_avx512(ConvKernelSet& set) {
  set.f32.gather_block = &gather_block<float>;
  set.f32.gather = &gather_f32;
  set.f32.wgrad = &wgrad_f32;
  set.f32.packed_lanes = 16;
  set.f32.packed_pixels = &packed_pixels<float>;
  set.f32.packed_gather = &packed_gather_f32;
  set.f64.gather_block = &gather_block<double>;
  set.f64.gather = &gather_f64;
  set.f64.wgrad = &wgrad_f64;
  set.f64.packed_lanes = 8;
  set.f64.packed_pixels = &packed_pixels<double>;
  set.f64.packed_gather = &packed_gather_f64;
}

}  // namespace nncore
