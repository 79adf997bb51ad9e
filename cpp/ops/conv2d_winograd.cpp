// Winograd F(4x4, 3x3) convolution (Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural
// Networks") for 3x3 stride-1 convolutions with many channels: each 4x4 block of outputs comes
// from a 6x6 input tile as A^T [ (G g G^T) .* (B^T d B) ] A, which turns the 36 multiply-adds per
// output and channel pair of the direct convolution into 36 per 16 outputs (2.25 per output) plus
// the transforms. The channel sums become 36 GEMMs, [tiles x cin] . [cin x cout], one per
// position p of the 6x6 transformed tile.
//
// Tiles are cut into blocks of a size fixed by the channel counts alone; a thread takes whole
// blocks and, per block, transforms the input tiles, runs the 36 GEMMs on one thread and writes
// the outputs, so the transformed data never leaves its L2 and the results do not depend on the
// thread count (DESIGN.md convention 13).
//
// The input gradient of a 3x3 stride-1 convolution is the full convolution of dy with the kernel
// turned by 180 degrees and its channel axes swapped: the same pass on dy with pads 2 - pad.
//
// Accuracy: the transforms multiply by up to 8 (A) and 5 (B) and divide by 6 and 24 (G), and a
// tile's transforms mix all of its pixels, so in float32 each output's error scales with
// S = the largest sum |x| |w| of the outputs within 3 pixels. Measured against float64 on standard
// normal data (bench/bench_winograd.py --error, 32-256 channels, forward and input gradient): max
// error 1.4e-6 to 2.6e-6 of S, 1.7e-5 to 6e-5 of the output's RMS, 6-10x the direct kernel's.
// tests/test_conv2d_winograd.py asserts below 1e-5 of S and 2e-4 of the RMS (README, "Winograd
// convolution"). An inf or NaN input makes the whole tiles that read it non-finite.
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "conv2d_internal.h"
#include "nncore/aligned_buffer.h"
#include "nncore/dispatch.h"
#include "nncore/gemm.h"
#include "nncore/isa_fills.h"
#include "nncore/kernel_registry.h"
#include "nncore/kernels/winograd_kernel.h"

