// Winograd F(2x2, 3x3) weight-gradient transforms (see ops/conv2d_wgrad_winograd.cpp), plain loops
// over channels compiled once per ISA path (kernels/{generic,avx2,avx512}/): each includes this in
// its own translation unit, hence the unnamed namespace.
#pragma once
#include <cstddef>

#include "nncore/kernels/conv2d_kernel.h"
#include "nncore/kernels/simd_pragma.h"

namespace nncore {
namespace {

// Rows r0 <= r < r1 of B^T d B of a 4x4 patch (p: 16 pointers, one per position, each to cs
// channels): value (r, j) into v[((r - r0) * 4 + j) * vs + c], through tmp (16 * cs). Whole
// channel rows at a time, so the loops vectorize.
template <typename T>
void wino_input(const T* const* p, std::ptrdiff_t cs, T* tmp, T* v, std::ptrdiff_t vs, int r0, int r1) {
  for (int r = r0; r < r1; ++r)
    for (int q = 0; q < 4; ++q) {  // row r of B^T d: rows 0 - 2, 1 + 2, 2 - 1, 1 - 3 of d
      const T* a = p[(r == 0 ? 0 : r == 3 ? 1 : r == 1 ? 1 : 2) * 4 + q];
      const T* b = p[(r == 0 ? 2 : r == 3 ? 3 : r == 1 ? 2 : 1) * 4 + q];
      T* t = tmp + (r * 4 + q) * cs;
      if (r == 1) {
        NNCORE_SIMD
        for (std::ptrdiff_t c = 0; c < cs; ++c) t[c] = a[c] + b[c];
      } else {
        NNCORE_SIMD
        for (std::ptrdiff_t c = 0; c < cs; ++c) t[c] = a[c] - b[c];
      }
    }
  for (int r = r0; r < r1; ++r) {  // (B^T d) B: along its columns
    const T* t0 = tmp + (r * 4 + 0) * cs;
    const T* t1 = tmp + (r * 4 + 1) * cs;
    const T* t2 = tmp + (r * 4 + 2) * cs;
    const T* t3 = tmp + (r * 4 + 3) * cs;
    T* v0 = v + ((r - r0) * 4 + 0) * vs;
    T* v1 = v + ((r - r0) * 4 + 1) * vs;
    T* v2 = v + ((r - r0) * 4 + 2) * vs;
    T* v3 = v + ((r - r0) * 4 + 3) * vs;
    NNCORE_SIMD
    for (std::ptrdiff_t c = 0; c < cs; ++c) {
      v0[c] = t0[c] - t2[c];
      v1[c] = t1[c] + t2[c];
      v2[c] = t2[c] - t1[c];
      v3[c] = t1[c] - t3[c];
    }
  }
}

// Rows r0 <= r < r1 of A dY A^T of a 2x2 gradient tile (g: its 4 pixels, rows then columns, cout
// channels each): value (r, j) into u[((r - r0) * 4 + j) * us + o].
template <typename T>
void wino_grad(const T* const* g, std::ptrdiff_t cout, T* u, std::ptrdiff_t us, int r0, int r1) {
  const T* g00 = g[0];
  const T* g01 = g[1];
  const T* g10 = g[2];
  const T* g11 = g[3];
  for (int r = r0; r < r1; ++r) {
    // Row r of A dY: (a, b) = rows 0, 0 + 1, 0 - 1, -1 of dY; then (a, a + b, a - b, -b).
    T* u0 = u + ((r - r0) * 4 + 0) * us;
    T* u1 = u + ((r - r0) * 4 + 1) * us;
    T* u2 = u + ((r - r0) * 4 + 2) * us;
    T* u3 = u + ((r - r0) * 4 + 3) * us;
    NNCORE_SIMD
    for (std::ptrdiff_t o = 0; o < cout; ++o) {
      T a, b;
      if (r == 0) {
        a = g00[o];
        b = g01[o];
      } else if (r == 1) {
        a = g00[o] + g10[o];
        b = g01[o] + g11[o];
      } else if (r == 2) {
        a = g00[o] - g10[o];
        b = g01[o] - g11[o];
      } else {
        a = -g10[o];
        b = -g11[o];
      }
      u0[o] = a;
      u1[o] = a + b;
      u2[o] = a - b;
      u3[o] = -b;
    }
  }
}

template <typename T>
void fill_wino(ConvKernels<T>& k) {
  k.wino_input = &wino_input<T>;
  k.wino_grad = &wino_grad<T>;
}

}  // namespace
}  // namespace nncore
