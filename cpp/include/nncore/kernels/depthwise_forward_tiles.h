// Register tiles for the depthwise forward pass (depth multiplier 1), included by
// depthwise_kernels_impl.h into each ISA's translation unit (internal linkage, see there).
//
// A pixel-at-a-time loop loads one input vector and one weight vector per FMA and, on layers with
// few channels, spends more time walking taps than multiplying. Here a tile of P output pixels x
// one or two vectors of channels keeps up to 2P accumulators in registers: each weight vector is
// loaded once per tap for P pixels, and with stride and dilation 1 neighbouring pixels read the
// same input vectors (the compiler loads each once for the tile). Interior columns (every tap
// inside the row) take tiles of several pixels; edge columns take one-pixel tiles over their
// taps inside the row. Every output element adds bias, then its taps in (row, column) order,
// as the per-pixel loop (kept for channels left over past the last vector) does.
#pragma once
#include <cstddef>

namespace nncore {
namespace {

// Output columns [lo, hi) whose column taps all read inside [0, w).
struct InteriorCols {
  std::ptrdiff_t lo, hi;
};
inline InteriorCols interior_cols(std::ptrdiff_t w, std::ptrdiff_t out_w, std::ptrdiff_t kw,
                                  std::ptrdiff_t stride, std::ptrdiff_t dil, std::ptrdiff_t pad) {
  // Column ow reads [ow * stride - pad, ow * stride - pad + (kw - 1) * dil].
  std::ptrdiff_t lo = pad <= 0 ? 0 : (pad + stride - 1) / stride;
  const std::ptrdiff_t last = w - 1 + pad - (kw - 1) * dil;  // ow * stride <= last
  std::ptrdiff_t hi = last < 0 ? 0 : last / stride + 1;
  if (hi > out_w) hi = out_w;
  if (lo > hi) lo = hi;
  return {lo, hi};
}

// One SIMD register of T on this ISA path (a GCC vector: registers are then kept in registers,
// which plain arrays of accumulators are not once the tile spans several pixels).
template <typename T>
struct DwVec {
  static constexpr std::ptrdiff_t bytes = NNCORE_DW_BLOCK_BYTES / 8;
  static constexpr std::ptrdiff_t lanes = bytes / static_cast<std::ptrdiff_t>(sizeof(T));
  typedef T type __attribute__((vector_size(bytes)));
};

template <typename V, typename T>
inline V dw_load(const T* p) {
  V v;
  __builtin_memcpy(&v, p, sizeof(V));
  return v;
}

// P output pixels x NV vectors of channels of one output row. x0: the first pixel's first tap
// (first kernel row inside the image); rows of taps row_step apart, columns col_step apart,
// pixels px_step apart; w0 the matching weights, C channels per pixel in w and y. KW > 0 fixes
// the kernel width at compile time (the 3x3 case), 0 reads kw_rt. DENSE says col_step ==
// px_step (stride and dilation 1): pixel p's tap j then reads the vector pixel p + j's tap 0
// reads, which the compiler loads once for the whole tile.
template <typename T, std::ptrdiff_t P, std::ptrdiff_t NV, std::ptrdiff_t KW, bool DENSE = false>
inline void dw_forward_tile(const T* __restrict x0, std::ptrdiff_t row_step, std::ptrdiff_t nrows,
                            std::ptrdiff_t kw_rt, std::ptrdiff_t col_step, std::ptrdiff_t px_step,
                            const T* __restrict w0, std::ptrdiff_t wrow_step, std::ptrdiff_t C,
                            const T* __restrict bias, T* __restrict y) {
  typedef typename DwVec<T>::type V;
  constexpr std::ptrdiff_t L = DwVec<T>::lanes;
  V acc[P][NV];
  V b[NV];
#pragma GCC unroll 8
  for (std::ptrdiff_t v = 0; v < NV; ++v) b[v] = bias ? dw_load<V>(bias + v * L) : V{};
#pragma GCC unroll 8
  for (std::ptrdiff_t p = 0; p < P; ++p)
#pragma GCC unroll 8
    for (std::ptrdiff_t v = 0; v < NV; ++v) acc[p][v] = b[v];
  const std::ptrdiff_t kw = KW > 0 ? KW : kw_rt;
  for (std::ptrdiff_t i = 0; i < nrows; ++i) {
    const T* xr = x0 + i * row_step;
    const T* wr = w0 + i * wrow_step;
#pragma GCC unroll 4
    for (std::ptrdiff_t j = 0; j < kw; ++j) {
      V wv[NV];
#pragma GCC unroll 8
      for (std::ptrdiff_t v = 0; v < NV; ++v) wv[v] = dw_load<V>(wr + j * C + v * L);
#pragma GCC unroll 8
      for (std::ptrdiff_t p = 0; p < P; ++p)
#pragma GCC unroll 8
        for (std::ptrdiff_t v = 0; v < NV; ++v)
          acc[p][v] += dw_load<V>(DENSE ? xr + (j + p) * px_step + v * L
                                        : xr + j * col_step + p * px_step + v * L) * wv[v];
    }
  }
#pragma GCC unroll 8
  for (std::ptrdiff_t p = 0; p < P; ++p)
#pragma GCC unroll 8
    for (std::ptrdiff_t v = 0; v < NV; ++v)
      __builtin_memcpy(y + p * C + v * L, &acc[p][v], sizeof(V));
}

}  // namespace
}  // namespace nncore
