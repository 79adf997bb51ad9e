// The depthwise convolution row kernels. Each cpp/kernels/<isa>/depthwise_kernels.cpp defines
// NNCORE_DW_BLOCK_BYTES (the bytes of accumulators worth keeping in that ISA's registers), includes
// this file and compiles it with its own flags; everything has internal linkage so the copies never
// mix, and no standard-library template is used (its instantiations would be weak symbols the
// linker could share with baseline code).
//
// With a depth multiplier of 1 the loops run over a block of channels at a time, which the compiler
// vectorizes; larger multipliers take a plain loop over (channel, multiplier). Both add the same
// products in the same order, so within one ISA path the result does not depend on the channel
// count or the work split (paths with FMA round once per product-add, so they differ in the last
// bits from the baseline path).
#pragma once
#include "nncore/kernels/depthwise_kernel.h"
#include "nncore/kernels/depthwise_forward_tiles.h"

#ifndef NNCORE_DW_BLOCK_BYTES
#define NNCORE_DW_BLOCK_BYTES 128  // the baseline path's choice
#endif
// Widest forward tile in pixels (two vectors of channels each): 6 where 32 vector registers hold
// the accumulators and the shared input vectors, 4 where there are 16.
#ifndef NNCORE_DW_TILE_PIXELS
#define NNCORE_DW_TILE_PIXELS 4
#endif

