// The layer normalization row kernels. Each cpp/kernels/<isa>/layer_norm_kernels.cpp defines
// NNCORE_LN_LANE_BYTES (bytes of independent accumulators, a few of that ISA's vectors), includes
// this file and compiles it with its own flags; everything has internal linkage and no
// standard-library template is used (see depthwise_kernels_impl.h).
//
// Row sums run over lanes: element i goes to lane i % L, each lane adds blocks of kBlock elements
// in T and then into a double, and the lanes are folded in order at the end. The order depends
// on d and the ISA path only, so a row gives the same bits whichever thread computes it.
#pragma once
#include <cmath>

#include "nncore/kernels/layer_norm_kernel.h"

#ifndef NNCORE_LN_LANE_BYTES
#define NNCORE_LN_LANE_BYTES 32
#endif

namespace nncore {
namespace {

using idx = std::ptrdiff_t;

template <typename T>
constexpr idx ln_lanes() {
  return NNCORE_LN_LANE_BYTES / static_cast<idx>(sizeof(T));
}
// Lane steps added in T before the lane's double: bounds float32 rounding on long rows.
constexpr idx kLnBlock = 16;

// sum_i f(i) over [0, d) in the fixed lane order above.
template <typename T, class F>
inline double lane_sum(idx d, F&& f) {
  constexpr idx L = ln_lanes<T>();
  double total[L];
  for (idx l = 0; l < L; ++l) total[l] = 0.0;
  idx i = 0;
  while (i + L <= d) {
    T acc[L];
    for (idx l = 0; l < L; ++l) acc[l] = T(0);
    for (idx b = 0; b < kLnBlock && i + L <= d; ++b, i += L)
      for (idx l = 0; l < L; ++l) acc[l] += f(i + l);
    for (idx l = 0; l < L; ++l) total[l] += static_cast<double>(acc[l]);
  }
  for (idx l = 0; i + l < d; ++l) total[l] += static_cast<double>(f(i + l));
  double s = total[0];
  for (idx l = 1; l < L; ++l) s += total[l];
  return s;
}

template <typename T>
void ln_forward(const T* x, const T* gamma, const T* beta, idx r0, idx r1, idx d, double eps,
                bool center, T* y, T* mean, T* inv) {
  for (idx r = r0; r < r1; ++r) {
    const T* xr = x + r * d;
    T* yr = y + r * d;
    const T m = static_cast<T>(lane_sum<T>(d, [&](idx i) { return xr[i]; }) / static_cast<double>(d));
    const double var = lane_sum<T>(d, [&](idx i) {
      const T v = xr[i] - m;
      return v * v;
    }) / static_cast<double>(d);
    const T s = static_cast<T>(1.0 / std::sqrt(var + eps));
    mean[r] = m;
    inv[r] = s;
    const T c = center ? m : T(0);
    if (gamma && beta) {
      for (idx i = 0; i < d; ++i) yr[i] = ((xr[i] - c) * s) * gamma[i] + beta[i];
    } else if (gamma) {
      for (idx i = 0; i < d; ++i) yr[i] = ((xr[i] - c) * s) * gamma[i];
    } else if (beta) {
      for (idx i = 0; i < d; ++i) yr[i] = (xr[i] - c) * s + beta[i];
    } else {
      for (idx i = 0; i < d; ++i) yr[i] = (xr[i] - c) * s;
    }
  }
}

// The sums of f(i) and h(i) over [0, d) in one pass, each in lane_sum's order.
template <typename T, class F, class H>
inline void lane_sum2(idx d, F&& f, H&& h, double& sf, double& sh) {
  constexpr idx L = ln_lanes<T>();
  double tf[L], th[L];
  for (idx l = 0; l < L; ++l) tf[l] = th[l] = 0.0;
  idx i = 0;
  while (i + L <= d) {
    T af[L], ah[L];
    for (idx l = 0; l < L; ++l) af[l] = ah[l] = T(0);
    for (idx b = 0; b < kLnBlock && i + L <= d; ++b, i += L)
      for (idx l = 0; l < L; ++l) {
        af[l] += f(i + l);
        ah[l] += h(i + l);
      }
    for (idx l = 0; l < L; ++l) {
      tf[l] += static_cast<double>(af[l]);
      th[l] += static_cast<double>(ah[l]);
    }
  }
  for (idx l = 0; i + l < d; ++l) {
    tf[l] += static_cast<double>(f(i + l));
    th[l] += static_cast<double>(h(i + l));
  }
  sf = tf[0];
  sh = th[0];
  for (idx l = 1; l < L; ++l) {
    sf += tf[l];
    sh += th[l];
  }
}

template <typename T, bool kGamma>
void ln_backward_rows(const T* dy, const T* x, const T* gamma, const T* mean, const T* inv, idx r0,
                      idx r1, idx d, bool center, T* dx, double* pg, double* pb) {
  const double dd = static_cast<double>(d);
  for (idx r = r0; r < r1; ++r) {
    const T* g = dy + r * d;
    const T* xr = x + r * d;
    T* o = dx + r * d;
    const T m = mean[r], s = inv[r];
    const T c = center ? m : T(0);
    auto gh = [&](idx i) { return kGamma ? g[i] * gamma[i] : g[i]; };
    if (pg && pb) {
      for (idx i = 0; i < d; ++i) {
        pg[i] += static_cast<double>(g[i] * ((xr[i] - c) * s));
        pb[i] += static_cast<double>(g[i]);
      }
    } else if (pg) {
      for (idx i = 0; i < d; ++i) pg[i] += static_cast<double>(g[i] * ((xr[i] - c) * s));
    } else if (pb) {
      for (idx i = 0; i < d; ++i) pb[i] += static_cast<double>(g[i]);
    }
    if (center) {
      double s1, s2;
      lane_sum2<T>(d, gh, [&](idx i) { return gh(i) * ((xr[i] - m) * s); }, s1, s2);
      const T k1 = static_cast<T>(s1 / dd), k2 = static_cast<T>(s2 / dd);
      for (idx i = 0; i < d; ++i) o[i] = s * (gh(i) - k1 - ((xr[i] - m) * s) * k2);
    } else {
      const T k = static_cast<T>(lane_sum<T>(d, [&](idx i) { return gh(i) * xr[i]; }) / dd);
      const T s2k = s * s * k;
      for (idx i = 0; i < d; ++i) o[i] = s * (gh(i) - (xr[i] - m) * s2k);
    }
  }
}

template <typename T>
void ln_backward(const T* dy, const T* x, const T* gamma, const T* mean, const T* inv, idx r0,
                 idx r1, idx d, bool center, T* dx, double* pg, double* pb) {
  if (gamma)
    ln_backward_rows<T, true>(dy, x, gamma, mean, inv, r0, r1, d, center, dx, pg, pb);
  else
    ln_backward_rows<T, false>(dy, x, gamma, mean, inv, r0, r1, d, center, dx, pg, pb);
}

inline void fill_layer_norm_kernels_impl(LayerNormKernelSet& set) {
  set.f32.forward = &ln_forward<float>;
  set.f32.backward = &ln_backward<float>;
  set.f64.forward = &ln_forward<double>;
  set.f64.backward = &ln_backward<double>;
}

}  // namespace
}  // namespace nncore
