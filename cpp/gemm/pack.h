// Packing of A and B blocks into the micro-panel order the micro-kernels read.
#pragma once
#include "nncore/common.h"

namespace nncore {

// Element (i, p) of op(A) is a[i * rs + p * cs]. Packs rows [0, m) x depth [0, k) into
// ceil(m / mr) micro-panels of mr x k, stored p-major (mr values per depth step), zero-padded.
template <typename T>
void pack_a(index_t m, index_t k, const T* a, index_t rs, index_t cs, int mr, T* out);

// Element (p, j) of op(B) is b[p * rs + j * cs]. Packs depth [0, k) x columns [0, n) into
// ceil(n / nr) micro-panels of k x nr, stored p-major (nr values per depth step), zero-padded.
template <typename T>
void pack_b(index_t k, index_t n, const T* b, index_t rs, index_t cs, int nr, T* out);

}  // namespace nncore
