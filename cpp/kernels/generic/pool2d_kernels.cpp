// Portable pooling row kernels (channels innermost, vectorized by the compiler where it can).
// Also the oracle the ISA kernels are tested against.
#include <cstring>

#include "nncore/kernels/pool2d_kernel.h"

namespace nncore {
namespace {

using idx = std::ptrdiff_t;

inline idx lo_col(idx j, idx stride, idx pad) {
  const idx s = j * stride - pad;
  return s < 0 ? 0 : s;
}
inline idx hi_col(idx j, idx stride, idx pad, idx size, idx w) {
  const idx e = j * stride - pad + size;
  return e > w ? w : e;
}

// Running maximum: NaN wins and stays; ties keep the first.
template <typename T>
void max_row(const PoolRowArgs<T>& a) {
  for (idx j = 0; j < a.out_w; ++j) {
    const idx c0 = lo_col(j, a.stride_w, a.pad_left), c1 = hi_col(j, a.stride_w, a.pad_left, a.pool_w, a.w);
    T* best = a.y + j * a.c;
    std::int32_t* pos = a.argmax ? a.argmax + j * a.c : nullptr;
    for (idx ch = 0; ch < a.c; ++ch) {
      idx bp = (a.row_lo * a.w + c0) * a.c + ch;
      T b = a.x[bp];
      for (idx r = a.row_lo; r < a.row_hi; ++r)
        for (idx col = c0; col < c1; ++col) {
          const idx p = (r * a.w + col) * a.c + ch;
          const T v = a.x[p];
          if (b == b && !(v <= b)) {  // v > b, or v is NaN (unordered) while b is not
            b = v;
            bp = p;
          }
        }
      best[ch] = b;
      if (pos) pos[ch] = static_cast<std::int32_t>(bp);
    }
  }
}

template <typename T>
void avg_row(const PoolRowArgs<T>& a) {
  for (idx j = 0; j < a.out_w; ++j) {
    const idx c0 = lo_col(j, a.stride_w, a.pad_left), c1 = hi_col(j, a.stride_w, a.pad_left, a.pool_w, a.w);
    T* out = a.y + j * a.c;
    for (idx ch = 0; ch < a.c; ++ch) out[ch] = T(0);
    for (idx r = a.row_lo; r < a.row_hi; ++r)
      for (idx col = c0; col < c1; ++col) {
        const T* v = a.x + (r * a.w + col) * a.c;
        for (idx ch = 0; ch < a.c; ++ch) out[ch] += v[ch];
      }
    const T scale = T(1) / static_cast<T>((a.row_hi - a.row_lo) * (c1 - c0));
    for (idx ch = 0; ch < a.c; ++ch) out[ch] *= scale;
  }
}

template <typename T>
void back_row(const PoolBackRowArgs<T>& a) {
  const idx row = a.w * a.c;
  for (idx r = a.row_lo; r < a.row_hi; ++r) {
    T* d = a.dx + r * row;
    std::memset(d, 0, static_cast<std::size_t>(row) * sizeof(T));
    if (r < a.win_lo || r >= a.win_hi) continue;
    for (idx j = 0; j < a.out_w; ++j) {
      const idx c0 = lo_col(j, a.stride_w, a.pad_left), c1 = hi_col(j, a.stride_w, a.pad_left, a.pool_w, a.w);
      const T* g = a.dy + j * a.c;
      if (a.argmax) {
        const std::int32_t* am = a.argmax + j * a.c;
        for (idx col = c0; col < c1; ++col) {
          const idx p = (r * a.w + col) * a.c;
          for (idx ch = 0; ch < a.c; ++ch)
            if (am[ch] == p + ch) d[col * a.c + ch] = g[ch];
        }
      } else {
        const T scale = T(1) / static_cast<T>((a.win_hi - a.win_lo) * (c1 - c0));
        for (idx col = c0; col < c1; ++col)
          for (idx ch = 0; ch < a.c; ++ch) d[col * a.c + ch] = g[ch] * scale;
      }
    }
  }
}

template <typename T>
void fill(PoolKernels<T>& k) {
  k.max_row = &max_row<T>;
  k.avg_row = &avg_row<T>;
  k.back_row = &back_row<T>;
}

}  // namespace

void fill_pool_kernels_generic(PoolKernelSet& set) {
  fill(set.f32);
  fill(set.f64);
}

}  // namespace nncore
