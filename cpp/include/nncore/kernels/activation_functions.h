// The activations of nncore.ops as per-element functions: value f(x), derivative f'(x) and, where
// it is a function of the output, f'(x) written in terms of y = f(x).
//
// Internal linkage and builtins only, for the same reason as eltwise_math.h: each ISA kernel file
// compiles its own copy. Conventions shared by all of them:
//  * NaN in gives NaN out, for values and derivatives (nan_or), never a silently clean number;
//  * the limits at +-inf are returned where products like inf * 0 would otherwise appear;
//  * at the kinks of piecewise-linear functions the derivative is that of the x > kink side
//    (0 for relu at 0, as in TensorFlow and PyTorch).
#pragma once
#include "nncore/kernels/eltwise_math.h"

namespace nncore {
namespace {

// Select helpers (plain ternaries on purpose: GCC turns them into vector blends).
template <typename T>
inline bool is_inf(T x) {
  return abs_of(x) == T(__builtin_inf());
}

struct ReluFn {
  template <typename T>
  static T f(T x, T, T) {
    return x < T(0) ? T(0) : x;
  }
  template <typename T>
  static T df(T x, T, T) {
    return x > T(0) ? T(1) : nan_or(x, T(0));
  }
  template <typename T>
  static T df_y(T y, T p0, T p1) {
    return df(y, p0, p1);  // y > 0 exactly when x > 0
  }
};

struct Relu6Fn {
  template <typename T>
  static T f(T x, T, T) {
    x = x < T(0) ? T(0) : x;
    return x > T(6) ? T(6) : x;
  }
  template <typename T>
  static T df(T x, T, T) {
    return (x > T(0)) & (x < T(6)) ? T(1) : nan_or(x, T(0));
  }
  template <typename T>
  static T df_y(T y, T p0, T p1) {
    return df(y, p0, p1);  // 0 < y < 6 exactly when 0 < x < 6
  }
};

// p0 = negative slope.
struct LeakyReluFn {
  template <typename T>
  static T f(T x, T a, T) {
    return x < T(0) ? a * x : x;
  }
  template <typename T>
  static T df(T x, T a, T) {
    return x > T(0) ? T(1) : nan_or(x, a);
  }
};

// p0 = alpha: x for x > 0, alpha (e^x - 1) otherwise.
struct EluFn {
  template <typename T>
  static T f(T x, T a, T) {
    return x > T(0) ? x : a * expm1_v(x);
  }
  template <typename T>
  static T df(T x, T a, T) {
    return x > T(0) ? T(1) : a * exp_v(x);
  }
  // alpha e^x = y + alpha for x <= 0 (and y > 0 exactly when x > 0, for alpha >= 0).
  template <typename T>
  static T df_y(T y, T a, T) {
    return y > T(0) ? T(1) : y + a;
  }
};

// scale * elu(x, alpha) with the constants of Klambauer et al. (2017), as Keras.
constexpr double kSeluAlpha = 1.67326324235437728481704299167;
constexpr double kSeluScale = 1.05070098735548049341933498529;

struct SeluFn {
  template <typename T>
  static T f(T x, T, T) {
    return T(kSeluScale) * (x > T(0) ? x : T(kSeluAlpha) * expm1_v(x));
  }
  template <typename T>
  static T df(T x, T, T) {
    return x > T(0) ? T(kSeluScale) : T(kSeluScale * kSeluAlpha) * exp_v(x);
  }
  template <typename T>
  static T df_y(T y, T, T) {
    return y > T(0) ? T(kSeluScale) : y + T(kSeluScale * kSeluAlpha);
  }
};

struct SigmoidFn {
  template <typename T>
  static T f(T x, T, T) {
    return sigmoid_v(x);
  }
  template <typename T>
  static T df(T x, T, T) {
    return sigmoid_grad_v(x);
  }
  template <typename T>
  static T df_y(T y, T, T) {
    return y * (T(1) - y);
  }
};

// Keras 3: 0 for x <= -3, 1 for x >= 3, x / 6 + 1/2 in between.
struct HardSigmoidFn {
  template <typename T>
  static T f(T x, T, T) {
    T y = x * T(1.0 / 6.0) + T(0.5);
    y = y < T(0) ? T(0) : y;
    return y > T(1) ? T(1) : y;
  }
  template <typename T>
  static T df(T x, T, T) {
    return (x > T(-3)) & (x < T(3)) ? T(1.0 / 6.0) : nan_or(x, T(0));
  }
};

struct TanhFn {
  template <typename T>
  static T f(T x, T, T) {
    return tanh_v(x);
  }
  // sech^2(x) = 4 e / (1 + e)^2 with e = exp(-2|x|): 1 - tanh^2 would cancel in the tails.
  template <typename T>
  static T df(T x, T, T) {
    const T e = exp_v(T(-2) * abs_of(x));
    const T d = T(1) + e;
    return T(4) * e / (d * d);
  }
  // From the output only 1 - y^2 is available: accurate to eps absolute, not relative.
  template <typename T>
  static T df_y(T y, T, T) {
    return T(1) - y * y;
  }
};

struct SoftplusFn {
  template <typename T>
  static T f(T x, T, T) {
    return softplus_v(x);
  }
  template <typename T>
  static T df(T x, T, T) {
    return sigmoid_v(x);
  }
};

// x / (1 + |x|); at +-inf the quotient inf/inf is replaced by its limit +-1.
struct SoftsignFn {
  template <typename T>
  static T f(T x, T, T) {
    const T q = x / (T(1) + abs_of(x));
    return is_inf(x) ? copysign_of(T(1), x) : q;
  }
  template <typename T>
  static T df(T x, T, T) {
    const T d = T(1) + abs_of(x);
    return T(1) / (d * d);
  }
};

struct ExponentialFn {
  template <typename T>
  static T f(T x, T, T) {
    return exp_v(x);
  }
  template <typename T>
  static T df(T x, T, T) {
    return exp_v(x);
  }
  template <typename T>
  static T df_y(T y, T, T) {
    return y;
  }
};

// x sigmoid(x) (swish = silu). With e = exp(-|x|), r = 1 / (1 + e): sigmoid(x) and sigmoid(-x)
// are r and e r in some order, so 1 - sigmoid(x) never cancels.
struct SwishFn {
  template <typename T>
  static T f(T x, T, T) {
    const T s = sigmoid_v(x);
    return s == T(0) ? T(0) : x * s;  // limit 0 at -inf (not -inf * 0)
  }
  // f' = s + x s (1 - s); the second term is dropped where s (1 - s) underflows to 0, which is
  // also where x * s (1 - s) -> 0 (and avoids inf * 0 at +-inf).
  template <typename T>
  static T df(T x, T, T) {
    const T s = sigmoid_v(x);
    const T sg = sigmoid_grad_v(x);
    return sg == T(0) ? s : s + x * sg;
  }
};

// Exact GELU: x Phi(x) with the normal CDF of eltwise_math.h (vectorized in float; libm erfc in
// double). Phi's tails are accurate, so x Phi(x) is accurate for x < 0 too (1 + erf would cancel).
struct GeluFn {
  template <typename T>
  static T f(T x, T, T) {
    T pdf;
    const T cdf = normal_cdf_v(x, pdf);
    return cdf == T(0) ? T(0) : x * cdf;
  }
  // Phi(x) + x phi(x); the second term is dropped where phi underflows (also avoids inf * 0).
  template <typename T>
  static T df(T x, T, T) {
    T pdf;
    const T cdf = normal_cdf_v(x, pdf);
    return pdf == T(0) ? cdf : cdf + x * pdf;
  }
};

// tanh GELU: x (1 + tanh(z)) / 2 with z = sqrt(2/pi) (x + 0.044715 x^3), computed as
// x sigmoid(2z), which is the same function without the cancellation of 1 + tanh(z) for x < 0.
constexpr double kSqrt2OverPi = 0.79788456080286535588;
constexpr double kGeluCubic = 0.044715;

struct GeluTanhFn {
  template <typename T>
  static T f(T x, T, T) {
    const T u = T(2 * kSqrt2OverPi) * (x + T(kGeluCubic) * x * x * x);
    const T s = sigmoid_v(u);
    return s == T(0) ? T(0) : x * s;
  }
  // sigmoid(u) + x sigmoid'(u) u'(x), u' = 2 sqrt(2/pi) (1 + 3 * 0.044715 x^2).
  template <typename T>
  static T df(T x, T, T) {
    const T x2 = x * x;
    const T u = T(2 * kSqrt2OverPi) * (x + T(kGeluCubic) * x2 * x);
    const T sg = sigmoid_grad_v(u);
    const T du = T(2 * kSqrt2OverPi) * (T(1) + T(3 * kGeluCubic) * x2);
    return sg == T(0) ? sigmoid_v(u) : sigmoid_v(u) + x * sg * du;
  }
};

// p0 = theta: x for x > theta, else 0.
struct ThresholdedReluFn {
  template <typename T>
  static T f(T x, T theta, T) {
    return x <= theta ? T(0) : x;
  }
  template <typename T>
  static T df(T x, T theta, T) {
    return x > theta ? T(1) : nan_or(x, T(0));
  }
};

// The Heaviside step of the seeds: 0 for x < 0, 1 for x >= 0. Its derivative is 0 wherever it
// exists; the backward pass returns gy * 0 (zeros for finite gy).
struct HeavisideFn {
  template <typename T>
  static T f(T x, T, T) {
    return x < T(0) ? T(0) : nan_or(x, T(1));
  }
  template <typename T>
  static T df(T x, T, T) {
    return nan_or(x, T(0));
  }
};

}  // namespace
}  // namespace nncore
