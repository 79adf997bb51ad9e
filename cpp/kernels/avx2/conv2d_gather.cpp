// AVX2 + FMA convolution gather kernels (see conv2d_kernel.h): the channel-vectorized gather of
// forward and backward-input convolution with fused bias and ReLU; the pixel-packed gather (few
// output channels) is in conv2d_gather_packed.cpp.
//
// 16 ymm registers: a tile keeps 12 accumulators (12 pixels x 8 channels, or 6 pixels x 16), its
// weight vectors and one broadcast. FMAs take 4-5 cycles on two pipes, so at least 8 independent
// sums must be in flight; AVX2 cannot fold a broadcast into an FMA, so every input value is a
// vbroadcastss from memory (a load-port operation next to the FMA).
#include "conv2d_gather_tiles.h"

namespace nncore {
namespace {

// acc[v] += x * w[v] for the NV vectors of one pixel.
template <int NV, typename T, typename V>
inline void step(const T* x, const V (&w)[NV], V (&acc)[NV]) {
  if constexpr (NV == 1)
    acc[0] = bcast_fma(x, w[0], acc[0]);
  else
    bcast_fma(x, w[0], w[1], acc[0], acc[1]);
}

// MR pixels x NV vectors of one packed block; `valid` output channels of the block are stored.
// CIN > 0: the input channel count is CIN and consecutive pixels are CIN apart (stride-1 rows),
// so every input address is one base register plus an immediate; a run-time pixel step would need
// MR live pointers (more than x86-64 has registers for).
template <class S, int MR, int NV, int CIN>
void gather_tile(const ConvGatherArgs<typename S::T>& a, const typename S::T* x, typename S::T* y,
                 const typename S::T* wb, idx valid, const typename S::T* bias) {
  using T = typename S::T;
  using V = typename S::V;
  constexpr int W = S::W;
  constexpr int NB = NV * W;
  V acc[MR][NV];
  static_for<0, MR>([&](auto i) { static_for<0, NV>([&](auto v) { acc[i.value][v.value] = S::zero(); }); });
  const idx px = CIN > 0 ? CIN : a.x_px;
  const idx cin = CIN > 0 ? CIN : a.cin;
  for (idx t = 0; t < a.ntaps; ++t) {
    const T* xp = x + a.x_off[t];
    const T* wp = wb + a.w_off[t];
    if constexpr (CIN > 0 && CIN <= 16) {
      static_for<0, CIN>([&](auto c) {
        V wv[NV];
        static_for<0, NV>([&](auto v) { wv[v.value] = S::load(wp + c.value * NB + v.value * W); });
        static_for<0, MR>([&](auto i) { step<NV>(xp + i.value * CIN + c.value, wv, acc[i.value]); });
      });
    } else {
      // Long or run-time channel loops stay loops; the pointer walks the channels.
      for (idx c = 0; c < cin; ++c) {
        const T* xc = xp + c;
        V wv[NV];
        static_for<0, NV>([&](auto v) { wv[v.value] = S::load(wp + c * NB + v.value * W); });
        static_for<0, MR>([&](auto i) { step<NV>(xc + i.value * px, wv, acc[i.value]); });
      }
    }
  }
  V bv[NV];
  static_for<0, NV>([&](auto v) {
    bv[v.value] = bias ? S::mload(S::mask(valid - v.value * W), bias + v.value * W) : S::zero();
  });
  // Locals: vector stores may alias anything, `a` included.
  const bool full = valid >= NB, relu = a.relu != 0;
  const idx ypx = a.y_px;
  static_for<0, MR>([&](auto i) {
    T* out = y + i.value * ypx;
    static_for<0, NV>([&](auto v) {
      V r = S::add(acc[i.value][v.value], bv[v.value]);
      if (relu) r = S::relu(r);
      const idx lanes = valid - v.value * W;
      if (full || lanes >= W)
        S::store(out + v.value * W, r);
      else if (lanes > 0)
        store_first(out + v.value * W, r, lanes);
    });
  });
}

// Exactly `rest` (<= R) pixels with one tile of that many pixels.
template <class S, int NV, int R>
void gather_rest(const ConvGatherArgs<typename S::T>& a, const typename S::T* x, typename S::T* y,
                 const typename S::T* wb, idx valid, const typename S::T* bias, idx rest) {
  if constexpr (R > 0) {
    if (rest == R)
      gather_tile<S, R, NV, 0>(a, x, y, wb, valid, bias);
    else
      gather_rest<S, NV, R - 1>(a, x, y, wb, valid, bias, rest);
  }
}

// A whole row segment, per packed block: tiles of A and B pixels (split_tiles), or one tile of
// exactly npix pixels when the row is shorter than B.
template <class S, int NV, int A, int B, int CIN>
void gather_blocks(const ConvGatherArgs<typename S::T>& a) {
  using T = typename S::T;
  constexpr idx NB = NV * S::W;
  const TileSplit split = a.npix >= B ? split_tiles<A, B>(a.npix) : TileSplit{0, 0};
  for (idx co = 0; co < a.cout; co += NB) {
    const idx valid = (a.cout - co < NB) ? a.cout - co : NB;
    const T* wb = a.w + (co / NB) * a.w_block;
    const T* bias = a.bias ? a.bias + co : nullptr;
    T* y = a.y + co;
    if (a.npix < B) {
      gather_rest<S, NV, B - 1>(a, a.x, y, wb, valid, bias, a.npix);
      continue;
    }
    for_each_tile<A, B>(split, a.npix, [&](idx j, auto big) {
      constexpr int MR = decltype(big)::value ? A : B;
      gather_tile<S, MR, NV, CIN>(a, a.x + j * a.x_px, y + j * a.y_px, wb, valid, bias);
    });
  }
}

template <class S, int NV, int A, int B>
void gather_shape(const ConvGatherArgs<typename S::T>& a) {
  if (a.x_px == a.cin) {
    switch (a.cin) {
      case 1: return gather_blocks<S, NV, A, B, 1>(a);
      case 2: return gather_blocks<S, NV, A, B, 2>(a);
      case 3: return gather_blocks<S, NV, A, B, 3>(a);
      case 4: return gather_blocks<S, NV, A, B, 4>(a);
      case 8: return gather_blocks<S, NV, A, B, 8>(a);
      case 16: return gather_blocks<S, NV, A, B, 16>(a);
      case 32: return gather_blocks<S, NV, A, B, 32>(a);
      case 64: return gather_blocks<S, NV, A, B, 64>(a);
      default: break;
    }
  }
  gather_blocks<S, NV, A, B, 0>(a);
}

// Blocks of one vector (12-pixel tiles, one broadcast per FMA) or two (6-pixel tiles, one
// broadcast per two FMAs): two when they pad cout to no more lanes than one-vector blocks would.
template <typename T>
idx gather_block(idx cout) {
  constexpr idx w = 32 / sizeof(T);
  return cout > w && ((cout + w - 1) / w) % 2 == 0 ? 2 * w : w;
}

void gather_f32(const ConvGatherArgs<float>& a) {
  if (a.nb == 8)
    gather_shape<F32x8, 1, 12, 8>(a);
  else
    gather_shape<F32x8, 2, 6, 4>(a);
}

// float64 serves gradient checks: correct, not tuned, so only the run-time channel count.
void gather_f64(const ConvGatherArgs<double>& a) {
  if (a.nb == 4)
    gather_blocks<F64x4, 1, 12, 8, 0>(a);
  else
    gather_blocks<F64x4, 2, 6, 4, 0>(a);
}

}  // namespace

void fill_conv_gather_kernels_avx2(ConvKernelSet& set) {
  set.f32.gather_block = &gather_block<float>;
  set.f32.gather = &gather_f32;
  set.f64.gather_block = &gather_block<double>;
  set.f64.gather = &gather_f64;
  fill_conv_packed_kernels_avx2(set);
}

}  // namespace nncore
