// The 2-D upsampling row kernels. Each cpp/kernels/<isa>/upsample_kernels.cpp includes this file
// and compiles it with its own flags plus -ffp-contract=off; everything has internal linkage and
// no standard-library template is used (see depthwise_kernels_impl.h).
//
// The bilinear gradient adds its terms in exactly the order of NumPy's add.reduceat on the
// nondecreasing tap indices (the first term plus the pairwise sum of the rest, 8 accumulators
// from 8 terms on), so it reproduces the layer's former NumPy computation bit for bit; with FMA
// contraction off, so does every other path.
#pragma once
#include "nncore/kernels/upsample_kernel.h"

namespace nncore {
namespace {

using idx = std::ptrdiff_t;

// NumPy's pairwise sum of the n rows a, a + len, ... (n >= 1), left in row a (in place).
template <typename T>
void pairwise_rows(T* a, idx n, idx len) {
  if (n < 8) {
    for (idx e = 0; e < len; ++e) a[e] = T(0) + a[e];
    for (idx k = 1; k < n; ++k) {
      const T* r = a + k * len;
      for (idx e = 0; e < len; ++e) a[e] += r[e];
    }
    return;
  }
  if (n <= 128) {
    idx i = 8;
    for (; i < n - n % 8; i += 8)
      for (idx j = 0; j < 8; ++j) {
        T* acc = a + j * len;
        const T* r = a + (i + j) * len;
        for (idx e = 0; e < len; ++e) acc[e] += r[e];
      }
    const T *r1 = a + len, *r2 = a + 2 * len, *r3 = a + 3 * len, *r4 = a + 4 * len;
    const T *r5 = a + 5 * len, *r6 = a + 6 * len, *r7 = a + 7 * len;
    for (idx e = 0; e < len; ++e)
      a[e] = ((a[e] + r1[e]) + (r2[e] + r3[e])) + ((r4[e] + r5[e]) + (r6[e] + r7[e]));
    for (; i < n; ++i) {
      const T* r = a + i * len;
      for (idx e = 0; e < len; ++e) a[e] += r[e];
    }
    return;
  }
  idx n2 = n / 2;
  n2 -= n2 % 8;
  pairwise_rows(a, n2, len);
  T* b = a + n2 * len;
  pairwise_rows(b, n - n2, len);
  for (idx e = 0; e < len; ++e) a[e] += b[e];
}

// add.reduceat's sum of one run of n >= 1 rows (the first plus the pairwise sum of the rest);
// returns the row holding it (the rows are overwritten).
template <typename T>
const T* reduce_run(T* a, idx n, idx len) {
  if (n == 1) return a;
  T* rest = a + len;
  pairwise_rows(rest, n - 1, len);
  for (idx e = 0; e < len; ++e) rest[e] = a[e] + rest[e];
  return rest;
}

// The first index k >= from with idx[k] != v (idx nondecreasing, n entries).
inline idx run_end(const idx* ind, idx n, idx from) {
  const idx v = ind[from];
  idx k = from;
  while (k < n && ind[k] == v) ++k;
  return k;
}

// The run [lo, hi) of positions whose index equals j (empty if none).
inline void find_run(const idx* ind, idx n, idx j, idx& lo, idx& hi) {
  idx k = 0;
  while (k < n && ind[k] < j) ++k;
  lo = k;
  while (k < n && ind[k] == j) ++k;
  hi = k;
}

template <typename T>
void nearest_forward_row(const UpsampleShape& s, const T* x, idx oh, T* y) {
  const T* xr = x + (oh / s.sh) * s.w * s.c;
  for (idx iw = 0; iw < s.w; ++iw) {
    const T* src = xr + iw * s.c;
    for (idx j = 0; j < s.sw; ++j) {
      T* dst = y + (iw * s.sw + j) * s.c;
      for (idx e = 0; e < s.c; ++e) dst[e] = src[e];
    }
  }
}

template <typename T>
void nearest_backward_row(const UpsampleShape& s, const T* dy, idx ih, T* dx) {
  const idx ow = s.w * s.sw;
  for (idx iw = 0; iw < s.w; ++iw) {
    T* o = dx + iw * s.c;
    for (idx i = 0; i < s.sh; ++i) {
      const T* g = dy + ((ih * s.sh + i) * ow + iw * s.sw) * s.c;
      for (idx j = 0; j < s.sw; ++j) {
        const T* gj = g + j * s.c;
        if (i == 0 && j == 0) {
          for (idx e = 0; e < s.c; ++e) o[e] = gj[e];
        } else {
          for (idx e = 0; e < s.c; ++e) o[e] += gj[e];
        }
      }
    }
  }
}

template <typename T>
void bilinear_forward_row(const UpsampleShape& s, const T* x, const LinearTaps<T>& rows,
                          const LinearTaps<T>& cols, idx oh, T* tmp, T* y) {
  const idx len = s.w * s.c;
  const T* a = x + rows.i0[oh] * len;
  const T* b = x + rows.i1[oh] * len;
  const T t = rows.t[oh];
  for (idx e = 0; e < len; ++e) tmp[e] = a[e] + (b[e] - a[e]) * t;
  for (idx ow = 0, n = s.w * s.sw; ow < n; ++ow) {
    const T* p = tmp + cols.i0[ow] * s.c;
    const T* q = tmp + cols.i1[ow] * s.c;
    const T u = cols.t[ow];
    T* o = y + ow * s.c;
    for (idx e = 0; e < s.c; ++e) o[e] = p[e] + (q[e] - p[e]) * u;
  }
}

// The column pass of the gradient of output row g (w * sw x c) into out (w x c); v holds
// 2 * w * sw * c elements.
template <typename T>
void bilinear_backward_cols(const UpsampleShape& s, const T* g, const LinearTaps<T>& cols, T* v,
                            T* out) {
  const idx n = s.w * s.sw, c = s.c;
  T* v0 = v;
  T* v1 = v + n * c;
  for (idx o = 0; o < n; ++o) {
    const T u = cols.t[o];
    const T* gr = g + o * c;
    T* p0 = v0 + o * c;
    T* p1 = v1 + o * c;
    for (idx e = 0; e < c; ++e) {
      const T gw = gr[e] * u;
      p0[e] = gr[e] - gw;
      p1[e] = gw;
    }
  }
  for (idx iw = 0; iw < s.w; ++iw) {
    T* dst = out + iw * c;
    for (idx e = 0; e < c; ++e) dst[e] = T(0);
  }
  for (idx o = 0; o < n;) {  // runs of cols.i0: out[j] = 0 + run sum
    const idx end = run_end(cols.i0, n, o);
    const T* r = reduce_run(v0 + o * c, end - o, c);
    T* dst = out + cols.i0[o] * c;
    for (idx e = 0; e < c; ++e) dst[e] += r[e];
    o = end;
  }
  for (idx o = 0; o < n;) {  // then the runs of cols.i1 added
    const idx end = run_end(cols.i1, n, o);
    const T* r = reduce_run(v1 + o * c, end - o, c);
    T* dst = out + cols.i1[o] * c;
    for (idx e = 0; e < c; ++e) dst[e] += r[e];
    o = end;
  }
}

// tmp: (runs of input row ih among rows.i0 and rows.i1) * w * c + 2 * w * sw * c elements.
template <typename T>
void bilinear_backward_row(const UpsampleShape& s, const T* dy, const LinearTaps<T>& rows,
                           const LinearTaps<T>& cols, idx ih, T* tmp, T* dx) {
  const idx nh = s.h * s.sh, len = s.w * s.c, glen = s.w * s.sw * s.c;
  idx lo0, hi0, lo1, hi1;
  find_run(rows.i0, nh, ih, lo0, hi0);
  find_run(rows.i1, nh, ih, lo1, hi1);
  T* v = tmp;
  T* run0 = tmp + 2 * glen;
  T* run1 = run0 + (hi0 - lo0) * len;
  for (idx oh = lo0; oh < hi0; ++oh) {
    T* r = run0 + (oh - lo0) * len;
    bilinear_backward_cols(s, dy + oh * glen, cols, v, r);
    const T t = rows.t[oh];
    for (idx e = 0; e < len; ++e) r[e] = r[e] - r[e] * t;
  }
  for (idx oh = lo1; oh < hi1; ++oh) {
    T* r = run1 + (oh - lo1) * len;
    bilinear_backward_cols(s, dy + oh * glen, cols, v, r);
    const T t = rows.t[oh];
    for (idx e = 0; e < len; ++e) r[e] = r[e] * t;
  }
  for (idx e = 0; e < len; ++e) dx[e] = T(0);
  if (hi0 > lo0) {
    const T* r = reduce_run(run0, hi0 - lo0, len);
    for (idx e = 0; e < len; ++e) dx[e] += r[e];
  }
  if (hi1 > lo1) {
    const T* r = reduce_run(run1, hi1 - lo1, len);
    for (idx e = 0; e < len; ++e) dx[e] += r[e];
  }
}

template <typename T>
void fill_upsample_typed(UpsampleKernels<T>& k) {
  k.nearest_forward_row = &nearest_forward_row<T>;
  k.nearest_backward_row = &nearest_backward_row<T>;
  k.bilinear_forward_row = &bilinear_forward_row<T>;
  k.bilinear_backward_row = &bilinear_backward_row<T>;
}

inline void fill_upsample_kernels_impl(UpsampleKernelSet& set) {
  fill_upsample_typed(set.f32);
  fill_upsample_typed(set.f64);
}

}  // namespace
}  // namespace nncore
