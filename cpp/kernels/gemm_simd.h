// GEMM block kernel and packing written once over a vector-traits class, for the x86 ISA files.
//
// Included only by cpp/kernels/<isa>/ukernel_gemm.cpp. Everything here sits in an anonymous
// namespace, so each ISA file gets its own copy compiled with its own -m flags and nothing is
// shared through the linker (see nncore/kernels/gemm_kernel.h). The traits class S of an ISA
// provides:
//   T, V (vector), M (lane mask), W (lanes); zero, set1, bcast, load, store, mload, mstore
//   (masked, fault-free on masked-off lanes), fma, mul, add, max, mask(valid lanes);
//   kMaskedLoadIsCheap (the masked load may be used in the inner loop), kMaskedStoreIsCheap
//   (otherwise partial vectors are stored through a buffer: AVX2's vmaskmov store is
//   microcoded on AMD and costs tens of cycles);
//   for narrow blocks: bcast2 (the pair p[0], p[1] repeated over the lanes), pair_sum (lane l :=
//   v[2l] + v[2l+1] for l < W/2), pair_sum2 (the pair sums of a, then those of b), split_pairs
//   (even := v[0], v[2], ...; odd := v[1], v[3], ...; in the low W/2 lanes), deinterleave (the
//   even lanes, then the odd ones), interleave (a[0], b[0], a[1], b[1], ... from the low W/2
//   lanes), dup_pairs (v[0], v[0], v[1], v[1], ...);
//   for packing: transpose (a W x W block held in W vectors, in place).
//
// Summation order: every tile forms each element of C as one chain of fused multiply-adds over
// the depth, p = 0, 1, ..., k-1, from zero, then applies alpha, beta, bias and ReLU in that order;
// narrow blocks (below) as two such chains, fixed by the product's width. Tiles of any shape,
// packed or in-place operands and row- or column-major A give the same bits, so a product's
// result depends only on its values, its shape and the depth blocks the driver cuts, never on the
// layout, the thread split or the plan.
#pragma once
#include <cstddef>
#include <type_traits>

#include "nncore/kernels/gemm_kernel.h"

namespace nncore {
namespace {

using idx = std::ptrdiff_t;

template <typename T>
struct Epilogue {
  T alpha, beta;
  const T* bias;  // already offset to the tile's first column
  bool relu;
};

// Stores lanes [0, count) of v at p, touching nothing past p[count - 1].
template <class S>
inline void store_first(typename S::T* p, typename S::V v, idx count) {
  if constexpr (S::kMaskedStoreIsCheap) {
    S::mstore(p, S::mask(count), v);
  } else {
    alignas(64) typename S::T buf[S::W];
    S::store(buf, v);
    for (idx l = 0; l < count; ++l) p[l] = buf[l];
  }
}

// The micro-kernel: C[0:MR, 0:n] (n <= NV*W) of one register tile.
// AROW: element (i, p) of A at a[i*as + p] (row-major, read in place); otherwise at a[i + p*as]
// (a packed panel with as == mr, or a column-major A read in place).
// B: element (p, j) at b[p*ldb + j]; when the tile is partial and B is not padded (bmask), the last
// vector is loaded under a mask so that nothing past the matrix is touched.
template <class S, int MR, int NV, bool AROW>
void tile(idx k, const typename S::T* a, idx as, const typename S::T* b, idx ldb,
          typename S::T* c, idx ldc, idx n, bool bmask, const Epilogue<typename S::T>& e) {
  using T = typename S::T;
  using V = typename S::V;
  constexpr int W = S::W;
  const auto last = S::mask(n - (NV - 1) * W);

  V acc[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = S::zero();

  auto run = [&](auto masked_tag) {
    constexpr bool kMasked = decltype(masked_tag)::value;
    // Row-major A: rows in groups of at most 6 from their own base pointer, so that every row's
    // offset is 0, as, 2as, 3as, 4as or 5as (one of three index registers, scaled): without the
    // groups a 12-row tile needs 11 offsets and spills some of them in the loop.
    constexpr int kGroups = AROW ? (MR + 5) / 6 : 1;
    const T* ag[kGroups];
#pragma GCC unroll 4
    for (int g = 0; g < kGroups; ++g) ag[g] = a + (AROW ? g * 6 * as : 0);
    const T* ap = a;
    const T* bp = b;
    for (idx p = 0; p < k; ++p) {
      V bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        if (kMasked && v == NV - 1)
          bv[v] = S::mload(last, bp + v * W);
        else
          bv[v] = S::load(bp + v * W);
      }
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) {
        const V ai = AROW ? S::bcast(ag[i / 6] + (i % 6) * as + p) : S::bcast(ap + i);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v] = S::fma(ai, bv[v], acc[i][v]);
      }
      ap += AROW ? 1 : as;
      bp += ldb;
    }
  };
  // A partial tile of packed B may read the zero padding with plain loads; in place it may not.
  const bool full = n == NV * W;
  if (!full && (bmask || S::kMaskedLoadIsCheap))
    run(std::true_type{});
  else
    run(std::false_type{});

