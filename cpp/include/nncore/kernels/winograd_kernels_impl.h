// The Winograd F(4x4, 3x3) tile transforms (Lavin & Gray 2016). Each
// cpp/kernels/<isa>/winograd_kernels.cpp includes this file and compiles it with its own flags;
// everything has internal linkage so the copies never mix (see depthwise_kernels_impl.h).
//
// The loops run over a fixed block of channels held in local arrays, which the compiler keeps in
// vector registers or L1; a partial last block is zero-filled so that every block takes the same
// code. Each output element is a fixed expression of its inputs, so results depend on neither the
// channel count nor the work split (within one ISA path: FMA paths round differently).
#pragma once
#include "nncore/kernels/simd_pragma.h"
#include "nncore/kernels/winograd_kernel.h"

namespace nncore {
namespace {

using idx = std::ptrdiff_t;

template <typename T>
constexpr idx kWinoLanes = idx(64 / sizeof(T));  // one cache line of channels per block

inline idx wino_clamp(idx v, idx lo, idx hi) { return v < lo ? lo : (v > hi ? hi : v); }

// The rows of B^T applied to s0..s5 (a column or row of the tile), for L lanes.
template <typename T, idx L>
inline void wino_bt(const T* s0, const T* s1, const T* s2, const T* s3, const T* s4, const T* s5,
                    T* o0, T* o1, T* o2, T* o3, T* o4, T* o5) {
  NNCORE_SIMD
  for (idx l = 0; l < L; ++l) {
    const T d0 = s0[l], d1 = s1[l], d2 = s2[l], d3 = s3[l], d4 = s4[l], d5 = s5[l];
    const T a = d4 - T(4) * d2;  // shared by rows 1 and 2
    const T b = d3 - T(4) * d1;
    const T e = d4 - d2;         // shared by rows 3 and 4
    const T f = T(2) * (d3 - d1);
    o0[l] = T(4) * d0 - T(5) * d2 + d4;
    o1[l] = a + b;
    o2[l] = a - b;
    o3[l] = e + f;
    o4[l] = e - f;
    o5[l] = T(4) * d1 - T(5) * d3 + d5;
  }
}

template <typename T>
void wino_input_tile(const T* img, idx h, idx w, idx c, idx row0, idx col0, T* v, idx vs) {
  constexpr idx L = kWinoLanes<T>;
  const idx r_lo = wino_clamp(-row0, 0, 6), r_hi = wino_clamp(h - row0, r_lo, 6);
  const idx c_lo = wino_clamp(-col0, 0, 6), c_hi = wino_clamp(w - col0, c_lo, 6);
  alignas(64) T d[36][L];
  alignas(64) T t[36][L];
  alignas(64) T o[36][L];
  for (idx c0 = 0; c0 < c; c0 += L) {
    const idx cb = c - c0 < L ? c - c0 : L;
    for (idx i = 0; i < 6; ++i)
      for (idx j = 0; j < 6; ++j) {
        T* dst = d[i * 6 + j];
        if (i < r_lo || i >= r_hi || j < c_lo || j >= c_hi) {
          for (idx l = 0; l < L; ++l) dst[l] = T(0);
          continue;
        }
        const T* src = img + ((row0 + i) * w + col0 + j) * c + c0;
        if (cb == L) {
          NNCORE_SIMD
          for (idx l = 0; l < L; ++l) dst[l] = src[l];
        } else {
          for (idx l = 0; l < L; ++l) dst[l] = l < cb ? src[l] : T(0);
        }
      }
    // t = B^T d (down the columns), o = t B (along the rows).
    for (idx j = 0; j < 6; ++j)
      wino_bt<T, L>(d[j], d[6 + j], d[12 + j], d[18 + j], d[24 + j], d[30 + j], t[j], t[6 + j],
                    t[12 + j], t[18 + j], t[24 + j], t[30 + j]);
    for (idx i = 0; i < 6; ++i) {
      T* r = t[i * 6];
      T* q = o[i * 6];
      wino_bt<T, L>(r, r + L, r + 2 * L, r + 3 * L, r + 4 * L, r + 5 * L, q, q + L, q + 2 * L,
                    q + 3 * L, q + 4 * L, q + 5 * L);
    }
    for (idx p = 0; p < 36; ++p) {
      T* dst = v + p * vs + c0;
      if (cb == L) {
        NNCORE_SIMD
        for (idx l = 0; l < L; ++l) dst[l] = o[p][l];
      } else {
        for (idx l = 0; l < cb; ++l) dst[l] = o[p][l];
      }
    }
  }
}

// The rows of A^T applied to s0..s5.
template <typename T, idx L>
inline void wino_at(const T* s0, const T* s1, const T* s2, const T* s3, const T* s4, const T* s5,
                    T* o0, T* o1, T* o2, T* o3) {
  NNCORE_SIMD
  for (idx l = 0; l < L; ++l) {
    const T a = s1[l] + s2[l], b = s1[l] - s2[l];
    const T e = s3[l] + s4[l], f = s3[l] - s4[l];
    o0[l] = s0[l] + a + e;
    o1[l] = b + T(2) * f;
    o2[l] = a + T(4) * e;
    o3[l] = b + T(8) * f + s5[l];
  }
}

template <typename T>
void wino_output_tile(const T* m, idx ms, idx c, const T* bias, int relu, T* y, idx y_row, idx rows,
                      idx cols) {
  constexpr idx L = kWinoLanes<T>;
  alignas(64) T s[36][L];
  alignas(64) T t[24][L];  // A^T m: 4 rows of 6
  alignas(64) T o[16][L];
  alignas(64) T bv[L];
  for (idx c0 = 0; c0 < c; c0 += L) {
    const idx cb = c - c0 < L ? c - c0 : L;
    for (idx p = 0; p < 36; ++p) {
      const T* src = m + p * ms + c0;
      if (cb == L) {
        NNCORE_SIMD
        for (idx l = 0; l < L; ++l) s[p][l] = src[l];
      } else {
        for (idx l = 0; l < L; ++l) s[p][l] = l < cb ? src[l] : T(0);
      }
    }
    for (idx l = 0; l < L; ++l) bv[l] = bias && l < cb ? bias[c0 + l] : T(0);
    for (idx j = 0; j < 6; ++j)
      wino_at<T, L>(s[j], s[6 + j], s[12 + j], s[18 + j], s[24 + j], s[30 + j], t[j], t[6 + j],
                    t[12 + j], t[18 + j]);
    for (idx r = 0; r < 4; ++r) {
      T* q = t[r * 6];
      wino_at<T, L>(q, q + L, q + 2 * L, q + 3 * L, q + 4 * L, q + 5 * L, o[r * 4], o[r * 4 + 1],
                    o[r * 4 + 2], o[r * 4 + 3]);
    }
    for (idx k = 0; k < 16; ++k) {
      NNCORE_SIMD
      for (idx l = 0; l < L; ++l) {
        const T val = o[k][l] + bv[l];
        o[k][l] = relu && val < T(0) ? T(0) : val;
      }
    }
    for (idx r = 0; r < rows; ++r)
      for (idx q = 0; q < cols; ++q) {
        T* dst = y + r * y_row + q * c + c0;
        const T* src = o[r * 4 + q];
        if (cb == L) {
          NNCORE_SIMD
          for (idx l = 0; l < L; ++l) dst[l] = src[l];
        } else {
          for (idx l = 0; l < cb; ++l) dst[l] = src[l];
        }
      }
  }
}

// G of F(4x4, 3x3): the 6 x 3 kernel transform.
constexpr double kWinoG[6][3] = {{1.0 / 4, 0, 0},
                                 {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                 {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                 {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                 {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                 {0, 0, 1}};

template <typename T>
void wino_weights(const T* w, idx tap, idx sl, idx n, int turned, T* u, idx us) {
  constexpr idx L = 32;
  alignas(64) double g[9][L];
  alignas(64) double gg[18][L];  // G g: 6 rows of 3
  for (idx l0 = 0; l0 < n; l0 += L) {
    const idx nb = n - l0 < L ? n - l0 : L;
    for (idx t = 0; t < 9; ++t) {
      const T* src = w + (turned ? 8 - t : t) * tap + l0 * sl;
      if (nb == L && sl == 1) {
        NNCORE_SIMD
        for (idx l = 0; l < L; ++l) g[t][l] = double(src[l]);
      } else {
        for (idx l = 0; l < L; ++l) g[t][l] = l < nb ? double(src[l * sl]) : 0.0;
      }
    }
    for (int i = 0; i < 6; ++i)
      for (int j = 0; j < 3; ++j) {
        const double a = kWinoG[i][0], b = kWinoG[i][1], c = kWinoG[i][2];
        NNCORE_SIMD
        for (idx l = 0; l < L; ++l) gg[i * 3 + j][l] = a * g[j][l] + b * g[3 + j][l] + c * g[6 + j][l];
      }
    for (int i = 0; i < 6; ++i)
      for (int j = 0; j < 6; ++j) {
        const double a = kWinoG[j][0], b = kWinoG[j][1], c = kWinoG[j][2];
        const double* r = gg[i * 3];
        T* dst = u + (i * 6 + j) * us + l0;
        for (idx l = 0; l < nb; ++l) dst[l] = T(r[l] * a + r[L + l] * b + r[2 * L + l] * c);
      }
  }
}

template <typename T>
void fill_winograd_for(WinogradKernels<T>& k) {
  k.input_tile = &wino_input_tile<T>;
  k.output_tile = &wino_output_tile<T>;
  k.weights = &wino_weights<T>;
}

inline void fill_winograd_kernels_impl(WinogradKernelSet& set) {
  fill_winograd_for(set.f32);
  fill_winograd_for(set.f64);
}

}  // namespace
}  // namespace nncore
