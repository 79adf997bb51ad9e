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
}

inline void fill_eltwise_kernels_impl(EltwiseKernelSet& set) {
  fill_eltwise_kernels_for(set.f32);
  fill_eltwise_kernels_for(set.f64);
}

}  // namespace
}  // namespace nncore
