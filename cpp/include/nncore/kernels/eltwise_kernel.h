// The elementwise kernels each ISA file implements (activations, softmax rows, fused losses,
// dropout masks), as plain function pointers over one contiguous range; the caller threads them.
//
// Like gemm_kernel.h this header holds only types and declarations, so that ISA files compiled with
// extra -m flags may include it. The set structs have no constructors or default member
// initializers on purpose: an ISA file only assigns into a set it is handed.
#pragma once
#include <cstddef>
#include <cstdint>

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

// Fused softmax cross-entropy over rows: probs = softmax(x); with targets t (labels == nullptr)
// grad = grad_scale (probs sum(t) - t) and loss_r = sum_c t_c (log s - (x_c - m)) over t_c != 0;
// with class indices (target == nullptr) grad = grad_scale (probs - onehot) and
// loss_r = log s - (x_label - m). Returns sum_r loss_r. Outputs must not overlap inputs.
template <typename T>
using SoftmaxXentKernel = double (*)(const T* x, const T* target, const std::int64_t* labels,
                                     T* probs, T* grad, std::ptrdiff_t rows, std::ptrdiff_t cols,
                                     T grad_scale);

// Elementwise logistic loss of logits x against targets z; probs = sigmoid(x),
// grad = grad_scale (probs - z). Returns the sum of the losses (see ops/losses.h).
template <typename T>
using SigmoidXentKernel = double (*)(const T* x, const T* z, T* probs, T* grad, std::ptrdiff_t n,
                                     T grad_scale);

// y = x * mask * scale over a range (mask 0/1); y may be x.
template <typename T>
using MaskScaleKernel = void (*)(const T* x, const std::uint8_t* mask, T* y, std::ptrdiff_t n,
                                 T scale);

// Dropout keep bits for elements [lo, hi) of the stream `key`: element i is kept when its 32-bit
// uniform (half of splitmix64 output i / 2) is >= threshold. Depends on i only, never on lo/hi.
using DropoutMaskKernel = void (*)(std::uint64_t key, std::uint32_t threshold, std::ptrdiff_t lo,
                                   std::ptrdiff_t hi, std::uint8_t* mask);

