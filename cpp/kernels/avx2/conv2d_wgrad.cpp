// AVX2 convolution weight-gradient kernels (ConvWgradArgs in conv2d_kernel.h): register tiles of
// dw columns x output channels, or of dw columns in the lanes for one to four output channels.
//
// AVX2 has 16 vector registers and no broadcast operand for FMA: every broadcast input value is a
// load of its own. Two FMA pipes of 4-cycle latency want >= 8 independent accumulators, so tiles
// hold 9-12 accumulators plus the operands of one pixel, and share loads across them:
//  - runs along input rows (run_dy == 0): each grad_y vector of a pixel meets MR broadcast inputs;
//  - runs along grad_y rows (run_x == 0): each broadcast input meets the R grad_y rows of its runs.
// Every dw lane is one FMA chain over the pixels in call order, whatever the tile: the result does
// not depend on how the caller cuts dw into slices (the driver relies on this for determinism).
#include "conv_simd.h"
#include "nncore/kernels/conv2d_wino_impl.h"
#include "nncore/kernels/conv2d_kernel.h"

namespace nncore {
namespace {

// Calls f(Int<M>{}) for the M == w (1 <= w <= MAX): a run-time tile width as a template argument.
template <int MAX, class F>
inline void with_width(idx w, F&& f) {
  if constexpr (MAX > 0) {
    if (w == MAX)
      f(Int<MAX>{});
    else
      with_width<MAX - 1>(w, f);
  }
}

// Cuts `len` columns into ceil(len / mr) tiles of near-equal width: a narrow last tile would hold
// few accumulators and wait on FMA latency (9 columns by 4: 3 + 3 + 3, not 4 + 4 + 1).
template <class F>
inline void balanced_tiles(idx len, idx mr, F&& f) {
  const idx n = (len + mr - 1) / mr;
  for (idx t = 0, k = 0; t < n; ++t) {
    const idx w = len / n + (t < len % n ? 1 : 0);
    f(k, w);
    k += w;
  }
}

// ------------------------------------------------------------------------ channel-vector tiles

// R runs x MR columns x NV vectors of output channels. x points at column 0 of run 0, dy at the
// block's first channel of run 0, dw at (run 0, column 0, first channel). MASK: the last vector
// holds the lanes of `mk` only (loads never touch the others, stores never write them).
// DY: runs along grad_y rows, one broadcast input per column feeds all R runs; otherwise runs along
// input rows, one grad_y vector per pixel feeds all R * MR columns.
template <class S, int R, int MR, int NV, bool DY, bool MASK>
void ctile(const ConvWgradArgs<typename S::T>& a, const typename S::T* x, const typename S::T* dy,
           typename S::T* dw, typename S::M mk) {
  using T = typename S::T;
  using V = typename S::V;
  constexpr int W = S::W;
  auto vload = [&](auto v, const T* p) {
    if constexpr (MASK && decltype(v)::value == NV - 1)
      return S::mload(mk, p);
    else
      return S::load(p);
  };
  V acc[R][MR][NV];
  static_for<0, R>([&](auto u) {
    static_for<0, MR>([&](auto i) {
      static_for<0, NV>([&](auto v) {
        acc[u.value][i.value][v.value] = vload(v, dw + u.value * a.run_dw + i.value * a.cout + v.value * W);
      });
    });
  });
  const idx rx = DY ? 0 : a.run_x, ry = DY ? a.run_dy : 0;
  for (idx r = 0; r < a.rows; ++r) {
    const T* xp = x + r * a.x_rs;
    const T* dp = dy + r * a.dy_rs;
    for (idx p = 0; p < a.cols; ++p, xp += a.x_px, dp += a.cout) {
      if constexpr (DY) {
        V d[R][NV];
        static_for<0, R>([&](auto u) {
          static_for<0, NV>([&](auto v) { d[u.value][v.value] = vload(v, dp + u.value * ry + v.value * W); });
        });
        static_for<0, MR>([&](auto i) {
          const V b = S::set1(xp + i.value);
          static_for<0, R>([&](auto u) {
            static_for<0, NV>([&](auto v) {
              acc[u.value][i.value][v.value] = S::fma(b, d[u.value][v.value], acc[u.value][i.value][v.value]);
            });
          });
        });
      } else {
        V d[NV];
        static_for<0, NV>([&](auto v) { d[v.value] = vload(v, dp + v.value * W); });
        static_for<0, R>([&](auto u) {
          static_for<0, MR>([&](auto i) {
            const V b = S::set1(xp + u.value * rx + i.value);
            static_for<0, NV>([&](auto v) {
              acc[u.value][i.value][v.value] = S::fma(b, d[v.value], acc[u.value][i.value][v.value]);
            });
          });
        });
      }
    }
  }
  static_for<0, R>([&](auto u) {
    static_for<0, MR>([&](auto i) {
      static_for<0, NV>([&](auto v) {
        T* q = dw + u.value * a.run_dw + i.value * a.cout + v.value * W;
        if constexpr (MASK && v.value == NV - 1)
          S::mstore(q, mk, acc[u.value][i.value][v.value]);
        else
          S::store(q, acc[u.value][i.value][v.value]);
      });
    });
  });
}

// Runs [u0, u0 + R) of one channel block: all columns in balanced tiles of at most MR.
template <class S, int R, int MR, int NV, bool DY, bool MASK>
void ctile_runs(const ConvWgradArgs<typename S::T>& a, idx u0, idx co, typename S::M mk) {
  balanced_tiles(a.len, MR, [&](idx k, idx w) {
    with_width<MR>(w, [&](auto m) {
      ctile<S, R, m.value, NV, DY, MASK>(a, a.x + u0 * a.run_x + k, a.dy + u0 * a.run_dy + co,
                                         a.dw + u0 * a.run_dw + k * a.cout + co, mk);
    });
  });
}

// One channel block of NV vectors (the last one MASKed) over all runs: along grad_y rows three runs
// at a time, then two; along input rows three at a time only when runs are too short to fill a
// tile; the rest one by one.
template <class S, int NV, bool DY, bool MASK>
void cblock(const ConvWgradArgs<typename S::T>& a, idx co, typename S::M mk) {
  constexpr int MR1 = 12 / NV;
  idx u = 0;
  if constexpr (DY) {
    for (; u + 3 <= a.nruns; u += 3) ctile_runs<S, 3, 4, NV, true, MASK>(a, u, co, mk);
    for (; u + 2 <= a.nruns; u += 2) ctile_runs<S, 2, 6, NV, true, MASK>(a, u, co, mk);
  } else if constexpr (NV == 1) {
    if (a.len <= 4)
      for (; u + 3 <= a.nruns; u += 3) ctile_runs<S, 3, 4, 1, false, MASK>(a, u, co, mk);
  }
  // One run at a time is the same tile in either direction (nothing to share between runs).
  for (; u < a.nruns; ++u) ctile_runs<S, 1, MR1, NV, false, MASK>(a, u, co, mk);
}

// float32: blocks of 16 channels (two vectors: 6 columns x 2 loads of grad_y per 12 FMAs), then
// one of 8 or fewer. Runs along grad_y rows take 8 channels per block: each grad_y vector lives
// through MR broadcasts and R vectors per run are all the registers there are.
template <class S>
void channel_blocks(const ConvWgradArgs<typename S::T>& a, bool dy_runs) {
  constexpr idx W = S::W;
  const auto full = S::mask(W);
  idx co = 0;
  if (dy_runs) {
    for (; co + W <= a.cout; co += W) cblock<S, 1, true, false>(a, co, full);
    if (co < a.cout) cblock<S, 1, true, true>(a, co, S::mask(a.cout - co));
    return;
  }
  for (; co + 2 * W <= a.cout; co += 2 * W) cblock<S, 2, false, false>(a, co, full);
  const idx rest = a.cout - co;
  if (rest > W)
    cblock<S, 2, false, true>(a, co, S::mask(rest - W));
  else if (rest == W)
    cblock<S, 1, false, false>(a, co, full);
  else if (rest > 0)
    cblock<S, 1, false, true>(a, co, S::mask(rest));
}

// ---------------------------------------------------------------------- column-vector tiles

// For 1-4 output channels a channel vector would be mostly empty lanes; instead the lanes hold KV
// vectors of consecutive dw columns (`ncols` of them valid, the rest masked off) and the multiplier
// is a broadcast grad_y channel. NCO is the channel count. x, dy, dw as for ctile.
template <class S, int R, int KV, int NCO, bool DY>
void ktile(const ConvWgradArgs<typename S::T>& a, const typename S::T* x, const typename S::T* dy,
           typename S::T* dw, idx ncols) {
  using T = typename S::T;
  using V = typename S::V;
  constexpr int W = S::W;
  const typename S::M mk = S::mask(ncols - (KV - 1) * W);
  auto xload = [&](auto kv, const T* p) {
    if constexpr (decltype(kv)::value == KV - 1)
      return S::mload(mk, p);
    else
      return S::load(p);
  };
  // dw columns are NCO apart: gather them into lanes through a small buffer (once per call).
  V acc[R][KV][NCO];
  alignas(32) T tmp[W];
  static_for<0, R>([&](auto u) {
    static_for<0, KV>([&](auto kv) {
      static_for<0, NCO>([&](auto co) {
        for (idx l = 0; l < W; ++l) {
          const idx k = kv.value * W + l;
          tmp[l] = k < ncols ? dw[u.value * a.run_dw + k * NCO + co.value] : T(0);
        }
        acc[u.value][kv.value][co.value] = S::load(tmp);
      });
    });
  });
  const idx rx = DY ? 0 : a.run_x, ry = DY ? a.run_dy : 0;
  for (idx r = 0; r < a.rows; ++r) {
    const T* xp = x + r * a.x_rs;
    const T* dp = dy + r * a.dy_rs;
    for (idx p = 0; p < a.cols; ++p, xp += a.x_px, dp += NCO) {
      if constexpr (DY) {
        V xv[KV];
        static_for<0, KV>([&](auto kv) { xv[kv.value] = xload(kv, xp + kv.value * W); });
        static_for<0, R>([&](auto u) {
          static_for<0, NCO>([&](auto co) {
            const V b = S::set1(dp + u.value * ry + co.value);
            static_for<0, KV>([&](auto kv) {
              acc[u.value][kv.value][co.value] = S::fma(xv[kv.value], b, acc[u.value][kv.value][co.value]);
            });
          });
        });
      } else {
        V b[NCO];
        static_for<0, NCO>([&](auto co) { b[co.value] = S::set1(dp + co.value); });
        static_for<0, R>([&](auto u) {
          static_for<0, KV>([&](auto kv) {
            const V xv = xload(kv, xp + u.value * rx + kv.value * W);
            static_for<0, NCO>([&](auto co) {
              acc[u.value][kv.value][co.value] = S::fma(xv, b[co.value], acc[u.value][kv.value][co.value]);
            });
          });
        });
      }
    }
  }
  static_for<0, R>([&](auto u) {
    static_for<0, KV>([&](auto kv) {
      static_for<0, NCO>([&](auto co) {
        S::store(tmp, acc[u.value][kv.value][co.value]);
        for (idx l = 0; l < W && kv.value * W + l < ncols; ++l)
          dw[u.value * a.run_dw + (kv.value * W + l) * NCO + co.value] = tmp[l];
      });
    });
  });
}

// Runs [u0, u0 + R): the columns in tiles of KV vectors, the last tile as few vectors as it needs.
template <class S, int R, int KV, int NCO, bool DY>
void ktile_runs(const ConvWgradArgs<typename S::T>& a, idx u0) {
  constexpr idx step = KV * S::W;
  const typename S::T* x = a.x + u0 * a.run_x;
  const typename S::T* dy = a.dy + u0 * a.run_dy;
  typename S::T* dw = a.dw + u0 * a.run_dw;
  for (idx k = 0; k < a.len; k += step) {
    const idx n = a.len - k < step ? a.len - k : step;
    with_width<KV>((n + S::W - 1) / S::W, [&](auto kv) {
      ktile<S, R, kv.value, NCO, DY>(a, x + k, dy, dw + k * NCO, n);
    });
  }
}

// Vectors per tile for R runs of NCO channels: at most 12 accumulators, and the operands of one
// pixel (NCO broadcasts along input rows, KV input vectors along grad_y rows) in the rest.
template <int R, int NCO, bool DY>
constexpr int kvec_width() {
  if (R == 1) return NCO == 1 ? 4 : NCO == 2 ? 4 : NCO == 3 ? 3 : 2;
  return NCO == 1 ? (DY ? 3 : 4) : NCO == 2 ? 2 : 1;
}

template <class S, int NCO, bool DY>
void kvec(const ConvWgradArgs<typename S::T>& a) {
  constexpr int R = (DY || NCO < 4) ? 3 : 2;
  idx u = 0;
  for (; u + R <= a.nruns; u += R) ktile_runs<S, R, kvec_width<R, NCO, DY>(), NCO, DY>(a, u);
  for (; u < a.nruns; ++u) ktile_runs<S, 1, kvec_width<1, NCO, DY>(), NCO, false>(a, u);
}

// Column vectors when they take fewer FMAs: ceil(len / W) * cout per pixel and run, where one
// channel vector takes len.
template <class S>
bool try_kvec(const ConvWgradArgs<typename S::T>& a, bool dy_runs) {
  constexpr idx W = S::W;
  if (a.cout > 4 || a.len <= a.cout * ((a.len + W - 1) / W)) return false;
  switch (a.cout) {
    case 1: dy_runs ? kvec<S, 1, true>(a) : kvec<S, 1, false>(a); return true;
    case 2: dy_runs ? kvec<S, 2, true>(a) : kvec<S, 2, false>(a); return true;
    case 3: dy_runs ? kvec<S, 3, true>(a) : kvec<S, 3, false>(a); return true;
    case 4: dy_runs ? kvec<S, 4, true>(a) : kvec<S, 4, false>(a); return true;
    default: return false;
  }
}

// ------------------------------------------------------------------------------------ entries

// Runs along grad_y rows when one vector covers the channels: then a tile of one input broadcast
// x R grad_y rows loads (MR + R) values per MR * R FMAs, where runs along input rows would load a
// broadcast per FMA. Wider channel counts already share each broadcast among two vectors.
bool prefers_dy_runs_f32(idx cout) { return cout <= 8; }
bool prefers_dy_runs_f64(idx cout) { return cout <= 4; }

// Rows per pass over all tiles. Each tile streams the pixels of a pass once, and the next tile
// (neighbouring columns, same channels) meets the same cache lines: passes of at most kPassBytes
// of lines per tile let them come from L1 (32 KiB) instead of L2. Measured on one core (Zen 4,
// AVX2 path): the 64->64 layer 101-103 GFLOP/s with passes of 8-24 KB, 93-96 with the driver's
// 10-row calls unsplit; the seed layers lose 0-1 % against no split.
constexpr idx kPassBytes = 24 * 1024;

// Lines a tile touches per pixel are estimated from above (every run's input line).
template <typename T>
idx pass_rows(const ConvWgradArgs<T>& a, bool dy_runs) {
  constexpr idx line = 64, sz = sizeof(T);
  const idx runs = a.nruns < 3 ? a.nruns : 3;
  const idx xb = (a.x_px * sz < line ? a.x_px * sz : line) * (dy_runs ? 1 : runs);
  const idx db = (a.cout * sz < line ? a.cout * sz : line) * (dy_runs ? runs : 1);
  const idx r = kPassBytes / ((xb + db) * (a.cols > 0 ? a.cols : 1));
  return r > 1 ? r : 1;
}

template <typename T, class F>
void in_passes(const ConvWgradArgs<T>& a, bool dy_runs, F&& f) {
  const idx rb = pass_rows(a, dy_runs);
  ConvWgradArgs<T> p = a;
  for (idx r = 0; r < a.rows; r += rb) {
    p.rows = a.rows - r < rb ? a.rows - r : rb;
    p.x = a.x + r * a.x_rs;
    p.dy = a.dy + r * a.dy_rs;
    f(p);
  }
}

void wgrad_f32(const ConvWgradArgs<float>& a) {
  const bool dy_runs = a.run_x == 0 && a.nruns > 1;
  in_passes(a, dy_runs, [&](const ConvWgradArgs<float>& p) {
    if (!try_kvec<F32x8>(p, dy_runs)) channel_blocks<F32x8>(p, dy_runs);
  });
}

// float64 serves gradient checks: one vector of 4 channels per block, masked, in both directions.
void wgrad_f64(const ConvWgradArgs<double>& a) {
  using S = F64x4;
  const bool dy_runs = a.run_x == 0 && a.nruns > 1;
  for (idx co = 0; co < a.cout; co += S::W) {
    const auto mk = S::mask(a.cout - co);
    idx u = 0;
    if (dy_runs)
      for (; u + 3 <= a.nruns; u += 3) ctile_runs<S, 3, 4, 1, true, true>(a, u, co, mk);
    for (; u < a.nruns; ++u) ctile_runs<S, 1, 8, 1, false, true>(a, u, co, mk);
  }
}

}  // namespace

void fill_conv_wgrad_kernels_avx2(ConvKernelSet& set) {
  fill_wino(set.f32);
  fill_wino(set.f64);
  set.f32.wgrad = &wgrad_f32;
  set.f32.wgrad_prefers_dy_runs = &prefers_dy_runs_f32;
  set.f64.wgrad = &wgrad_f64;
  set.f64.wgrad_prefers_dy_runs = &prefers_dy_runs_f64;
}

}  // namespace nncore
