// Activation ops: split the range over threads and run the active ISA's kernel on each chunk.
#include "nncore/ops/activations.h"

#include "nncore/ops/eltwise_dispatch.h"
#include "nncore/parallel.h"

namespace nncore {
namespace {

// Elements per thread below which a parallel region (about 1-2 us to start) costs more than it
// saves: cheap selects run at memory speed, exp-based functions are ~10x dearer per element, and
// the exact GELU calls scalar erfc.
index_t grain_for(Activation a) {
  switch (a) {
    case Activation::relu:
    case Activation::relu6:
    case Activation::leaky_relu:
    case Activation::hard_sigmoid:
    case Activation::thresholded_relu:
    case Activation::heaviside:
    case Activation::softsign:
      return index_t(1) << 15;
    case Activation::gelu:
      return index_t(1) << 10;
    default:
      return index_t(1) << 13;
  }
}

}  // namespace

template <typename T>
void activation_forward(Activation a, const T* x, T* y, index_t n, T p0, T p1) {
  const auto kernel = eltwise_kernels<T>().act.forward[static_cast<int>(a)];
  parallel_for_fixed(n, grain_for(a), [&](index_t lo, index_t hi) {
    kernel(x + lo, y + lo, hi - lo, p0, p1);
  });
}

template <typename T>
void activation_backward(Activation a, const T* gy, const T* x, T* gx, index_t n, T p0, T p1) {
  const auto kernel = eltwise_kernels<T>().act.backward[static_cast<int>(a)];
  parallel_for_fixed(n, grain_for(a), [&](index_t lo, index_t hi) {
    kernel(gy + lo, x + lo, gx + lo, hi - lo, p0, p1);
  });
}

template <typename T>
void activation_backward_from_output(Activation a, const T* gy, const T* y, T* gx, index_t n, T p0,
                                     T p1) {
  const auto kernel = eltwise_kernels<T>().act.backward_from_output[static_cast<int>(a)];
  parallel_for_fixed(n, grain_for(a), [&](index_t lo, index_t hi) {
    kernel(gy + lo, y + lo, gx + lo, hi - lo, p0, p1);
  });
}

bool has_backward_from_output(Activation a) {
  return eltwise_kernels<float>().act.backward_from_output[static_cast<int>(a)] != nullptr;
}

#define NNCORE_INSTANTIATE(T)                                                                    \
  template void activation_forward<T>(Activation, const T*, T*, index_t, T, T);                  \
  template void activation_backward<T>(Activation, const T*, const T*, T*, index_t, T, T);       \
  template void activation_backward_from_output<T>(Activation, const T*, const T*, T*, index_t, T, \
                                                   T);
NNCORE_INSTANTIATE(float)
NNCORE_INSTANTIATE(double)
#undef NNCORE_INSTANTIATE

}  // namespace nncore
