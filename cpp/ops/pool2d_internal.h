// Pieces the pooling passes share: window clipping, work units that own disjoint parts of dx.
#pragma once
#include <algorithm>

#include "nncore/ops/pool2d.h"
#include "nncore/parallel.h"

namespace nncore::pool {

// Input rows [lo, hi) of window row `o` (clipped to the input).
struct Span {
  index_t lo, hi;
};
inline Span window(index_t o, index_t stride, index_t pad, index_t size, index_t extent) {
  const index_t start = o * stride - pad;
  return {std::max<index_t>(start, 0), std::min<index_t>(start + size, extent)};
}

// Threads for `bytes` of memory traffic spread over `items` pieces (a parallel region costs a few
// microseconds: small tensors stay on the calling thread).
inline int threads_for(double bytes, index_t items) {
  constexpr double kMinBytesPerThread = 64.0 * 1024;
  int nt = num_threads();
  const double by_work = bytes / kMinBytesPerThread;
  if (by_work < nt) nt = by_work < 1 ? 1 : static_cast<int>(by_work);
  if (items < nt) nt = items < 1 ? 1 : static_cast<int>(items);
  return nt;
}

// Backward passes accumulate into dx, which must first be zeroed; each work unit zeroes and fills
// its own rows. When windows do not overlap vertically (stride_h >= pool_h) a unit is one output
// row with the band of input rows it owns (the rows between windows included); otherwise a unit
// is a whole image.
struct Units {
  bool bands;
  index_t count;
};
inline Units backward_units(const Pool2dGeometry& g) {
  const bool bands = g.stride_h >= g.pool_h && g.out_h > 0;
  return {bands, bands ? g.n * g.out_h : g.n};
}

// Input rows [lo, hi) owned by band `oh`: every row of its window, and together the bands cover
// every input row exactly once.
inline Span band_rows(const Pool2dGeometry& g, index_t oh) {
  const index_t lo = oh == 0 ? 0 : std::clamp<index_t>(oh * g.stride_h - g.pad_top, 0, g.h);
  const index_t hi =
      oh == g.out_h - 1 ? g.h : std::clamp<index_t>((oh + 1) * g.stride_h - g.pad_top, 0, g.h);
  return {lo, std::max(lo, hi)};
}

// Calls fn(n, oh0, oh1, row_lo, row_hi) for every unit in [u0, u1): output rows [oh0, oh1) of image
// n, whose windows only touch input rows [row_lo, row_hi), which the unit owns.
template <class F>
void for_units(const Pool2dGeometry& g, const Units& units, index_t u0, index_t u1, F&& fn) {
  for (index_t u = u0; u < u1; ++u) {
    if (units.bands) {
      const index_t n = u / g.out_h, oh = u % g.out_h;
      const Span rows = band_rows(g, oh);
      fn(n, oh, oh + 1, rows.lo, rows.hi);
    } else {
      fn(u, index_t(0), g.out_h, index_t(0), g.h);
    }
  }
}

}  // namespace nncore::pool
