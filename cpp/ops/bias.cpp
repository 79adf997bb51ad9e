// Bias add and its gradient (the column sums), on the wide-row layout of channel_layout.h.
#include "nncore/ops/bias.h"

#include "nncore/ops/channel_layout.h"
#include "nncore/ops/eltwise_dispatch.h"

namespace nncore {

template <typename T>
void bias_add(const T* x, const T* b, T* y, index_t rows, index_t cols) {
  const channels::WideLayout w = channels::wide_layout(rows, cols);
  if (w.count() == 0) return;
  const auto add = eltwise_kernels<T>().channel.add;
  channels::Workspace ws(static_cast<std::size_t>(w.wide) + 8);
  T* bw = reinterpret_cast<T*>(ws.take(static_cast<std::size_t>(w.wide)));
  channels::expand(w, b, T(0), bw);
  channels::for_each_row_block(w, [&](index_t off, index_t n, index_t len) {
    add(x + off, bw, n, len, y + off);
  });
}

template <typename T>
void bias_grad(const T* gy, T* gb, index_t rows, index_t cols, bool accumulate) {
  if (cols == 0) return;
  const channels::WideLayout w = channels::wide_layout(rows, cols);
  const auto sum = eltwise_kernels<T>().channel.sum_fast;
  const std::size_t part_size = channels::channel_sums_workspace(w, 1);
  channels::Workspace ws(part_size + static_cast<std::size_t>(cols) + 16);
  double* part = ws.take(part_size);
  double* sums = ws.take(static_cast<std::size_t>(cols));
  channels::channel_sums(w, 1, part, sums, [&](const channels::SumBlock& b, double* acc) {
    sum(gy + b.offset, b.rows, b.width, b.ld, acc);
  });
  for (index_t c = 0; c < cols; ++c)
    gb[c] = accumulate ? static_cast<T>(gb[c] + sums[c]) : static_cast<T>(sums[c]);
}

template void bias_add<float>(const float*, const float*, float*, index_t, index_t);
template void bias_add<double>(const double*, const double*, double*, index_t, index_t);
template void bias_grad<float>(const float*, float*, index_t, index_t, bool);
template void bias_grad<double>(const double*, double*, index_t, index_t, bool);

}  // namespace nncore
