// GEMM on row-major matrices: C = alpha * op(A) * op(B) + beta * C, optionally followed by a
// per-column bias and ReLU applied while C is written (the fused epilogue of a Dense layer).
#pragma once
#include "nncore/common.h"

namespace nncore {

// What happens to each element of C after alpha * op(A) op(B) + beta * C is formed, in the same
// pass: C[i, j] += bias[j] (when bias is set; n values), then C[i, j] = max(0, C[i, j]) (when
// relu; NaN stays NaN).
template <typename T>
struct GemmEpilogue {
  const T* bias = nullptr;
  bool relu = false;
};

// op(A) is m x k, op(B) is k x n, C is m x n. lda/ldb/ldc are row strides in elements of the
// matrices as stored (A is k x m when trans_a). beta == 0 overwrites C without reading it (NaN in
// C does not propagate), as in BLAS. nthreads: 0 = num_threads(), 1 = run on the calling thread
// (for callers already inside a parallel region). Kernels check nothing: the caller guarantees
// the shapes, strides and that C overlaps neither A nor B.
template <typename T>
void gemm(bool trans_a, bool trans_b, index_t m, index_t n, index_t k, T alpha, const T* a,
          index_t lda, const T* b, index_t ldb, T beta, T* c, index_t ldc, int nthreads = 0);

// gemm followed by the epilogue, in one pass over C.
template <typename T>
void gemm_ex(bool trans_a, bool trans_b, index_t m, index_t n, index_t k, T alpha, const T* a,
             index_t lda, const T* b, index_t ldb, T beta, T* c, index_t ldc,
             const GemmEpilogue<T>& epilogue, int nthreads = 0);

// The register tile and block sizes of the active ISA path for T (reported by nncore.info and
// used by tests to build shapes that cross every block boundary).
struct GemmConfig {
  int mr, nr, vec;
  index_t mc, kc, nc;
};
template <typename T>
GemmConfig gemm_config();

// Overrides of the driver's choices, for tests (to reach every path with small shapes) and
// benchmarks. Process-wide: change it only while no GEMM runs. Negative / zero fields mean
// "decide per product".
struct GemmTuning {
  int pack = -1;                  // bit 0: pack A, bit 1: pack B (B is always packed when its
                                  // columns are not contiguous)
  index_t mc = 0, kc = 0, nc = 0;  // block sizes
  double min_thread_flops = 0;    // a thread is only started for at least this much work
  int split = -1;                 // 0: threads take rectangles of C, 1: threads take depth ranges
};
GemmTuning gemm_tuning();
void set_gemm_tuning(const GemmTuning& tuning);

}  // namespace nncore
