// The elementwise kernel loops. cpp/kernels/<isa>/eltwise_kernels.cpp each include this file and
// compile it with their own flags; everything has internal linkage so the copies never mix (see
// gemm_kernel.h for what goes wrong otherwise).
#pragma once
#include "nncore/kernels/activation_functions.h"
#include "nncore/kernels/eltwise_kernel.h"
#include "nncore/kernels/simd_pragma.h"

namespace nncore {
namespace {

template <typename T, class F>
void activation_forward_loop(const T* x, T* y, std::ptrdiff_t n, T p0, T p1) {
  NNCORE_SIMD
  for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = F::f(x[i], p0, p1);
}

template <typename T, class F>
void activation_backward_loop(const T* gy, const T* x, T* gx, std::ptrdiff_t n, T p0, T p1) {
  NNCORE_SIMD
  for (std::ptrdiff_t i = 0; i < n; ++i) gx[i] = gy[i] * F::df(x[i], p0, p1);
}

template <typename T, class F>
void activation_backward_from_output_loop(const T* gy, const T* y, T* gx, std::ptrdiff_t n, T p0,
                                          T p1) {
  NNCORE_SIMD
  for (std::ptrdiff_t i = 0; i < n; ++i) gx[i] = gy[i] * F::df_y(y[i], p0, p1);
}

inline float log_of(float x) { return __builtin_logf(x); }
inline double log_of(double x) { return __builtin_log(x); }

// Per row: m = max, s = sum exp(x - m); softmax = exp(x - m) / s, log_softmax = (x - m) - log s.
// Subtracting the row maximum keeps every exponent <= 0 (no overflow for any finite logits); a NaN
// anywhere in a row makes that whole row NaN.
template <typename T>
void softmax_rows_loop(const T* x, T* y, std::ptrdiff_t rows, std::ptrdiff_t cols, bool log) {
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    T m = -T(__builtin_inf());
    NNCORE_SIMD_REDUCTION(max, m)
    for (std::ptrdiff_t c = 0; c < cols; ++c) m = xr[c] > m ? xr[c] : m;
    T s = 0;
    if (log) {
      NNCORE_SIMD_REDUCTION(+, s)
      for (std::ptrdiff_t c = 0; c < cols; ++c) s += exp_v(xr[c] - m);
      const T log_s = log_of(s);
      NNCORE_SIMD
      for (std::ptrdiff_t c = 0; c < cols; ++c) yr[c] = (xr[c] - m) - log_s;
    } else {
      NNCORE_SIMD_REDUCTION(+, s)
      for (std::ptrdiff_t c = 0; c < cols; ++c) {
        const T e = exp_v(xr[c] - m);
        yr[c] = e;
        s += e;
      }
      const T inv = T(1) / s;
      NNCORE_SIMD
      for (std::ptrdiff_t c = 0; c < cols; ++c) yr[c] *= inv;
    }
  }
}

// One softmax row: writes exp(x - m) / s into p; returns log s and sets m.
template <typename T>
inline T softmax_row(const T* x, T* p, std::ptrdiff_t cols, T& m_out) {
  T m = -T(__builtin_inf());
  NNCORE_SIMD_REDUCTION(max, m)
  for (std::ptrdiff_t c = 0; c < cols; ++c) m = x[c] > m ? x[c] : m;
  T s = 0;
  NNCORE_SIMD_REDUCTION(+, s)
  for (std::ptrdiff_t c = 0; c < cols; ++c) {
    const T e = exp_v(x[c] - m);
    p[c] = e;
    s += e;
  }
  const T inv = T(1) / s;
  NNCORE_SIMD
  for (std::ptrdiff_t c = 0; c < cols; ++c) p[c] *= inv;
  m_out = m;
  return log_of(s);
}

template <typename T>
double softmax_xent_loop(const T* x, const T* target, const std::int64_t* labels, T* probs, T* grad,
                         std::ptrdiff_t rows, std::ptrdiff_t cols, T scale) {
  double loss = 0.0;
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* p = probs + r * cols;
    T* g = grad + r * cols;
    T m;
    const T log_s = softmax_row(xr, p, cols, m);
    if (labels) {
      const std::ptrdiff_t label = static_cast<std::ptrdiff_t>(labels[r]);
      loss += static_cast<double>(log_s - (xr[label] - m));
      NNCORE_SIMD
      for (std::ptrdiff_t c = 0; c < cols; ++c) g[c] = scale * p[c];
      g[label] -= scale;
    } else {
      const T* t = target + r * cols;
      // sum_c t_c ((m + log s) - x_c), as t_c (log s - (x_c - m)) so that large logits keep their
      // low bits; classes with t_c = 0 are skipped (a -inf logit there is fine).
      T row_loss = 0, t_sum = 0;
      NNCORE_SIMD_REDUCTION(+, row_loss, t_sum)
      for (std::ptrdiff_t c = 0; c < cols; ++c) {
        row_loss += t[c] != T(0) ? t[c] * (log_s - (xr[c] - m)) : T(0);
        t_sum += t[c];
      }
      NNCORE_SIMD
      for (std::ptrdiff_t c = 0; c < cols; ++c) g[c] = scale * (p[c] * t_sum - t[c]);
      loss += static_cast<double>(row_loss);
    }
  }
  return loss;
}

