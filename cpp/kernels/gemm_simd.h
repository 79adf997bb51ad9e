// GEMM block kernel and packing written once over a vector-traits class, for the x86 ISA files.
//
// Included only by cpp/kernels/<isa>/gemm_*.cpp. Everything here sits in an anonymous namespace,
// so each ISA file gets its own copy compiled with its own -m flags and nothing is shared through
// the linker (see nncore/kernels/gemm_kernel.h). The traits class S of an ISA provides:
//   T, V (vector), M (lane mask), W (lanes); zero, set1, bcast, load, store, mload, mstore (masked,
//   fault-free on masked-off lanes), fma, mul, add, max, mask(valid lanes), kMaskedLoadIsCheap
//   (the masked load may be used in the inner loop), and for narrow blocks: bcast2 (the pair
//   p[0], p[1] repeated over the lanes), pair_sum (lane l := v[2l] + v[2l+1] for l < W/2) and
//   split_pairs (even := v[0], v[2], ...; odd := v[1], v[3], ...; in the low W/2 lanes),
//   interleave (a[0], b[0], a[1], b[1], ... from the low W/2 lanes) and dup_pairs (v[0], v[0],
//   v[1], v[1], ...).
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

  // Warm the lines of C the tile will write while the products are being accumulated.
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) __builtin_prefetch(c + i * ldc, 1, 3);

  auto run = [&](auto masked_tag) {
    constexpr bool kMasked = decltype(masked_tag)::value;
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
        const V ai = AROW ? S::bcast(ap + i * as) : S::bcast(ap + i);
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
  const V va = S::set1(e.alpha);
  const V vb = S::set1(e.beta);
  const bool use_beta = e.beta != T(0);
  const bool scale = e.alpha != T(1);
  V bias[NV];
  if (e.bias) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      bias[v] = (v == NV - 1 && !full) ? S::mload(last, e.bias + v * W) : S::load(e.bias + v * W);
  }
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
        S::mstore(row + v * W, last, r);
      else
        S::store(row + v * W, r);
    }
  }
}

template <class S>
using TileFn = void (*)(idx, const typename S::T*, idx, const typename S::T*, idx, typename S::T*,
                        idx, idx, bool, const Epilogue<typename S::T>&);

// Table of tile kernels for MR' = 1..MR rows and NV' = 1..NVMAX vectors, for the shapes whose
// accumulators fit the register budget MR * NV of the main tile (others stay null).
template <class S, int MR, int NV, int NVMAX, bool AROW>
struct TileTable {
  TileFn<S> fn[MR][NVMAX] = {};
  template <int I, int J>
  void fill_one() {
    if constexpr ((I + 1) * (J + 1) <= MR * NV) fn[I][J] = &tile<S, I + 1, J + 1, AROW>;
    if constexpr (J + 1 < NVMAX)
      fill_one<I, J + 1>();
    else if constexpr (I + 1 < MR)
      fill_one<I + 1, 0>();
  }
  TileTable() { fill_one<0, 0>(); }
};

// Splits `total` rows into ceil(total / max) chunks whose sizes differ by at most one, so that no
// chunk is left with a sliver of rows (a tile of 1-2 rows has too few accumulators to hide the
// FMA latency).
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

// Narrow blocks (n <= W/2): a tile of one vector per row would leave half the lanes idle, so two
// products share a vector. When A is row-major, lanes 2j and 2j+1 of row i accumulate the even and
// odd depth steps of C[i, j] (B repacked as interleaved row pairs, A read as consecutive pairs) and
// are summed at the end. When A is column-major, lanes 2j and 2j+1 hold C[i, j] and C[i+1, j]
// (B repacked with each element doubled, A read as pairs of rows). Either way a row-pair of A is
// one 2-element broadcast, and every FMA does W useful lanes.

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
inline void store_narrow_row(typename S::V r, typename S::T* row, typename S::M mk,
                             const Epilogue<typename S::T>& e, typename S::V bias) {
  using T = typename S::T;
  if (e.alpha != T(1)) r = S::mul(S::set1(e.alpha), r);
  if (e.beta != T(0)) r = S::fma(S::set1(e.beta), S::mload(mk, row), r);
  if (e.bias) r = S::add(r, bias);
  if (e.relu) r = S::max(S::zero(), r);
  S::mstore(row, mk, r);
}

