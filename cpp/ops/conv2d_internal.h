// Pieces the conv2d passes share: kernel choice, zero-padded copies, weight packing, work split.
#pragma once
#include <algorithm>

#include "nncore/common.h"
#include "nncore/kernels/conv2d_kernel.h"
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
