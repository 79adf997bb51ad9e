// Softmax / log-softmax: rows along the last axis go to the ISA kernel; other axes are processed
// in blocks of the inner dimension so the loops stay contiguous and vectorize.
#include "nncore/ops/softmax.h"

#include <cmath>
#include <limits>

#include "nncore/kernels/eltwise_math.h"
#include "nncore/kernels/simd_pragma.h"
#include "nncore/ops/eltwise_dispatch.h"
#include "nncore/parallel.h"

namespace nncore {
namespace {

// Elements per thread below which threads do not pay (exp-bound work).
constexpr index_t kGrainElems = index_t(1) << 13;
// Inner positions handled together when the axis is not the last one (stack arrays of this size).
constexpr index_t kBlock = 128;

index_t rows_grain(index_t len) { return len > 0 ? (kGrainElems + len - 1) / len : kGrainElems; }

// Softmax along len for inner positions [i0, i0 + nb) of one outer slice (x and y point at it).
template <typename T>
void softmax_block(const T* x, T* y, index_t len, index_t inner, index_t i0, index_t nb, bool log) {
  T m[kBlock], s[kBlock];
  for (index_t i = 0; i < nb; ++i) {
    m[i] = -std::numeric_limits<T>::infinity();
    s[i] = T(0);
  }
  for (index_t c = 0; c < len; ++c) {
    const T* xc = x + c * inner + i0;
    NNCORE_SIMD
    for (index_t i = 0; i < nb; ++i) m[i] = xc[i] > m[i] ? xc[i] : m[i];
  }
  for (index_t c = 0; c < len; ++c) {
    const T* xc = x + c * inner + i0;
    T* yc = y + c * inner + i0;
    if (log) {
      NNCORE_SIMD
      for (index_t i = 0; i < nb; ++i) s[i] += exp_v(xc[i] - m[i]);
    } else {
      NNCORE_SIMD
      for (index_t i = 0; i < nb; ++i) {
        const T e = exp_v(xc[i] - m[i]);
        yc[i] = e;
        s[i] += e;
      }
    }
  }
  for (index_t i = 0; i < nb; ++i) s[i] = log ? std::log(s[i]) : T(1) / s[i];
  for (index_t c = 0; c < len; ++c) {
    const T* xc = x + c * inner + i0;
    T* yc = y + c * inner + i0;
    if (log) {
      NNCORE_SIMD
      for (index_t i = 0; i < nb; ++i) yc[i] = (xc[i] - m[i]) - s[i];
    } else {
      NNCORE_SIMD
      for (index_t i = 0; i < nb; ++i) yc[i] *= s[i];
    }
  }
}

template <typename T>
void softmax_backward_rows(const T* gy, const T* y, T* gx, index_t rows, index_t len, bool log) {
  for (index_t r = 0; r < rows; ++r) {
    const T* g = gy + r * len;
    const T* yr = y + r * len;
    T* o = gx + r * len;
    T acc = 0;
    if (log) {
      NNCORE_SIMD_REDUCTION(+, acc)
      for (index_t c = 0; c < len; ++c) acc += g[c];
      NNCORE_SIMD
      for (index_t c = 0; c < len; ++c) o[c] = g[c] - exp_v(yr[c]) * acc;
    } else {
      NNCORE_SIMD_REDUCTION(+, acc)
      for (index_t c = 0; c < len; ++c) acc += g[c] * yr[c];
      NNCORE_SIMD
      for (index_t c = 0; c < len; ++c) o[c] = yr[c] * (g[c] - acc);
    }
  }
}

template <typename T>
void softmax_backward_block(const T* gy, const T* y, T* gx, index_t len, index_t inner, index_t i0,
                            index_t nb, bool log) {
  T acc[kBlock];
  for (index_t i = 0; i < nb; ++i) acc[i] = T(0);
  for (index_t c = 0; c < len; ++c) {
    const T* g = gy + c * inner + i0;
    const T* yc = y + c * inner + i0;
    if (log) {
      NNCORE_SIMD
      for (index_t i = 0; i < nb; ++i) acc[i] += g[i];
    } else {
      NNCORE_SIMD
      for (index_t i = 0; i < nb; ++i) acc[i] += g[i] * yc[i];
    }
  }
  for (index_t c = 0; c < len; ++c) {
    const T* g = gy + c * inner + i0;
    const T* yc = y + c * inner + i0;
    T* o = gx + c * inner + i0;
    if (log) {
      NNCORE_SIMD
      for (index_t i = 0; i < nb; ++i) o[i] = g[i] - exp_v(yc[i]) * acc[i];
    } else {
      NNCORE_SIMD
      for (index_t i = 0; i < nb; ++i) o[i] = yc[i] * (g[i] - acc[i]);
    }
  }
}

// Runs fn(outer_index, i0, nb) over every (outer slice, inner block) pair, in parallel. A pair is
// computed the same way whichever thread takes it: the split cannot change a result.
template <class F>
void for_each_block(index_t outer, index_t len, index_t inner, F&& fn) {
  const index_t blocks = ceil_div(inner, kBlock);
  const index_t tasks = outer * blocks;
  const index_t per_task = len * (inner < kBlock ? inner : kBlock);
  const index_t grain = per_task > 0 ? ceil_div(kGrainElems, per_task) : tasks;
  parallel_for(0, tasks, grain, [&](index_t lo, index_t hi) {
    for (index_t t = lo; t < hi; ++t) {
      const index_t o = t / blocks;
      const index_t i0 = (t % blocks) * kBlock;
      fn(o, i0, inner - i0 < kBlock ? inner - i0 : kBlock);
    }
  });
}

}  // namespace

template <typename T>
void softmax_forward(const T* x, T* y, index_t outer, index_t len, index_t inner, bool log) {
  if (outer == 0 || len == 0 || inner == 0) return;
  if (inner == 1) {
    const auto kernel = eltwise_kernels<T>().softmax_rows;
    parallel_for_fixed(outer, rows_grain(len), [&](index_t lo, index_t hi) {
      kernel(x + lo * len, y + lo * len, hi - lo, len, log);
    }, 1);
    return;
  }
  const index_t slice = len * inner;
  for_each_block(outer, len, inner, [&](index_t o, index_t i0, index_t nb) {
    softmax_block(x + o * slice, y + o * slice, len, inner, i0, nb, log);
  });
}

template <typename T>
void softmax_backward(const T* gy, const T* y, T* gx, index_t outer, index_t len, index_t inner,
                      bool log) {
  if (outer == 0 || len == 0 || inner == 0) return;
  if (inner == 1) {
    parallel_for_fixed(outer, rows_grain(len), [&](index_t lo, index_t hi) {
      softmax_backward_rows(gy + lo * len, y + lo * len, gx + lo * len, hi - lo, len, log);
    }, 1);
    return;
  }
  const index_t slice = len * inner;
  for_each_block(outer, len, inner, [&](index_t o, index_t i0, index_t nb) {
    softmax_backward_block(gy + o * slice, y + o * slice, gx + o * slice, len, inner, i0, nb, log);
  });
}

template void softmax_forward<float>(const float*, float*, index_t, index_t, index_t, bool);
template void softmax_forward<double>(const double*, double*, index_t, index_t, index_t, bool);
template void softmax_backward<float>(const float*, const float*, float*, index_t, index_t, index_t,
                                      bool);
template void softmax_backward<double>(const double*, const double*, double*, index_t, index_t,
                                       index_t, bool);

}  // namespace nncore