  // The two epilogues every product uses, without per-vector tests: the first depth block of a
  // plain product (C = AB) and the later ones (C += AB; the same rounding as beta * C + AB with
  // beta == 1, which the general path below would compute).
  const idx tail = n - (NV - 1) * W;
  if (e.alpha == T(1) && !e.bias && !e.relu && (e.beta == T(0) || e.beta == T(1))) {
    const bool add = e.beta == T(1);
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
      T* row = c + i * ldc;
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        const bool part = v == NV - 1 && !full;
        V r = acc[i][v];
        if (add) r = S::add(r, part ? S::mload(last, row + v * W) : S::load(row + v * W));
        if (part)
          store_first<S>(row + v * W, r, tail);
        else
          S::store(row + v * W, r);
      }
    }
    return;
  }
  const V va = S::set1(e.alpha);
  const V vb = S::set1(e.beta);
  const bool use_beta = e.beta != T(0);
  const bool scale = e.alpha != T(1);
  V bias[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v)
    bias[v] = !e.bias ? S::zero()
              : (v == NV - 1 && !full) ? S::mload(last, e.bias + v * W)
                                       : S::load(e.bias + v * W);
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
    T* row = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const bool part = v == NV - 1 && !full;
      V r = scale ? S::mul(va, acc[i][v]) : acc[i][v];
      if (use_beta) r = S::fma(vb, part ? S::mload(last, row + v * W) : S::load(row + v * W), r);
      if (e.bias) r = S::add(r, bias[v]);
      // max(0, r) keeps a NaN in r (the second operand is returned when either is NaN).
      if (e.relu) r = S::max(S::zero(), r);
      if (part)
        store_first<S>(row + v * W, r, tail);
      else
        S::store(row + v * W, r);
    }
  }
}

template <class S>
using TileFn = void (*)(idx, const typename S::T*, idx, const typename S::T*, idx, typename S::T*,
                        idx, idx, bool, const Epilogue<typename S::T>&);

// Table of tile kernels for 1..ROWS rows and 1..NVMAX vectors, for the shapes whose accumulators
// fit the register budget ACC (others stay null).
template <class S, int ROWS, int ACC, int NVMAX, bool AROW>
struct TileTable {
  TileFn<S> fn[ROWS][NVMAX] = {};
  template <int I, int J>
  void fill_one() {
    if constexpr ((I + 1) * (J + 1) <= ACC) fn[I][J] = &tile<S, I + 1, J + 1, AROW>;
    if constexpr (J + 1 < NVMAX)
      fill_one<I, J + 1>();
    else if constexpr (I + 1 < ROWS)
      fill_one<I + 1, 0>();
  }
  TileTable() { fill_one<0, 0>(); }
};

// Splits `total` rows into ceil(total / max) chunks whose sizes differ by at most one, so that no
// chunk is left with a sliver of rows (a tile of 1-2 rows has too few accumulators to hide the
// FMA latency). The first chunks are the larger ones.
struct Chunks {
  idx count, base, extra;
  Chunks(idx total, idx max) {
    count = (total + max - 1) / max;
    base = count ? total / count : 0;
    extra = count ? total % count : 0;
  }
  idx size(idx q) const { return base + (q < extra ? 1 : 0); }
  idx start(idx q) const { return q * base + (q < extra ? q : extra); }
};

