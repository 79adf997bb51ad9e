// GEMM driver: picks how to run a product (threads, which operands to pack, block sizes) and runs
// the loops around the ISA block kernel. Each thread computes a rectangle or depth blocks of C.
#include "nncore/gemm.h"

#include <algorithm>

#include "blocking.h"
#include "nncore/aligned_buffer.h"
#include "nncore/gemm_dispatch.h"
#include "nncore/parallel.h"

namespace nncore {
namespace {

template <typename T>
struct Operand {
  const T* p;
  index_t rs, cs;  // element (r, c) of op(X) is p[r * rs + c * cs]
  const T* at(index_t r, index_t c) const { return p + r * rs + c * cs; }
};

index_t min_i(index_t a, index_t b) { return a < b ? a : b; }

GemmTuning g_tuning;

// A second thread costs a fork and a join (about 1 us with libgomp on a warm pool), so each
// thread must get at least this much work. Measured on 2 idle cores (AVX-512, float32): one
// thread wins at 48^3 (2.2e5 flops), two win from 56^3 (3.5e5) and gain 15 % at 64^3 (2.8 -> 2.4
// us), 26 % at 72^3. The threshold sits a little above the crossover: on a loaded machine a
// parallel region can wait milliseconds for its second thread, which a 15 % gain does not repay.
constexpr double kMinThreadFlops = 3.0e5;

// A product with few rows (a Dense layer at batch 1) does about one flop per weight it reads and
// runs at the speed its core's L2 delivers the weights, so a second core, reading the other half
// of the columns from its own L2, pays at far fewer flops. Measured on 2 idle cores (AVX-512,
// float32, 1 row): 128 KiB of weights 2.0 -> 2.3 us on 2 threads, 256 KiB 3.6 -> 3.1, 392 KiB
// 5.3 -> 4.0, 512 KiB 6.9 -> 4.5. Each thread must get at least this many bytes of the operands.
constexpr double kMinThreadBytes = 96.0 * 1024;

// C = beta * C, then the epilogue: what is left when the product contributes nothing
// (k == 0 or alpha == 0).
template <typename T>
void scale_c(index_t m, index_t n, T beta, T* c, index_t ldc, const GemmEpilogue<T>& ep) {
  for (index_t i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    for (index_t j = 0; j < n; ++j) {
      T r = beta == T(0) ? T(0) : beta * row[j];
      if (ep.bias) r += ep.bias[j];
      if (ep.relu && r < T(0)) r = T(0);
      row[j] = r;
    }
  }
}

template <typename T>
struct Plan {
  bool pack_a, pack_b;
  bool narrow;      // GemmBlockArgs::narrow: decided by the product's width alone
  index_t kc;       // the depth block: fixed by the whole product's k, see depth_block
  GemmBlocking blk;
};

// The depth blocks of a product: [q * kc, (q + 1) * kc) clipped to k, of (nearly) equal size so
// that the last one is not a sliver. Each element of C is the sum of its depth blocks' products
// added in block order (C = beta * C + P0, C += P1, ...; within a block one FMA chain, see
// kernels/gemm_simd.h). The blocks depend only on the product's shape and the block size, never
// on the thread count, so a split over depth gives the same bits as one thread (DESIGN.md
// convention 13).
index_t depth_block(index_t k, index_t kc) {
  return min_i(round_up(ceil_div(k, ceil_div(k, kc)), 8), k);
}

// A product whose C has fewer than this many register tiles along both sides is split over depth
// when threads run it (with up to 4 threads: see gemm_ex), and then its depth blocks are the unit
// of work. Their count is rounded up to a multiple of 12 (or of 4 or 2 for shallower products,
// keeping blocks of at least 256), so that 2, 3 or 4 threads share them evenly: 25 blocks of 328
// made float64 16x8192x16 4 % slower on 2 threads than halves of the depth; 36 of 232 do not.
constexpr index_t kFewTiles = 8;

template <typename T>
index_t product_depth_block(const GemmKernel<T>& kern, index_t m, index_t n, index_t k,
                            index_t kc) {
  if (ceil_div(m, kern.mr) < kFewTiles && ceil_div(n, kern.nr) < kFewTiles) {
    const index_t unit = k >= 12 * 256 ? 12 : k >= 4 * 256 ? 4 : k >= 2 * 256 ? 2 : 1;
    kc = min_i(kc, round_up(ceil_div(k, round_up(ceil_div(k, kc), unit)), 8));
  }
  return depth_block(k, kc);
}

// The block sizes of the active path, with the test overrides applied.
GemmBlocking blocking_for(int mr, int nr, std::size_t elem) {
  GemmBlocking blk = gemm_blocking(mr, nr, elem);
  const GemmTuning& tu = g_tuning;
  if (tu.kc > 0) blk.kc = tu.kc;
  if (tu.nc > 0) blk.nc = tu.nc;
  if (tu.mc > 0) blk.mc = tu.mc;
  return blk;
}

// How one thread runs its m x n rectangle of a product that is n_total wide and k deep.
// Packing pays when a panel is reused many times from cache; reading in place wins for small and
// skinny products, where the copy would cost as much as the product itself. B can only be read in
// place when its rows are contiguous. None of this changes the result, except `narrow`, which
// depends on the product's width only (and is never overridden by the tuning hooks).
template <typename T>
Plan<T> make_plan(const GemmKernel<T>& kern, index_t m, index_t n, index_t n_total, index_t k,
                  index_t kc, const Operand<T>& b) {
  Plan<T> plan{};
  plan.blk = blocking_for(kern.mr, kern.nr, sizeof(T));
  plan.kc = kc;
  const GemmTuning& tu = g_tuning;
  const bool b_direct_ok = b.cs == 1;
  if (kern.vec == 1) {
    // The portable kernel is only fast on packed panels.
    plan.pack_a = plan.pack_b = true;
    return plan;
  }
  if (2 * n_total <= kern.vec) {
    plan.narrow = true;  // the block kernel repacks B itself
    return plan;
  }
  if (tu.pack >= 0) {
    plan.pack_a = tu.pack & 1;
    plan.pack_b = (tu.pack & 2) || !b_direct_ok;
  } else {
    // Each B element is used once per row panel of A, each A element once per column panel of B.
    const index_t kb = min_i(k, plan.kc);
    const index_t row_panels = ceil_div(m, kern.mr);
    const index_t col_panels = ceil_div(n, kern.nr);
    // Rows of B a multiple of 4 KiB apart all fall in one set of L1 and L2 (8-16 ways), so a tile
    // reading kb of them in place misses on nearly every line; with vectors narrower than a line
    // (AVX2) neighbouring tiles also share lines and miss on them twice. Packed, the rows are read
    // in order, which pays from two row panels on. (Measured mx27x32768, 1 thread, AVX2 float32:
    // m = 8 58 -> 66 GFLOP/s, m = 12 64 -> 81, m = 4 56 -> 52, m = 6 65 -> 65; float64 m = 8
    // 28 -> 31; AVX-512 float32 m = 8 95 -> 69: there whole-line tiles read in place win.)
    const bool b_aliases = (b.rs * index_t(sizeof(T))) % 4096 == 0 && kb > 8 && m > kern.mr &&
                           kern.vec * index_t(sizeof(T)) < 64;
    plan.pack_b = !b_direct_ok || b_aliases ||
                  (row_panels > 4 && kb * n * index_t(sizeof(T)) > (64 << 10));
    plan.pack_a = col_panels > 4 && m * kb * index_t(sizeof(T)) > (64 << 10);
  }
  return plan;
}

// One thread's share: C[0:m, 0:n] with the operands already offset to its rectangle, in the
// plan's depth blocks (k may be a part of the product's depth that starts on a block boundary).
template <typename T>
void gemm_rect(const GemmKernel<T>& kern, const Plan<T>& plan, index_t m, index_t n, index_t k,
               T alpha, Operand<T> a, Operand<T> b, T beta, T* c, index_t ldc,
               const GemmEpilogue<T>& ep) {
  const int mr = kern.mr, nr = kern.nr;
  const index_t kc_max = min_i(plan.kc, k);
  const index_t mc_max = plan.pack_a ? plan.blk.mc : m;
  const index_t nc_max = plan.blk.nc;

  T* pa = nullptr;
  T* pb = nullptr;
  if (plan.pack_a)
    pa = scratch(Scratch::gemm_pack_a)
             .get<T>(static_cast<std::size_t>(round_up(min_i(m, mc_max), mr) * kc_max));
  if (plan.pack_b)
    pb = scratch(Scratch::gemm_pack_b)
             .get<T>(static_cast<std::size_t>(round_up(min_i(n, nc_max), nr) * kc_max));
  else  // the block kernel's own scratch (narrow blocks repack B and A there)
    pb = scratch(Scratch::gemm_pack_b).get<T>(static_cast<std::size_t>(kc_max * kern.work + 1));

  GemmBlockArgs<T> g{};
  g.ldc = ldc;
  g.alpha = alpha;
  g.relu = false;
  g.narrow = plan.narrow;
  g.work = pb;
  for (index_t pc = 0; pc < k; pc += kc_max) {
    const index_t kc = min_i(kc_max, k - pc);
    const bool last = pc + kc >= k;
    g.k = kc;
    // Later depth blocks accumulate onto what the first one wrote; the epilogue runs on the last.
    g.beta = pc == 0 ? beta : T(1);
    g.relu = last && ep.relu;
    for (index_t ic = 0; ic < m; ic += mc_max) {
      const index_t mc = min_i(mc_max, m - ic);
      g.m = mc;
      if (plan.pack_a) {
        kern.pack_a(mc, kc, a.at(ic, pc), a.rs, a.cs, pa);
        g.a = pa;
        g.a_packed = true;
        g.a_rs = 1;
        g.a_cs = mr;
      } else {
        g.a = a.at(ic, pc);
        g.a_packed = false;
        g.a_rs = a.rs;
        g.a_cs = a.cs;
      }
      for (index_t jc = 0; jc < n; jc += nc_max) {
        const index_t nc = min_i(nc_max, n - jc);
        g.n = nc;
        if (plan.pack_b) {
          kern.pack_b(kc, nc, b.at(pc, jc), b.rs, b.cs, pb);
          g.b = pb;
          g.b_packed = true;
          g.b_rs = nr;
          g.b_cs = 1;
        } else {
          g.b = b.at(pc, jc);
          g.b_packed = false;
          g.b_rs = b.rs;
          g.b_cs = b.cs;
        }
        g.c = c + ic * ldc + jc;
        g.bias = (last && ep.bias) ? ep.bias + jc : nullptr;
        kern.block(g);
      }
    }
  }
}

// Adds the depth blocks' partial products to C one after the other, in block order, then applies
// the epilogue (C already holds the first run of blocks, beta included).
template <typename T>
void reduce_parts(index_t m, index_t n, const T* parts, int count, T* c, index_t ldc,
                  const GemmEpilogue<T>& ep) {
  for (index_t i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    for (int t = 0; t < count; ++t) {
      const T* part = parts + (static_cast<index_t>(t) * m + i) * n;
      for (index_t j = 0; j < n; ++j) row[j] += part[j];
    }
    if (ep.bias)
      for (index_t j = 0; j < n; ++j) row[j] += ep.bias[j];
    if (ep.relu)
      for (index_t j = 0; j < n; ++j)
        if (row[j] < T(0)) row[j] = T(0);
  }
}

// Partial products of a depth split live in the calling thread's buffer (the workers' own
// scratch slots are busy with their packing).
AlignedBuffer& partials_buffer() {
  thread_local AlignedBuffer buf;
  return buf;
}

}  // namespace

template <typename T>
void gemm_ex(bool trans_a, bool trans_b, index_t m, index_t n, index_t k, T alpha, const T* a,
             index_t lda, const T* b, index_t ldb, T beta, T* c, index_t ldc,
             const GemmEpilogue<T>& ep, int nthreads) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == T(0)) {
    scale_c(m, n, beta, c, ldc, ep);
    return;
  }
  const GemmKernel<T>& kern = gemm_kernel_for<T>(gemm_kernels());
  const Operand<T> opa{a, trans_a ? 1 : lda, trans_a ? lda : 1};
  const Operand<T> opb{b, trans_b ? 1 : ldb, trans_b ? ldb : 1};
  const GemmTuning& tu = g_tuning;

  int nt = nthreads > 0 ? nthreads : num_threads();
  const double flops = 2.0 * double(m) * double(n) * double(k);
  const double min_flops = tu.min_thread_flops > 0 ? tu.min_thread_flops : kMinThreadFlops;
  if (flops < nt * min_flops) {
    double share = flops / min_flops;
    if (tu.min_thread_flops <= 0) {
      const double bytes = (double(m) + double(n)) * double(k) * sizeof(T);
      if (bytes / kMinThreadBytes > share) share = bytes / kMinThreadBytes;
    }
    if (share < nt) nt = static_cast<int>(share);
  }
  if (nt < 1) nt = 1;
  const index_t kc =
      product_depth_block(kern, m, n, k, blocking_for(kern.mr, kern.nr, sizeof(T)).kc);
  if (nt <= 1) {
    gemm_rect(kern, make_plan(kern, m, n, n, k, kc, opb), m, n, k, alpha, opa, opb, beta, c, ldc,
              ep);
    return;
  }

  // Threads take rectangles of C, rows or columns in whole register tiles, whichever leaves the
  // busiest thread the least work (each packs only the panels it needs). When C has too few tiles
  // to share evenly (small m and n, long k: weight gradients), they take depth blocks instead and
  // the partial products are summed. The split never changes a bit of the result.
  const index_t tiles_m = ceil_div(m, kern.mr), tiles_n = ceil_div(n, kern.nr);
  const index_t busiest_m = min_i(m, ceil_div(tiles_m, nt) * kern.mr) * n;
  const index_t busiest_n = m * min_i(n, ceil_div(tiles_n, nt) * kern.nr);
  const bool split_m = busiest_m * 32 <= busiest_n * 33;  // rows unless columns are clearly better
  const index_t tiles = split_m ? tiles_m : tiles_n;
  const bool split_k = tu.split == 1 || (tu.split < 0 && tiles < 2 * nt && k >= 256 * nt);
  const index_t blocks = ceil_div(k, kc);
  if (split_k && blocks >= 2) {
    // Threads take runs of whole depth blocks. The first run accumulates into C exactly as one
    // thread would; every later block's product goes to its own buffer, and the buffers are added
    // to C in block order: the same additions in the same order as on one thread. Cost on 2
    // threads against halves of the depth summed once: within 3 % (16x8192x16, 8x3000x27,
    // 12x100000x12, float64 16x8192x16, AVX2).
    const int parts = static_cast<int>(min_i(nt, blocks));
    const index_t first_end = blocks / parts;  // the first run is blocks [0, first_end)
    const std::size_t mn = static_cast<std::size_t>(m * n);
    T* partial = partials_buffer().get<T>(static_cast<std::size_t>(blocks - first_end) * mn);
    const Plan<T> plan = make_plan(kern, m, n, n, k, kc, opb);
    parallel_for(
        0, parts, 1,
        [&](index_t t0, index_t t1) {
          for (index_t t = t0; t < t1; ++t) {
            // Runs in reverse: the calling thread (the first) takes the last run, so that the
            // buffers it adds afterwards are mostly its own, and a worker accumulates into C.
            const index_t u = parts - 1 - t;
            const index_t q0 = blocks * u / parts, q1 = blocks * (u + 1) / parts;
            if (u == 0) {
              gemm_rect(kern, plan, m, n, min_i(q1 * kc, k), alpha, opa, opb, beta, c, ldc,
                        GemmEpilogue<T>{});
              continue;
            }
            for (index_t q = q0; q < q1; ++q) {
              const index_t p0 = q * kc;
              Operand<T> sa = opa, sb = opb;
              sa.p = opa.at(0, p0);
              sb.p = opb.at(p0, 0);
              gemm_rect(kern, plan, m, n, min_i(kc, k - p0), alpha, sa, sb, T(0),
                        partial + static_cast<std::size_t>(q - first_end) * mn, n,
                        GemmEpilogue<T>{});
            }
          }
        },
        parts);
    reduce_parts(m, n, partial, static_cast<int>(blocks - first_end), c, ldc, ep);
    return;
  }

  if (tiles < nt) nt = static_cast<int>(tiles);
  const index_t m_part = split_m ? round_up(ceil_div(m, nt), kern.mr) : m;
  const index_t n_part = split_m ? n : round_up(ceil_div(n, nt), kern.nr);
  const Plan<T> plan = make_plan(kern, m_part, n_part, n, k, kc, opb);
  parallel_for(
      0, tiles, 1,
      [&](index_t t0, index_t t1) {
        if (split_m) {
          const index_t r0 = t0 * kern.mr, r1 = min_i(t1 * kern.mr, m);
          Operand<T> sub = opa;
          sub.p = opa.at(r0, 0);
          gemm_rect(kern, plan, r1 - r0, n, k, alpha, sub, opb, beta, c + r0 * ldc, ldc, ep);
        } else {
          const index_t c0 = t0 * kern.nr, c1 = min_i(t1 * kern.nr, n);
          Operand<T> sub = opb;
          sub.p = opb.at(0, c0);
          GemmEpilogue<T> sub_ep = ep;
          if (ep.bias) sub_ep.bias = ep.bias + c0;
          gemm_rect(kern, plan, m, c1 - c0, k, alpha, opa, sub, beta, c + c0, ldc, sub_ep);
        }
      },
      nt);
}

