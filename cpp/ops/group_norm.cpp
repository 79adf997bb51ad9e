// Group normalization, image by image, on the per-channel machinery of batch normalization
// (channel_layout.h, the ISA path's channel kernels): an image of a channels-last batch is a
// (positions, channels) array, its per-channel sums add up to per-group sums, and the output and
// input gradient are per-channel affine maps once the group statistics are known.
#include "nncore/ops/group_norm.h"

#include <cmath>
#include <vector>

#include "nncore/ops/channel_layout.h"
#include "nncore/ops/eltwise_dispatch.h"

namespace nncore {
namespace {

// Images run in parallel when each is a single sum task (nothing to split inside) or there are
// enough of them; otherwise one after the other, each using all threads. Either way an image is
// computed the same way (its sum grid depends on its shape only).
bool images_in_parallel(index_t n, index_t s, index_t c) {
  return n > 1 && (s * c <= channels::kChunkElems || n >= 2 * num_threads());
}

template <class F>
void for_images(index_t n, index_t s, index_t c, F&& f) {
  if (images_in_parallel(n, s, c)) {
    parallel_for(0, n, 1, [&](index_t lo, index_t hi) {
      for (index_t i = lo; i < hi; ++i) f(i);
    });
  } else {
    for (index_t i = 0; i < n; ++i) f(i);
  }
}

template <typename T>
T* take_t(channels::Workspace& ws, index_t count) {
  return reinterpret_cast<T*>(ws.take(static_cast<std::size_t>(count)));
}

template <typename T>
void forward_image(const T* x, const T* gamma, const T* beta, double eps, T* y, T* mean, T* inv,
                   index_t s, index_t c, index_t groups) {
  const channels::WideLayout w = channels::wide_layout(s, c);
  const index_t cg = c / groups;
  const std::size_t part_size = channels::channel_sums_workspace(w, 1);
  channels::Workspace ws(part_size + 2 * static_cast<std::size_t>(c) + 4 * w.wide + 8 * 8);
  double* part = ws.take(part_size);
  double* sums = ws.take(c);
  double* mean_c = ws.take(c);
  double* mean_w = ws.take(w.wide);
  const ChannelKernels<T>& k = eltwise_kernels<T>().channel;
  const double count = static_cast<double>(s) * static_cast<double>(cg);
  channels::channel_sums(w, 1, part, sums, [&](const channels::SumBlock& b, double* acc) {
    k.sum(x + b.offset, b.rows, b.width, b.ld, acc);
  });
  for (index_t g = 0; g < groups; ++g) {
    double t = 0.0;
    for (index_t j = g * cg; j < (g + 1) * cg; ++j) t += sums[j];
    for (index_t j = g * cg; j < (g + 1) * cg; ++j) mean_c[j] = t / count;
  }
  channels::expand(w, mean_c, 0.0, mean_w);
  channels::channel_sums(w, 1, part, sums, [&](const channels::SumBlock& b, double* acc) {
    k.sum_sq_dev(x + b.offset, mean_w + b.col, b.rows, b.width, b.ld, acc);
  });
  double* scale_c = sums;  // each group's variance is read before its channels are overwritten
  for (index_t g = 0; g < groups; ++g) {
    double t = 0.0;
    for (index_t j = g * cg; j < (g + 1) * cg; ++j) t += sums[j];
    const double is = 1.0 / std::sqrt(t / count + eps);
    mean[g] = static_cast<T>(mean_c[g * cg]);
    inv[g] = static_cast<T>(is);
    for (index_t j = g * cg; j < (g + 1) * cg; ++j) {
      scale_c[j] = (gamma ? static_cast<double>(gamma[j]) : 1.0) * static_cast<double>(inv[g]);
      mean_c[j] = static_cast<double>(mean[g]);
    }
  }
  T* mean_t = take_t<T>(ws, w.wide);
  T* scale_w = take_t<T>(ws, w.wide);
  T* shift_w = take_t<T>(ws, w.wide);
  channels::expand(w, mean_c, T(0), mean_t);
  channels::expand(w, scale_c, T(1), scale_w);
  channels::expand(w, beta, T(0), shift_w);
  channels::for_each_row_block(w, [&](index_t off, index_t rows, index_t len) {
    k.affine(x + off, mean_t, scale_w, shift_w, rows, len, y + off);
  });
}

// dx of one image, and its per-channel sums of dy and dy x_hat into psums[0 .. 2c).
template <typename T>
void backward_image(const T* dy, const T* x, const T* gamma, const T* mean, const T* inv, T* dx,
                    double* psums, index_t s, index_t c, index_t groups) {
  const channels::WideLayout w = channels::wide_layout(s, c);
  const index_t cg = c / groups;
  const std::size_t part_size = channels::channel_sums_workspace(w, 2);
  channels::Workspace ws(part_size + 5 * static_cast<std::size_t>(c) + 4 * w.wide + 8 * 8);
  double* part = ws.take(part_size);
  double* sums = ws.take(2 * c);  // [sum dy | sum dy (x - mean)]
  double* coef = ws.take(3 * c);  // [a | b | c] of dx = a dy + b (x - mean) + c
  T* mean_t = take_t<T>(ws, w.wide);
  for (index_t j = 0; j < c; ++j) coef[j] = static_cast<double>(mean[j / cg]);
  channels::expand(w, coef, T(0), mean_t);
  const ChannelKernels<T>& k = eltwise_kernels<T>().channel;
  channels::channel_sums(w, 2, part, sums, [&](const channels::SumBlock& b, double* acc) {
    k.sum_grad_dev(dy + b.offset, x + b.offset, mean_t + b.col, b.rows, b.width, b.ld, acc,
                   acc + w.wide);
  });
  const double count = static_cast<double>(s) * static_cast<double>(cg);
  for (index_t g = 0; g < groups; ++g) {
    const double is = static_cast<double>(inv[g]);
    double m1 = 0.0, m2 = 0.0;
    for (index_t j = g * cg; j < (g + 1) * cg; ++j) {
      const double ga = gamma ? static_cast<double>(gamma[j]) : 1.0;
      m1 += ga * sums[j];
      m2 += ga * sums[c + j] * is;
    }
    m1 /= count;
    m2 /= count;
    for (index_t j = g * cg; j < (g + 1) * cg; ++j) {
      coef[j] = (gamma ? static_cast<double>(gamma[j]) : 1.0) * is;
      coef[c + j] = -is * is * m2;
      coef[2 * c + j] = -is * m1;
      psums[j] = sums[j];
      psums[c + j] = sums[c + j] * is;
    }
  }
  T* a_w = take_t<T>(ws, w.wide);
  T* b_w = take_t<T>(ws, w.wide);
  T* c_w = take_t<T>(ws, w.wide);
  channels::expand(w, coef, T(0), a_w);
  channels::expand(w, coef + c, T(0), b_w);
  channels::expand(w, coef + 2 * c, T(0), c_w);
  channels::for_each_row_block(w, [&](index_t off, index_t rows, index_t len) {
    k.grad_affine(dy + off, x + off, mean_t, a_w, b_w, c_w, rows, len, dx + off);
  });
}

}  // namespace

template <typename T>
void group_norm_forward(const T* x, const T* gamma, const T* beta, double epsilon, T* y, T* mean,
                        T* inv, index_t n, index_t s, index_t c, index_t groups) {
  if (n == 0 || c == 0) return;
  const index_t img = s * c;
  for_images(n, s, c, [&](index_t i) {
    forward_image(x + i * img, gamma, beta, epsilon, y + i * img, mean + i * groups,
                  inv + i * groups, s, c, groups);
  });
}

template <typename T>
void group_norm_backward(const T* dy, const T* x, const T* gamma, const T* mean, const T* inv,
                         T* dx, T* grad_gamma, T* grad_beta, index_t n, index_t s, index_t c,
                         index_t groups) {
  if (c == 0) return;
  const index_t img = s * c;
  std::vector<double> psums(static_cast<std::size_t>(n * 2 * c), 0.0);
  for_images(n, s, c, [&](index_t i) {
    backward_image(dy + i * img, x + i * img, gamma, mean + i * groups, inv + i * groups,
                   dx + i * img, psums.data() + i * 2 * c, s, c, groups);
  });
  for (index_t j = 0; j < c; ++j) {
    double sb = 0.0, sg = 0.0;
    for (index_t i = 0; i < n; ++i) {
      sb += psums[i * 2 * c + j];
      sg += psums[i * 2 * c + c + j];
    }
    if (grad_gamma) grad_gamma[j] = static_cast<T>(sg);
    if (grad_beta) grad_beta[j] = static_cast<T>(sb);
  }
}

#define NNCORE_INSTANTIATE(T)                                                                     \
  template void group_norm_forward<T>(const T*, const T*, const T*, double, T*, T*, T*, index_t, \
                                      index_t, index_t, index_t);                                 \
  template void group_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*,  \
                                       T*, index_t, index_t, index_t, index_t);
NNCORE_INSTANTIATE(float)
NNCORE_INSTANTIATE(double)
#undef NNCORE_INSTANTIATE

}  // namespace nncore