// Both packers' fallback for operands strided both ways: WIDTH slots per depth step p, the first
// `valid` read from src[p * step_stride + e * slot_stride], the rest zero.
template <typename T, int WIDTH>
void pack_strided(const T* src, idx k, idx valid, idx step_stride, idx slot_stride, T* out) {
  for (idx p = 0; p < k; ++p) {
    T* dst = out + p * WIDTH;
    idx e = 0;
    for (; e < valid; ++e) dst[e] = src[p * step_stride + e * slot_stride];
    for (; e < WIDTH; ++e) dst[e] = T(0);
  }
}

// Packing. A panels: mr rows, p-major. B panels: nr columns, p-major. Both zero-padded.
// Without cheap masked stores, a panel narrower than a vector is written with whole vectors in
// ascending order: the lanes past the panel land on the next column's slot and are overwritten by
// its own store; only the very last store of the call is cut to size.
template <class S, int MR>
void pack_a(idx m, idx k, const typename S::T* a, idx rs, idx cs, typename S::T* out) {
  using T = typename S::T;
  constexpr int W = S::W;
  for (idx i0 = 0; i0 < m; i0 += MR) {
    const idx rows = (m - i0 < MR) ? m - i0 : MR;
    const bool last_panel = i0 + MR >= m;
    const T* src = a + i0 * rs;
    if (rs == 1) {
      // Column p of the panel is contiguous in the source.
      for (idx p = 0; p < k; ++p) {
        const T* col = src + p * cs;
        T* dst = out + p * MR;
        for (int v = 0; v * W < MR; ++v) {
          const idx valid = rows - v * W;
          const int lanes = (MR - v * W < W) ? MR - v * W : W;
          const auto mk = S::mask(valid < 0 ? 0 : valid);
          const typename S::V x = valid >= W ? S::load(col + v * W) : S::mload(mk, col + v * W);
          if (lanes == W)
            S::store(dst + v * W, x);
          else if (S::kMaskedStoreIsCheap || (last_panel && p == k - 1))
            store_first<S>(dst + v * W, x, lanes);
          else
            S::store(dst + v * W, x);
        }
      }
    } else if (cs == 1) {
      // Rows contiguous in the source: transpose W x W blocks in registers.
      for (idx p0 = 0; p0 < k; p0 += W) {
        const idx kt = (k - p0 < W) ? k - p0 : W;
        const auto mk = S::mask(kt);
        // Groups of W rows, the partial one first: its spills land on the first group's slot of
        // the next depth step, which is written after it.
        for (int c0 = (MR - 1) / W * W; c0 >= 0; c0 -= W) {
          const int lanes = (MR - c0 < W) ? MR - c0 : W;
          typename S::V r[W];
          for (int ii = 0; ii < W; ++ii) {
            const idx i = c0 + ii;
            if (ii < lanes && i < rows)
              r[ii] = kt == W ? S::load(src + i * rs + p0) : S::mload(mk, src + i * rs + p0);
            else
              r[ii] = S::zero();
          }
          S::transpose(r);
          T* dst = out + p0 * MR + c0;
          if (lanes == W) {
            for (idx pp = 0; pp < kt; ++pp) S::store(dst + pp * MR, r[pp]);
          } else if (S::kMaskedStoreIsCheap) {
            const auto ml = S::mask(lanes);
            for (idx pp = 0; pp < kt; ++pp) S::mstore(dst + pp * MR, ml, r[pp]);
          } else {
            const bool ends_call = last_panel && p0 + kt >= k;
            for (idx pp = 0; pp < kt; ++pp) {
              if (ends_call && pp == kt - 1)
                store_first<S>(dst + pp * MR, r[pp], lanes);
              else
                S::store(dst + pp * MR, r[pp]);
            }
          }
        }
      }
    } else {
      pack_strided<T, MR>(src, k, rows, cs, rs, out);
    }
    out += MR * k;
  }
}

