// Upsampling passes: the row kernels of the active ISA path over (image, row) pairs, with the
// bilinear taps computed once per call.
#include "nncore/ops/upsample2d.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "nncore/isa_fills.h"
#include "nncore/kernel_registry.h"
#include "nncore/kernels/upsample_kernel.h"
#include "nncore/parallel.h"

namespace nncore {
namespace {

KernelRegistry<UpsampleKernelSet>& registry() {
  static KernelRegistry<UpsampleKernelSet> reg(&fill_upsample_kernels_generic,
                                               NNCORE_ISA_FILL(upsample_kernels, avx2),
                                               NNCORE_ISA_FILL(upsample_kernels, avx512));
  return reg;
}

template <typename T>
const UpsampleKernels<T>& kernels_for();
template <>
const UpsampleKernels<float>& kernels_for<float>() { return registry().active().f32; }
template <>
const UpsampleKernels<double>& kernels_for<double>() { return registry().active().f64; }

constexpr index_t kGrainElems = index_t(1) << 15;

// The taps of an axis of n inputs enlarged f times, computed in double as the layer's NumPy code
// did (so the weights round to T identically).
template <typename T>
struct AxisTaps {
  std::vector<index_t> i0, i1;
  std::vector<T> t;
  AxisTaps(index_t n, index_t f) : i0(n * f), i1(n * f), t(n * f) {
    for (index_t o = 0; o < n * f; ++o) {
      const double src = std::max((static_cast<double>(o) + 0.5) / static_cast<double>(f) - 0.5, 0.0);
      const index_t a = std::min(static_cast<index_t>(std::floor(src)), n - 1);
      i0[o] = a;
      i1[o] = std::min(a + 1, n - 1);
      t[o] = static_cast<T>(src - static_cast<double>(a));
    }
  }
  LinearTaps<T> view() const { return {i0.data(), i1.data(), t.data()}; }
  // The longest run of equal entries of i0 plus that of i1 (the gradient's row buffers).
  index_t runs() const {
    auto longest = [](const std::vector<index_t>& v) {
      std::size_t best = 0;
      for (std::size_t j = 0; j < v.size();) {
        std::size_t k = j;
        while (k < v.size() && v[k] == v[j]) ++k;
        best = std::max(best, k - j);
        j = k;
      }
      return static_cast<index_t>(best);
    };
    return longest(i0) + longest(i1);
  }
};

}  // namespace

template <typename T>
void upsample2d_forward(UpsampleMode mode, const T* x, T* y, index_t n, index_t h, index_t w,
                        index_t c, index_t sh, index_t sw) {
  const index_t oh = h * sh, orow = w * sw * c;
  if (n == 0 || oh == 0 || orow == 0) return;
  const UpsampleKernels<T>& k = kernels_for<T>();
  const UpsampleShape s{h, w, c, sh, sw};
  const index_t img = h * w * c, rows = n * oh;
  if (mode == UpsampleMode::nearest) {
    parallel_for(0, rows, ceil_div(kGrainElems, orow), [&](index_t lo, index_t hi) {
      for (index_t r = lo; r < hi; ++r) k.nearest_forward_row(s, x + (r / oh) * img, r % oh, y + r * orow);
    });
    return;
  }
  const AxisTaps<T> th(h, sh), tw(w, sw);
  const LinearTaps<T> rt = th.view(), ct = tw.view();
  parallel_for(0, rows, ceil_div(kGrainElems, orow), [&](index_t lo, index_t hi) {
    std::vector<T> tmp(static_cast<std::size_t>(w * c));
    for (index_t r = lo; r < hi; ++r)
      k.bilinear_forward_row(s, x + (r / oh) * img, rt, ct, r % oh, tmp.data(), y + r * orow);
  });
}

template <typename T>
void upsample2d_backward(UpsampleMode mode, const T* dy, T* dx, index_t n, index_t h, index_t w,
                         index_t c, index_t sh, index_t sw) {
  const index_t row = w * c, rows = n * h;
  if (rows == 0 || row == 0) return;
  const UpsampleKernels<T>& k = kernels_for<T>();
  const UpsampleShape s{h, w, c, sh, sw};
  const index_t oimg = h * sh * w * sw * c, grain = ceil_div(kGrainElems, row * sh * sw);
  if (mode == UpsampleMode::nearest) {
    parallel_for(0, rows, grain, [&](index_t lo, index_t hi) {
      for (index_t r = lo; r < hi; ++r) k.nearest_backward_row(s, dy + (r / h) * oimg, r % h, dx + r * row);
    });
    return;
  }
  const AxisTaps<T> th(h, sh), tw(w, sw);
  const LinearTaps<T> rt = th.view(), ct = tw.view();
  const std::size_t tmp_size = static_cast<std::size_t>(th.runs() * row + 2 * w * sw * c);
  parallel_for(0, rows, grain, [&](index_t lo, index_t hi) {
    std::vector<T> tmp(tmp_size);
    for (index_t r = lo; r < hi; ++r)
      k.bilinear_backward_row(s, dy + (r / h) * oimg, rt, ct, r % h, tmp.data(), dx + r * row);
  });
}

#define NNCORE_INSTANTIATE(T)                                                                      \
  template void upsample2d_forward<T>(UpsampleMode, const T*, T*, index_t, index_t, index_t,       \
                                      index_t, index_t, index_t);                                  \
  template void upsample2d_backward<T>(UpsampleMode, const T*, T*, index_t, index_t, index_t,      \
                                       index_t, index_t, index_t);
NNCORE_INSTANTIATE(float)
NNCORE_INSTANTIATE(double)
#undef NNCORE_INSTANTIATE

}  // namespace nncore
