// AVX-512 pixel-packed gather kernels of convolution (see conv2d_kernel.h): several output pixels
// of few channels per 512-bit register, masked FMAs.
#include "conv_simd.h"

namespace nncore {
namespace {

// MR groups of P pixels in NR output rows, one 512-bit accumulator each. CIN > 0 (with P > 0)
// fixes the channel count and the pixels per group so that every input address is a base register
// plus an immediate; CIN == 0 runs the channel loop, and P == 0 takes the pixels from a.pixels.
template <class S, int MR, int NR, int CIN, int P>
void packed_tile(const ConvPackedArgs<typename S::T>& a, const typename S::T* x, typename S::T* y,
                 typename S::V bias, typename S::M store_mask) {
  using T = typename S::T;
  using V = typename S::V;
  constexpr int L = S::W;
  static_assert(CIN == 0 || P > 0, "fixed channels need fixed pixels per group");
  const idx cin = CIN > 0 ? CIN : a.cin;
  const idx p = P > 0 ? P : a.pixels;
  const idx gx = p * cin;
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
      S::mstore(y + q * a.y_row + g * p * a.cout, store_mask, v);
    }
}

// Groups per tile: 8 per row, two rows at once (16 accumulators hide the FMA latency even when a
// row has only a few groups).
constexpr int kPackedMr = 8;

// Rows of fewer than kPackedMr groups: tiles of 6, 4, 2 and 1 groups side by side (7 groups:
// 6 + 1) rather than one tile per group count, each of which costs compile time. 6 is there for
// 32-pixel rows of 3 channels (6 groups of 5 pixels); two rows of 2 groups still keep 4 FMAs in
// flight, what Zen 4 needs (one 512-bit FMA per cycle, 4 cycles latency).
template <class S, int NR, int CIN, int P, int M, int... Ms>
void packed_rest(const ConvPackedArgs<typename S::T>& a, const typename S::T* x, typename S::T* y,
                 typename S::V bias, typename S::M sm, idx groups, idx gx, idx gy) {
  if (groups >= M) {
    packed_tile<S, M, NR, CIN, P>(a, x, y, bias, sm);
    x += M * gx;
    y += M * gy;
    groups -= M;
  }
  if constexpr (sizeof...(Ms) > 0)
    packed_rest<S, NR, CIN, P, Ms...>(a, x, y, bias, sm, groups, gx, gy);
}

template <class S, int NR, int CIN, int P>
void packed_rows(const ConvPackedArgs<typename S::T>& a, const typename S::T* x, typename S::T* y,
                 typename S::V bias, typename S::M sm) {
  const idx p = P > 0 ? P : a.pixels;
  const idx groups = a.npix / p;
  const idx gx = p * a.cin, gy = p * a.cout;
  if (groups < kPackedMr) {
    packed_rest<S, NR, CIN, P, 6, 4, 2, 1>(a, x, y, bias, sm, groups, gx, gy);
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
  const idx p = P > 0 ? P : a.pixels;
  T lanes[L] = {};
  for (idx l = 0; l < p * a.cout; ++l) lanes[l] = a.bias ? a.bias[l % a.cout] : T(0);
  const typename S::V bias = S::load(lanes);
  const typename S::M sm = lane_mask<S>(p * a.cout);
  idx q = 0;
  for (; q + 2 <= a.nout; q += 2) packed_rows<S, 2, CIN, P>(a, a.x + q * a.x_row, a.y + q * a.y_row, bias, sm);
  if (q < a.nout) packed_rows<S, 1, CIN, P>(a, a.x + q * a.x_row, a.y + q * a.y_row, bias, sm);
}

// Pixels per group for `cout` channels in a 512-bit float register, or 0 where the
// channel-vectorized gather is used instead. float64 has no packed kernel (its convolutions
// check gradients; they need correct kernels, not every fast path).
idx packed_pixels_f32(idx cout) {
  if (cout < 1 || 2 * cout > 16) return 0;
  const idx p = 16 / cout;
  return p == 3 ? 2 : p;  // no 3-pixel kernels: 5 channels use two pixels
}

template <int P, int CIN>
bool packed_fixed(const ConvPackedArgs<float>& a) {
  if (a.pixels != P || a.cin != CIN) return false;
  packed_all<F32x16, CIN, P>(a);
  return true;
}

// (pixels, input channels) with their own tiles: those of the seed model's layers, which
// bench/ measures (3 -> 8 forward; 8 -> 3 and 16 -> 8 input gradients). The others run one
// generic tile; each fixed pair costs compile time.
void packed_gather_f32(const ConvPackedArgs<float>& a) {
  if (packed_fixed<2, 3>(a) || packed_fixed<5, 8>(a) || packed_fixed<2, 16>(a)) return;
  packed_all<F32x16, 0, 0>(a);
}

}  // namespace

void fill_conv_packed_avx512(ConvKernelSet& set) {
  set.f32.packed_lanes = 16;
  set.f32.packed_pixels = &packed_pixels_f32;
  set.f32.packed_gather = &packed_gather_f32;
}

}  // namespace nncore
