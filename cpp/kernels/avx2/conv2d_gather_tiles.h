// What the AVX2 gather kernels share: how a row is cut into register tiles, the broadcast-FMA step
// and partial stores. Included only by cpp/kernels/avx2/conv2d_gather*.cpp (anonymous namespace:
// each file keeps its own copy, compiled with the AVX2 flags; see conv_simd.h).
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
  idx na, nb;
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

// acc += broadcast(*x) * w (for one or two w/acc pairs), as fixed instructions: the broadcast
// register is a scratch and the accumulators stay put. Left to itself, GCC makes the broadcast
// register the FMA's destination in a fully unrolled tile, rotates accumulators through registers
// and spills one of the twelve. The input value is a declared memory operand (base register plus
// immediate).
inline __m256 bcast_fma(const float* x, __m256 w, __m256 acc) {
  __m256 t;
  __asm__("vbroadcastss %[x], %[t]\n\tvfmadd231ps %[t], %[w], %[a]"
          : [a] "+x"(acc), [t] "=&x"(t)
          : [x] "m"(*x), [w] "x"(w));
  return acc;
}
inline __m256d bcast_fma(const double* x, __m256d w, __m256d acc) {
  __m256d t;
  __asm__("vbroadcastsd %[x], %[t]\n\tvfmadd231pd %[t], %[w], %[a]"
          : [a] "+x"(acc), [t] "=&x"(t)
          : [x] "m"(*x), [w] "x"(w));
  return acc;
}
inline void bcast_fma(const float* x, __m256 w0, __m256 w1, __m256& acc0, __m256& acc1) {
  __m256 t, a0 = acc0, a1 = acc1;  // registers: an asm operand bound to an array element would
                                   // keep the whole tile in memory
  __asm__("vbroadcastss %[x], %[t]\n\tvfmadd231ps %[t], %[w0], %[a0]\n\tvfmadd231ps %[t], %[w1], %[a1]"
          : [a0] "+x"(a0), [a1] "+x"(a1), [t] "=&x"(t)
          : [x] "m"(*x), [w0] "x"(w0), [w1] "x"(w1));
  acc0 = a0;
  acc1 = a1;
}
inline void bcast_fma(const double* x, __m256d w0, __m256d w1, __m256d& acc0, __m256d& acc1) {
  __m256d t, a0 = acc0, a1 = acc1;
  __asm__("vbroadcastsd %[x], %[t]\n\tvfmadd231pd %[t], %[w0], %[a0]\n\tvfmadd231pd %[t], %[w1], %[a1]"
          : [a0] "+x"(a0), [a1] "+x"(a1), [t] "=&x"(t)
          : [x] "m"(*x), [w0] "x"(w0), [w1] "x"(w1));
  acc0 = a0;
  acc1 = a1;
}

// acc += (broadcast(*x) & m) * w: the pixel-packed step (lanes outside m get 0, never 0 * inf).
inline __m256 bcast_and_fma(const float* x, __m256i m, __m256 w, __m256 acc) {
  __m256 t;
  __asm__("vbroadcastss %[x], %[t]\n\tvandps %[m], %[t], %[t]\n\tvfmadd231ps %[t], %[w], %[a]"
          : [a] "+x"(acc), [t] "=&x"(t)
          : [x] "m"(*x), [m] "x"(m), [w] "x"(w));
  return acc;
}
inline __m256d bcast_and_fma(const double* x, __m256i m, __m256d w, __m256d acc) {
  __m256d t;
  __asm__("vbroadcastsd %[x], %[t]\n\tvandpd %[m], %[t], %[t]\n\tvfmadd231pd %[t], %[w], %[a]"
          : [a] "+x"(acc), [t] "=&x"(t)
          : [x] "m"(*x), [m] "x"(m), [w] "x"(w));
  return acc;
}

// Stores the first n (0 < n < 8 or 4) lanes of v with at most three plain stores. vmaskmovps
// to memory is microcoded on AMD cores (about 12 cycles each on Zen 4, measured), which would
// cost more than the FMAs of a few-channel pixel.
inline void store_first(float* p, __m256 v, idx n) {
  __m128 h = _mm256_castps256_ps128(v);
  if (n >= 4) {
    _mm_storeu_ps(p, h);
    h = _mm256_extractf128_ps(v, 1);
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    _mm_storel_pi(reinterpret_cast<__m64*>(p), h);
    h = _mm_movehl_ps(h, h);
    p += 2;
    n -= 2;
  }
  if (n) _mm_store_ss(p, h);
}
inline void store_first(double* p, __m256d v, idx n) {
  __m128d h = _mm256_castpd256_pd128(v);
  if (n >= 2) {
    _mm_storeu_pd(p, h);
    h = _mm256_extractf128_pd(v, 1);
    p += 2;
    n -= 2;
  }
  if (n) _mm_store_sd(p, h);
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
