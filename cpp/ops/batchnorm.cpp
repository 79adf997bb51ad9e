// Batch normalization: one pass for the statistics (sums of the deviations from each channel's
// first value and of their squares, in double), one for the output.
#include "nncore/ops/batchnorm.h"

#include <cmath>
#include <limits>

#include "nncore/ops/channel_layout.h"
#include "nncore/ops/eltwise_dispatch.h"

namespace nncore {

namespace {

template <typename T>
T act_cap(BnAct act) {
  return act == BnAct::relu6 ? T(6) : std::numeric_limits<T>::infinity();
}

// gamma * inv_std from the rounded inv_std: the forward and the backward pass (which only has the
// rounded one) get the same scale, hence the same pre-activation and activation mask.
template <typename T>
T channel_scale(const T* gamma, const T* inv_std, index_t c) {
  return static_cast<T>((gamma ? static_cast<double>(gamma[c]) : 1.0) *
                        static_cast<double>(inv_std[c]));
}

}  // namespace

template <typename T>
void batch_norm_train(const T* x, const T* gamma, const T* beta, double epsilon, T* y, T* mean,
                      T* var, T* inv_std, index_t rows, index_t cols, BnAct act) {
  if (cols == 0) return;
  const channels::WideLayout w = channels::wide_layout(rows, cols);
  const std::size_t wide = static_cast<std::size_t>(w.wide), nc = static_cast<std::size_t>(cols);
  const std::size_t part_size = channels::channel_sums_workspace(w, 2);
  channels::Workspace ws(part_size + 3 * (wide + 8) + 2 * (nc + 8) + 8);
  double* part = ws.take(part_size);
  double* sums = ws.take(2 * nc);  // [sum d | sum d^2], d = x - origin
  double* mean_w = ws.take(wide);
  T* scale_w = reinterpret_cast<T*>(ws.take(wide));
  T* shift_w = reinterpret_cast<T*>(ws.take(wide));

  // One pass over x for both statistics: deviations from the channel's first value. That value
  // is a sample of the channel, so (mean - origin)^2 is of the order of the variance and
  // sum d^2 / m - (sum d / m)^2 cancels no more than a few of double's digits, far below T's.
  double* origin_w = mean_w;
  for (index_t j = 0; j < w.wide; ++j) {
    const double v = rows > 0 ? static_cast<double>(x[j % cols]) : 0.0;
    origin_w[j] = std::isfinite(v) ? v : 0.0;
  }
  const ChannelKernels<T>& k = eltwise_kernels<T>().channel;
  channels::channel_sums(w, 2, part, sums, [&](const channels::SumBlock& b, double* acc) {
    k.sum_shifted_sq(x + b.offset, origin_w + b.col, b.rows, b.width, b.ld, acc, acc + w.wide);
  });
  const double m = static_cast<double>(rows);
  for (index_t c = 0; c < cols; ++c) {
    const double d = sums[c] / m;  // NaN for rows == 0
    const double sq = sums[cols + c] / m - d * d;
    const double v = sq > 0.0 ? sq : (sq == sq ? 0.0 : sq);  // rounding below 0; NaN stays
    const double is = 1.0 / std::sqrt(v + epsilon);
    mean[c] = static_cast<T>(origin_w[c] + d);
    var[c] = static_cast<T>(v);
    inv_std[c] = static_cast<T>(is);
  }
  if (rows == 0) return;
  // y = (x - mean) * scale + beta with scale = gamma * inv_std.
  for (index_t j = 0; j < w.wide; ++j) scale_w[j] = channel_scale(gamma, inv_std, j % cols);
  channels::expand(w, beta, T(0), shift_w);
  T* mean_t = reinterpret_cast<T*>(mean_w);  // reuse: the double copy is no longer needed
  channels::expand(w, mean, T(0), mean_t);
  if (act == BnAct::none) {
    channels::for_each_row_block(w, [&](index_t off, index_t n, index_t len) {
      k.affine(x + off, mean_t, scale_w, shift_w, n, len, y + off);
    });
    return;
  }
  const T hi = act_cap<T>(act);
  channels::for_each_row_block(w, [&](index_t off, index_t n, index_t len) {
    k.affine_act(x + off, mean_t, scale_w, shift_w, hi, n, len, y + off);
  });
}

template <typename T>
void batch_norm_inference(const T* x, const T* gamma, const T* beta, const T* moving_mean,
                          const T* moving_var, double epsilon, T* y, index_t rows, index_t cols) {
  const channels::WideLayout w = channels::wide_layout(rows, cols);
  if (w.count() == 0) return;
  const std::size_t wide = static_cast<std::size_t>(w.wide), nc = static_cast<std::size_t>(cols);
  channels::Workspace ws(3 * (wide + 8) + nc + 8);
  double* scale = ws.take(nc);
  T* scale_w = reinterpret_cast<T*>(ws.take(wide));
  T* shift_w = reinterpret_cast<T*>(ws.take(wide));
  T* mean_w = reinterpret_cast<T*>(ws.take(wide));
  for (index_t c = 0; c < cols; ++c)
    scale[c] = (gamma ? static_cast<double>(gamma[c]) : 1.0) /
               std::sqrt(static_cast<double>(moving_var[c]) + epsilon);
  channels::expand(w, scale, T(1), scale_w);
  channels::expand(w, beta, T(0), shift_w);
  channels::expand(w, moving_mean, T(0), mean_w);
  const auto affine = eltwise_kernels<T>().channel.affine;
  channels::for_each_row_block(w, [&](index_t off, index_t n, index_t len) {
    affine(x + off, mean_w, scale_w, shift_w, n, len, y + off);
  });
}

template <typename T>
void batch_norm_backward(const T* gy, const T* x, const T* gamma, const T* mean, const T* inv_std,
                         T* grad_x, T* grad_gamma, T* grad_beta, index_t rows, index_t cols,
                         bool accumulate, BnAct act, const T* beta) {
  if (cols == 0) return;
  const channels::WideLayout w = channels::wide_layout(rows, cols);
  const std::size_t wide = static_cast<std::size_t>(w.wide), nc = static_cast<std::size_t>(cols);
  const std::size_t part_size = channels::channel_sums_workspace(w, 2);
  channels::Workspace ws(part_size + 6 * (wide + 8) + 5 * nc + 32);
  double* part = ws.take(part_size);
  double* sums = ws.take(2 * nc);  // [sum gy | sum gy (x - mean)]
  T* mean_w = reinterpret_cast<T*>(ws.take(wide));
  channels::expand(w, mean, T(0), mean_w);
  const ChannelKernels<T>& k = eltwise_kernels<T>().channel;
  // With an activation: its pre-activation's scale and shift, as the forward pass had them.
  T* scale_w = nullptr;
  T* shift_w = nullptr;
  const T hi = act_cap<T>(act);
  if (act != BnAct::none) {
    scale_w = reinterpret_cast<T*>(ws.take(wide));
    shift_w = reinterpret_cast<T*>(ws.take(wide));
    for (index_t j = 0; j < w.wide; ++j) scale_w[j] = channel_scale(gamma, inv_std, j % cols);
    channels::expand(w, beta, T(0), shift_w);
    channels::channel_sums(w, 2, part, sums, [&](const channels::SumBlock& b, double* acc) {
      k.sum_grad_dev_act(gy + b.offset, x + b.offset, mean_w + b.col, scale_w + b.col,
                         shift_w + b.col, hi, b.rows, b.width, b.ld, acc, acc + w.wide);
    });
  } else {
    channels::channel_sums(w, 2, part, sums, [&](const channels::SumBlock& b, double* acc) {
      k.sum_grad_dev(gy + b.offset, x + b.offset, mean_w + b.col, b.rows, b.width, b.ld, acc,
                     acc + w.wide);
    });
  }
  // grad_x = a gy + b (x - mean) + c per channel:
  //   a = gamma inv_std, b = -a inv_std grad_gamma / m, c = -a grad_beta / m.
  double* coef = ws.take(3 * nc);
  const double m = static_cast<double>(rows);
  for (index_t c = 0; c < cols; ++c) {
    const double is = static_cast<double>(inv_std[c]);
    const double g_beta = sums[c];
    const double g_gamma = sums[cols + c] * is;
    const double a = (gamma ? static_cast<double>(gamma[c]) : 1.0) * is;
    coef[c] = a;
    coef[cols + c] = rows > 0 ? -a * is * g_gamma / m : 0.0;
    coef[2 * cols + c] = rows > 0 ? -a * g_beta / m : 0.0;
    grad_beta[c] = static_cast<T>(accumulate ? grad_beta[c] + g_beta : g_beta);
    grad_gamma[c] = static_cast<T>(accumulate ? grad_gamma[c] + g_gamma : g_gamma);
  }
  if (rows == 0) return;
  T* a_w = reinterpret_cast<T*>(ws.take(wide));
  T* b_w = reinterpret_cast<T*>(ws.take(wide));
  T* c_w = reinterpret_cast<T*>(ws.take(wide));
  channels::expand(w, coef, T(0), a_w);
  channels::expand(w, coef + cols, T(0), b_w);
  channels::expand(w, coef + 2 * cols, T(0), c_w);
  if (act != BnAct::none) {
    channels::for_each_row_block(w, [&](index_t off, index_t n, index_t len) {
      k.grad_affine_act(gy + off, x + off, mean_w, scale_w, shift_w, hi, a_w, b_w, c_w, n, len,
                        grad_x + off);
    });
    return;
  }
  channels::for_each_row_block(w, [&](index_t off, index_t n, index_t len) {
    k.grad_affine(gy + off, x + off, mean_w, a_w, b_w, c_w, n, len, grad_x + off);
  });
}

#define NNCORE_INSTANTIATE(T)                                                                     \
  template void batch_norm_train<T>(const T*, const T*, const T*, double, T*, T*, T*, T*, index_t, \
                                    index_t, BnAct);                                              \
  template void batch_norm_inference<T>(const T*, const T*, const T*, const T*, const T*, double, \
                                        T*, index_t, index_t);                                    \
  template void batch_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*,  \
                                       T*, index_t, index_t, bool, BnAct, const T*);
NNCORE_INSTANTIATE(float)
NNCORE_INSTANTIATE(double)
#undef NNCORE_INSTANTIATE

}  // namespace nncore