// loss = (1 - z) max(x, 0) + z max(-x, 0) + log1p(exp(-|x|)); the first two terms are dropped
// where their weight is exactly 0 so that x = +-inf with a matching target is finite.
template <typename T>
double sigmoid_xent_loop(const T* x, const T* z, T* probs, T* grad, std::ptrdiff_t n, T scale) {
  double total = 0.0;
  constexpr std::ptrdiff_t kBlock = 1024;  // float partial sums stay short; blocks add in double
  for (std::ptrdiff_t b = 0; b < n; b += kBlock) {
    const std::ptrdiff_t e = n - b < kBlock ? n : b + kBlock;
    T loss = 0;
    NNCORE_SIMD_REDUCTION(+, loss)
    for (std::ptrdiff_t i = b; i < e; ++i) {
      const T xi = x[i], zi = z[i];
      const T pos = xi > T(0) ? xi : T(0);
      const T neg = xi < T(0) ? -xi : T(0);
      loss += (zi != T(1) ? (T(1) - zi) * pos : T(0)) + (zi != T(0) ? zi * neg : T(0)) +
              log1p_unit(exp_v(-abs_of(xi)));
      const T p = sigmoid_v(xi);
      probs[i] = p;
      grad[i] = scale * (p - zi);
    }
    total += static_cast<double>(loss);
  }
  return total;
}

template <typename T>
void mask_scale_loop(const T* x, const std::uint8_t* mask, T* y, std::ptrdiff_t n, T scale) {
  // x * 0 (not 0) where dropped: NaN / inf in x stay visible, as Keras's x * mask.
  NNCORE_SIMD
  for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = x[i] * (static_cast<T>(mask[i] != 0) * scale);
}

// The splitmix64 output function (Steele, Lea and Flood 2014): a bijective 64-bit mix.
inline std::uint64_t splitmix64_mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

constexpr std::uint64_t kSplitmixGamma = 0x9E3779B97F4A7C15ull;  // the stream increment

// Output j of the stream keyed by `key` is mix(key + (j + 1) gamma); element i uses the low
// (i even) or high (i odd) half of output i / 2.
inline std::uint32_t dropout_uniform(std::uint64_t key, std::uint64_t i) {
  const std::uint64_t z = splitmix64_mix(key + (i / 2 + 1) * kSplitmixGamma);
  return static_cast<std::uint32_t>((i & 1) ? z >> 32 : z);
}

