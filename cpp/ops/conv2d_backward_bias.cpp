// conv2d backward-bias: the sum of grad_y over every pixel of every image, per output channel.
#include <cstring>

#include "conv2d_internal.h"
#include "nncore/aligned_buffer.h"
#include "nncore/ops/conv2d.h"

namespace nncore {
namespace {

// Sums rows [lo, hi) of dy into acc (cout doubles). float32 sums run in double: tens of thousands
// of pixels would otherwise lose several digits.
template <typename T>
void sum_rows(const T* dy, index_t lo, index_t hi, index_t cout, double* acc) {
  for (index_t c = 0; c < cout; ++c) acc[c] = 0.0;
  for (index_t r = lo; r < hi; ++r) {
    const T* row = dy + r * cout;
    for (index_t c = 0; c < cout; ++c) acc[c] += static_cast<double>(row[c]);
  }
}

}  // namespace

template <typename T>
void conv2d_backward_bias(index_t rows, index_t cout, const T* dy, T* db, bool accumulate) {
  if (cout <= 0) return;
  const int nt = conv::threads_for(double(rows) * double(cout) * 0.25, rows);
  const index_t stride = round_up(cout, 8);
  double* parts = scratch(Scratch::op_temp).get<double>(static_cast<std::size_t>(nt * stride));
  parallel_for(
      0, nt, 1,
      [&](index_t t0, index_t t1) {
        for (index_t t = t0; t < t1; ++t)
          sum_rows(dy, rows * t / nt, rows * (t + 1) / nt, cout, parts + t * stride);
      },
      nt);
  for (index_t c = 0; c < cout; ++c) {
    double s = accumulate ? static_cast<double>(db[c]) : 0.0;
    for (int t = 0; t < nt; ++t) s += parts[t * stride + c];
    db[c] = static_cast<T>(s);
  }
}

template void conv2d_backward_bias<float>(index_t, index_t, const float*, float*, bool);
template void conv2d_backward_bias<double>(index_t, index_t, const double*, double*, bool);

}  // namespace nncore