namespace nncore {
namespace {

using idx = std::ptrdiff_t;

// Taps [lo, hi) of a kernel axis whose tap t reads position base + t * dil, inside [0, extent).
struct TapSpan {
  idx lo, hi;
};
inline TapSpan tap_span(idx base, idx dil, idx k, idx extent) {
  idx lo = base >= 0 ? 0 : (-base + dil - 1) / dil;
  idx hi = extent - 1 - base < 0 ? 0 : (extent - 1 - base) / dil + 1;
  if (hi > k) hi = k;
  if (lo > k) lo = k;
  if (hi < lo) hi = lo;
  return {lo, hi};
}

// Output columns [lo, hi) whose column tap j reads a position inside [0, w).
inline TapSpan out_cols(const DepthwiseShape& s, idx j) {
  const idx base = j * s.dil_w - s.pad_left;  // input column of output column 0
  idx lo = base >= 0 ? 0 : (-base + s.stride_w - 1) / s.stride_w;
  idx hi = s.w - 1 - base < 0 ? 0 : (s.w - 1 - base) / s.stride_w + 1;
  if (hi > s.out_w) hi = s.out_w;
  if (lo > s.out_w) lo = s.out_w;
  if (hi < lo) hi = lo;
  return {lo, hi};
}

template <typename T>
constexpr idx block_of() {
  return NNCORE_DW_BLOCK_BYTES / static_cast<idx>(sizeof(T));
}

template <idx B>
struct Block {
  static constexpr idx value = B;
};

// Calls f(Block<B>{}, k0) over channels [0, c): blocks of the full size, then at most one each of
// a half, a quarter and an eighth, then tail(k0) for what is left (fewer than an eighth). Every
// block keeps its accumulators in registers; the order of the sums does not depend on the block.
template <typename T, class F, class Tail>
inline void for_blocks(idx c, F&& f, Tail&& tail) {
  constexpr idx CB = block_of<T>();
  idx k0 = 0;
  for (; k0 + CB <= c; k0 += CB) f(Block<CB>{}, k0);
  if (k0 + CB / 2 <= c) {
    f(Block<CB / 2>{}, k0);
    k0 += CB / 2;
  }
  if (k0 + CB / 4 <= c) {
    f(Block<CB / 4>{}, k0);
    k0 += CB / 4;
  }
  if (k0 + CB / 8 <= c) {
    f(Block<CB / 8>{}, k0);
    k0 += CB / 8;
  }
  if (k0 < c) tail(k0);
}

// Output pixel ow of a forward row, channels [c0, C) (depth multiplier 1): blocks of channels
// in registers, then the channels left over.
template <typename T>
inline void forward_pixel_m1(const DepthwiseShape& s, const T* x, const T* w, const T* bias,
                             idx row0, TapSpan rows, idx ow, idx c0, T* y) {
  const idx C = s.c;
  const idx col0 = ow * s.stride_w - s.pad_left;
  const TapSpan cols = tap_span(col0, s.dil_w, s.kw, s.w);
  T* yp = y + ow * C;
  for_blocks<T>(
      C - c0,
      [&](auto blk, idx kb) {
        constexpr idx B = decltype(blk)::value;
        const idx k0 = c0 + kb;
        T acc[B];
        for (idx k = 0; k < B; ++k) acc[k] = bias ? bias[k0 + k] : T(0);
        for (idx i = rows.lo; i < rows.hi; ++i) {
          const T* xr = x + (row0 + i * s.dil_h) * s.w * C + k0;
          const T* wr = w + i * s.kw * C + k0;
          for (idx j = cols.lo; j < cols.hi; ++j) {
            const T* __restrict xp = xr + (col0 + j * s.dil_w) * C;
            const T* __restrict wp = wr + j * C;
            for (idx k = 0; k < B; ++k) acc[k] += xp[k] * wp[k];
          }
        }
        for (idx k = 0; k < B; ++k) yp[k0 + k] = acc[k];
      },
      [&](idx kb) {
        const idx k0 = c0 + kb;
        T* __restrict yt = yp + k0;
        const idx n = C - k0;
        for (idx k = 0; k < n; ++k) yt[k] = bias ? bias[k0 + k] : T(0);
        for (idx i = rows.lo; i < rows.hi; ++i)
          for (idx j = cols.lo; j < cols.hi; ++j) {
            const T* __restrict xp = x + ((row0 + i * s.dil_h) * s.w + col0 + j * s.dil_w) * C + k0;
            const T* __restrict wp = w + (i * s.kw + j) * C + k0;
            for (idx k = 0; k < n; ++k) yt[k] += xp[k] * wp[k];
          }
      });
}

// One forward row with a depth multiplier of 1. Output columns go left to right so that input
// and output are read and written in address order; each group of columns runs over every
// channel, two vectors at a time (2P accumulators plus the weights fit every path's registers),
// then one, then any channels left over. Interior columns (every column tap inside the row) go
// in tiles of NNCORE_DW_TILE_PIXELS, 4, 2 and 1 pixels, edge columns one at a time through their
// taps in the row.
template <typename T, idx KW, bool DENSE>
inline void forward_row_m1(const DepthwiseShape& s, const T* x, const T* w, const T* bias,
                           idx row0, TapSpan rows, T* y) {
  constexpr idx L = DwVec<T>::lanes;
  const InteriorCols in = interior_cols(s.w, s.out_w, s.kw, s.stride_w, s.dil_w, s.pad_left);
  const idx C = s.c;
  const idx nrows = rows.hi - rows.lo;
  const T* xb = x + (row0 + rows.lo * s.dil_h) * s.w * C;
  const T* wb = w + rows.lo * s.kw * C;
  const idx row_step = s.dil_h * s.w * C, col_step = s.dil_w * C, px_step = s.stride_w * C;
  const idx wrow_step = s.kw * C;
  // Calls f(Block<NV>{}, k0) over the channel vectors, then rest(k0) for what is left.
  auto over_channels = [&](auto&& f, auto&& rest) {
    idx k0 = 0;
    for (; k0 + 2 * L <= C; k0 += 2 * L) f(Block<2>{}, k0);
    if (k0 + L <= C) {
      f(Block<1>{}, k0);
      k0 += L;
    }
    if (k0 < C) rest(k0);
  };
  auto edge = [&](idx ow) {
    const idx col0 = ow * s.stride_w - s.pad_left;
    const TapSpan cols = tap_span(col0, s.dil_w, s.kw, s.w);
    const idx ncols = cols.hi - cols.lo;
    const idx off = ncols > 0 ? (col0 + cols.lo * s.dil_w) * C : 0;
    over_channels(
        [&](auto nv, idx k0) {
          constexpr idx NV = decltype(nv)::value;
          dw_forward_tile<T, 1, NV, 0>(xb + off + k0, row_step, ncols > 0 ? nrows : 0, ncols,
                                       col_step, px_step, wb + cols.lo * C + k0, wrow_step, C,
                                       bias ? bias + k0 : nullptr, y + ow * C + k0);
        },
        [&](idx k0) { forward_pixel_m1(s, x, w, bias, row0, rows, ow, k0, y); });
  };
  auto tile = [&](auto pixels, idx ow) {
    constexpr idx P = decltype(pixels)::value;
    const T* xt = xb + (ow * s.stride_w - s.pad_left) * C;
    over_channels(
        [&](auto nv, idx k0) {
          constexpr idx NV = decltype(nv)::value;
          dw_forward_tile<T, P, NV, KW, DENSE>(xt + k0, row_step, nrows, s.kw, col_step, px_step,
                                               wb + k0, wrow_step, C, bias ? bias + k0 : nullptr,
                                               y + ow * C + k0);
        },
        [&](idx k0) {
          for (idx p = 0; p < P; ++p) forward_pixel_m1(s, x, w, bias, row0, rows, ow + p, k0, y);
        });
  };
  for (idx ow = 0; ow < in.lo; ++ow) edge(ow);
  idx ow = in.lo;
  for (; ow + NNCORE_DW_TILE_PIXELS <= in.hi; ow += NNCORE_DW_TILE_PIXELS)
    tile(Block<NNCORE_DW_TILE_PIXELS>{}, ow);
  if (ow + 4 <= in.hi) {
    tile(Block<4>{}, ow);
    ow += 4;
  }
  if (ow + 2 <= in.hi) {
    tile(Block<2>{}, ow);
    ow += 2;
  }
  if (ow < in.hi) tile(Block<1>{}, ow);
  for (idx e = in.hi; e < s.out_w; ++e) edge(e);
}

template <typename T>
void forward_row(const DepthwiseShape& s, const T* x, const T* w, const T* bias, idx oh, T* y) {
  const idx C = s.c, M = s.mult, CM = C * M;
  const idx row0 = oh * s.stride_h - s.pad_top;
  const TapSpan rows = tap_span(row0, s.dil_h, s.kh, s.h);
  if (M == 1) {
    const bool dense = s.stride_w == 1 && s.dil_w == 1;
    if (s.kw == 3 && dense)
      forward_row_m1<T, 3, true>(s, x, w, bias, row0, rows, y);
    else if (s.kw == 3)
      forward_row_m1<T, 3, false>(s, x, w, bias, row0, rows, y);
    else
      forward_row_m1<T, 0, false>(s, x, w, bias, row0, rows, y);
    return;
  }
  for (idx ow = 0; ow < s.out_w; ++ow) {
    const idx col0 = ow * s.stride_w - s.pad_left;
    const TapSpan cols = tap_span(col0, s.dil_w, s.kw, s.w);
    T* yp = y + ow * CM;
    for (idx k = 0; k < CM; ++k) yp[k] = bias ? bias[k] : T(0);
    for (idx i = rows.lo; i < rows.hi; ++i)
      for (idx j = cols.lo; j < cols.hi; ++j) {
        const T* xp = x + ((row0 + i * s.dil_h) * s.w + col0 + j * s.dil_w) * C;
        const T* wp = w + (i * s.kw + j) * CM;
        for (idx c = 0; c < C; ++c) {
          const T xv = xp[c];
          for (idx m = 0; m < M; ++m) yp[c * M + m] += xv * wp[c * M + m];
        }
      }
  }
}

// The output position a tap reads into an input position from: input position p is read by output
// position (p + pad - t * dil) / stride when that divides evenly and lies in [0, out).
inline idx source_of(idx p, idx pad, idx t, idx dil, idx stride, idx out) {
  const idx u = p + pad - t * dil;
  if (u < 0 || u % stride) return -1;
  const idx o = u / stride;
  return o < out ? o : -1;
}

template <typename T>
void backward_input_row(const DepthwiseShape& s, const T* dy, const T* w, idx ih, T* dx) {
  const idx C = s.c, M = s.mult, CM = C * M;
  // Output rows (or -1) kernel row i reads this input row from.
  idx src_rows[64];
  const bool few_rows = s.kh <= 64;
  if (few_rows)
    for (idx i = 0; i < s.kh; ++i) src_rows[i] = source_of(ih, s.pad_top, i, s.dil_h, s.stride_h, s.out_h);
  auto src_row = [&](idx i) {
    return few_rows ? src_rows[i] : source_of(ih, s.pad_top, i, s.dil_h, s.stride_h, s.out_h);
  };
  for (idx iw = 0; iw < s.w; ++iw) {
    T* dxp = dx + iw * C;
    if (M == 1) {
      for_blocks<T>(
          C,
          [&](auto blk, idx k0) {
            constexpr idx B = decltype(blk)::value;
            T acc[B];
            for (idx k = 0; k < B; ++k) acc[k] = T(0);
            for (idx i = 0; i < s.kh; ++i) {
              const idx oh = src_row(i);
              if (oh < 0) continue;
              for (idx j = 0; j < s.kw; ++j) {
                const idx ow = source_of(iw, s.pad_left, j, s.dil_w, s.stride_w, s.out_w);
                if (ow < 0) continue;
                const T* __restrict gp = dy + (oh * s.out_w + ow) * C + k0;
                const T* __restrict wp = w + (i * s.kw + j) * C + k0;
                for (idx k = 0; k < B; ++k) acc[k] += gp[k] * wp[k];
              }
            }
            for (idx k = 0; k < B; ++k) dxp[k0 + k] = acc[k];
          },
          [&](idx k0) {
            T* __restrict dt = dxp + k0;
            const idx n = C - k0;
            for (idx k = 0; k < n; ++k) dt[k] = T(0);
            for (idx i = 0; i < s.kh; ++i) {
              const idx oh = src_row(i);
              if (oh < 0) continue;
              for (idx j = 0; j < s.kw; ++j) {
                const idx ow = source_of(iw, s.pad_left, j, s.dil_w, s.stride_w, s.out_w);
                if (ow < 0) continue;
                const T* __restrict gp = dy + (oh * s.out_w + ow) * C + k0;
                const T* __restrict wp = w + (i * s.kw + j) * C + k0;
                for (idx k = 0; k < n; ++k) dt[k] += gp[k] * wp[k];
              }
            }
          });
      continue;
    }
    for (idx c = 0; c < C; ++c) dxp[c] = T(0);
    for (idx i = 0; i < s.kh; ++i) {
      const idx oh = src_row(i);
      if (oh < 0) continue;
      for (idx j = 0; j < s.kw; ++j) {
        const idx ow = source_of(iw, s.pad_left, j, s.dil_w, s.stride_w, s.out_w);
        if (ow < 0) continue;
        const T* gp = dy + (oh * s.out_w + ow) * CM;
        const T* wp = w + (i * s.kw + j) * CM;
        for (idx c = 0; c < C; ++c) {
          T acc = dxp[c];
          for (idx m = 0; m < M; ++m) acc += gp[c * M + m] * wp[c * M + m];
          dxp[c] = acc;
        }
      }
    }
  }
}

template <typename T>
void backward_weight_row(const DepthwiseShape& s, const T* x, const T* dy, idx oh, T* part) {
  const idx C = s.c, M = s.mult, CM = C * M;
  const idx row0 = oh * s.stride_h - s.pad_top;
  const TapSpan rows = tap_span(row0, s.dil_h, s.kh, s.h);
  for (idx i = rows.lo; i < rows.hi; ++i) {
    const T* xr = x + (row0 + i * s.dil_h) * s.w * C;
    for (idx j = 0; j < s.kw; ++j) {
      const TapSpan ows = out_cols(s, j);
      if (ows.lo == ows.hi) continue;
      T* pp = part + (i * s.kw + j) * CM;
      const idx col0 = j * s.dil_w - s.pad_left;
      if (M == 1) {
        for_blocks<T>(
            C,
            [&](auto blk, idx k0) {
              constexpr idx B = decltype(blk)::value;
              T acc[B];
              for (idx k = 0; k < B; ++k) acc[k] = pp[k0 + k];
              for (idx ow = ows.lo; ow < ows.hi; ++ow) {
                const T* __restrict xp = xr + (col0 + ow * s.stride_w) * C + k0;
                const T* __restrict gp = dy + ow * C + k0;
                for (idx k = 0; k < B; ++k) acc[k] += xp[k] * gp[k];
              }
              for (idx k = 0; k < B; ++k) pp[k0 + k] = acc[k];
            },
            [&](idx k0) {
              T* __restrict pt = pp + k0;
              const idx n = C - k0;
              for (idx ow = ows.lo; ow < ows.hi; ++ow) {
                const T* __restrict xp = xr + (col0 + ow * s.stride_w) * C + k0;
                const T* __restrict gp = dy + ow * C + k0;
                for (idx k = 0; k < n; ++k) pt[k] += xp[k] * gp[k];
              }
            });
        continue;
      }
      for (idx ow = ows.lo; ow < ows.hi; ++ow) {
        const T* xp = xr + (col0 + ow * s.stride_w) * C;
        const T* gp = dy + ow * CM;
        for (idx c = 0; c < C; ++c) {
          const T xv = xp[c];
          for (idx m = 0; m < M; ++m) pp[c * M + m] += xv * gp[c * M + m];
        }
      }
    }
  }
}

template <typename T>
void fill_depthwise_for(DepthwiseKernels<T>& k) {
  k.forward_row = &forward_row<T>;
  k.backward_input_row = &backward_input_row<T>;
  k.backward_weight_row = &backward_weight_row<T>;
}

inline void fill_depthwise_kernels_impl(DepthwiseKernelSet& set) {
  fill_depthwise_for(set.f32);
  fill_depthwise_for(set.f64);
}

}  // namespace
}  // namespace nncore