template <class S, int NR>
void pack_b(idx k, idx n, const typename S::T* b, idx rs, idx cs, typename S::T* out) {
  using T = typename S::T;
  constexpr int W = S::W;
  constexpr int NV = NR / W;
  if (cs == 1) {
    // Row by row across all panels: each row of the block is read in one sequential run. Read
    // panel by panel instead, a row stride that is a multiple of 4 KiB would put every row's
    // line in the same cache set and miss on each one.
    const idx full = n / NR;
    const idx rest = n - full * NR;
    for (idx p = 0; p < k; ++p) {
      const T* row = b + p * rs;
      T* dst = out + p * NR;
      for (idx q = 0; q < full; ++q) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
          S::store(dst + q * NR * k + v * W, S::load(row + q * NR + v * W));
      }
      if (rest) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
          const idx valid = rest - v * W;
          const auto mk = S::mask(valid < 0 ? 0 : (valid < W ? valid : W));
          S::store(dst + full * NR * k + v * W, S::mload(mk, row + full * NR + v * W));
        }
      }
    }
    return;
  }
  for (idx j0 = 0; j0 < n; j0 += NR) {
    const idx cols = (n - j0 < NR) ? n - j0 : NR;
    const T* src = b + j0 * cs;
    if (rs == 1) {
      // Columns contiguous in the source (a transposed B): transpose W x W blocks in registers.
      for (idx p0 = 0; p0 < k; p0 += W) {
        const idx kt = (k - p0 < W) ? k - p0 : W;
        const auto mk = S::mask(kt);
        for (int v = 0; v < NV; ++v) {
          typename S::V r[W];
          for (int jj = 0; jj < W; ++jj) {
            const idx j = v * W + jj;
            if (j < cols)
              r[jj] = kt == W ? S::load(src + j * cs + p0) : S::mload(mk, src + j * cs + p0);
            else
              r[jj] = S::zero();
          }
          S::transpose(r);
          for (idx pp = 0; pp < kt; ++pp) S::store(out + (p0 + pp) * NR + v * W, r[pp]);
        }
      }
    } else {
      pack_strided<T, NR>(src, k, cols, rs, cs, out);
    }
    out += NR * k;
  }
}

// Narrow blocks (n <= W/2): a tile of one vector per row would leave half the lanes idle, so two
// products share a vector, and every FMA does W useful lanes. Their summation order is their own,
// the same for both layouts of A: each element is the sum E + O of two FMA chains, E over the
// even depth steps and O over the odd ones (each in order, from zero). The driver marks a product
// narrow by its width alone (GemmBlockArgs::narrow), so it is narrow in every plan, thread split
// and layout, or in none.
// Row-major A: lanes 2j and 2j+1 of row i hold E and O of C[i, j] (B repacked as interleaved row
// pairs, A read as pairs of consecutive depth steps), summed at the end.
// Column-major A: lanes 2j and 2j+1 hold C[i, j] and C[i+1, j] (B repacked with each element
// doubled, A read as pairs of rows), with E and O in two accumulators added at the end.
// Either way a pair of A elements is one 2-element broadcast.

// Element (p, j) of B at b[p*rs + j*cs]. out[q*W + 2j + s] = B(2q + s, j); zero elsewhere.
template <class S>
void pack_b_kpairs(idx k, idx n, const typename S::T* b, idx rs, idx cs, typename S::T* out) {
  using T = typename S::T;
  constexpr int W = S::W;
  if (cs == 1) {
    const auto mk = S::mask(n);
    for (idx q = 0; q < (k + 1) / 2; ++q) {
      const auto r0 = S::mload(mk, b + 2 * q * rs);
      const auto r1 = 2 * q + 1 < k ? S::mload(mk, b + (2 * q + 1) * rs) : S::zero();
      S::store(out + q * W, S::interleave(r0, r1));
    }
    return;
  }
  for (idx q = 0; q < (k + 1) / 2; ++q) {
    T* dst = out + q * W;
    for (int l = 0; l < W; ++l) dst[l] = T(0);
    for (int s = 0; s < 2 && 2 * q + s < k; ++s)
      for (idx j = 0; j < n; ++j) dst[2 * j + s] = b[(2 * q + s) * rs + j * cs];
  }
}

// out[p*W + 2j + r] = B(p, j) for r = 0, 1; zero elsewhere.
template <class S>
void pack_b_doubled(idx k, idx n, const typename S::T* b, idx rs, idx cs, typename S::T* out) {
  using T = typename S::T;
  constexpr int W = S::W;
  if (cs == 1) {
    const auto mk = S::mask(n);
    for (idx p = 0; p < k; ++p) S::store(out + p * W, S::dup_pairs(S::mload(mk, b + p * rs)));
    return;
  }
  for (idx p = 0; p < k; ++p) {
    T* dst = out + p * W;
    for (int l = 0; l < W; ++l) dst[l] = T(0);
    for (idx j = 0; j < n; ++j) dst[2 * j] = dst[2 * j + 1] = b[p * rs + j * cs];
  }
}