void dropout_mask_loop(std::uint64_t key, std::uint32_t threshold, std::ptrdiff_t lo,
                       std::ptrdiff_t hi, std::uint8_t* mask) {
  std::ptrdiff_t i = lo;
  if (i < hi && (i & 1)) {
    mask[i] = dropout_uniform(key, static_cast<std::uint64_t>(i)) >= threshold;
    ++i;
  }
  // Whole pairs: one 64-bit output per two elements.
  const std::ptrdiff_t pairs = (hi - i) / 2;
  const std::uint64_t first = static_cast<std::uint64_t>(i / 2 + 1);
  std::uint8_t* m = mask + i;
  NNCORE_SIMD
  for (std::ptrdiff_t j = 0; j < pairs; ++j) {
    const std::uint64_t z = splitmix64_mix(key + (first + static_cast<std::uint64_t>(j)) * kSplitmixGamma);
    m[2 * j] = static_cast<std::uint32_t>(z) >= threshold;
    m[2 * j + 1] = static_cast<std::uint32_t>(z >> 32) >= threshold;
  }
  i += 2 * pairs;
  if (i < hi) mask[i] = dropout_uniform(key, static_cast<std::uint64_t>(i)) >= threshold;
}

template <typename T>
void channel_sum_loop(const T* x, std::ptrdiff_t rows, std::ptrdiff_t width, double* acc) {
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* xr = x + r * width;
    NNCORE_SIMD
    for (std::ptrdiff_t j = 0; j < width; ++j) acc[j] += static_cast<double>(xr[j]);
  }
}

template <typename T>
void channel_sum_sq_dev_loop(const T* x, const double* center, std::ptrdiff_t rows,
                             std::ptrdiff_t width, double* acc) {
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* xr = x + r * width;
    NNCORE_SIMD
    for (std::ptrdiff_t j = 0; j < width; ++j) {
      const double d = static_cast<double>(xr[j]) - center[j];
      acc[j] += d * d;
    }
  }
}

template <typename T>
void channel_sum_grad_dev_loop(const T* g, const T* x, const T* center, std::ptrdiff_t rows,
                               std::ptrdiff_t width, double* acc0, double* acc1) {
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* gr = g + r * width;
    const T* xr = x + r * width;
    NNCORE_SIMD
    for (std::ptrdiff_t j = 0; j < width; ++j) {
      const double gj = static_cast<double>(gr[j]);
      acc0[j] += gj;
      acc1[j] += gj * static_cast<double>(xr[j] - center[j]);
    }
  }
}

template <typename T>
void channel_add_loop(const T* x, const T* b, std::ptrdiff_t rows, std::ptrdiff_t width, T* y) {
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* xr = x + r * width;
    T* yr = y + r * width;
    NNCORE_SIMD
    for (std::ptrdiff_t j = 0; j < width; ++j) yr[j] = xr[j] + b[j];
  }
}

template <typename T>
void channel_affine_loop(const T* x, const T* center, const T* scale, const T* shift,
                         std::ptrdiff_t rows, std::ptrdiff_t width, T* y) {
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* xr = x + r * width;
    T* yr = y + r * width;
    NNCORE_SIMD
    for (std::ptrdiff_t j = 0; j < width; ++j) yr[j] = (xr[j] - center[j]) * scale[j] + shift[j];
  }
}

template <typename T>
void channel_grad_affine_loop(const T* g, const T* x, const T* center, const T* a, const T* b,
                              const T* c, std::ptrdiff_t rows, std::ptrdiff_t width, T* gx) {
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const T* gr = g + r * width;
    const T* xr = x + r * width;
    T* o = gx + r * width;
    NNCORE_SIMD
    for (std::ptrdiff_t j = 0; j < width; ++j) o[j] = a[j] * gr[j] + b[j] * (xr[j] - center[j]) + c[j];
  }
}

