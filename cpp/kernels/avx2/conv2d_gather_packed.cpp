// AVX2 + FMA pixel-packed gather (see ConvPackedArgs): P pixels of few output channels share one
// ymm register, for layers whose 1-4 channels would leave most of a channel-vectorized register idle.
//
// Without mask registers, a column's lane mask is a vector: the broadcast input value is ANDed
// with it before the FMA, so a pixel's lanes never see a column outside its window (where the
// weight is zero and an infinite input would make 0 * inf = NaN). The AND runs on any of the four
// vector pipes, beside the two FMA pipes.
#include "conv2d_gather_tiles.h"

namespace nncore {
namespace {

// Lanes whose bit is set in `bits`, as a vector lane mask.
inline __m256i bit_lanes(F32x8, unsigned bits) {
  const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(static_cast<int>(bits)), bit), bit);
}
inline __m256i bit_lanes(F64x4, unsigned bits) {
  const __m256i bit = _mm256_setr_epi64x(1, 2, 4, 8);
  return _mm256_cmpeq_epi64(_mm256_and_si256(_mm256_set1_epi64x(bits), bit), bit);
}

// MR groups of P pixels in NR output rows, one accumulator each. CIN > 0 fixes the channel count
// so that every input address is a base register plus an immediate.
template <class S, int MR, int NR, int CIN, int P>
void packed_tile(const ConvPackedArgs<typename S::T>& a, const typename S::T* x, typename S::T* y,
                 typename S::V bias, bool full_store, bool row_end) {
  using T = typename S::T;
  using V = typename S::V;
  constexpr int L = S::W;
  const idx cin = CIN > 0 ? CIN : a.cin;
  const idx gx = P * cin;
  const idx cstep = a.ncols * L;
  V acc[NR][MR];
  static_for<0, NR>([&](auto q) { static_for<0, MR>([&](auto g) { acc[q.value][g.value] = S::zero(); }); });
  for (idx r = 0; r < a.nrows; ++r) {
    const T* xr = x + a.row_off[r];
    const T* wr = a.w + a.row_w[r] * cin * cstep;
    for (idx d = 0; d < a.ncols; ++d) {
      const typename S::M m = bit_lanes(S{}, a.mask[d]);
      const T* xd[NR];
      static_for<0, NR>([&](auto q) { xd[q.value] = xr + q.value * a.x_row + d * cin; });
      const T* wd = wr + d * L;
      if constexpr (CIN > 0) {
        static_for<0, CIN>([&](auto c) {
          const V wv = S::load(wd + c.value * cstep);
          static_for<0, MR>([&](auto g) {
            static_for<0, NR>([&](auto q) {
              V& s = acc[q.value][g.value];
              s = bcast_and_fma(xd[q.value] + g.value * P * CIN + c.value, m, wv, s);
            });
          });
        });
      } else {
        for (idx c = 0; c < cin; ++c) {
          const V wv = S::load(wd + c * cstep);
          static_for<0, MR>([&](auto g) {
            static_for<0, NR>([&](auto q) {
              V& s = acc[q.value][g.value];
              s = bcast_and_fma(xd[q.value] + g.value * gx + c, m, wv, s);
            });
          });
        }
      }
    }
  }
  // Locals: vector stores may alias anything, `a` included.
  const bool relu = a.relu != 0;
  const idx yrow = a.y_row, gy = P * a.cout;
  static_for<0, NR>([&](auto q) {
    static_for<0, MR>([&](auto g) {
      V v = S::add(acc[q.value][g.value], bias);
      if (relu) v = S::relu(v);
      T* out = y + q.value * yrow + g.value * gy;
      // A whole register spills past the group into the next one, which is stored after it (the
      // tiles of a row run left to right); only the row's last group stops at its own lanes.
      if (full_store || (g.value + 1 < MR || !row_end))
        S::store(out, v);
      else
        store_first(out, v, gy);
    });
  });
}

