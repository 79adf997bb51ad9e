// Optimizer updates (SGD, Adam, RMSprop) over a range, one branch-free loop per variant.
// Internal linkage, builtins only: compiled once per ISA through eltwise_kernels_impl.h.
#pragma once
#include <cstddef>

#include "nncore/kernels/simd_pragma.h"

namespace nncore {
namespace {

// __builtin_sqrt on a float promotes it to double, which costs conversions and a double-width
// square root per lane; the float overload stays in float32 and rounds to the same result.
inline float square_root(float x) { return __builtin_sqrtf(x); }
inline double square_root(double x) { return __builtin_sqrt(x); }

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
  (d ? sgd_range<T, true, true, false> : sgd_range<T, false, true, false>)(p, g, vel, n, lr, mom,
                                                                           lr_wd);
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
    p[i] = w - (mi * alpha) / (square_root(vi) + eps);
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
    const T inc = (lr * gi) / square_root(denom);
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

}  // namespace
}  // namespace nncore
