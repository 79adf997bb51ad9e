// Depthwise conv2d passes: the row kernels of the active ISA path, spread over (image, row) pairs.
// Forward and input-gradient rows are independent; the weight gradient sums fixed chunks of output
// rows into separate buffers and adds them in chunk order (no thread ever adds into another's).
#include <algorithm>
#include <vector>

#include "conv2d_internal.h"
#include "nncore/isa_fills.h"
#include "nncore/kernel_registry.h"
#include "nncore/kernels/depthwise_kernel.h"
#include "nncore/ops/depthwise_conv2d.h"

namespace nncore {
namespace {

KernelRegistry<DepthwiseKernelSet>& registry() {
  static KernelRegistry<DepthwiseKernelSet> reg(&fill_depthwise_kernels_generic,
                                                NNCORE_ISA_FILL(depthwise_kernels, avx2),
                                                NNCORE_ISA_FILL(depthwise_kernels, avx512));
  return reg;
}

template <typename T>
const DepthwiseKernels<T>& kernels_for();
template <>
const DepthwiseKernels<float>& kernels_for<float>() { return registry().active().f32; }
template <>
const DepthwiseKernels<double>& kernels_for<double>() { return registry().active().f64; }

DepthwiseShape shape_of(const Conv2dGeometry& g, index_t mult) {
  return {g.h, g.w, g.cin, mult, g.kh, g.kw, g.stride_h, g.stride_w, g.dil_h, g.dil_w,
          g.pad_top, g.pad_left, g.out_h, g.out_w};
}

// Most chunks the weight gradient's rows are cut into: an even share for a few threads, while the
// per-chunk buffers (kh * kw * C * M each) stay small.
constexpr index_t kWeightChunks = 16;

}  // namespace

template <typename T>
void depthwise_conv2d_forward(const Conv2dGeometry& g, index_t mult, const T* x, const T* w,
                              const T* bias, T* y) {
  const index_t rows = g.n * g.out_h, cm = g.cin * mult;
  if (rows == 0 || g.out_w == 0 || cm == 0) return;
  const DepthwiseKernels<T>& k = kernels_for<T>();
  const DepthwiseShape s = shape_of(g, mult);
  const double work = double(rows) * g.out_w * cm * g.kh * g.kw;
  parallel_for(0, rows, 1, [&](index_t lo, index_t hi) {
    for (index_t r = lo; r < hi; ++r) {
      const index_t n = r / g.out_h, oh = r % g.out_h;
      k.forward_row(s, x + n * g.h * g.w * g.cin, w, bias, oh, y + r * g.out_w * cm);
    }
  }, conv::threads_for(work, rows));
}

template <typename T>
void depthwise_conv2d_backward_input(const Conv2dGeometry& g, index_t mult, const T* dy, const T* w,
                                     T* dx) {
  const index_t rows = g.n * g.h, cm = g.cin * mult;
  if (rows == 0 || g.w == 0 || g.cin == 0) return;
  const DepthwiseKernels<T>& k = kernels_for<T>();
  const DepthwiseShape s = shape_of(g, mult);
  const double work = double(rows) * g.w * cm * g.kh * g.kw / (g.stride_h * g.stride_w);
  parallel_for(0, rows, 1, [&](index_t lo, index_t hi) {
    for (index_t r = lo; r < hi; ++r) {
      const index_t n = r / g.h, ih = r % g.h;
      k.backward_input_row(s, dy + n * g.out_h * g.out_w * cm, w, ih, dx + r * g.w * g.cin);
    }
  }, conv::threads_for(work, rows));
}

template <typename T>
void depthwise_conv2d_backward_weight(const Conv2dGeometry& g, index_t mult, const T* x, const T* dy,
                                      T* dw, bool accumulate) {
  const index_t cm = g.cin * mult, size = g.kh * g.kw * cm;
  const index_t rows = g.n * g.out_h;
  if (size == 0) return;
  if (rows == 0 || g.out_w == 0) {
    if (!accumulate) std::fill(dw, dw + size, T(0));
    return;
  }
  const DepthwiseKernels<T>& k = kernels_for<T>();
  const DepthwiseShape s = shape_of(g, mult);
  const index_t chunk = ceil_div(rows, std::min(rows, kWeightChunks));
  const index_t nchunks = ceil_div(rows, chunk);
  std::vector<T> parts(static_cast<std::size_t>(nchunks * size), T(0));
  const double work = double(rows) * g.out_w * cm * g.kh * g.kw;
  parallel_for(0, nchunks, 1, [&](index_t c0, index_t c1) {
    for (index_t c = c0; c < c1; ++c) {
      T* part = parts.data() + c * size;
      for (index_t r = c * chunk, end = std::min(rows, (c + 1) * chunk); r < end; ++r) {
        const index_t n = r / g.out_h, oh = r % g.out_h;
        k.backward_weight_row(s, x + n * g.h * g.w * g.cin, dy + r * g.out_w * cm, oh, part);
      }
    }
  }, conv::threads_for(work, nchunks));
  for (index_t e = 0; e < size; ++e) {
    T sum = accumulate ? dw[e] + parts[e] : parts[e];
    for (index_t c = 1; c < nchunks; ++c) sum += parts[c * size + e];
    dw[e] = sum;
  }
}

#define NNCORE_INSTANTIATE(T)                                                                    \
  template void depthwise_conv2d_forward<T>(const Conv2dGeometry&, index_t, const T*, const T*,  \
                                            const T*, T*);                                       \
  template void depthwise_conv2d_backward_input<T>(const Conv2dGeometry&, index_t, const T*,     \
                                                   const T*, T*);                                \
  template void depthwise_conv2d_backward_weight<T>(const Conv2dGeometry&, index_t, const T*,    \
                                                    const T*, T*, bool);
NNCORE_INSTANTIATE(float)
NNCORE_INSTANTIATE(double)
#undef NNCORE_INSTANTIATE

}  // namespace nncore
