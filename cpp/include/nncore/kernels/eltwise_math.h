// exp, expm1, log1p, sigmoid, tanh and softplus written so that loops calling them auto-vectorize
// at any ISA level (calls into libm do not), with special values handled by clamps and selects.
// Loops over them need -fno-trapping-math: otherwise GCC will not turn the selects into blends.
//
// Everything here has internal linkage (anonymous namespace) and uses only compiler builtins, so an
// ISA-specific kernel file may include it and compile its own copy with its own flags without the
// linker merging that copy into generic code (see nncore/kernels/gemm_kernel.h).
#pragma once
#include <cstdint>

namespace nncore {
namespace {

template <typename T>
struct MathConst;

template <>
struct MathConst<float> {
  using U = std::uint32_t;
  static constexpr int kMantBits = 23;
  static constexpr U kBias = 127;
  // exp(x) rounds to 0 below -104 and overflows above 88.73; clamping to [lo, hi] keeps the
  // exponent arithmetic in range while still producing 0 and inf.
  static constexpr float kExpLo = -104.0f, kExpHi = 89.0f;
  // Adding 1.5 * 2^23 rounds to the nearest integer and leaves it in the low mantissa bits.
  static constexpr float kRoundMagic = 12582912.0f;
  // Cody-Waite split of ln 2: n * kLn2Hi is exact for the |n| <= 151 that occur.
  static constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440054690583e-4f;
};

template <>
struct MathConst<double> {
  using U = std::uint64_t;
  static constexpr int kMantBits = 52;
  static constexpr U kBias = 1023;
  static constexpr double kExpLo = -746.0, kExpHi = 710.0;
  static constexpr double kRoundMagic = 6755399441055744.0;  // 1.5 * 2^52
  static constexpr double kLn2Hi = 0.693145751953125, kLn2Lo = 1.42860682030941723212e-6;
};

template <typename T>
inline typename MathConst<T>::U bits_of(T x) {
  typename MathConst<T>::U u;
  __builtin_memcpy(&u, &x, sizeof u);
  return u;
}

template <typename T>
inline T from_bits(typename MathConst<T>::U u) {
  T x;
  __builtin_memcpy(&x, &u, sizeof x);
  return x;
}

inline float abs_of(float x) { return __builtin_fabsf(x); }
inline double abs_of(double x) { return __builtin_fabs(x); }
inline float copysign_of(float mag, float sgn) { return __builtin_copysignf(mag, sgn); }
inline double copysign_of(double mag, double sgn) { return __builtin_copysign(mag, sgn); }

// NaN if x is NaN, else v: piecewise-linear derivatives use it so that a NaN input is not hidden.
template <typename T>
inline T nan_or(T x, T v) {
  return x != x ? x : v;
}

constexpr double inv_factorial(int k) {
  double f = 1.0;  // exact: k! fits a double's mantissa for every k used here (k <= 15)
  for (int i = 2; i <= k; ++i) f *= i;
  return 1.0 / f;
}

// sum_{k=K}^{Last} r^(k-K) / (k + Offset)!, by Horner, with compile-time coefficients.
template <typename T, int K, int Last, int Offset>
struct TaylorExp {
  static inline T eval(T r) {
    static constexpr T c = static_cast<T>(inv_factorial(K + Offset));
    return c + r * TaylorExp<T, K + 1, Last, Offset>::eval(r);
  }
};
template <typename T, int Last, int Offset>
struct TaylorExp<T, Last, Last, Offset> {
  static inline T eval(T) { return static_cast<T>(inv_factorial(Last + Offset)); }
};

// sum_{k=K}^{Last} z^(k-K) / (2k + 1), by Horner: 1 + z/3 + z^2/5 + ... for K = 0.
template <typename T, int K, int Last>
struct AtanhSeries {
  static inline T eval(T z) {
    static constexpr T c = static_cast<T>(1.0 / (2 * K + 1));
    return c + z * AtanhSeries<T, K + 1, Last>::eval(z);
  }
};
template <typename T, int Last>
struct AtanhSeries<T, Last, Last> {
  static inline T eval(T) { return static_cast<T>(1.0 / (2 * Last + 1)); }
};

// exp(x) within ~1 ulp; exp(+-inf) = inf / 0, exp(NaN) = NaN, overflow -> inf, underflow -> 0 or a
// subnormal.
template <typename T>
inline T exp_v(T x) {
  using C = MathConst<T>;
  using U = typename C::U;
  // NaN-preserving clamps: comparisons with NaN are false, so NaN passes through.
  x = x < C::kExpLo ? T(C::kExpLo) : x;
  x = x > C::kExpHi ? T(C::kExpHi) : x;
  const T t = x * T(1.44269504088896340736) + T(C::kRoundMagic);
  const T n = t - T(C::kRoundMagic);
  // r = x - n ln2, |r| <= ln2 / 2, in two steps so that r keeps its low bits.
  const T r = (x - n * T(C::kLn2Hi)) - n * T(C::kLn2Lo);
  // Taylor to degree 7 (float) / 13 (double): the first dropped term is below half an ulp at
  // |r| = ln2 / 2 (0.3466^8 / 8! = 5e-9, 0.3466^14 / 14! = 4e-18).
  constexpr int kTerms = sizeof(T) == 4 ? 8 : 14;
  const T p = TaylorExp<T, 0, kTerms - 1, 0>::eval(r);
  // 2^n as two factors 2^n1 * 2^(n - n1), n1 = round(n / 2): each is a normal number for every n
  // the clamp allows, and the second multiply rounds once into the subnormal range or overflows to
  // inf as it should. The integers are taken from the rounding trick's low bits and kept in
  // unsigned (two's complement) arithmetic, which vectorizes at every ISA level, 64-bit included.
  const U magic_bits = bits_of(T(C::kRoundMagic));
  const U ni = bits_of(t) - magic_bits;
  const U n1 = bits_of(n * T(0.5) + T(C::kRoundMagic)) - magic_bits;
  const U n2 = ni - n1;
  const T s1 = from_bits<T>((n1 + C::kBias) << C::kMantBits);
  const T s2 = from_bits<T>((n2 + C::kBias) << C::kMantBits);
  return p * s1 * s2;
}

// exp(x) - 1, accurate near 0 (within a few ulp everywhere); expm1(-inf) = -1.
template <typename T>
inline T expm1_v(T x) {
  // |x| < ln2 / 2: x (1 + x/2! + x^2/3! + ...), first dropped term below half an ulp relative
  // (float: 0.3466^7 / 8!, double: 0.3466^13 / 14!).
  constexpr int kTerms = sizeof(T) == 4 ? 7 : 13;
  const T small = x * TaylorExp<T, 0, kTerms - 1, 1>::eval(x);
  const T big = exp_v(x) - T(1);
  return abs_of(x) < T(0.34657359027997264) ? small : big;
}

// log(1 + u) for u in [0, 1] (and NaN), the range softplus and the logistic losses need.
template <typename T>
inline T log1p_unit(T u) {
  const T w = T(1) + u;
  // w = m 2^e with m in [1/sqrt2, sqrt2]; log m = 2 atanh(s), s = (m - 1)/(m + 1), |s| <= 0.1716.
  const bool high = w > T(1.41421356237309504880);
  const T m = high ? w * T(0.5) : w;
  const T e = high ? T(0.69314718055994530942) : T(0);
  const T s = (m - T(1)) / (m + T(1));  // m - 1 is exact (Sterbenz)
  const T z = s * s;
  // 2 s (1 + z/3 + z^2/5 + ...): the first dropped term is below half an ulp (z <= 0.0295:
  // float stops after z^4/9, double after z^10/21).
  constexpr int kTerms = sizeof(T) == 4 ? 5 : 11;
  const T p = AtanhSeries<T, 0, kTerms - 1>::eval(z);
  const T log_w = e + T(2) * s * p;
  // Goldberg's correction: w is 1 + u rounded, so scale log(w) by u / (w - 1).
  const T d = w - T(1);
  return d == T(0) ? u : log_w * (u / d);
}

// 1 / (1 + exp(-x)) without overflow for any x: uses e = exp(-|x|) <= 1 on both sides.
template <typename T>
inline T sigmoid_v(T x) {
  const T e = exp_v(-abs_of(x));
  const T r = T(1) / (T(1) + e);
  return x >= T(0) ? r : e * r;
}

// sigmoid'(x) = e / (1 + e)^2 with e = exp(-|x|): symmetric, no cancellation in 1 - sigmoid.
template <typename T>
inline T sigmoid_grad_v(T x) {
  const T e = exp_v(-abs_of(x));
  const T r = T(1) / (T(1) + e);
  return e * r * r;
}

// tanh(x) = sign(x) expm1(2|x|) / (expm1(2|x|) + 2); 2|x| is capped at 44 where tanh is 1 in
// double, so expm1 never overflows.
template <typename T>
inline T tanh_v(T x) {
  T a = T(2) * abs_of(x);
  a = a > T(44) ? T(44) : a;
  const T em = expm1_v(a);
  return copysign_of(em / (em + T(2)), x);
}

// log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), finite for every finite x.
template <typename T>
inline T softplus_v(T x) {
  const T pos = x > T(0) ? x : T(0);
  return pos + log1p_unit(exp_v(-abs_of(x)));
}

// Phi(x), the standard normal CDF, and phi(x) = exp(-x^2/2) / sqrt(2 pi) through `pdf`.
//
// float (vectorizable): Phi(x) = erfc(-x / sqrt2) / 2 with erfc(u) = exp(-u^2) R(|u|) for u >= 0
// (and 2 - erfc(|u|) for u < 0). R(u) = erfc(u) e^(u^2) is smooth and slowly varying; a degree-10
// polynomial in t = 1 / (1 + u/2), fitted by least squares on Chebyshev nodes over u in
// [0, 10.1], matches it to 7e-9 relative (2.5e-7 evaluated in float). exp(-x^2/2) is computed from
// x itself with x^2 split exactly (z = x with its low 12 bits cleared, x^2 = z^2 + (x-z)(x+z)):
// rounding x / sqrt2 or x^2 would cost |x|^2 eps of relative accuracy in the left tail. Relative
// accuracy is a few ulp wherever Phi is representable; near Phi = 1/2 it is absolute.
// double: the libm erfc (scalar).
constexpr double kNormInvSqrt2 = 0.70710678118654752440;
constexpr double kNormInvSqrt2Pi = 0.39894228040143267794;

inline float erfc_scaled_poly(float t) {
  constexpr float c[11] = {
      8.946256457420532e-06f,
      0.28183379769325256f,
      0.28541266918182373f,
      0.22263124585151672f,
      0.2884570360183716f,
      -0.2605333924293518f,
      0.6998510360717773f,
      -0.9854532480239868f,
      0.6548951268196106f,
      -0.21598108112812042f,
      0.028877872973680496f};
  float p = c[10];
  for (int k = 9; k >= 0; --k) p = p * t + c[k];
  return p;
}

inline float normal_cdf_v(float x, float& pdf) {
  float a = abs_of(x);
  // Phi(-15.6) and phi(15.6) are below float's range; the clamp also keeps (a - z) finite at inf.
  a = a > 15.6f ? 15.6f : a;
  const float z = from_bits<float>(bits_of(a) & 0xFFFFF000u);
  const float e = exp_v(-0.5f * z * z) * exp_v(-0.5f * (a - z) * (a + z));  // exp(-x^2/2)
  pdf = static_cast<float>(kNormInvSqrt2Pi) * e;
  float u = a * static_cast<float>(kNormInvSqrt2);
  u = u > 10.1f ? 10.1f : u;
  const float q = e * erfc_scaled_poly(1.0f / (1.0f + 0.5f * u));  // erfc(|x| / sqrt2)
  return x < 0.0f ? 0.5f * q : 1.0f - 0.5f * q;
}

inline double normal_cdf_v(double x, double& pdf) {
  pdf = kNormInvSqrt2Pi * exp_v(-0.5 * x * x);
  return 0.5 * __builtin_erfc(-x * kNormInvSqrt2);
}

}  // namespace
}  // namespace nncore