// MR rows of row-major A (element (i, p) at a[i*as + p]) against k-pair-packed B.
template <class S, int MR>
void tile_kpairs(idx k, const typename S::T* a, idx as, const typename S::T* b2,
                 typename S::T* c, idx ldc, idx n, const Epilogue<typename S::T>& e) {
  using T = typename S::T;
  using V = typename S::V;
  constexpr int W = S::W;
  V acc[MR];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) acc[i] = S::zero();
  const idx pairs = k / 2;
  const T* bp = b2;
  for (idx q = 0; q < pairs; ++q) {
    const V bv = S::load(bp);
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) acc[i] = S::fma(S::bcast2(a + i * as + 2 * q), bv, acc[i]);
    bp += W;
  }
  if (k & 1) {
    // The odd lanes of the last packed row are zero: broadcasting one element is enough.
    const V bv = S::load(bp);
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) acc[i] = S::fma(S::bcast(a + i * as + (k - 1)), bv, acc[i]);
  }
  const auto mk = S::mask(n);
  const V bias = e.bias ? S::mload(mk, e.bias) : S::zero();
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) store_narrow_row<S>(S::pair_sum(acc[i]), c + i * ldc, mk, e, bias);
}

// ROWS rows of column-major A (element (i, p) at a[i + p*as]) against doubled B, a pair of rows
// per accumulator; an odd last row is broadcast alone (its partner lanes are not stored).
template <class S, int ROWS>
void tile_rowpairs(idx k, const typename S::T* a, idx as, const typename S::T* bd,
                   typename S::T* c, idx ldc, idx n, const Epilogue<typename S::T>& e) {
  using T = typename S::T;
  using V = typename S::V;
  constexpr int W = S::W;
  constexpr int P = (ROWS + 1) / 2;
  V acc[P];
#pragma GCC unroll 16
  for (int r = 0; r < P; ++r) acc[r] = S::zero();
  const T* ap = a;
  const T* bp = bd;
  for (idx p = 0; p < k; ++p) {
    const V bv = S::load(bp);
#pragma GCC unroll 16
    for (int r = 0; r < P; ++r) {
      const V ar = (2 * r + 1 < ROWS) ? S::bcast2(ap + 2 * r) : S::bcast(ap + 2 * r);
      acc[r] = S::fma(ar, bv, acc[r]);
    }
    ap += as;
    bp += W;
  }
  const auto mk = S::mask(n);
  const V bias = e.bias ? S::mload(mk, e.bias) : S::zero();
#pragma GCC unroll 16
  for (int r = 0; r < P; ++r) {
    V even, odd;
    S::split_pairs(acc[r], even, odd);
    store_narrow_row<S>(even, c + (2 * r) * ldc, mk, e, bias);
    if (2 * r + 1 < ROWS) store_narrow_row<S>(odd, c + (2 * r + 1) * ldc, mk, e, bias);
  }
}

template <class S>
using NarrowFn = void (*)(idx, const typename S::T*, idx, const typename S::T*, typename S::T*, idx,
                          idx, const Epilogue<typename S::T>&);

template <class S, int MR, bool KPAIRS>
struct NarrowTable {
  NarrowFn<S> fn[MR];
  template <int I>
  void fill_one() {
    fn[I] = KPAIRS ? &tile_kpairs<S, I + 1> : &tile_rowpairs<S, I + 1>;
    if constexpr (I + 1 < MR) fill_one<I + 1>();
  }
  NarrowTable() { fill_one<0>(); }
};

template <class S, int MR>
void block_narrow(const GemmBlockArgs<typename S::T>& g) {
  using T = typename S::T;
  static const NarrowTable<S, MR, true> tab_k;
  static const NarrowTable<S, MR, false> tab_r;
  const bool arow = g.a_rs != 1;
  if (arow)
    pack_b_kpairs<S>(g.k, g.n, g.b, g.b_rs, g.b_cs, g.work);
  else
    pack_b_doubled<S>(g.k, g.n, g.b, g.b_rs, g.b_cs, g.work);
  const idx as = arow ? g.a_rs : g.a_cs;
  const Epilogue<T> e{g.alpha, g.beta, g.bias, g.relu};
  const Chunks rows(g.m, MR);
  for (idx q = 0; q < rows.count; ++q) {
    const idx i0 = rows.start(q), mm = rows.size(q);
    const T* ap = arow ? g.a + i0 * g.a_rs : g.a + i0;
    const NarrowFn<S> fn = arow ? tab_k.fn[mm - 1] : tab_r.fn[mm - 1];
    fn(g.k, ap, as, g.work, g.c + i0 * g.ldc, g.ldc, g.n, e);
  }
}