// Optimizer loops, one instantiation per variant so that each loop is branch-free. Decay is a
// separate flag because p - p * 0 is not p for p = inf.
template <typename T, bool kDecay, bool kMomentum, bool kNesterov>
void sgd_range(T* p, const T* g, T* vel, std::ptrdiff_t n, T lr, T mom, T lr_wd) {
  NNCORE_SIMD
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    T w = p[i];
    if constexpr (kDecay) w -= w * lr_wd;
    if constexpr (kMomentum) {
      const T v = mom * vel[i] - lr * g[i];
      vel[i] = v;
      w += kNesterov ? mom * v - lr * g[i] : v;
    } else {
      w -= lr * g[i];
    }
    p[i] = w;
  }
}

template <typename T>
void sgd_loop(T* p, const T* g, T* vel, std::ptrdiff_t n, T lr, T mom, bool nesterov, T lr_wd) {
  const bool d = lr_wd != T(0);
  if (!vel) return (d ? sgd_range<T, true, false, false> : sgd_range<T, false, false, false>)(
      p, g, vel, n, lr, mom, lr_wd);
  if (nesterov) return (d ? sgd_range<T, true, true, true> : sgd_range<T, false, true, true>)(
      p, g, vel, n, lr, mom, lr_wd);
  (d ? sgd_range<T, true, true, false> : sgd_range<T, false, true, false>)(p, g, vel, n, lr, mom, lr_wd);
}

template <typename T, bool kDecay, bool kAmsgrad>
void adam_range(T* p, const T* g, T* m, T* v, T* vhat, std::ptrdiff_t n, T alpha, T one_b1,
                T one_b2, T eps, T lr_wd) {
  NNCORE_SIMD
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    T w = p[i];
    if constexpr (kDecay) w -= w * lr_wd;
    const T gi = g[i];
    const T mi = m[i] + (gi - m[i]) * one_b1;
    T vi = v[i] + (gi * gi - v[i]) * one_b2;
    m[i] = mi;
    v[i] = vi;
    if constexpr (kAmsgrad) {
      vi = vhat[i] > vi ? vhat[i] : vi;
      vhat[i] = vi;
    }
    p[i] = w - (mi * alpha) / (__builtin_sqrt(vi) + eps);
  }
}

template <typename T>
void adam_loop(T* p, const T* g, T* m, T* v, T* vhat, std::ptrdiff_t n, T alpha, T one_b1,
               T one_b2, T eps, T lr_wd) {
  const bool d = lr_wd != T(0);
  auto range = vhat ? (d ? adam_range<T, true, true> : adam_range<T, false, true>)
                    : (d ? adam_range<T, true, false> : adam_range<T, false, false>);
  range(p, g, m, v, vhat, n, alpha, one_b1, one_b2, eps, lr_wd);
}

template <typename T, bool kDecay, bool kCentered, bool kMomentum>
void rmsprop_range(T* p, const T* g, T* rms, T* buf, T* mg, std::ptrdiff_t n, T lr, T rho,
                   T mom, T eps, T lr_wd) {
  const T one_rho = T(1) - rho;
  NNCORE_SIMD
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    T w = p[i];
    if constexpr (kDecay) w -= w * lr_wd;
    const T gi = g[i];
    const T r = rho * rms[i] + one_rho * (gi * gi);
    rms[i] = r;
    T denom;
    if constexpr (kCentered) {
      const T a = rho * mg[i] + one_rho * gi;
      mg[i] = a;
      denom = r - a * a + eps;
    } else {
      denom = r + eps;
    }
    const T inc = (lr * gi) / __builtin_sqrt(denom);
    if constexpr (kMomentum) {
      const T b = mom * buf[i] + inc;
      buf[i] = b;
      w -= b;
    } else {
      w -= inc;
    }
    p[i] = w;
  }
}

