// The 2-D upsampling row kernels each ISA file implements (plain types only, see gemm_kernel.h).
// Images are NHWC with channels innermost; the output is (h * sh, w * sw). Bilinear taps follow
// half-pixel centers: output o of an axis of n inputs enlarged f times reads source coordinate
// max((o + 0.5) / f - 0.5, 0), i.e. inputs i0 = min(floor(src), n - 1), i1 = min(i0 + 1, n - 1)
// with weight t = src - i0 on i1 (Keras' resize without antialiasing, torch's align_corners=False).
#pragma once
#include <cstddef>

namespace nncore {

struct UpsampleShape {
  std::ptrdiff_t h, w, c, sh, sw;
};

// The taps of one axis, one entry per output position.
template <typename T>
struct LinearTaps {
  const std::ptrdiff_t* i0;
  const std::ptrdiff_t* i1;
  const T* t;
};

template <typename T>
struct UpsampleKernels {
  // Output row oh of one image (w * sw x c) from its image x (h x w x c).
  void (*nearest_forward_row)(const UpsampleShape& s, const T* x, std::ptrdiff_t oh, T* y);
  // Input-gradient row ih of one image from its output gradient dy: each element the sum of its
  // sh x sw block, rows then columns in order.
  void (*nearest_backward_row)(const UpsampleShape& s, const T* dy, std::ptrdiff_t ih, T* dx);
  // Output row oh: rows interpolated first (a + (b - a) t into tmp, w x c), then columns, as two
  // separate roundings (the build keeps a * b + c unfused).
  void (*bilinear_forward_row)(const UpsampleShape& s, const T* x, const LinearTaps<T>& rows,
                               const LinearTaps<T>& cols, std::ptrdiff_t oh, T* tmp, T* y);
  // Input-gradient row ih: the column pass (sums over the output columns reading each input
  // column) applied to each output row that reads input row ih, then the row pass. tmp holds
  // (longest run of equal rows.i0 + longest run of equal rows.i1) * w * c + 2 * w * sw * c
  // elements.
  void (*bilinear_backward_row)(const UpsampleShape& s, const T* dy, const LinearTaps<T>& rows,
                                const LinearTaps<T>& cols, std::ptrdiff_t ih, T* tmp, T* dx);
};

struct UpsampleKernelSet {
  UpsampleKernels<float> f32;
  UpsampleKernels<double> f64;
};

void fill_upsample_kernels_generic(UpsampleKernelSet& set);
void fill_upsample_kernels_avx2(UpsampleKernelSet& set);
void fill_upsample_kernels_avx512(UpsampleKernelSet& set);

}  // namespace nncore