// The block kernel: walks the register tiles of C, each row panel of A against every column panel
// of B, so that the A panel stays in L1 while B streams from L2. When B is read in place, the tile
// width is free: short row panels take wider tiles, so that every tile keeps about MR * NV
// accumulators busy (m = 8 with 3 vectors instead of 2 is 20-80 % faster).
template <class S, int MR, int NV>
void block(const GemmBlockArgs<typename S::T>& g) {
  using T = typename S::T;
  constexpr int W = S::W;
  constexpr int NR = NV * W;
  constexpr int NVMAX = NV + 2;
  static const TileTable<S, MR, NV, NVMAX, false> tab_col;
  static const TileTable<S, MR, NV, NVMAX, true> tab_row;

  if (!g.a_packed && !g.b_packed && 2 * g.n <= W) {
    block_narrow<S, 2 * MR>(g);
    return;
  }
  const idx m = g.m, n = g.n, k = g.k;
  const bool arow = !g.a_packed && g.a_rs != 1;
  const idx as = g.a_packed ? MR : (arow ? g.a_rs : g.a_cs);
  const idx ldb = g.b_packed ? NR : g.b_rs;
  const bool bmask = !g.b_packed;

  // Row panels: fixed by the packing when A is packed, balanced otherwise.
  const Chunks rows = g.a_packed ? Chunks(0, 1) : Chunks(m, MR);
  const idx n_row_panels = g.a_packed ? (m + MR - 1) / MR : rows.count;

  for (idx q = 0; q < n_row_panels; ++q) {
    const idx i0 = g.a_packed ? q * MR : rows.start(q);
    const idx mm = g.a_packed ? ((m - i0 < MR) ? m - i0 : MR) : rows.size(q);
    const T* ap = g.a_packed ? g.a + q * MR * k : (arow ? g.a + i0 * g.a_rs : g.a + i0);
    const TileFn<S>* fns = arow ? tab_row.fn[mm - 1] : tab_col.fn[mm - 1];
    int nv_tile = NV;
    if (!g.b_packed)
      while (nv_tile < NVMAX && mm * (nv_tile + 1) <= MR * NV) ++nv_tile;
    const idx nr = nv_tile * W;
    for (idx j0 = 0; j0 < n; j0 += nr) {
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
        fns[nv - 1](k, ap, as, bp, ldb, cp, g.ldc, nn, bmask, e);
      }
    }
  }
}

// Packing. A panels: mr rows, p-major. B panels: nr columns, p-major. Both zero-padded.
template <class S, int MR>
void pack_a(idx m, idx k, const typename S::T* a, idx rs, idx cs, typename S::T* out) {
  using T = typename S::T;
  constexpr int W = S::W;
  for (idx i0 = 0; i0 < m; i0 += MR) {
    const idx rows = (m - i0 < MR) ? m - i0 : MR;
    const T* src = a + i0 * rs;
    if (rs == 1) {
      // Column p of the panel is contiguous in the source.
      for (idx p = 0; p < k; ++p) {
        const T* col = src + p * cs;
        T* dst = out + p * MR;
        for (int v = 0; v * W < MR; ++v) {
          const idx valid = rows - v * W;
          const idx lanes = (MR - v * W < W) ? MR - v * W : W;
          const auto mk = S::mask(valid < 0 ? 0 : (valid < W ? valid : W));
          S::mstore(dst + v * W, S::mask(lanes), S::mload(mk, col + v * W));
        }
      }
    } else {
      for (idx p = 0; p < k; ++p) {
        T* dst = out + p * MR;
        idx i = 0;
        for (; i < rows; ++i) dst[i] = src[i * rs + p * cs];
        for (; i < MR; ++i) dst[i] = T(0);
      }
    }
    out += MR * k;
  }
}

template <class S, int NR>
void pack_b(idx k, idx n, const typename S::T* b, idx rs, idx cs, typename S::T* out) {
  using T = typename S::T;
  constexpr int W = S::W;
  constexpr int NV = NR / W;
  for (idx j0 = 0; j0 < n; j0 += NR) {
    const idx cols = (n - j0 < NR) ? n - j0 : NR;
    const T* src = b + j0 * cs;
    if (cs == 1) {
      for (idx p = 0; p < k; ++p) {
        const T* row = src + p * rs;
        T* dst = out + p * NR;
        if (cols == NR) {
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) S::store(dst + v * W, S::load(row + v * W));
        } else {
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) {
            const idx valid = cols - v * W;
            const auto mk = S::mask(valid < 0 ? 0 : (valid < W ? valid : W));
            S::store(dst + v * W, S::mload(mk, row + v * W));
          }
        }
      }
    } else {
      for (idx p = 0; p < k; ++p) {
        T* dst = out + p * NR;
        idx j = 0;
        for (; j < cols; ++j) dst[j] = src[p * rs + j * cs];
        for (; j < NR; ++j) dst[j] = T(0);
      }
    }
    out += NR * k;
  }
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
  return kern;
}

}  // namespace
}  // namespace nncore
