// AVX-512 gather kernels of convolution (see conv2d_kernel.h): tiles of MR pixels x NV registers
// of output channels; eight or fewer float channels use 256-bit registers with AVX-512VL masks. Loads, not FMAs, bound most of these tiles on current cores (two per cycle next
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

// Rows shorter than a full tile: at most 8 pixels per tile (13 pixels: 8 + 5), so that tiles of
// exactly 1 to 8 pixels serve every tile height; 8 pixels keep enough FMAs in flight.
constexpr int kMaxRest = 8;

// A whole row segment: per packed block, full MR-pixel tiles. The last tile is shifted back to
// end at the last pixel (recomputing a few pixels already written: gather only writes y, so the
// values are identical); rows shorter than MR take tiles of exactly their length.
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
      constexpr int R = MR - 1 < kMaxRest ? MR - 1 : kMaxRest;
      for (idx j = 0; j < a.npix; j += R) {
        const idx n = a.npix - j < R ? a.npix - j : R;
        gather_rest<S, NV, R>(a, a.x + j * a.x_px, y + j * a.y_px, wb, valid, bias, n);
      }
      continue;
    }
    for (idx j = 0;; j += MR) {
      if (j + MR > a.npix) j = a.npix - MR;
      gather_tile<S, MR, NV, CIN>(a, a.x + j * a.x_px, y + j * a.y_px, wb, valid, bias);
      if (j + MR >= a.npix) break;
    }
  }
}

// Input channel counts CINS get their own tile (every input address a register plus an immediate);
// others run the channel loop.
template <class S, int MR, int NV, int... CINS>
void gather_shape(const ConvGatherArgs<typename S::T>& a) {
  if (a.x_px == a.cin &&
      ((a.cin == CINS ? (gather_blocks<S, MR, NV, CINS>(a), true) : false) || ...))
    return;
  gather_blocks<S, MR, NV, 0>(a);
}

// Block widths for float32: one 256-bit vector for up to 8 channels, one 512-bit vector for up to
// 16, else blocks of two 512-bit vectors. float64 (gradient checks, not speed) takes one 512-bit
// vector per block.
idx gather_block_f32(idx cout) {
  if (cout <= 8) return 8;
  if (cout <= 16) return 16;
  return 32;
}

idx gather_block_f64(idx) { return 8; }

// Two-register blocks take 8 or 11 pixels per tile, whichever wastes fewer recomputed pixels on
// this row length (loads, not FMAs, bound these tiles, so 8 pixels lose nothing per FMA).
inline bool prefer_11(idx npix) { return (npix + 10) / 11 * 11 < (npix + 7) / 8 * 8; }

// The channel counts with their own tiles are those the layers measured in bench/ and the models
// of the demo and the examples run (1: grayscale, 3: RGB inputs; 8 to 64: hidden layers and their
// input gradients); each such tile costs compile time, and the channel loop serves the others.
void gather_f32(const ConvGatherArgs<float>& a) {
  if (a.nb == 8)
    gather_shape<F32x8, 16, 1>(a);
  else if (a.nb == 16)
    gather_shape<F32x16, 16, 1, 1, 3, 8, 32>(a);
  else if (prefer_11(a.npix))
    gather_shape<F32x16, 11, 2, 16>(a);
  else
    gather_shape<F32x16, 8, 2, 16, 64>(a);
}

void gather_f64(const ConvGatherArgs<double>& a) { gather_shape<F64x8, 8, 1>(a); }

}  // namespace

void fill_conv_gather_avx512(ConvKernelSet& set) {
  set.f32.gather_block = &gather_block_f32;
  set.f32.gather = &gather_f32;
  set.f64.gather_block = &gather_block_f64;
  set.f64.gather = &gather_f64;
}

}  // namespace nncore