template <typename T>
void rmsprop_loop(T* p, const T* g, T* rms, T* buf, T* mg, std::ptrdiff_t n, T lr, T rho, T mom,
                  T eps, T lr_wd) {
  using Fn = void (*)(T*, const T*, T*, T*, T*, std::ptrdiff_t, T, T, T, T, T);
  static constexpr Fn table[8] = {
      rmsprop_range<T, false, false, false>, rmsprop_range<T, false, false, true>,
      rmsprop_range<T, false, true, false>,  rmsprop_range<T, false, true, true>,
      rmsprop_range<T, true, false, false>,  rmsprop_range<T, true, false, true>,
      rmsprop_range<T, true, true, false>,   rmsprop_range<T, true, true, true>};
  const int idx = (lr_wd != T(0) ? 4 : 0) + (mg ? 2 : 0) + (buf ? 1 : 0);
  table[idx](p, g, rms, buf, mg, n, lr, rho, mom, eps, lr_wd);
}

template <typename T, class F>
void set_activation(ActivationKernels<T>& k, Activation a) {
  const int i = static_cast<int>(a);
  k.forward[i] = &activation_forward_loop<T, F>;
  k.backward[i] = &activation_backward_loop<T, F>;
  k.backward_from_output[i] = nullptr;
}

template <typename T, class F>
void set_activation_with_output_grad(ActivationKernels<T>& k, Activation a) {
  set_activation<T, F>(k, a);
  k.backward_from_output[static_cast<int>(a)] = &activation_backward_from_output_loop<T, F>;
}

template <typename T>
void fill_eltwise_kernels_for(EltwiseKernels<T>& k) {
  set_activation_with_output_grad<T, ReluFn>(k.act, Activation::relu);
  set_activation_with_output_grad<T, Relu6Fn>(k.act, Activation::relu6);
  set_activation<T, LeakyReluFn>(k.act, Activation::leaky_relu);
  set_activation_with_output_grad<T, EluFn>(k.act, Activation::elu);
  set_activation_with_output_grad<T, SeluFn>(k.act, Activation::selu);
  set_activation_with_output_grad<T, SigmoidFn>(k.act, Activation::sigmoid);
  set_activation<T, HardSigmoidFn>(k.act, Activation::hard_sigmoid);
  set_activation_with_output_grad<T, TanhFn>(k.act, Activation::tanh);
  set_activation<T, SoftplusFn>(k.act, Activation::softplus);
  set_activation<T, SoftsignFn>(k.act, Activation::softsign);
  set_activation_with_output_grad<T, ExponentialFn>(k.act, Activation::exponential);
  set_activation<T, SwishFn>(k.act, Activation::swish);
  set_activation<T, GeluFn>(k.act, Activation::gelu);
  set_activation<T, GeluTanhFn>(k.act, Activation::gelu_tanh);
  set_activation<T, ThresholdedReluFn>(k.act, Activation::thresholded_relu);
  set_activation<T, HeavisideFn>(k.act, Activation::heaviside);
  k.softmax_rows = &softmax_rows_loop<T>;
  k.softmax_xent = &softmax_xent_loop<T>;
  k.sigmoid_xent = &sigmoid_xent_loop<T>;
  k.mask_scale = &mask_scale_loop<T>;
  k.optim.sgd = &sgd_loop<T>;
  k.optim.adam = &adam_loop<T>;
  k.optim.rmsprop = &rmsprop_loop<T>;
  k.channel.sum = &channel_sum_loop<T>;
  k.channel.sum_sq_dev = &channel_sum_sq_dev_loop<T>;
  k.channel.sum_grad_dev = &channel_sum_grad_dev_loop<T>;
  k.channel.add = &channel_add_loop<T>;
  k.channel.affine = &channel_affine_loop<T>;
  k.channel.grad_affine = &channel_grad_affine_loop<T>;
}

inline void fill_eltwise_kernels_impl(EltwiseKernelSet& set) {
  fill_eltwise_kernels_for(set.f32);
  fill_eltwise_kernels_for(set.f64);
  set.dropout_mask = &dropout_mask_loop;
}

}  // namespace
}  // namespace nncore
