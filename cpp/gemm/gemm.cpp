// GEMM: the BLIS loop nest (NC / KC / MC blocks, packed panels, MR x NR micro-kernel) run by each
// thread on its own rectangle of C.
#include "nncore/gemm.h"

#include "nncore/aligned_buffer.h"
#include "nncore/gemm_dispatch.h"
#include "nncore/parallel.h"
#include "pack.h"

namespace nncore {
namespace {

template <typename T>
struct Operand {
  const T* p;
  index_t rs, cs;  // element (r, c) of op(X) is p[r * rs + c * cs]
  const T* at(index_t r, index_t c) const { return p + r * rs + c * cs; }
};

// C = beta * C for the cases where the product contributes nothing (k == 0 or alpha == 0).
template <typename T>
void scale_c(index_t m, index_t n, T beta, T* c, index_t ldc) {
  for (index_t i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    if (beta == T(0)) {
      for (index_t j = 0; j < n; ++j) row[j] = T(0);
    } else if (beta != T(1)) {
      for (index_t j = 0; j < n; ++j) row[j] *= beta;
    }
  }
}

// One thread's share: C[0:m, 0:n] with the operands already offset to its rectangle.
template <typename T>
void gemm_serial(const GemmKernel<T>& kern, index_t m, index_t n, index_t k, T alpha, Operand<T> a,
                 Operand<T> b, T beta, T* c, index_t ldc) {
  const int mr = kern.mr, nr = kern.nr;
  const index_t mc_max = kern.mc, kc_max = kern.kc, nc_max = kern.nc;
  T* pa = scratch(Scratch::gemm_pack_a).get<T>(static_cast<std::size_t>(round_up(mc_max, mr) * kc_max));
  const index_t nc_alloc = round_up(n < nc_max ? n : nc_max, nr);
  T* pb = scratch(Scratch::gemm_pack_b).get<T>(static_cast<std::size_t>(nc_alloc * kc_max));

  for (index_t jc = 0; jc < n; jc += nc_max) {
    const index_t nc = (n - jc < nc_max) ? n - jc : nc_max;
    for (index_t pc = 0; pc < k; pc += kc_max) {
      const index_t kc = (k - pc < kc_max) ? k - pc : kc_max;
      // Later depth blocks accumulate onto what the first one wrote.
      const T beta_blk = (pc == 0) ? beta : T(1);
      pack_b(kc, nc, b.at(pc, jc), b.rs, b.cs, nr, pb);
      for (index_t ic = 0; ic < m; ic += mc_max) {
        const index_t mc = (m - ic < mc_max) ? m - ic : mc_max;
        pack_a(mc, kc, a.at(ic, pc), a.rs, a.cs, mr, pa);
        for (index_t jr = 0; jr < nc; jr += nr) {
          const index_t nn = (nc - jr < nr) ? nc - jr : nr;
          const T* bp = pb + (jr / nr) * nr * kc;
          for (index_t ir = 0; ir < mc; ir += mr) {
            const index_t mm = (mc - ir < mr) ? mc - ir : mr;
            kern.ukernel(kc, pa + (ir / mr) * mr * kc, bp, c + (ic + ir) * ldc + jc + jr, ldc, mm,
                         nn, alpha, beta_blk);
          }
        }
      }
    }
  }
}

}  // namespace

template <typename T>
void gemm(bool trans_a, bool trans_b, index_t m, index_t n, index_t k, T alpha, const T* a,
          index_t lda, const T* b, index_t ldb, T beta, T* c, index_t ldc, int nthreads) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == T(0)) {
    scale_c(m, n, beta, c, ldc);
    return;
  }
  const GemmKernel<T>& kern = gemm_kernel_for<T>(gemm_kernels());
  const Operand<T> opa{a, trans_a ? 1 : lda, trans_a ? lda : 1};
  const Operand<T> opb{b, trans_b ? 1 : ldb, trans_b ? ldb : 1};

  // Split C into one rectangle per thread along its longer side (in micro-tiles), so that each
  // thread packs only the panels it needs. Small products stay on one thread.
  int nt = nthreads > 0 ? nthreads : num_threads();
  const double flops = 2.0 * double(m) * double(n) * double(k);
  if (flops < 2.0e5) nt = 1;
  const index_t tiles_m = ceil_div(m, kern.mr), tiles_n = ceil_div(n, kern.nr);
  const bool split_m = tiles_m * kern.mr >= tiles_n * kern.nr;
  const index_t tiles = split_m ? tiles_m : tiles_n;
  if (tiles < nt) nt = static_cast<int>(tiles);
  if (nt <= 1) {
    gemm_serial(kern, m, n, k, alpha, opa, opb, beta, c, ldc);
    return;
  }
  parallel_for(
      0, tiles, 1,
      [&](index_t t0, index_t t1) {
        if (split_m) {
          const index_t r0 = t0 * kern.mr, r1 = (t1 * kern.mr < m) ? t1 * kern.mr : m;
          Operand<T> sub = opa;
          sub.p = opa.at(r0, 0);
          gemm_serial(kern, r1 - r0, n, k, alpha, sub, opb, beta, c + r0 * ldc, ldc);
        } else {
          const index_t c0 = t0 * kern.nr, c1 = (t1 * kern.nr < n) ? t1 * kern.nr : n;
          Operand<T> sub = opb;
          sub.p = opb.at(0, c0);
          gemm_serial(kern, m, c1 - c0, k, alpha, opa, sub, beta, c + c0, ldc);
        }
      },
      nt);
}

template void gemm<float>(bool, bool, index_t, index_t, index_t, float, const float*, index_t,
                          const float*, index_t, float, float*, index_t, int);
template void gemm<double>(bool, bool, index_t, index_t, index_t, double, const double*, index_t,
                           const double*, index_t, double, double*, index_t, int);

}  // namespace nncore
