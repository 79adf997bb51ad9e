// Pieces the conv2d passes share: kernel choice, zero-padded copies, weight packing, work split.
#pragma once
#include <algorithm>

#include "nncore/common.h"
#include "nncore/kernels/conv2d_kernel.h"
#include "nncore/ops/conv2d.h"
#include "nncore/parallel.h"

namespace nncore::conv {

const ConvKernelSet& kernels();

template <typename T>
const ConvKernels<T>& kernels_for();
template <>
inline const ConvKernels<float>& kernels_for<float>() { return kernels().f32; }
template <>
inline const ConvKernels<double>& kernels_for<double>() { return kernels().f64; }

// Rounds towards minus infinity (C++ division truncates towards zero).
inline index_t floor_div(index_t a, index_t b) {
  const index_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// dst[r][c][:] = img[row0 + r][col0 + c][:] inside the h x w image, zero outside; rows x cols
// pixels of `ch` channels. row0/col0 may be negative (padding) or past the edge.
template <typename T>
void copy_padded(const T* img, index_t h, index_t w, index_t ch, index_t row0, index_t rows,
                 index_t col0, index_t cols, T* dst) {
  const index_t c_lo = std::clamp<index_t>(-col0, 0, cols);        // first column inside
  const index_t c_hi = std::clamp<index_t>(w - col0, c_lo, cols);  // one past the last
  for (index_t r = 0; r < rows; ++r) {
    T* d = dst + r * cols * ch;
    const index_t sr = row0 + r;
    if (sr < 0 || sr >= h) {
      std::fill(d, d + cols * ch, T(0));
      continue;
    }
    std::fill(d, d + c_lo * ch, T(0));
    const T* s = img + (sr * w + col0 + c_lo) * ch;
    std::copy(s, s + (c_hi - c_lo) * ch, d + c_lo * ch);
    std::fill(d + c_hi * ch, d + cols * ch, T(0));
  }
}

// Packs weights for the gather kernel: element (t, c, o) of the source is
// src[t * ts + c * cs + o * os] (tap t < ntaps, input channel c < cin, output channel o < cout).
// Block b of nb output channels holds [t][c][nb] (zero past cout); returns the block size.
template <typename T>
index_t pack_gather_weights(const T* src, index_t ntaps, index_t cin, index_t cout, index_t ts,
                            index_t cs, index_t os, index_t nb, T* dst) {
  const index_t block = ntaps * cin * nb;
  for (index_t o0 = 0; o0 < cout; o0 += nb) {
    T* d = dst + (o0 / nb) * block;
    const index_t valid = std::min(nb, cout - o0);
    for (index_t t = 0; t < ntaps; ++t)
      for (index_t c = 0; c < cin; ++c) {
        const T* s = src + t * ts + c * cs + o0 * os;
        T* row = d + (t * cin + c) * nb;
        index_t j = 0;
        for (; j < valid; ++j) row[j] = s[j * os];
        for (; j < nb; ++j) row[j] = T(0);
      }
  }
  return block;
}

// Pixel-packed gather plan (see ConvPackedArgs): pixels per vector and input columns per group,
// or pixels == 0 when the channel-vectorized gather is as fast. Both kernels cost one vector FMA
// per (input column, input channel) step; the packed one shares each step among `pixels` outputs
// but wastes the lanes of columns a pixel does not see.
struct PackedPlan {
  index_t pixels = 0, ncols = 0, lanes = 0;
};

template <typename T>
PackedPlan plan_packed(const ConvKernels<T>& k, index_t cout, index_t kw, index_t dil_w, index_t nb) {
  PackedPlan plan;
  if (!k.packed_gather || !k.packed_pixels) return plan;
  const index_t p = k.packed_pixels(cout);
  if (p < 2) return plan;
  const index_t ncols = (kw - 1) * dil_w + p;
  const double packed_cost = double(ncols) / double(p);                       // per pixel and kernel row
  const double cvec_cost = double(kw) * ceil_div(cout, nb) * std::max<index_t>(1, nb / k.packed_lanes);
  if (packed_cost < 0.9 * cvec_cost) plan = {p, ncols, k.packed_lanes};
  return plan;
}

// Packs weights for the packed gather: element (kernel row r, column tap j, input channel c,
// output channel o) is src[r * sr + j * sj + c * sc + o * so]; tap j reads input column colpos[j]
// of its pixel (relative to the group's column 0). Writes plan.ncols lane masks into `mask`.
template <typename T>
void pack_packed_weights(const T* src, index_t kh, index_t kw, index_t cin, index_t cout, index_t sr,
                         index_t sj, index_t sc, index_t so, const index_t* colpos,
                         const PackedPlan& plan, T* dst, unsigned* mask) {
  const index_t L = plan.lanes, P = plan.pixels, D = plan.ncols;
  std::fill(dst, dst + kh * cin * D * L, T(0));
  std::fill(mask, mask + D, 0u);
  for (index_t j = 0; j < kw; ++j)
    for (index_t p = 0; p < P; ++p) {
      const index_t d = colpos[j] + p;
      for (index_t o = 0; o < cout; ++o) {
        const index_t lane = p * cout + o;
        mask[d] |= 1u << lane;
        for (index_t r = 0; r < kh; ++r)
          for (index_t c = 0; c < cin; ++c)
            dst[(r * cin + c) * D * L + d * L + lane] = src[r * sr + j * sj + c * sc + o * so];
      }
    }
}

// Threads worth using for `work` multiply-adds spread over `items` independent pieces: a parallel
// region costs a few microseconds, so small problems stay on the calling thread.
inline int threads_for(double work, index_t items) {
  constexpr double kMinWorkPerThread = 4.0e4;
  int nt = num_threads();
  const double by_work = work / kMinWorkPerThread;
  if (by_work < nt) nt = by_work < 1 ? 1 : static_cast<int>(by_work);
  if (items < nt) nt = items < 1 ? 1 : static_cast<int>(items);
  return nt;
}

// Bytes of padded input a thread copies at once (kept well inside L2).
constexpr std::size_t kPaddedChunkBytes = 192 * 1024;

}  // namespace nncore::conv

namespace nncore::conv {

// Winograd F(4x4, 3x3) (conv2d_winograd.cpp): run the pass and return true when it applies to
// g (3x3, stride 1, dilation 1, enough channels and pixels, switched on), else return false
// having done nothing.
template <typename T>
bool winograd_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* bias, T* y,
                      Conv2dActivation act);
template <typename T>
bool winograd_backward_input(const Conv2dGeometry& g, const T* dy, const T* w, T* dx);

}  // namespace nncore::conv