template <typename T>
void gemm(bool trans_a, bool trans_b, index_t m, index_t n, index_t k, T alpha, const T* a,
          index_t lda, const T* b, index_t ldb, T beta, T* c, index_t ldc, int nthreads) {
  gemm_ex<T>(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, GemmEpilogue<T>{},
             nthreads);
}

template <typename T>
GemmConfig gemm_config() {
  const GemmKernel<T>& kern = gemm_kernel_for<T>(gemm_kernels());
  const GemmBlocking b = blocking_for(kern.mr, kern.nr, sizeof(T));
  return GemmConfig{kern.mr, kern.nr, kern.vec, b.mc, b.kc, b.nc};
}

GemmTuning gemm_tuning() { return g_tuning; }
void set_gemm_tuning(const GemmTuning& tuning) { g_tuning = tuning; }

#define NNCORE_INSTANTIATE_GEMM(T)                                                              \
  template void gemm<T>(bool, bool, index_t, index_t, index_t, T, const T*, index_t, const T*,  \
                        index_t, T, T*, index_t, int);                                          \
  template void gemm_ex<T>(bool, bool, index_t, index_t, index_t, T, const T*, index_t,         \
                           const T*, index_t, T, T*, index_t, const GemmEpilogue<T>&, int);   \
  template GemmConfig gemm_config<T>();
NNCORE_INSTANTIATE_GEMM(float)
NNCORE_INSTANTIATE_GEMM(double)
#undef NNCORE_INSTANTIATE_GEMM

}  // namespace nncore