// The epilogue of one row of a narrow tile: r holds C[i, 0:n] in its low lanes.
template <class S>
inline void store_narrow_row(typename S::V r, typename S::T* row, idx n, typename S::M mk,
                             const Epilogue<typename S::T>& e, typename S::V bias) {
  using T = typename S::T;
  if (e.alpha != T(1)) r = S::mul(S::set1(e.alpha), r);
  if (e.beta != T(0)) r = S::fma(S::set1(e.beta), S::mload(mk, row), r);
  if (e.bias) r = S::add(r, bias);
  if (e.relu) r = S::max(S::zero(), r);
  store_first<S>(row, r, n);
}

// Whether a narrow tile may store two rows of C as one vector: rows of exactly half a vector,
// contiguous in C, and nothing to apply but the product itself.
template <class S>
inline bool plain_halves(idx n, idx ldc, const Epilogue<typename S::T>& e) {
  using T = typename S::T;
  return 2 * n == S::W && ldc == n && e.alpha == T(1) && e.beta == T(0) && !e.bias && !e.relu;
}

// ROWS rows of row-major A (element (i, p) at a[i*as + p]) against k-pair-packed B.
template <class S, int ROWS>
void tile_kpairs(idx k, const typename S::T* a, idx as, const typename S::T* b2,
                 typename S::T* c, idx ldc, idx n, const Epilogue<typename S::T>& e) {
  using T = typename S::T;
  using V = typename S::V;
  constexpr int W = S::W;
  V acc[ROWS];
#pragma GCC unroll 32
  for (int i = 0; i < ROWS; ++i) acc[i] = S::zero();
  const idx pairs = k / 2;
  const T* bp = b2;
  for (idx q = 0; q < pairs; ++q) {
    const V bv = S::load(bp);
#pragma GCC unroll 32
    for (int i = 0; i < ROWS; ++i) acc[i] = S::fma(S::bcast2(a + i * as + 2 * q), bv, acc[i]);
    bp += W;
  }
  if (k & 1) {
    // The last step belongs to E only. The odd lanes multiply 0 by 0 (not A by a zero of the
    // padding, which would turn an infinite A into NaN) and add nothing to O.
    const V bv = S::load(bp);
#pragma GCC unroll 32
    for (int i = 0; i < ROWS; ++i) {
      const T last[2] = {a[i * as + (k - 1)], T(0)};
      acc[i] = S::fma(S::bcast2(last), bv, acc[i]);
    }
  }
  const auto mk = S::mask(n);
  if (plain_halves<S>(n, ldc, e)) {
    // Two rows' sums fill one vector, stored in one go (15-20 % faster at k = 27).
#pragma GCC unroll 16
    for (int i = 0; i + 1 < ROWS; i += 2) S::store(c + i * ldc, S::pair_sum2(acc[i], acc[i + 1]));
    if (ROWS & 1) store_first<S>(c + (ROWS - 1) * ldc, S::pair_sum(acc[ROWS - 1]), n);
    return;
  }
  const V bias = e.bias ? S::mload(mk, e.bias) : S::zero();
#pragma GCC unroll 32
  for (int i = 0; i < ROWS; ++i)
    store_narrow_row<S>(S::pair_sum(acc[i]), c + i * ldc, n, mk, e, bias);
}

