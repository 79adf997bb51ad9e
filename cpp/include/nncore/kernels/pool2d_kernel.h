// The pooling kernel interface each ISA file implements (plain types only, see gemm_kernel.h).
// A kernel handles one output row of one image; loops over channels are innermost (NHWC).
#pragma once
#include <cstddef>
#include <cstdint>

namespace nncore {

template <typename T>
struct PoolRowArgs {
  const T* x;                   // the image: h x w pixels of c channels
  std::ptrdiff_t w, c;
  std::ptrdiff_t row_lo, row_hi;  // input rows of this output row's windows (inside the image)
  std::ptrdiff_t out_w, pool_w, stride_w, pad_left;
  T* y;                         // the output row: out_w pixels of c channels
  std::int32_t* argmax;         // nullptr, or out_w * c flat positions (pixel * c + channel)
};

// Writes dx rows [row_lo, row_hi) of one image completely, for windows that do not overlap
// (stride_w >= pool_w): dy of output pixel j goes to the input pixels of window j (max: only to the
// pixel whose flat position equals argmax; average: divided by the window's element count), every
// other element is 0. Rows of [row_lo, row_hi) outside the window rows [win_lo, win_hi) are
// zeroed. Returns how many argmax entries matched an element (out_w * c when every entry lies in
// its window; 0 for average pooling).
template <typename T>
struct PoolBackRowArgs {
  const T* dy;                  // output row: out_w pixels of c channels
  const std::int32_t* argmax;   // max pooling: positions of the row; nullptr for average
  T* dx;                        // the image gradient
  std::ptrdiff_t h, w, c;
  std::ptrdiff_t row_lo, row_hi, win_lo, win_hi;
  std::ptrdiff_t out_w, pool_w, stride_w, pad_left;
};

template <typename T>
struct PoolKernels {
  void (*max_row)(const PoolRowArgs<T>& a);
  void (*avg_row)(const PoolRowArgs<T>& a);
  std::ptrdiff_t (*back_row)(const PoolBackRowArgs<T>& a);
};

struct PoolKernelSet {
  PoolKernels<float> f32;
  PoolKernels<double> f64;
};

void fill_pool_kernels_generic(PoolKernelSet& set);
void fill_pool_kernels_avx2(PoolKernelSet& set);
void fill_pool_kernels_avx512(PoolKernelSet& set);

}  // namespace nncore
