// Portable convolution kernels: register tiles in plain loops that the compiler vectorizes with the
// baseline instruction set. Also the oracle the ISA kernels are tested against.
#include "nncore/kernels/conv2d_kernel.h"
#include "nncore/kernels/conv2d_wino_impl.h"

namespace nncore {
namespace {

using idx = std::ptrdiff_t;

// Pixels per gather tile. Small on purpose: baseline SSE2 has 16 registers.
constexpr int kGatherMr = 4;

// m output pixels (m == MR) of one packed block of NB lanes, ncols of them stored.
template <typename T, int MR, int NB>
void gather_tile(const ConvGatherArgs<T>& a, const T* x, T* y, const T* wb, idx ncols, const T* bias) {
  T acc[MR][NB] = {};
  for (idx t = 0; t < a.ntaps; ++t) {
    const T* xp = x + a.x_off[t];
    const T* wp = wb + a.w_off[t];
    for (idx c = 0; c < a.cin; ++c) {
      const T* wr = wp + c * NB;
      for (int i = 0; i < MR; ++i) {
        const T xv = xp[i * a.x_px + c];
        for (int j = 0; j < NB; ++j) acc[i][j] += xv * wr[j];
      }
    }
  }
  for (int i = 0; i < MR; ++i) {
    T* out = y + i * a.y_px;
    for (idx j = 0; j < ncols; ++j) {
      T v = acc[i][j];
      if (bias) v += bias[j];
      if (a.relu && !(v > T(0))) v = (v != v) ? v : T(0);  // relu keeps NaN, as max(x, 0) in Keras
      out[j] = v;
    }
  }
}

template <typename T, int NB>
void gather_nb(const ConvGatherArgs<T>& a) {
  for (idx co = 0; co < a.cout; co += NB) {
    const idx ncols = (a.cout - co < NB) ? a.cout - co : NB;
    const T* wb = a.w + (co / NB) * a.w_block;
    const T* bias = a.bias ? a.bias + co : nullptr;
    idx j = 0;
    for (; j + kGatherMr <= a.npix; j += kGatherMr)
      gather_tile<T, kGatherMr, NB>(a, a.x + j * a.x_px, a.y + j * a.y_px + co, wb, ncols, bias);
    for (; j < a.npix; ++j) gather_tile<T, 1, NB>(a, a.x + j * a.x_px, a.y + j * a.y_px + co, wb, ncols, bias);
  }
}

template <typename T>
idx gather_block(idx cout) {
  constexpr idx lanes = 16 / sizeof(T);  // one SSE register
  return cout <= lanes ? lanes : 2 * lanes;
}

template <typename T>
void gather(const ConvGatherArgs<T>& a) {
  constexpr idx lanes = 16 / sizeof(T);
  if (a.nb == lanes)
    gather_nb<T, lanes>(a);
  else
    gather_nb<T, 2 * lanes>(a);
}

// MR columns k of dw against NB output channels (all valid).
template <typename T, int MR, int NB>
void wgrad_tile(const ConvWgradArgs<T>& a, idx k0, idx co0) {
  T acc[MR][NB];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NB; ++j) acc[i][j] = a.dw[(k0 + i) * a.cout + co0 + j];
  for (idx r = 0; r < a.rows; ++r) {
    const T* xr = a.x + r * a.x_rs + k0;
    const T* dr = a.dy + r * a.dy_rs + co0;
    for (idx p = 0; p < a.cols; ++p) {
      const T* xp = xr + p * a.x_px;
      const T* dp = dr + p * a.cout;
      for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NB; ++j) acc[i][j] += xp[i] * dp[j];
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NB; ++j) a.dw[(k0 + i) * a.cout + co0 + j] = acc[i][j];
}

// Any column k and channel range: the edges the tiles do not cover.
template <typename T>
void wgrad_edge(const ConvWgradArgs<T>& a, idx k, idx co0, idx co1) {
  for (idx co = co0; co < co1; ++co) {
    T s = a.dw[k * a.cout + co];
    for (idx r = 0; r < a.rows; ++r)
      for (idx p = 0; p < a.cols; ++p)
        s += a.x[r * a.x_rs + p * a.x_px + k] * a.dy[r * a.dy_rs + p * a.cout + co];
    a.dw[k * a.cout + co] = s;
  }
}

template <typename T>
void wgrad_run(const ConvWgradArgs<T>& a) {
  constexpr int MR = 4;
  constexpr int NB = 16 / sizeof(T);
  const idx co_full = a.cout / NB * NB;
  idx k = 0;
  for (; k + MR <= a.len; k += MR) {
    for (idx co = 0; co < co_full; co += NB) wgrad_tile<T, MR, NB>(a, k, co);
    for (int i = 0; i < MR; ++i) wgrad_edge(a, k + i, co_full, a.cout);
  }
  for (; k < a.len; ++k) {
    for (idx co = 0; co < co_full; co += NB) wgrad_tile<T, 1, NB>(a, k, co);
    wgrad_edge(a, k, co_full, a.cout);
  }
}

template <typename T>
void wgrad(const ConvWgradArgs<T>& a) {
  for (idx u = 0; u < a.nruns; ++u) {
    ConvWgradArgs<T> run = a;
    run.x = a.x + u * a.run_x;
    run.dy = a.dy + u * a.run_dy;
    run.dw = a.dw + u * a.run_dw;
    wgrad_run(run);
  }
}

template <typename T>
void fill(ConvKernels<T>& k) {
  k.gather_block = &gather_block<T>;
  k.gather = &gather<T>;
  k.wgrad = &wgrad<T>;
  fill_wino(k);
}

}  // namespace

void fill_conv_kernels_generic(ConvKernelSet& set) {
  fill(set.f32);
  fill(set.f64);
}

}  // namespace nncore
