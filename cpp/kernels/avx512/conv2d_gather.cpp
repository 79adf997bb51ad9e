// AVX-512 gather kernels of convolution (see conv2d_kernel.h): tiles of MR pixels x NV registers
// of output channels; eight or fewer float channels (four doubles) use 256-bit registers with
// AVX-512VL masks. Loads, not FMAs, bound most of these tiles on current cores (two per cycle next
// to two FMAs): that decides where a broadcast is folded into the FMA and where it is shared.
#include "conv_simd.h"

namespace nncore {
namespace {

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
          if constexpr (NV == 1) {
            acc[i.value][0] = S::template fma_at<i.value * CIN + c.value>(xp, wv[0], acc[i.value][0]);
          } else {  // one broadcast feeds NV multiplies (loads, not FMAs, limit this loop)
            const V xi = S::set1(xp + i.value * CIN + c.value);
            static_for<0, NV>([&](auto v) { acc[i.value][v.value] = S::fma(xi, wv[v.value], acc[i.value][v.value]); });
          }
        });
      });
    } else if constexpr (CIN > 0) {
      // Long channel loops stay loops; the pointer walks the channels.
      for (idx c = 0; c < CIN; ++c) {
        const T* xc = xp + c;
        V wv[NV];
        static_for<0, NV>([&](auto v) { wv[v.value] = S::load(wp + c * NB + v.value * W); });
        static_for<0, MR>([&](auto i) {
          if constexpr (NV == 1) {
            acc[i.value][0] = S::template fma_at<i.value * CIN>(xc, wv[0], acc[i.value][0]);
          } else {
            const V xi = S::set1(xc + i.value * CIN);
            static_for<0, NV>([&](auto v) { acc[i.value][v.value] = S::fma(xi, wv[v.value], acc[i.value][v.value]); });
          }
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

// Two-register blocks take 8 or 11 pixels per tile, whichever wastes fewer recomputed pixels on
// this row length (loads, not FMAs, bound these tiles, so 8 pixels lose nothing per FMA).
inline bool prefer_11(idx npix) { return (npix + 10) / 11 * 11 < (npix + 7) / 8 * 8; }

void gather_f32(const ConvGatherArgs<float>& a) {
  if (a.nb == 8)
    gather_shape<F32x8, 16, 1>(a);
  else if (a.nb == 16)
    gather_shape<F32x16, 16, 1>(a);
  else if (prefer_11(a.npix))
    gather_shape<F32x16, 11, 2>(a);
  else
    gather_shape<F32x16, 8, 2>(a);
}

void gather_f64(const ConvGatherArgs<double>& a) {
  if (a.nb == 4)
    gather_shape<F64x4, 16, 1>(a);
  else if (a.nb == 8)
    gather_shape<F64x8, 16, 1>(a);
  else if (prefer_11(a.npix))
    gather_shape<F64x8, 11, 2>(a);
  else
    gather_shape<F64x8, 8, 2>(a);
}

}  // namespace

void fill_conv_gather_avx512(ConvKernelSet& set) {
  set.f32.gather_block = &gather_block<float>;
  set.f32.gather = &gather_f32;
  set.f64.gather_block = &gather_block<double>;
  set.f64.gather = &gather_f64;
}

}  // namespace nncore
