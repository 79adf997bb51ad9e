// Optimizer updates as one parallel pass over the parameters and their state.
#include "nncore/ops/optimizer_steps.h"

#include <cmath>

#include "nncore/kernels/simd_pragma.h"
#include "nncore/parallel.h"

namespace nncore {
namespace {

// Memory-bound: 3 to 5 streams per element.
constexpr index_t kGrain = index_t(1) << 14;

template <typename T>
void decay(T* param, index_t lo, index_t hi, T lr_wd) {
  NNCORE_SIMD
  for (index_t i = lo; i < hi; ++i) param[i] -= param[i] * lr_wd;
}

}  // namespace

template <typename T>
void sgd_step(T* param, const T* grad, T* velocity, index_t n, double lr, double momentum,
              bool nesterov, double weight_decay) {
  const T lr_t = static_cast<T>(lr), mom = static_cast<T>(momentum);
  const T lr_wd = static_cast<T>(lr * weight_decay);
  parallel_for(0, n, kGrain, [&](index_t lo, index_t hi) {
    if (weight_decay != 0.0) decay(param, lo, hi, lr_wd);
    if (!velocity) {
      NNCORE_SIMD
      for (index_t i = lo; i < hi; ++i) param[i] -= lr_t * grad[i];
    } else if (!nesterov) {
      NNCORE_SIMD
      for (index_t i = lo; i < hi; ++i) {
        velocity[i] = mom * velocity[i] - lr_t * grad[i];
        param[i] += velocity[i];
      }
    } else {
      NNCORE_SIMD
      for (index_t i = lo; i < hi; ++i) {
        velocity[i] = mom * velocity[i] - lr_t * grad[i];
        param[i] += mom * velocity[i] - lr_t * grad[i];
      }
    }
  });
}

template <typename T>
void adam_step(T* param, const T* grad, T* m, T* v, T* vhat, index_t n, double lr, double beta1,
               double beta2, double epsilon, double step, double weight_decay) {
  const T alpha =
      static_cast<T>(lr * std::sqrt(1.0 - std::pow(beta2, step)) / (1.0 - std::pow(beta1, step)));
  const T one_b1 = static_cast<T>(1.0 - beta1), one_b2 = static_cast<T>(1.0 - beta2);
  const T eps = static_cast<T>(epsilon);
  const T lr_wd = static_cast<T>(lr * weight_decay);
  parallel_for(0, n, kGrain, [&](index_t lo, index_t hi) {
    if (weight_decay != 0.0) decay(param, lo, hi, lr_wd);
    if (vhat) {
      NNCORE_SIMD
      for (index_t i = lo; i < hi; ++i) {
        const T g = grad[i];
        m[i] += (g - m[i]) * one_b1;
        v[i] += (g * g - v[i]) * one_b2;
        vhat[i] = vhat[i] > v[i] ? vhat[i] : v[i];
        param[i] -= (m[i] * alpha) / (std::sqrt(vhat[i]) + eps);
      }
    } else {
      NNCORE_SIMD
      for (index_t i = lo; i < hi; ++i) {
        const T g = grad[i];
        m[i] += (g - m[i]) * one_b1;
        v[i] += (g * g - v[i]) * one_b2;
        param[i] -= (m[i] * alpha) / (std::sqrt(v[i]) + eps);
      }
    }
  });
}

// One variant per (centered, momentum) pair so that each inner loop is branch-free.
template <typename T, bool kCentered, bool kMomentum>
void rmsprop_range(T* param, const T* grad, T* rms, T* momentum_buf, T* mg, index_t lo, index_t hi,
                   T lr, T rho, T one_rho, T mom, T eps) {
  NNCORE_SIMD
  for (index_t i = lo; i < hi; ++i) {
    const T g = grad[i];
    rms[i] = rho * rms[i] + one_rho * (g * g);
    T denom;
    if constexpr (kCentered) {
      mg[i] = rho * mg[i] + one_rho * g;
      denom = rms[i] - mg[i] * mg[i] + eps;
    } else {
      denom = rms[i] + eps;
    }
    const T inc = (lr * g) / std::sqrt(denom);
    if constexpr (kMomentum) {
      momentum_buf[i] = mom * momentum_buf[i] + inc;
      param[i] -= momentum_buf[i];
    } else {
      param[i] -= inc;
    }
  }
}

template <typename T>
void rmsprop_step(T* param, const T* grad, T* rms, T* momentum_buf, T* mg, index_t n, double lr,
                  double rho, double momentum, double epsilon, double weight_decay) {
  const T lr_t = static_cast<T>(lr), rho_t = static_cast<T>(rho);
  const T one_rho = static_cast<T>(1.0 - rho);
  const T mom = static_cast<T>(momentum), eps = static_cast<T>(epsilon);
  const T lr_wd = static_cast<T>(lr * weight_decay);
  auto range = mg ? (momentum_buf ? &rmsprop_range<T, true, true> : &rmsprop_range<T, true, false>)
                  : (momentum_buf ? &rmsprop_range<T, false, true> : &rmsprop_range<T, false, false>);
  parallel_for(0, n, kGrain, [&](index_t lo, index_t hi) {
    if (weight_decay != 0.0) decay(param, lo, hi, lr_wd);
    range(param, grad, rms, momentum_buf, mg, lo, hi, lr_t, rho_t, one_rho, mom, eps);
  });
}

#define NNCORE_INSTANTIATE(T)                                                                   \
  template void sgd_step<T>(T*, const T*, T*, index_t, double, double, bool, double);           \
  template void adam_step<T>(T*, const T*, T*, T*, T*, index_t, double, double, double, double, \
                             double, double);                                                   \
  template void rmsprop_step<T>(T*, const T*, T*, T*, T*, index_t, double, double, double, double, \
                                double);
NNCORE_INSTANTIATE(float)
NNCORE_INSTANTIATE(double)
#undef NNCORE_INSTANTIATE

}  // namespace nncore
