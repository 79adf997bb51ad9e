// conv2d forward: implicit GEMM over output rows. Each thread takes a range of (image, output row),
// copies the zero-padded input rows it needs (skipped when there is no padding), and runs the
// gather kernel on every output row: no im2col matrix is ever formed. 3x3 stride-1 layers with
// many channels take the Winograd pass instead (conv2d_winograd.cpp); unpadded 1x1 stride-1
// layers that widen the channels are one GEMM.
#include "conv2d_internal.h"
#include "nncore/aligned_buffer.h"
#include "nncore/gemm.h"
#include "nncore/ops/conv2d.h"

namespace nncore {

template <typename T>
void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* bias, T* y,
                    Conv2dActivation act) {
  const index_t rows = g.n * g.out_h;
  if (rows == 0 || g.out_w == 0 || g.cout == 0) return;
  if (conv::winograd_forward(g, x, w, bias, y, act)) return;
  // An unpadded 1x1 stride-1 layer is y [N*H*W x cout] = x [N*H*W x cin] * w [cin x cout], read
  // and written in place. The GEMM's blocking beats the gather kernel when cout > cin (the
  // expand layers of inverted residual blocks); narrowing layers measured no better.
  const bool unpadded = !(g.pad_top || g.pad_bottom || g.pad_left || g.pad_right);
  if (g.kh == 1 && g.kw == 1 && g.stride_h == 1 && g.stride_w == 1 && unpadded &&
      g.cout > g.cin) {
    GemmEpilogue<T> ep;
    ep.bias = bias;
    ep.relu = act == Conv2dActivation::relu;
    gemm_ex(false, false, rows * g.out_w, g.cout, g.cin, T(1), x, g.cin, w, g.cout, T(0), y,
            g.cout, ep);
    return;
  }
  const ConvKernels<T>& kern = conv::kernels_for<T>();
  const index_t ntaps = g.kh * g.kw;
  const index_t nb = kern.gather_block(g.cout);
  const index_t nblocks = ceil_div(g.cout, nb);

  const bool padded = g.pad_top || g.pad_bottom || g.pad_left || g.pad_right;
  // Columns of input the output row reads, starting at column -pad_left.
  const index_t cols = padded ? (g.out_w - 1) * g.stride_w + (g.kw - 1) * g.dil_w + 1 : g.w;
  const index_t rs = cols * g.cin;  // row stride of the (padded) input the kernel reads

  // Stride-1 rows with few output channels run the pixel-packed gather on whole groups of pixels
  // (the channel-vectorized one takes the last few).
  const conv::PackedPlan plan =
      g.stride_w == 1 ? conv::plan_packed(kern, g.cout, g.kw, g.dil_w, nb) : conv::PackedPlan{};
  const index_t psize = plan.pixels ? round_up(g.kh * g.cin * plan.ncols * plan.lanes, 16) : 0;

  // Packed weights and offsets live in the calling thread's op_temp slot for the whole call.
  const index_t wsize = round_up(nblocks * ntaps * g.cin * nb, 16);
  const index_t nidx = 2 * ntaps + 3 * g.kw + 2 * g.kh + plan.ncols;
  T* wpack = scratch(Scratch::op_temp).get<T>(
      static_cast<std::size_t>(wsize + psize) + (nidx * sizeof(index_t)) / sizeof(T) + 2);
  T* ppack = wpack + wsize;
  auto* x_off = reinterpret_cast<index_t*>(ppack + psize);
  index_t* w_off = x_off + ntaps;
  index_t* colpos = w_off + ntaps;
  index_t* row_off = colpos + g.kw;
  index_t* row_w = row_off + g.kh;
  auto* masks = reinterpret_cast<unsigned*>(row_w + g.kh);
  const index_t w_block = conv::pack_gather_weights(w, ntaps, g.cin, g.cout, g.cin * g.cout, g.cout,
                                                    index_t(1), nb, wpack);
  for (index_t i = 0; i < g.kh; ++i) {
    row_off[i] = i * g.dil_h * rs;
    row_w[i] = i;
    for (index_t j = 0; j < g.kw; ++j) {
      x_off[i * g.kw + j] = i * g.dil_h * rs + j * g.dil_w * g.cin;
      w_off[i * g.kw + j] = (i * g.kw + j) * g.cin * nb;
    }
  }
  for (index_t j = 0; j < g.kw; ++j) colpos[j] = j * g.dil_w;
  if (plan.pixels)
    conv::pack_packed_weights(w, g.kh, g.kw, g.cin, g.cout, g.kw * g.cin * g.cout, g.cin * g.cout,
                              g.cout, index_t(1), colpos, plan, ppack, masks);
  ConvPackedArgs<T> pproto{};
  pproto.cin = g.cin;
  pproto.nrows = g.kh;
  pproto.row_off = row_off;
  pproto.row_w = row_w;
  pproto.ncols = plan.ncols;
  pproto.mask = masks;
  pproto.w = ppack;
  pproto.pixels = plan.pixels;
  pproto.npix = plan.pixels ? g.out_w / plan.pixels * plan.pixels : 0;
  pproto.x_row = g.stride_h * rs;
  pproto.y_row = g.out_w * g.cout;
  pproto.cout = g.cout;
  pproto.bias = bias;
  pproto.relu = act == Conv2dActivation::relu;

  ConvGatherArgs<T> proto{};
  proto.x_px = g.stride_w * g.cin;
  proto.x_off = x_off;
  proto.w_off = w_off;
  proto.ntaps = ntaps;
  proto.cin = g.cin;
  proto.w = wpack;
  proto.w_block = w_block;
  proto.nb = nb;
  proto.y_px = g.cout;
  proto.npix = g.out_w;
  proto.cout = g.cout;
  proto.bias = bias;
  proto.relu = act == Conv2dActivation::relu;

  // Output rows per padded copy: the copy of sh rows per output row (plus the kernel's extra
  // rows) stays within kPaddedChunkBytes.
  const index_t row_bytes = rs * static_cast<index_t>(sizeof(T));
  const index_t chunk_rows = std::max<index_t>(
      1, static_cast<index_t>(conv::kPaddedChunkBytes) / std::max<index_t>(1, row_bytes * g.stride_h));
  const double work = double(rows) * g.out_w * ntaps * g.cin * g.cout;

  parallel_for(
      0, rows, 1,
      [&](index_t lo, index_t hi) {
        ConvGatherArgs<T> a = proto;
        for (index_t r = lo; r < hi;) {
          const index_t n = r / g.out_h;
          const index_t oh0 = r % g.out_h;
          const index_t oh1 = std::min({g.out_h, oh0 + (hi - r), oh0 + chunk_rows});
          const T* img = x + n * g.h * g.w * g.cin;
          const T* base;
          if (padded) {
            const index_t row0 = oh0 * g.stride_h - g.pad_top;
            const index_t nrows = (oh1 - 1 - oh0) * g.stride_h + (g.kh - 1) * g.dil_h + 1;
            T* buf = scratch(Scratch::conv_im2col).get<T>(static_cast<std::size_t>(nrows * rs));
            conv::copy_padded(img, g.h, g.w, g.cin, row0, nrows, -g.pad_left, cols, buf);
            base = buf;
          } else {
            base = img + oh0 * g.stride_h * rs;
          }
          const index_t done = pproto.npix;
          if (done) {
            ConvPackedArgs<T> pa = pproto;
            pa.x = base;
            pa.y = y + (n * g.out_h + oh0) * g.out_w * g.cout;
            pa.nout = oh1 - oh0;
            kern.packed_gather(pa);
          }
          for (index_t oh = oh0; oh < oh1; ++oh) {
            const T* xrow = base + (oh - oh0) * g.stride_h * rs;
            T* yrow = y + (n * g.out_h + oh) * g.out_w * g.cout;
            if (done < g.out_w) {
              a.x = xrow + done * a.x_px;
              a.y = yrow + done * g.cout;
              a.npix = g.out_w - done;
              kern.gather(a);
            }
          }
          r += oh1 - oh0;
        }
      },
      conv::threads_for(work, rows));
}

template void conv2d_forward<float>(const Conv2dGeometry&, const float*, const float*, const float*,
                                    float*, Conv2dActivation);
template void conv2d_forward<double>(const Conv2dGeometry&, const double*, const double*,
                                     const double*, double*, Conv2dActivation);

}  // namespace nncore
