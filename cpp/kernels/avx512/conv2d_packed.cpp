// AVX-512 pixel-packed gather kernels of convolution (see conv2d_kernel.h): several output pixels
// of few channels per 512-bit register, masked FMAs.
#include "conv_simd.h"

namespace nncore {
namespace {

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

void fill_conv_packed_avx512(ConvKernelSet& set) {
  set.f32.packed_lanes = 16;
  set.f32.packed_pixels = &packed_pixels<float>;
  set.f32.packed_gather = &packed_gather_f32;
  set.f64.packed_lanes = 8;
  set.f64.packed_pixels = &packed_pixels<double>;
  set.f64.packed_gather = &packed_gather_f64;
}

}  // namespace nncore