// ROWS rows of column-major A (element (i, p) at a[i + p*as]) against doubled B, a pair of rows
// per accumulator and one accumulator each for the even and the odd steps; an odd last row is
// broadcast alone (its partner lanes are not stored).
template <class S, int ROWS>
void tile_rowpairs(idx k, const typename S::T* a, idx as, const typename S::T* bd,
                   typename S::T* c, idx ldc, idx n, const Epilogue<typename S::T>& e) {
  using T = typename S::T;
  using V = typename S::V;
  constexpr int W = S::W;
  constexpr int P = (ROWS + 1) / 2;
  V ev[P], od[P];
#pragma GCC unroll 16
  for (int r = 0; r < P; ++r) ev[r] = od[r] = S::zero();
  auto pair = [&](const T* ap, int r) {
    return (2 * r + 1 < ROWS) ? S::bcast2(ap + 2 * r) : S::bcast(ap + 2 * r);
  };
  const T* ap = a;
  const T* bp = bd;
  for (idx q = 0; q < k / 2; ++q) {
    const V b0 = S::load(bp), b1 = S::load(bp + W);
#pragma GCC unroll 16
    for (int r = 0; r < P; ++r) {
      ev[r] = S::fma(pair(ap, r), b0, ev[r]);
      od[r] = S::fma(pair(ap + as, r), b1, od[r]);
    }
    ap += 2 * as;
    bp += 2 * W;
  }
  if (k & 1) {
    const V b0 = S::load(bp);
#pragma GCC unroll 16
    for (int r = 0; r < P; ++r) ev[r] = S::fma(pair(ap, r), b0, ev[r]);
  }
  V acc[P];
#pragma GCC unroll 16
  for (int r = 0; r < P; ++r) acc[r] = S::add(ev[r], od[r]);
  const auto mk = S::mask(n);
  if (plain_halves<S>(n, ldc, e) && ROWS % 2 == 0) {
    // Rows 2r and 2r+1 are the even and odd lanes of acc[r], and adjacent in C.
#pragma GCC unroll 16
    for (int r = 0; r < P; ++r) S::store(c + 2 * r * ldc, S::deinterleave(acc[r]));
    return;
  }
  const V bias = e.bias ? S::mload(mk, e.bias) : S::zero();
#pragma GCC unroll 16
  for (int r = 0; r < P; ++r) {
    V even, odd;
    S::split_pairs(acc[r], even, odd);
    store_narrow_row<S>(even, c + (2 * r) * ldc, n, mk, e, bias);
    if (2 * r + 1 < ROWS) store_narrow_row<S>(odd, c + (2 * r + 1) * ldc, n, mk, e, bias);
  }
}

template <class S>
using NarrowFn = void (*)(idx, const typename S::T*, idx, const typename S::T*, typename S::T*, idx,
                          idx, const Epilogue<typename S::T>&);

template <class S, int ROWS, bool KPAIRS>
struct NarrowTable {
  NarrowFn<S> fn[ROWS];
  template <int I>
  void fill_one() {
    fn[I] = KPAIRS ? &tile_kpairs<S, I + 1> : &tile_rowpairs<S, I + 1>;
    if constexpr (I + 1 < ROWS) fill_one<I + 1>();
  }
  NarrowTable() { fill_one<0>(); }
};

// A narrow block: rows in chunks of at most ROWS, one accumulator per row (row-major A) or two
// per pair of rows (column-major A): as many as the main tile has.
template <class S, int ROWS>
void block_narrow(const GemmBlockArgs<typename S::T>& g) {
  using T = typename S::T;
  static const NarrowTable<S, ROWS, true> tab_k;
  static const NarrowTable<S, ROWS, false> tab_r;
  const bool arow = g.a_rs != 1;
  if (arow)
    pack_b_kpairs<S>(g.k, g.n, g.b, g.b_rs, g.b_cs, g.work);
  else
    pack_b_doubled<S>(g.k, g.n, g.b, g.b_rs, g.b_cs, g.work);
  const idx as = arow ? g.a_rs : g.a_cs;
  const Epilogue<T> e{g.alpha, g.beta, g.bias, g.relu};
  const Chunks rows(g.m, ROWS);
  for (idx q = 0; q < rows.count; ++q) {
    const idx i0 = rows.start(q), mm = rows.size(q);
    const T* ap = arow ? g.a + i0 * g.a_rs : g.a + i0;
    const NarrowFn<S> fn = arow ? tab_k.fn[mm - 1] : tab_r.fn[mm - 1];
    fn(g.k, ap, as, g.work, g.c + i0 * g.ldc, g.ldc, g.n, e);
  }
}

// Rows of an in-place tile one vector wide: 12 accumulators hide the FMA latency. Measured on
// 32768x27x8 and 32768x64x8, 1 thread: AVX2 12 rows instead of 6 is 18-20 % faster; AVX-512 24
// rows is 7-13 % slower than 12 (and would need four row groups of A).
constexpr int kTallRows = 12;