template <class S, int NR, int CIN, int P, int M>
void packed_rest(const ConvPackedArgs<typename S::T>& a, const typename S::T* x, typename S::T* y,
                 typename S::V bias, bool full, idx groups) {
  if constexpr (M > 0) {
    if (groups == M)
      packed_tile<S, M, NR, CIN, P>(a, x, y, bias, full, true);
    else
      packed_rest<S, NR, CIN, P, M - 1>(a, x, y, bias, full, groups);
  }
}

// Groups per tile: 6 or 4 in each of two rows (12 or 8 accumulators).
constexpr int kPackedA = 6, kPackedB = 4;

template <class S, int NR, int CIN, int P>
void packed_rows(const ConvPackedArgs<typename S::T>& a, const typename S::T* x, typename S::T* y,
                 typename S::V bias, bool full) {
  const idx groups = a.npix / P;
  if (groups < kPackedB) {
    packed_rest<S, NR, 0, P, kPackedB - 1>(a, x, y, bias, full, groups);
    return;
  }
  const idx gx = P * a.cin, gy = P * a.cout;
  for_each_tile<kPackedA, kPackedB>(split_tiles<kPackedA, kPackedB>(groups), groups, [&](idx g, auto big) {
    constexpr int MR = decltype(big)::value ? kPackedA : kPackedB;
    packed_tile<S, MR, NR, CIN, P>(a, x + g * gx, y + g * gy, bias, full, g + MR == groups);
  });
}

template <class S, int CIN, int P>
void packed_all(const ConvPackedArgs<typename S::T>& a) {
  using T = typename S::T;
  constexpr int L = S::W;
  T lanes[L] = {};
  for (idx l = 0; l < P * a.cout; ++l) lanes[l] = a.bias ? a.bias[l % a.cout] : T(0);
  const typename S::V bias = S::load(lanes);
  const bool full = P * a.cout == L;
  idx q = 0;
  for (; q + 2 <= a.nout; q += 2)
    packed_rows<S, 2, CIN, P>(a, a.x + q * a.x_row, a.y + q * a.y_row, bias, full);
  if (q < a.nout) packed_rows<S, 1, CIN, P>(a, a.x + q * a.x_row, a.y + q * a.y_row, bias, full);
}

template <class S, int P>
void packed_cin(const ConvPackedArgs<typename S::T>& a) {
  switch (a.cin) {
    case 1: return packed_all<S, 1, P>(a);
    case 3: return packed_all<S, 3, P>(a);
    case 8: return packed_all<S, 8, P>(a);
    case 16: return packed_all<S, 16, P>(a);
    default: return packed_all<S, 0, P>(a);
  }
}

// Pixels per register for `cout` channels: at least two, else the channel-vectorized gather.
template <typename T>
idx packed_pixels(idx cout) {
  constexpr idx lanes = 32 / sizeof(T);
  if (cout < 1 || 2 * cout > lanes) return 0;
  return lanes / cout;
}

void packed_gather_f32(const ConvPackedArgs<float>& a) {
  switch (a.pixels) {
    case 8: return packed_cin<F32x8, 8>(a);
    case 4: return packed_cin<F32x8, 4>(a);
    default: return packed_cin<F32x8, 2>(a);
  }
}

// float64 serves gradient checks: only the run-time channel count.
void packed_gather_f64(const ConvPackedArgs<double>& a) {
  if (a.pixels == 4)
    packed_all<F64x4, 0, 4>(a);
  else
    packed_all<F64x4, 0, 2>(a);
}

}  // namespace

void fill_conv_packed_kernels_avx2(ConvKernelSet& set) {
  set.f32.packed_lanes = 8;
  set.f32.packed_pixels = &packed_pixels<float>;
  set.f32.packed_gather = &packed_gather_f32;
  set.f64.packed_lanes = 4;
  set.f64.packed_pixels = &packed_pixels<double>;
  set.f64.packed_gather = &packed_gather_f64;
}

}  // namespace nncore
