// The Winograd F(4x4, 3x3) tile transforms each ISA file implements (plain types only, see
// gemm_kernel.h). A tile covers 6 x 6 input pixels and 4 x 4 output pixels of an NHWC image; its
// transformed form is 36 vectors of channels ("positions" p = 6 * row + column), `stride`
// elements apart, so that position p of a block of tiles is one row-major GEMM operand.
#pragma once
#include <cstddef>

namespace nncore {

template <typename T>
struct WinogradKernels {
  // v[p * vs + ch] = (B^T d B)[p] for channel ch < c, where d is the 6 x 6 window of the
  // h x w x c image whose top-left pixel is (row0, col0), zero outside the image.
  void (*input_tile)(const T* img, std::ptrdiff_t h, std::ptrdiff_t w, std::ptrdiff_t c,
                     std::ptrdiff_t row0, std::ptrdiff_t col0, T* v, std::ptrdiff_t vs);
  // y[r, q, ch] = act(bias[ch] + (A^T m A)[r, q]) for r < rows, q < cols, ch < c, where m[p] is
  // m[p * ms + ch]; pixel (r, q) is at y + r * y_row + q * c. bias may be nullptr; relu keeps NaN.
  void (*output_tile)(const T* m, std::ptrdiff_t ms, std::ptrdiff_t c, const T* bias, int relu,
                      T* y, std::ptrdiff_t y_row, std::ptrdiff_t rows, std::ptrdiff_t cols);
  // Transforms n 3x3 kernels: u[p * us + l] = (G g_l G^T)[p] for l < n, where tap t (= 3 * row +
  // column) of g_l is w[t * tap + l * sl], or w[(8 - t) * tap + l * sl] (the kernel turned by 180
  // degrees) when `turned`. Computed in double, rounded once.
  void (*weights)(const T* w, std::ptrdiff_t tap, std::ptrdiff_t sl, std::ptrdiff_t n, int turned,
                  T* u, std::ptrdiff_t us);
};

struct WinogradKernelSet {
  WinogradKernels<float> f32;
  WinogradKernels<double> f64;
};

void fill_winograd_kernels_generic(WinogradKernelSet& set);
void fill_winograd_kernels_avx2(WinogradKernelSet& set);
void fill_winograd_kernels_avx512(WinogradKernelSet& set);

}  // namespace nncore
