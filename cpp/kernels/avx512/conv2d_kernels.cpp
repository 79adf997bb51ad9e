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
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
  static V relu(V v) { return _mm256_mask_mov_pd(v, _mm256_cmp_pd_mask(v, zero(), _CMP_LE_OQ), zero()); }
};

template <class S>
typename S::M lane_mask(idx valid) {
  if (valid <= 0) return 0;
  if (valid >= S::W) return static_cast<typename S::M>((1u << S::W) - 1u);
  return static_cast<typename S::M>((1u << valid) - 1u);
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
#pragma GCC unroll 16
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
#pragma GCC unroll 4
      for (int u = 0; u < R; ++u) {
        const T* xu = xp + u * a.run_x;
#pragma GCC unroll 32
        for (int i = 0; i < MR; ++i) {
          const V xi = S::set1(xu + i);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) acc[u][i][v] = S::fma(xi, d[v], acc[u][i][v]);
        }
      }
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

}  // namespace

void fill_conv_kernels_avx512(ConvKernelSet& set) {
  set.f32.gather_block = &gather_block<float>;
  set.f32.gather = &gather_f32;
  set.f32.wgrad = &wgrad_f32;
  set.f64.gather_block = &gather_block<double>;
  set.f64.gather = &gather_f64;
  set.f64.wgrad = &wgrad_f64;
}

}  // namespace nncore
