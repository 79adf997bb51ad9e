// Packing of A and B blocks into micro-panels (see pack.h). Unit-stride sources take a copy loop
// the compiler vectorizes; strided ones gather.
#include "pack.h"

namespace nncore {

template <typename T>
void pack_a(index_t m, index_t k, const T* a, index_t rs, index_t cs, int mr, T* out) {
  for (index_t i0 = 0; i0 < m; i0 += mr) {
    const index_t rows = (m - i0 < mr) ? m - i0 : mr;
    const T* src = a + i0 * rs;
    if (rs == 1) {
      // op(A) column p is contiguous: copy rows straight in.
      for (index_t p = 0; p < k; ++p) {
        const T* col = src + p * cs;
        T* dst = out + p * mr;
        index_t i = 0;
        for (; i < rows; ++i) dst[i] = col[i];
        for (; i < mr; ++i) dst[i] = T(0);
      }
    } else {
      for (index_t p = 0; p < k; ++p) {
        T* dst = out + p * mr;
        index_t i = 0;
        for (; i < rows; ++i) dst[i] = src[i * rs + p * cs];
        for (; i < mr; ++i) dst[i] = T(0);
      }
    }
    out += mr * k;
  }
}

template <typename T>
void pack_b(index_t k, index_t n, const T* b, index_t rs, index_t cs, int nr, T* out) {
  for (index_t j0 = 0; j0 < n; j0 += nr) {
    const index_t cols = (n - j0 < nr) ? n - j0 : nr;
    const T* src = b + j0 * cs;
    if (cs == 1) {
      for (index_t p = 0; p < k; ++p) {
        const T* row = src + p * rs;
        T* dst = out + p * nr;
        index_t j = 0;
        for (; j < cols; ++j) dst[j] = row[j];
        for (; j < nr; ++j) dst[j] = T(0);
      }
    } else {
      for (index_t p = 0; p < k; ++p) {
        T* dst = out + p * nr;
        index_t j = 0;
        for (; j < cols; ++j) dst[j] = src[p * rs + j * cs];
        for (; j < nr; ++j) dst[j] = T(0);
      }
    }
    out += nr * k;
  }
}

template void pack_a<float>(index_t, index_t, const float*, index_t, index_t, int, float*);
template void pack_a<double>(index_t, index_t, const double*, index_t, index_t, int, double*);
template void pack_b<float>(index_t, index_t, const float*, index_t, index_t, int, float*);
template void pack_b<double>(index_t, index_t, const double*, index_t, index_t, int, double*);

}  // namespace nncore
