// The depthwise convolution kernel interface each ISA file implements (plain types only, see
// gemm_kernel.h). Layouts are NHWC with channels innermost; the kernel is [kh, kw, C, M] and
// output channel c * M + m comes from input channel c and multiplier m (the Keras/TensorFlow
// order), so a kernel tap is a contiguous vector of C * M weights.
#pragma once
#include <cstddef>

namespace nncore {

struct DepthwiseShape {
  std::ptrdiff_t h, w, c, mult;         // input image and depth multiplier
  std::ptrdiff_t kh, kw;
  std::ptrdiff_t stride_h, stride_w, dil_h, dil_w, pad_top, pad_left;
  std::ptrdiff_t out_h, out_w;
};

template <typename T>
struct DepthwiseKernels {
  // Output row `oh` of one image: y (out_w x C*M) = bias (or 0) + the taps in (row, column) order.
  void (*forward_row)(const DepthwiseShape& s, const T* x, const T* w, const T* bias,
                      std::ptrdiff_t oh, T* y);
  // Input-gradient row `ih` of one image: dx (w x C) written, each element summing its taps in
  // (row, column, multiplier) order.
  void (*backward_input_row)(const DepthwiseShape& s, const T* dy, const T* w, std::ptrdiff_t ih,
                             T* dx);
  // Adds output row `oh`'s contribution to the weight gradient part (kh*kw x C*M), column by
  // column in order.
  void (*backward_weight_row)(const DepthwiseShape& s, const T* x, const T* dy, std::ptrdiff_t oh,
                              T* part);
};

struct DepthwiseKernelSet {
  DepthwiseKernels<float> f32;
  DepthwiseKernels<double> f64;
};

void fill_depthwise_kernels_generic(DepthwiseKernelSet& set);
void fill_depthwise_kernels_avx2(DepthwiseKernelSet& set);
void fill_depthwise_kernels_avx512(DepthwiseKernelSet& set);

}  // namespace nncore
