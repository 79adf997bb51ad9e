// GEMM on row-major matrices: C = alpha * op(A) * op(B) + beta * C.
#pragma once
#include "nncore/common.h"

namespace nncore {

// op(A) is m x k, op(B) is k x n, C is m x n. lda/ldb/ldc are row strides in elements of the
// matrices as stored (A is k x m when trans_a). beta == 0 overwrites C without reading it (NaN in
// C does not propagate), as in BLAS. nthreads: 0 = num_threads(), 1 = run on the calling thread
// (for callers already inside a parallel region).
template <typename T>
void gemm(bool trans_a, bool trans_b, index_t m, index_t n, index_t k, T alpha, const T* a,
          index_t lda, const T* b, index_t ldb, T beta, T* c, index_t ldc, int nthreads = 0);

}  // namespace nncore
