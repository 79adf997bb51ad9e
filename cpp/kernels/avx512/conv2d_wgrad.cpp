// AVX-512 weight-gradient kernels of convolution (see conv2d_kernel.h): tiles of MR im2col
// columns x NV registers of output channels, runs along grad_y rows, or whole short runs per
// register (lanes = columns) for few channels.
#include "conv_simd.h"
#include "nncore/kernels/conv2d_wino_impl.h"

namespace nncore {
namespace {

// dw columns [k0, k0 + MR) of R runs (starting at run u0) x channels [co0, co0 + NV*W), the last
// vector masked to `valid` lanes. Every x address is a run's base register plus an immediate.
template <class S, int R, int MR, int NV>
void wgrad_tile(const ConvWgradArgs<typename S::T>& a, idx u0, idx k0, idx co0, idx valid) {
  using T = typename S::T;
  using V = typename S::V;
  constexpr int W = S::W;
  typename S::M mk[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) mk[v] = lane_mask<S>(valid - v * W);
  V acc[R][MR][NV];
  T* dw = a.dw + u0 * a.run_dw + k0 * a.cout + co0;
#pragma GCC unroll 4
  for (int u = 0; u < R; ++u)
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[u][i][v] = S::mload(mk[v], dw + u * a.run_dw + i * a.cout + v * W);
  const T* x0 = a.x + u0 * a.run_x + k0;
  for (idx r = 0; r < a.rows; ++r) {
    const T* xr = x0 + r * a.x_rs;
    const T* dr = a.dy + r * a.dy_rs + co0;
    for (idx p = 0; p < a.cols; ++p) {
      const T* xp = xr + p * a.x_px;
      V d[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) d[v] = S::mload(mk[v], dr + p * a.cout + v * W);
      static_for<0, R>([&](auto u) {
        const T* xu = xp + u.value * a.run_x;
        static_for<0, MR>([&](auto i) {
          if constexpr (NV == 1) {
            acc[u.value][i.value][0] = S::template fma_at<i.value>(xu, d[0], acc[u.value][i.value][0]);
          } else {
            // One broadcast feeds NV multiplies: fewer loads than a broadcast per FMA.
            const V xi = S::set1(xu + i.value);
            static_for<0, NV>([&](auto v) {
              acc[u.value][i.value][v.value] = S::fma(xi, d[v.value], acc[u.value][i.value][v.value]);
            });
          }
        });
      });
    }
  }
#pragma GCC unroll 4
  for (int u = 0; u < R; ++u)
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) S::mstore(dw + u * a.run_dw + i * a.cout + v * W, mk[v], acc[u][i][v]);
}

// Tile heights compiled for remainders: every height up to 8 columns, multiples of 4 above (each
// height is a function of its own; all heights up to 26 took 40 % more compile time for this file).
constexpr bool rest_height(int m) { return m <= 8 || m % 4 == 0; }

// `rest` (<= M) columns: the tallest compiled height that fits, then the columns left (21: 20 + 1;
// up to 8 columns: one tile of exactly that many).
template <class S, int R, int NV, int M>
void wgrad_rest(const ConvWgradArgs<typename S::T>& a, idx u0, idx k0, idx co0, idx valid, idx rest) {
  if constexpr (M > 0) {
    if (rest_height(M) && rest >= M) {
      wgrad_tile<S, R, M, NV>(a, u0, k0, co0, valid);
      k0 += M;
      rest -= M;
    }
    if (rest > 0) wgrad_rest<S, R, NV, M - 1>(a, u0, k0, co0, valid, rest);
  }
}

// Runs u0 .. u0+R-1 together: full MR-column tiles, then the remainder.
template <class S, int R, int MR, int NV>
void wgrad_runs(const ConvWgradArgs<typename S::T>& a, idx u0, idx co, idx valid) {
  idx k = 0;
  for (; k + MR <= a.len; k += MR) wgrad_tile<S, R, MR, NV>(a, u0, k, co, valid);
  if (k < a.len) wgrad_rest<S, R, NV, MR - 1>(a, u0, k, co, valid, a.len - k);
}

// ACC accumulators per tile: short runs are taken three or two at a time.
template <class S, int NV, int ACC>
void wgrad_shape(const ConvWgradArgs<typename S::T>& a) {
  constexpr idx NB = NV * S::W;
  constexpr int MR1 = ACC / NV, MR2 = ACC / (2 * NV), MR3 = ACC / (3 * NV);
  for (idx co = 0; co < a.cout; co += NB) {
    const idx valid = (a.cout - co < NB) ? a.cout - co : NB;
    idx u = 0;
    if (a.len <= MR3)
      for (; u + 3 <= a.nruns; u += 3) wgrad_runs<S, 3, MR3, NV>(a, u, co, valid);
    if (a.len <= MR2)
      for (; u + 2 <= a.nruns; u += 2) wgrad_runs<S, 2, MR2, NV>(a, u, co, valid);
    for (; u < a.nruns; ++u) wgrad_runs<S, 1, MR1, NV>(a, u, co, valid);
  }
}

// Runs along grad_y rows (run_x == 0): R runs x MR columns, one register of channels. Each input
// value is broadcast once and meets the R grad_y rows it belongs to, so loads drop from one per
// FMA to (MR + R) per MR * R FMAs.
template <class S, int R, int MR>
void wgrad_dy_tile(const ConvWgradArgs<typename S::T>& a, idx u0, idx k0, idx co0, idx valid) {
  using T = typename S::T;
  using V = typename S::V;
  const typename S::M mk = lane_mask<S>(valid);
  V acc[R][MR];
  T* dw = a.dw + u0 * a.run_dw + k0 * a.cout + co0;
  static_for<0, R>([&](auto u) {
    static_for<0, MR>([&](auto i) { acc[u.value][i.value] = S::mload(mk, dw + u.value * a.run_dw + i.value * a.cout); });
  });
  const T* d0 = a.dy + u0 * a.run_dy + co0;
  for (idx r = 0; r < a.rows; ++r) {
    const T* xr = a.x + r * a.x_rs + k0;
    const T* dr = d0 + r * a.dy_rs;
    for (idx p = 0; p < a.cols; ++p) {
      const T* xp = xr + p * a.x_px;
      V d[R];
      static_for<0, R>([&](auto u) { d[u.value] = S::mload(mk, dr + u.value * a.run_dy + p * a.cout); });
      static_for<0, MR>([&](auto i) {
        const V xi = S::set1(xp + i.value);
        static_for<0, R>([&](auto u) { acc[u.value][i.value] = S::fma(xi, d[u.value], acc[u.value][i.value]); });
      });
    }
  }
  static_for<0, R>([&](auto u) {
    static_for<0, MR>([&](auto i) { S::mstore(dw + u.value * a.run_dw + i.value * a.cout, mk, acc[u.value][i.value]); });
  });
}

template <class S, int R, int M>
void wgrad_dy_rest(const ConvWgradArgs<typename S::T>& a, idx u0, idx k0, idx co0, idx valid, idx rest) {
  if constexpr (M > 0) {
    if (rest_height(M) && rest >= M) {
      wgrad_dy_tile<S, R, M>(a, u0, k0, co0, valid);
      k0 += M;
      rest -= M;
    }
    if (rest > 0) wgrad_dy_rest<S, R, M - 1>(a, u0, k0, co0, valid, rest);
  }
}

template <class S, int R, int MR>
void wgrad_dy_runs(const ConvWgradArgs<typename S::T>& a, idx u0, idx co, idx valid) {
  idx k = 0;
  for (; k + MR <= a.len; k += MR) wgrad_dy_tile<S, R, MR>(a, u0, k, co, valid);
  if (k < a.len) wgrad_dy_rest<S, R, MR - 1>(a, u0, k, co, valid, a.len - k);
}

template <class S>
void wgrad_dy(const ConvWgradArgs<typename S::T>& a) {
  for (idx co = 0; co < a.cout; co += S::W) {
    const idx valid = (a.cout - co < S::W) ? a.cout - co : S::W;
    idx u = 0;
    for (; u + 3 <= a.nruns; u += 3) wgrad_dy_runs<S, 3, 8>(a, u, co, valid);
    for (; u + 2 <= a.nruns; u += 2) wgrad_dy_runs<S, 2, 12>(a, u, co, valid);
    for (; u < a.nruns; ++u) wgrad_dy_runs<S, 1, 24>(a, u, co, valid);
  }
}

// float32 takes runs along grad_y rows for 9 to 16 channels (one 512-bit register per pixel).
bool prefers_dy_runs_f32(idx cout) { return cout > 8 && cout <= 16; }
bool prefers_dy_runs_f64(idx) { return false; }

// len values p[k * stride] in the first lanes of a register (the others 0), and back: once per
// tile, outside its pixel loop, so called rather than inlined and unrolled for every accumulator.
template <class S>
__attribute__((noinline)) typename S::V load_run(const typename S::T* p, idx stride, idx len) {
  typename S::T tmp[S::W] = {};
  for (idx k = 0; k < len; ++k) tmp[k] = p[k * stride];
  return S::load(tmp);
}

template <class S>
__attribute__((noinline)) void store_run(typename S::T* p, idx stride, idx len, typename S::V v) {
  typename S::T tmp[S::W];
  S::store(tmp, v);
  for (idx k = 0; k < len; ++k) p[k * stride] = tmp[k];
}

// Short runs and few channels (a 3x3 kernel on 3 channels: runs of 9 columns, 8 outputs): one
// register holds a whole run (lanes = columns k) and the multiplier is a broadcast grad_y channel,
// so every FMA uses a 512-bit register where the channel-vectorized tile would use 256 bits and
// a broadcast load per FMA. Lanes past the run are masked off on load and never stored.
template <class S, int NCO, int R>
void wgrad_kvec_runs(const ConvWgradArgs<typename S::T>& a, idx u0) {
  using T = typename S::T;
  using V = typename S::V;
  const typename S::M km = lane_mask<S>(a.len);
  V acc[R][NCO];
  static_for<0, R>([&](auto u) {
    static_for<0, NCO>([&](auto co) {
      acc[u.value][co.value] = load_run<S>(a.dw + (u0 + u.value) * a.run_dw + co.value, NCO, a.len);
    });
  });
  const T* x0 = a.x + u0 * a.run_x;
  for (idx r = 0; r < a.rows; ++r) {
    const T* xr = x0 + r * a.x_rs;
    const T* dr = a.dy + r * a.dy_rs;
    for (idx p = 0; p < a.cols; ++p) {
      V xv[R];
      static_for<0, R>([&](auto u) { xv[u.value] = S::mload(km, xr + p * a.x_px + u.value * a.run_x); });
      static_for<0, NCO>([&](auto co) {
        const V d = S::set1(dr + p * NCO + co.value);
        static_for<0, R>([&](auto u) { acc[u.value][co.value] = S::fma(xv[u.value], d, acc[u.value][co.value]); });
      });
    }
  }
  static_for<0, R>([&](auto u) {
    static_for<0, NCO>([&](auto co) {
      store_run<S>(a.dw + (u0 + u.value) * a.run_dw + co.value, NCO, a.len, acc[u.value][co.value]);
    });
  });
}

template <class S, int NCO>
void wgrad_kvec(const ConvWgradArgs<typename S::T>& a) {
  constexpr int R = 24 / NCO >= 3 ? 3 : (24 / NCO >= 2 ? 2 : 1);
  idx u = 0;
  for (; u + R <= a.nruns; u += R) wgrad_kvec_runs<S, NCO, R>(a, u);
  for (; u < a.nruns; ++u) wgrad_kvec_runs<S, NCO, 1>(a, u);
}

template <class S>
bool wgrad_try_kvec(const ConvWgradArgs<typename S::T>& a) {
  // Worth it when a run fills most of a register and there are several runs per pixel.
  if (a.len > S::W || 2 * a.len < S::W) return false;
  switch (a.cout) {
    case 1: wgrad_kvec<S, 1>(a); return true;
    case 2: wgrad_kvec<S, 2>(a); return true;
    case 3: wgrad_kvec<S, 3>(a); return true;
    case 4: wgrad_kvec<S, 4>(a); return true;
    case 5: wgrad_kvec<S, 5>(a); return true;
    case 6: wgrad_kvec<S, 6>(a); return true;
    case 7: wgrad_kvec<S, 7>(a); return true;
    case 8: wgrad_kvec<S, 8>(a); return true;
    default: return false;
  }
}

void wgrad_f32(const ConvWgradArgs<float>& a) {
  if (a.run_x == 0 && a.nruns > 1) return wgrad_dy<F32x16>(a);
  if (wgrad_try_kvec<F32x16>(a)) return;
  if (a.cout <= 8)
    wgrad_shape<F32x8, 1, 27>(a);
  else if (a.cout <= 16)
    wgrad_shape<F32x16, 1, 27>(a);
  else
    wgrad_shape<F32x16, 2, 24>(a);
}

// float64 (gradient checks, not speed): one run at a time, tiles of 8 columns x 8 channels. Each
// run is taken alone, so runs along grad_y rows (run_dy != 0) are handled too.
void wgrad_f64(const ConvWgradArgs<double>& a) {
  ConvWgradArgs<double> one = a;
  one.nruns = 1;
  for (idx u = 0; u < a.nruns; ++u) {
    one.x = a.x + u * a.run_x;
    one.dy = a.dy + u * a.run_dy;
    one.dw = a.dw + u * a.run_dw;
    for (idx co = 0; co < a.cout; co += F64x8::W)
      wgrad_runs<F64x8, 1, 8, 1>(one, 0, co, a.cout - co < F64x8::W ? a.cout - co : F64x8::W);
  }
}

}  // namespace

void fill_conv_wgrad_avx512(ConvKernelSet& set) {
  fill_wino(set.f32);
  fill_wino(set.f64);
  set.f32.wgrad = &wgrad_f32;
  set.f32.wgrad_prefers_dy_runs = &prefers_dy_runs_f32;
  set.f64.wgrad = &wgrad_f64;
  set.f64.wgrad_prefers_dy_runs = &prefers_dy_runs_f64;
}

}  // namespace nncore