namespace nncore {
namespace {

std::atomic<int> g_mode{-1};  // see set_winograd

KernelRegistry<WinogradKernelSet>& registry() {
  static KernelRegistry<WinogradKernelSet> reg(&fill_winograd_kernels_generic,
                                               NNCORE_ISA_FILL(winograd_kernels, avx2),
                                               NNCORE_ISA_FILL(winograd_kernels, avx512));
  return reg;
}

template <typename T>
const WinogradKernels<T>& wino_kernels();
template <>
const WinogradKernels<float>& wino_kernels<float>() { return registry().active().f32; }
template <>
const WinogradKernels<double>& wino_kernels<double>() { return registry().active().f64; }

// When the pass is worth it, measured on one core of the AVX-512 machine (bench/bench_winograd.py
// and single-layer timings, float32, 64-256 channels): at full tiles it takes 0.35-0.45 of the
// direct kernel's time, so it still wins when half the outputs its tiles compute are used (3x3,
// 6x6, 9x9 maps: 0.6-0.7 of the time) and not below (5x5: 0.95, 2x2: 1.5). The weight transform
// runs once per call on one thread and costs about 10 full tiles: a batch-1 8x8 map (4 tiles)
// took twice the direct time, 16x16 (16 tiles) 0.8. 16 channels still pay: ResNet-20's 16->16
// layers at 32x32, batch 128, 2 threads, Zen 4, forward 2.6-3.4 ms against the direct kernel's
// 4.0-4.3 (avx512), 3.1-3.9 against 3.9-4.1 (avx2), 7 against 40 (generic); 8 channels do not.
constexpr index_t kMinChannels = 16;
constexpr index_t kMinTiles = 32;
// The transformed weights (4x the kernel) are made on one thread at every call, and every block
// of tiles streams all of them; past this size that costs more than the multiplications save, so
// the direct kernel is kept. Measured at 2 threads, Zen 4, float32, time against the direct
// kernel: 512->512 at 28x28 (37.7 MB) batch 1 / 2 / 4: 1.28 / 1.11 / 0.94 (avx512), 2.27 / 1.80 /
// 2.29 (avx2); 256->512 (18.9 MB) batch 1: 1.27, 2.20; 256->256 at 56x56 (9.4 MB) batch 1: 0.48,
// 0.53. Reading them once per call (the 36 products over all tiles) would lift this limit.
constexpr double kMaxWeightBytes = 16.0 * 1024 * 1024;
// The portable path's direct kernel is 5-6x slower than the vector ones (16->16 at 32x32: 40 ms
// against Winograd's 7), so there Winograd pays even for 512-channel layers: VGG16 predict at
// batch 1 took 0.63 of PyTorch's time with this limit and 1.12 with the one above.
constexpr double kMaxWeightBytesPortable = 256.0 * 1024 * 1024;

// Bytes of transformed input and GEMM output a block of tiles may take, so that they stay in a
// core's L2 between the transforms and the GEMMs (256 KiB to 1.4 MiB measured within noise).
constexpr index_t kBlockBytes = 640 * 1024;

// Position p's matrices are this many elements apart plus a cache line, so that the 36 rows a
// tile transform writes do not all fall into one cache set.
index_t pos_stride(index_t tb, index_t c, std::size_t elem) {
  return tb * c + static_cast<index_t>(kAlignment / elem);
}

struct WinoShape {
  index_t n, h, w, cin, cout;  // input image (cin channels) and output channels
  index_t pad_top, pad_left;   // input pixel of output pixel (0, 0) is (-pad_top, -pad_left)
  index_t out_h, out_w;
};

// u[p][a][b] = (G g G^T)[p] for the 3x3 kernel g linking channel a of the pass's input to channel b
// of its output: w[i][j][a][b] forward, w[2-i][2-j][b][a] for the input gradient. It runs on the
// calling thread: it costs about 1/tiles of the pass, and a parallel region of its own was a
// second fork and join, which on a loaded machine doubled the time of whole passes (each one
// waits for a descheduled thread).
template <typename T>
void transform_weights(const T* w, index_t cin, index_t cout, bool backward, T* u) {
  const WinogradKernels<T>& k = wino_kernels<T>();
  const index_t ra = backward ? cout : cin, rb = backward ? cin : cout;
  const index_t sa = backward ? 1 : cout, sb = backward ? cout : 1;  // w's strides for a and b
  for (index_t a = 0; a < ra; ++a)
    k.weights(w + a * sa, cin * cout, sb, rb, backward ? 1 : 0, u + a * rb, ra * rb);
}

template <typename T>
void winograd_run(const WinoShape& s, const T* x, const T* u, const T* bias, bool relu, T* y) {
  const WinogradKernels<T>& k = wino_kernels<T>();
  const index_t th = ceil_div(s.out_h, 4), tw = ceil_div(s.out_w, 4);
  const index_t ntiles = s.n * th * tw;
  const index_t per_tile = 36 * (s.cin + s.cout) * static_cast<index_t>(sizeof(T));
  // Whole register tiles of GEMM rows: a partial one costs nearly as much as a full one.
  const index_t mr = gemm_config<T>().mr;
  const index_t tb = std::clamp<index_t>(kBlockBytes / per_tile / mr * mr, mr, 256 / mr * mr);
  const index_t nblocks = ceil_div(ntiles, tb);
  const index_t vs = pos_stride(tb, s.cin, sizeof(T)), ms = pos_stride(tb, s.cout, sizeof(T));
  const double work = double(ntiles) * 36.0 * double(s.cin) * double(s.cout);
  parallel_for(
      0, nblocks, 1,
      [&](index_t lo, index_t hi) {
        T* v = scratch(Scratch::conv_im2col).get<T>(static_cast<std::size_t>(36 * (vs + ms)));
        T* m = v + 36 * vs;
        for (index_t blk = lo; blk < hi; ++blk) {
          const index_t t0 = blk * tb, nt = std::min(tb, ntiles - t0);
          for (index_t i = 0; i < nt; ++i) {
            const index_t t = t0 + i, img = t / (th * tw), ti = t % (th * tw) / tw, tj = t % tw;
            k.input_tile(x + img * s.h * s.w * s.cin, s.h, s.w, s.cin, ti * 4 - s.pad_top,
                         tj * 4 - s.pad_left, v + i * s.cin, vs);
          }
          for (index_t p = 0; p < 36; ++p)
            gemm<T>(false, false, nt, s.cout, s.cin, T(1), v + p * vs, s.cin,
                    u + p * s.cin * s.cout, s.cout, T(0), m + p * ms, s.cout, 1);
          for (index_t i = 0; i < nt; ++i) {
            const index_t t = t0 + i, img = t / (th * tw), ti = t % (th * tw) / tw, tj = t % tw;
            T* dst = y + ((img * s.out_h + ti * 4) * s.out_w + tj * 4) * s.cout;
            k.output_tile(m + i * s.cout, ms, s.cout, bias, relu ? 1 : 0, dst, s.out_w * s.cout,
                          std::min<index_t>(4, s.out_h - ti * 4), std::min<index_t>(4, s.out_w - tj * 4));
          }
        }
      },
      conv::threads_for(work, nblocks));
}

bool winograd_fits(const Conv2dGeometry& g, index_t out_h, index_t out_w, std::size_t elem) {
  if (!(g.kh == 3 && g.kw == 3 && g.stride_h == 1 && g.stride_w == 1 && g.dil_h == 1 &&
        g.dil_w == 1 && g.cin >= kMinChannels && g.cout >= kMinChannels && g.n > 0 &&
        36.0 * double(g.cin) * double(g.cout) * double(elem) <=
            (active_isa() == Isa::generic ? kMaxWeightBytesPortable : kMaxWeightBytes)))
    return false;
  const index_t tiles = g.n * ceil_div(out_h, 4) * ceil_div(out_w, 4);
  const int mode = g_mode.load(std::memory_order_relaxed);
  if (mode == 2) return true;
  return tiles >= kMinTiles && 2 * out_h * out_w >= tiles / g.n * 16 && winograd_enabled();
}

}  // namespace

bool winograd_enabled() {
  const int mode = g_mode.load(std::memory_order_relaxed);
  if (mode >= 0) return mode != 0;
  const char* env = std::getenv("NNCORE_WINOGRAD");
  return !(env && std::strcmp(env, "0") == 0);
}

void set_winograd(int mode) { g_mode.store(mode < 0 ? -1 : (mode > 2 ? 2 : mode)); }

namespace conv {

template <typename T>
bool winograd_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* bias, T* y,
                      Conv2dActivation act) {
  if (!winograd_fits(g, g.out_h, g.out_w, sizeof(T))) return false;
  T* u = scratch(Scratch::op_temp).get<T>(static_cast<std::size_t>(36 * g.cin * g.cout));
  transform_weights(w, g.cin, g.cout, false, u);
  const WinoShape s{g.n, g.h, g.w, g.cin, g.cout, g.pad_top, g.pad_left, g.out_h, g.out_w};
  winograd_run(s, x, u, bias, act == Conv2dActivation::relu, y);
  return true;
}

template <typename T>
bool winograd_backward_input(const Conv2dGeometry& g, const T* dy, const T* w, T* dx) {
  if (!winograd_fits(g, g.h, g.w, sizeof(T))) return false;
  T* u = scratch(Scratch::op_temp).get<T>(static_cast<std::size_t>(36 * g.cin * g.cout));
  transform_weights(w, g.cin, g.cout, true, u);
  // dx[ih, iw] reads dy[ih + pad_top - 2 + i', iw + pad_left - 2 + j'] for taps i', j' of the
  // turned kernel.
  const WinoShape s{g.n, g.out_h, g.out_w, g.cout, g.cin, 2 - g.pad_top, 2 - g.pad_left, g.h, g.w};
  winograd_run<T>(s, dy, u, nullptr, false, dx);
  return true;
}

template bool winograd_forward<float>(const Conv2dGeometry&, const float*, const float*,
                                      const float*, float*, Conv2dActivation);
template bool winograd_forward<double>(const Conv2dGeometry&, const double*, const double*,
                                       const double*, double*, Conv2dActivation);
template bool winograd_backward_input<float>(const Conv2dGeometry&, const float*, const float*,
                                             float*);
template bool winograd_backward_input<double>(const Conv2dGeometry&, const double*, const double*,
                                              double*);

}  // namespace conv
}  // namespace nncore
