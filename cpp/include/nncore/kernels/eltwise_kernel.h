// The elementwise kernels each ISA file implements (activations, softmax rows, optimizer updates),
// as plain function pointers over one contiguous range; threading is done by the caller.
//
// Like gemm_kernel.h this header holds only types and declarations, so that ISA files compiled with
// extra -m flags may include it. The set structs have no constructors or default member
// initializers on purpose: an ISA file only assigns into a set it is handed.
#pragma once
#include <cstddef>

namespace nncore {

// Every activation of nncore.ops. Parameters p0/p1 are per activation (unused ones are ignored):
// leaky_relu p0 = negative slope; elu p0 = alpha; thresholded_relu p0 = theta.
enum class Activation : int {
  relu,
  relu6,
  leaky_relu,
  elu,
  selu,
  sigmoid,
  hard_sigmoid,
  tanh,
  softplus,
  softsign,
  exponential,
  swish,
  gelu,       // x Phi(x) with the exact normal CDF
  gelu_tanh,  // the tanh approximation
  thresholded_relu,
  heaviside,
  count_
};
constexpr int kNumActivations = static_cast<int>(Activation::count_);

// y[i] = f(x[i])
template <typename T>
using ActivationForwardKernel = void (*)(const T* x, T* y, std::ptrdiff_t n, T p0, T p1);
// gx[i] = gy[i] * f'(x[i]), or gy[i] * f'(f^-1(y[i])) for the from-output variant.
template <typename T>
using ActivationBackwardKernel = void (*)(const T* gy, const T* x, T* gx, std::ptrdiff_t n, T p0,
                                          T p1);

template <typename T>
struct ActivationKernels {
  ActivationForwardKernel<T> forward[kNumActivations];
  ActivationBackwardKernel<T> backward[kNumActivations];
  // Null where f' is not a function of the output alone.
  ActivationBackwardKernel<T> backward_from_output[kNumActivations];
};

// Softmax of `rows` contiguous rows of length `cols` (log_softmax when `log`). Rows are
// independent, so in place (y == x) is allowed.
template <typename T>
using SoftmaxRowsKernel = void (*)(const T* x, T* y, std::ptrdiff_t rows, std::ptrdiff_t cols,
                                   bool log);

template <typename T>
struct EltwiseKernels {
  ActivationKernels<T> act;
  SoftmaxRowsKernel<T> softmax_rows;
};

struct EltwiseKernelSet {
  EltwiseKernels<float> f32;
  EltwiseKernels<double> f64;
};

void fill_eltwise_kernels_generic(EltwiseKernelSet& set);
void fill_eltwise_kernels_avx2(EltwiseKernelSet& set);
void fill_eltwise_kernels_avx512(EltwiseKernelSet& set);

}  // namespace nncore