// The block kernel: walks the register tiles of C. Tiles are MR x NV vectors when A is packed;
// when A is read in place the tile shape follows the block, so that every tile keeps about MR * NV
// accumulators busy: short row panels take wider tiles (m = 8 with 3 vectors instead of 2 is
// 20-80 % faster), and a block one vector wide takes up to kTallRows rows per tile.
// Each row panel of A meets every column panel of B before the next row panel: the A panel stays
// in L1 while B streams from L2. (Row panels inside, BLIS's order, measured no faster in place:
// 0-8 % slower on 64^3, 66x128x128, 16x100x4000, AVX2, 1 thread.)
template <class S, int MR, int NV>
void block(const GemmBlockArgs<typename S::T>& g) {
  using T = typename S::T;
  constexpr int W = S::W;
  constexpr int NR = NV * W;
  constexpr int ACC = MR * NV;
  constexpr int NVMAX = NV + 2;
  constexpr int ROWS = ACC > kTallRows ? (MR > kTallRows ? MR : kTallRows) : ACC;
  static const TileTable<S, ROWS, ACC, NVMAX, false> tab_col;
  static const TileTable<S, ROWS, ACC, NVMAX, true> tab_row;

  if (g.m <= 0 || g.n <= 0) return;
  if (g.narrow) {
    block_narrow<S, ACC>(g);
    return;
  }
  const idx m = g.m, n = g.n, k = g.k;
  const bool arow = !g.a_packed && g.a_rs != 1;
  const idx as = g.a_packed ? MR : (arow ? g.a_rs : g.a_cs);
  const idx ldb = g.b_packed ? NR : g.b_rs;
  const bool bmask = !g.b_packed;

  // Row panels: fixed by the packing when A is packed, balanced otherwise.
  idx rows_max = MR;
  if (!g.a_packed && !g.b_packed) {
    const idx nv_needed = (n + W - 1) / W;
    if (nv_needed < NV) rows_max = ACC / nv_needed < ROWS ? ACC / nv_needed : ROWS;
  }
  const Chunks rows = g.a_packed ? Chunks(0, 1) : Chunks(m, rows_max);
  const idx n_row_panels = g.a_packed ? (m + MR - 1) / MR : rows.count;
  const idx mm_max = g.a_packed ? (m < MR ? m : MR) : rows.size(0);
  int nv_tile = NV;
  if (!g.b_packed) {
    nv_tile = static_cast<int>(ACC / mm_max);
    if (nv_tile > NVMAX) nv_tile = NVMAX;
  }
  const idx nr = nv_tile * W;
  const TileFn<S>(*fns)[NVMAX] = arow ? tab_row.fn : tab_col.fn;

  auto run_tile = [&](idx q, idx j0) {
    const idx i0 = g.a_packed ? q * MR : rows.start(q);
    const idx mm = g.a_packed ? ((m - i0 < MR) ? m - i0 : MR) : rows.size(q);
    const T* ap = g.a_packed ? g.a + q * MR * k : (arow ? g.a + i0 * g.a_rs : g.a + i0);
    const idx nn = (n - j0 < nr) ? n - j0 : nr;
    const T* bp = g.b_packed ? g.b + (j0 / NR) * NR * k : g.b + j0;
    const Epilogue<T> e{g.alpha, g.beta, g.bias ? g.bias + j0 : nullptr, g.relu};
    T* cp = g.c + i0 * g.ldc + j0;
    const int nv = static_cast<int>((nn + W - 1) / W);
    if (mm == MR && nv == NV) {
      if (arow)
        tile<S, MR, NV, true>(k, ap, as, bp, ldb, cp, g.ldc, nn, bmask, e);
      else
        tile<S, MR, NV, false>(k, ap, as, bp, ldb, cp, g.ldc, nn, bmask, e);
    } else {
      fns[mm - 1][nv - 1](k, ap, as, bp, ldb, cp, g.ldc, nn, bmask, e);
    }
  };
  for (idx q = 0; q < n_row_panels; ++q)
    for (idx j0 = 0; j0 < n; j0 += nr) run_tile(q, j0);
}

template <class S, int MR, int NV>
GemmKernel<typename S::T> make_kernel() {
  GemmKernel<typename S::T> kern{};
  kern.block = &block<S, MR, NV>;
  kern.pack_a = &pack_a<S, MR>;
  kern.pack_b = &pack_b<S, NV * S::W>;
  kern.mr = MR;
  kern.nr = NV * S::W;
  kern.vec = S::W;
  kern.work = S::W;  // block_narrow: the repacked B
  return kern;
}

}  // namespace
}  // namespace nncore
