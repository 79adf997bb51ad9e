// How the AVX2 gather kernels cut a row into register tiles. Included only by
// cpp/kernels/avx2/conv2d_gather*.cpp (anonymous namespace: each file keeps its own copy, compiled
// with the AVX2 flags; see conv_simd.h).
#pragma once
#include "conv_simd.h"
#include "nncore/kernels/conv2d_kernel.h"

namespace nncore {

// The pixel-packed gather kernels (conv2d_gather_packed.cpp), filled by
// fill_conv_gather_kernels_avx2.
void fill_conv_packed_kernels_avx2(ConvKernelSet& set);

namespace {

// A row of n items (pixels, or groups of pixels) as na tiles of A items then nb tiles of B < A.
// Rows are short (16 or 32 pixels in the seed model), so a fixed tile of 12 would recompute up to
// half a row in the last tile, shifted back to end at the row's end; tiles of 8 leave FMAs waiting
// on their latency. Two sizes cover most rows exactly (32 = 12 + 12 + 8, 16 = 8 + 8).
struct TileSplit {
  idx na = 0, nb = 0;
};

// The split of n >= B items that computes the fewest items (the last tile is shifted back onto
// items already done when the tiles overshoot), then has the fewest tiles.
template <int A, int B>
TileSplit split_tiles(idx n) {
  TileSplit best{0, (n + B - 1) / B};
  idx best_items = best.nb * B;
  if (n >= A) {
    for (idx na = 1; na <= (n + A - 1) / A; ++na) {
      const idx rest = n - na * A;
      const idx nb = rest > 0 ? (rest + B - 1) / B : 0;
      const idx items = na * A + nb * B;
      if (items < best_items || (items == best_items && na + nb < best.na + best.nb)) {
        best = {na, nb};
        best_items = items;
      }
    }
  }
  return best;
}

template <bool V>
struct Bool {
  static constexpr bool value = V;
};

// f(first item, Bool<is an A tile>) for every tile of `split`, in order; the last one ends at n.
// Tiles recompute the items they overlap, which kernels that only write their outputs allow.
template <int A, int B, class F>
inline void for_each_tile(const TileSplit& split, idx n, F&& f) {
  idx j = 0;
  for (idx k = 0; k < split.na; ++k, j += A) f(j + A > n ? n - A : j, Bool<true>{});
  for (idx k = 0; k < split.nb; ++k, j += B) f(j + B > n ? n - B : j, Bool<false>{});
}

}  // namespace
}  // namespace nncore