// Per-channel kernels over `rows` rows of `width` contiguous elements (channels-last data re-read
// as wide rows, see ops/channel_layout.h); per-column vectors have `width` entries. Column sums are
// accumulated into double and read rows `ld` elements apart (a column block of the wide rows).
template <typename T>
struct ChannelKernels {
  // acc[j] += sum_r x[r, j], every element added in double (batch-norm means feed variances)
  void (*sum)(const T* x, std::ptrdiff_t rows, std::ptrdiff_t width, std::ptrdiff_t ld,
              double* acc);
  // the same with groups of 8 rows added in T first: error within a few eps of sum_r |x[r, j]|,
  // one conversion per 8 elements (bias gradients)
  void (*sum_fast)(const T* x, std::ptrdiff_t rows, std::ptrdiff_t width, std::ptrdiff_t ld,
                   double* acc);
  // acc[j] += sum_r (x[r, j] - center[j])^2
  void (*sum_sq_dev)(const T* x, const double* center, std::ptrdiff_t rows, std::ptrdiff_t width,
                     std::ptrdiff_t ld, double* acc);
  // with d = x[r, j] - shift[j] in double: acc0[j] += sum_r d;  acc1[j] += sum_r d^2 (one pass
  // for a mean and variance: shifted by a sample of the column, the variance keeps its digits)
  void (*sum_shifted_sq)(const T* x, const double* shift, std::ptrdiff_t rows,
                         std::ptrdiff_t width, std::ptrdiff_t ld, double* acc0, double* acc1);
  // acc0[j] += sum_r g[r, j];  acc1[j] += sum_r g[r, j] (x[r, j] - center[j])
  void (*sum_grad_dev)(const T* g, const T* x, const T* center, std::ptrdiff_t rows,
                       std::ptrdiff_t width, std::ptrdiff_t ld, double* acc0, double* acc1);
  // y[r, j] = x[r, j] + b[j]  (y may be x)
  void (*add)(const T* x, const T* b, std::ptrdiff_t rows, std::ptrdiff_t width, T* y);
  // y[r, j] = (x[r, j] - center[j]) scale[j] + shift[j]  (y may be x)
  void (*affine)(const T* x, const T* center, const T* scale, const T* shift, std::ptrdiff_t rows,
                 std::ptrdiff_t width, T* y);
  // gx[r, j] = a[j] g[r, j] + b[j] (x[r, j] - center[j]) + c[j]  (gx may be g or x)
  void (*grad_affine)(const T* g, const T* x, const T* center, const T* a, const T* b, const T* c,
                      std::ptrdiff_t rows, std::ptrdiff_t width, T* gx);
  // Batch norm + ReLU (hi = +inf) / ReLU6 (hi = 6), with p = (x - center) scale + shift and the
  // mask m = [0 < p < hi]:
  //   affine_act:        y = min(max(p, 0), hi)  (y may be x)
  //   sum_grad_dev_act:  acc0[j] += sum_r m g;  acc1[j] += sum_r m g (x - center)
  //   grad_affine_act:   gx = a m g + b (x - center) + c  (gx may be g or x)
  void (*affine_act)(const T* x, const T* center, const T* scale, const T* shift, T hi,
                     std::ptrdiff_t rows, std::ptrdiff_t width, T* y);
  void (*sum_grad_dev_act)(const T* g, const T* x, const T* center, const T* scale,
                           const T* shift, T hi, std::ptrdiff_t rows, std::ptrdiff_t width,
                           std::ptrdiff_t ld, double* acc0, double* acc1);
  void (*grad_affine_act)(const T* g, const T* x, const T* center, const T* scale, const T* shift,
                          T hi, const T* a, const T* b, const T* c, std::ptrdiff_t rows,
                          std::ptrdiff_t width, T* gx);
};

// Optimizer updates in place over a range (formulas in ops/optimizer_steps.h). lr_wd = lr * weight
// decay, applied first (param -= lr_wd * param) when nonzero; optional state pointers may be null.
template <typename T>
struct OptimizerKernels {
  void (*sgd)(T* param, const T* grad, T* velocity, std::ptrdiff_t n, T lr, T momentum,
              bool nesterov, T lr_wd);
  // alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t); one_b1 = 1 - beta1, one_b2 = 1 - beta2.
  void (*adam)(T* param, const T* grad, T* m, T* v, T* vhat, std::ptrdiff_t n, T alpha, T one_b1,
               T one_b2, T epsilon, T lr_wd);
  void (*rmsprop)(T* param, const T* grad, T* rms, T* momentum_buf, T* mg, std::ptrdiff_t n, T lr,
                  T rho, T momentum, T epsilon, T lr_wd);
};

// y = a + b, and y = min(max(a + b, 0), hi) (ReLU: hi = +inf; ReLU6: hi = 6); y may be a or b.
template <typename T>
struct SumKernels {
  void (*add)(const T* a, const T* b, T* y, std::ptrdiff_t n);
  void (*add_clamp)(const T* a, const T* b, T* y, std::ptrdiff_t n, T hi);
};

template <typename T>
struct EltwiseKernels {
  OptimizerKernels<T> optim;
  SumKernels<T> sum;
  ChannelKernels<T> channel;
  ActivationKernels<T> act;
  SoftmaxRowsKernel<T> softmax_rows;
  SoftmaxXentKernel<T> softmax_xent;
  SigmoidXentKernel<T> sigmoid_xent;
  MaskScaleKernel<T> mask_scale;
};

struct EltwiseKernelSet {
  EltwiseKernels<float> f32;
  EltwiseKernels<double> f64;
  DropoutMaskKernel dropout_mask;
};

void fill_eltwise_kernels_generic(EltwiseKernelSet& set);
void fill_eltwise_kernels_avx2(EltwiseKernelSet& set);
void fill_eltwise_kernels_avx512(EltwiseKernelSet& set);

}  // namespace nncore
