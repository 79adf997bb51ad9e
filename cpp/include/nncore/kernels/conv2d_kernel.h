// The convolution kernel interface each ISA file implements (plain types only: see gemm_kernel.h
// for why ISA files may include nothing else).
//
// Two loops carry all the arithmetic of conv2d forward, backward-input and backward-weight:
//
//  gather: output pixels of one row segment, vectorized over output channels. Each output pixel j
//    is a dot product over taps t and input channels c of x[j*x_px + x_off[t] + c] with packed
//    weights. Forward convolution (x = padded input) and the transposed convolution of the
//    backward-input pass (x = padded grad_y) are both this loop with different offsets.
//
//  wgrad: the weight gradient of a run of `len` consecutive im2col columns, accumulated over a
//    block of output pixels: dw[k][co] += sum_pixels x[pixel + k] * dy[pixel][co].
#pragma once
#include <cstddef>

namespace nncore {

// Packed weights: output channels in blocks of `nb` lanes (the block width the kernel set chose
// for this channel count, zero-padded past cout). Block b holds, for each packed tap t and input
// channel c, nb consecutive values at w + b * w_block + w_off[t] + c * nb.
template <typename T>
struct ConvGatherArgs {
  const T* x;                   // input of output pixel 0
  std::ptrdiff_t x_px;          // input step between consecutive output pixels
  const std::ptrdiff_t* x_off;  // per tap: input offset of its channel 0
  const std::ptrdiff_t* w_off;  // per tap: offset of its first packed row inside a block
  std::ptrdiff_t ntaps;         // 0 is allowed: outputs are then bias (or 0)
  std::ptrdiff_t cin;           // input channels per tap (contiguous in x)
  const T* w;
  std::ptrdiff_t w_block;       // elements per packed block
  std::ptrdiff_t nb;            // lanes per packed block
  T* y;                         // output pixel 0, channel 0
  std::ptrdiff_t y_px;          // output step between consecutive pixels
  std::ptrdiff_t npix;
  std::ptrdiff_t cout;
  const T* bias;                // cout values or nullptr
  int relu;                     // nonzero: y = max(y, 0) after the bias
};

// For each run u < nruns (a run is `len` consecutive im2col columns: one kernel row of taps when
// they are contiguous in the padded input, else one tap):
// dw[u * run_dw + k * cout + co] += sum_{r < rows, j < cols}
//     x[u * run_x + r * x_rs + j * x_px + k] * dy[u * run_dy + r * dy_rs + j * cout + co]
// for k < len, co < cout. Several runs at once let short runs (3x3 kernels on 1-3 channels) fill
// the register tile. Runs are either different input rows against one grad_y row (run_dy == 0),
// or, for stride-1 rows, one input row against the grad_y rows it meets (run_x == 0): then every
// loaded input value feeds nruns FMAs.
template <typename T>
struct ConvWgradArgs {
  const T* x;
  std::ptrdiff_t x_rs, x_px;
  const T* dy;
  std::ptrdiff_t dy_rs;
  std::ptrdiff_t rows, cols;
  std::ptrdiff_t len;
  std::ptrdiff_t nruns, run_x, run_dy, run_dw;
  std::ptrdiff_t cout;
  T* dw;
};

// Pixel-packed gather, for few output channels on stride-1 rows: one vector holds P consecutive
// output pixels x cout channels (lane p * cout + o), so 3 or 8 channels still fill a 512-bit
// register. Input column d of a group (0 <= d < ncols, relative to the group's first pixel) is
// broadcast and multiplied into every lane whose pixel sees it: lanes where mask[d] is set, with
// weights w[(r * cin + c) * ncols * lanes + d * lanes + lane] for kernel row r. Masked FMAs keep a
// pixel's sum free of columns it does not see (0 * inf would otherwise turn it into NaN).
// Output pixels npix are whole groups: y[p * cout + o] for p < npix, npix a multiple of P, in each
// of `nout` output rows (row q reads x + q * x_row and writes y + q * y_row with the same taps).
template <typename T>
struct ConvPackedArgs {
  const T* x;                      // column 0 of pixel 0's group; consecutive pixels cin apart
  std::ptrdiff_t cin;
  std::ptrdiff_t nrows;            // kernel rows that contribute
  const std::ptrdiff_t* row_off;   // per contributing row: input offset
  const std::ptrdiff_t* row_w;     // per contributing row: its kernel row r in w
  std::ptrdiff_t ncols;
  const unsigned* mask;            // ncols lane masks
  const T* w;
  std::ptrdiff_t pixels;           // P
  T* y;
  std::ptrdiff_t npix;
  std::ptrdiff_t nout, x_row, y_row;
  std::ptrdiff_t cout;
  const T* bias;
  int relu;
};

// Filled by the kernel registry (kernel_registry.h) from value-initialized sets: no default member
// initializers, so that no constructor exists for an ISA file to instantiate (see gemm_kernel.h).
template <typename T>
struct ConvKernels {
  // Lanes per packed weight block for `cout` output channels (a multiple of the vector width).
  std::ptrdiff_t (*gather_block)(std::ptrdiff_t cout);
  void (*gather)(const ConvGatherArgs<T>& a);
  void (*wgrad)(const ConvWgradArgs<T>& a);
  // Whether wgrad is faster with runs along grad_y rows (run_x == 0) for this channel count.
  bool (*wgrad_prefers_dy_runs)(std::ptrdiff_t cout);
  // Lanes of a packed vector and pixels per vector for `cout` channels; 0 pixels: not available.
  std::ptrdiff_t packed_lanes;
  std::ptrdiff_t (*packed_pixels)(std::ptrdiff_t cout);
  void (*packed_gather)(const ConvPackedArgs<T>& a);
  // Winograd F(2x2, 3x3) weight-gradient transforms (kernels/conv2d_wino_impl.h).
  void (*wino_input)(const T* const* p, std::ptrdiff_t cs, T* tmp, T* v, std::ptrdiff_t vs, int r0, int r1);
  void (*wino_grad)(const T* const* g, std::ptrdiff_t cout, T* u, std::ptrdiff_t us, int r0, int r1);
};

struct ConvKernelSet {
  ConvKernels<float> f32;
  ConvKernels<double> f64;
};

void fill_conv_kernels_generic(ConvKernelSet& set);
void fill_conv_kernels_avx512(ConvKernelSet& set);
// AVX2: each file fills the entries it implements, on top of the generic ones.
void fill_conv_gather_kernels_avx2(ConvKernelSet& set);  // gather, gather_block, pixel-packed gather
void fill_conv_wgrad_kernels_avx2(ConvKernelSet& set);   // wgrad, wgrad_prefers_dy_runs

}  // namespace nncore
