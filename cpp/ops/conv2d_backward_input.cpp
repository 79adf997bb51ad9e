// conv2d backward-input: the transposed convolution, run as the same gather kernel as the forward
// pass over a zero-padded copy of grad_y.
//
// Input pixel (ih, iw) receives dy[oh, ow] w[i, j] wherever ih = oh*sh - pt + i*dh and
// iw = ow*sw - pl + j*dw. With strides > 1 only the taps whose offset is divisible by the stride
// reach a given input pixel, so each input row is split into sw column phases (iw mod sw); within
// one phase consecutive pixels read consecutive grad_y pixels through one fixed set of taps.
// Every dx element is written exactly once, so dx needs no zeroing. 3x3 stride-1 layers with many
// channels take the Winograd pass instead (conv2d_winograd.cpp); unpadded 1x1 stride-1 layers
// on small maps are one GEMM.
#include "conv2d_internal.h"
#include "nncore/aligned_buffer.h"
#include "nncore/gemm.h"
#include "nncore/ops/conv2d.h"

namespace nncore {

template <typename T>
void conv2d_backward_input(const Conv2dGeometry& g, const T* dy, const T* w, T* dx) {
  const index_t rows = g.n * g.h;
  if (rows == 0 || g.w == 0 || g.cin == 0) return;
  if (conv::winograd_backward_input(g, dy, w, dx)) return;
  // Unpadded 1x1 stride 1: dx [N*H*W x cin] = dy [N*H*W x cout] * w^T, w stored cin x cout. On
  // maps of at most 16x16 pixels the gather kernel's per-row set-up is a large share of the work
  // and the GEMM measured faster; on larger maps it was not.
  const bool unpadded = !(g.pad_top || g.pad_bottom || g.pad_left || g.pad_right);
  if (g.kh == 1 && g.kw == 1 && g.stride_h == 1 && g.stride_w == 1 && unpadded &&
      g.h * g.w <= 256) {
    gemm(false, true, rows * g.w, g.cin, g.cout, T(1), dy, g.cout, w, g.cout, T(0), dx, g.cin);
    return;
  }
  const ConvKernels<T>& kern = conv::kernels_for<T>();
  const index_t ntaps = g.kh * g.kw;
  // The gather kernel reads cout channels of dy per tap and writes cin channels of dx.
  const index_t nb = kern.gather_block(g.cin);
  const index_t nblocks = ceil_div(g.cin, nb);
  const index_t sh = g.stride_h, sw = g.stride_w;

  // grad_y pixels any input pixel can read: rows [oh_lo, oh_hi], columns [ow_lo, ow_hi].
  const index_t oh_lo = conv::floor_div(g.pad_top - (g.kh - 1) * g.dil_h, sh);
  const index_t ow_lo = conv::floor_div(g.pad_left - (g.kw - 1) * g.dil_w, sw);
  const index_t ow_hi = conv::floor_div(g.w - 1 + g.pad_left, sw);
  const index_t cols = ow_hi - ow_lo + 1;
  const index_t rs = cols * g.cout;

  // Rows without column phases (sw == 1) and few input channels take the pixel-packed gather for
  // whole groups of pixels.
  const conv::PackedPlan plan =
      sw == 1 ? conv::plan_packed(kern, g.cin, g.kw, g.dil_w, nb) : conv::PackedPlan{};
  const index_t psize = plan.pixels ? round_up(g.kh * g.cout * plan.ncols * plan.lanes, 16) : 0;
  const index_t wsize = round_up(nblocks * ntaps * g.cout * nb, 16);
  const index_t nidx = g.kw + plan.ncols;
  T* wpack = scratch(Scratch::op_temp).get<T>(
      static_cast<std::size_t>(wsize + psize) + (nidx * sizeof(index_t)) / sizeof(T) + 2);
  T* ppack = wpack + wsize;
  auto* colpos = reinterpret_cast<index_t*>(ppack + psize);
  auto* masks = reinterpret_cast<unsigned*>(colpos + g.kw);
  // Weight (tap t, dy channel co, dx channel ci) is w[t][ci][co].
  const index_t w_block = conv::pack_gather_weights(w, ntaps, g.cout, g.cin, g.cin * g.cout,
                                                    index_t(1), g.cout, nb, wpack);
  if (plan.pixels) {
    // Input column iw reads grad_y column iw + pad_left - j*dil_w: tap j = kw - 1 is leftmost.
    for (index_t j = 0; j < g.kw; ++j) colpos[j] = (g.kw - 1 - j) * g.dil_w;
    conv::pack_packed_weights(w, g.kh, g.kw, g.cout, g.cin, g.kw * g.cin * g.cout, g.cin * g.cout,
                              index_t(1), g.cout, colpos, plan, ppack, masks);
  }
  ConvPackedArgs<T> pproto{};
  pproto.cin = g.cout;
  pproto.ncols = plan.ncols;
  pproto.mask = masks;
  pproto.w = ppack;
  pproto.pixels = plan.pixels;
  pproto.npix = plan.pixels ? g.w / plan.pixels * plan.pixels : 0;
  pproto.x_row = rs;
  pproto.y_row = g.w * g.cin;
  pproto.cout = g.cin;

  ConvGatherArgs<T> proto{};
  proto.x_px = g.cout;
  proto.cin = g.cout;
  proto.w = wpack;
  proto.w_block = w_block;
  proto.nb = nb;
  proto.y_px = sw * g.cin;
  proto.cout = g.cin;
  proto.bias = nullptr;
  proto.relu = 0;

  // Whether tap offset t lands on a grad_y pixel for stride s, and which one: a division per tap
  // and row was a tenth of the time of small layers, and stride 1 needs none.
  auto lands = [](index_t t, index_t s) { return s == 1 || conv::floor_div(t, s) * s == t; };
  auto step = [](index_t t, index_t s) { return s == 1 ? t : t / s; };

  const index_t row_bytes = rs * static_cast<index_t>(sizeof(T));
  const index_t chunk_rows = std::max<index_t>(
      1, static_cast<index_t>(conv::kPaddedChunkBytes) * sh / std::max<index_t>(1, row_bytes));
  const double work = double(g.n) * g.out_h * g.out_w * ntaps * g.cin * g.cout;

  parallel_for(
      0, rows, 1,
      [&](index_t lo, index_t hi) {
        // Tap lists of one (row, column phase), in this thread's conv_col_grad slot.
        index_t* x_off = scratch(Scratch::conv_col_grad).get<index_t>(static_cast<std::size_t>(2 * ntaps + 2 * g.kh));
        index_t* w_off = x_off + ntaps;
        index_t* row_off = w_off + ntaps;
        index_t* row_w = row_off + g.kh;
        ConvGatherArgs<T> a = proto;
        a.x_off = x_off;
        a.w_off = w_off;
        ConvPackedArgs<T> pa = pproto;
        pa.row_off = row_off;
        pa.row_w = row_w;
        for (index_t r = lo; r < hi;) {
          const index_t n = r / g.h;
          const index_t ih0 = r % g.h;
          const index_t ih1 = std::min({g.h, ih0 + (hi - r), ih0 + chunk_rows});
          // dy rows these input rows read, copied with zeros around.
          const index_t row0 = std::max(oh_lo, conv::floor_div(ih0 + g.pad_top - (g.kh - 1) * g.dil_h, sh));
          const index_t row1 = conv::floor_div(ih1 - 1 + g.pad_top, sh);
          const index_t nrows = row1 - row0 + 1;
          T* buf = scratch(Scratch::conv_im2col).get<T>(static_cast<std::size_t>(nrows * rs));
          conv::copy_padded(dy + n * g.out_h * g.out_w * g.cout, g.out_h, g.out_w, g.cout, row0,
                            nrows, ow_lo, cols, buf);
          // Packed rows: all at once when sh == 1 (every row reads the same taps one dy row
          // further down), else one at a time.
          const index_t done = pa.npix;
          for (index_t ih = ih0; done && ih < ih1;) {
            const index_t nout = sh == 1 ? ih1 - ih : 1;
            index_t nr = 0;
            for (index_t i = 0; i < g.kh; ++i) {
              const index_t th = ih + g.pad_top - i * g.dil_h;
              if (!lands(th, sh)) continue;
              row_off[nr] = (step(th, sh) - row0) * rs;
              row_w[nr] = i;
              ++nr;
            }
            pa.nrows = nr;
            pa.x = buf;
            pa.y = dx + (n * g.h + ih) * g.w * g.cin;
            pa.nout = nout;
            kern.packed_gather(pa);
            ih += nout;
          }
          for (index_t ih = ih0; ih < ih1; ++ih) {
            for (index_t pw = 0; pw < sw && pw < g.w; ++pw) {
              // sw == 1 here when the packed kernel has done the first `done` pixels.
              a.npix = (g.w - pw + sw - 1) / sw - done;
              if (a.npix <= 0) continue;
              index_t nt = 0;
              for (index_t i = 0; i < g.kh; ++i) {
                const index_t th = ih + g.pad_top - i * g.dil_h;
                if (!lands(th, sh)) continue;
                const index_t oh = step(th, sh);  // may fall in the zero rows of buf
                for (index_t j = 0; j < g.kw; ++j) {
                  const index_t tw = pw + g.pad_left - j * g.dil_w;
                  if (!lands(tw, sw)) continue;
                  x_off[nt] = (oh - row0) * rs + (step(tw, sw) - ow_lo) * g.cout;
                  w_off[nt] = (i * g.kw + j) * g.cout * nb;
                  ++nt;
                }
              }
              a.ntaps = nt;
              a.x = buf + done * g.cout;
              a.y = dx + ((n * g.h + ih) * g.w + pw + done) * g.cin;
              kern.gather(a);
            }
          }
          r += ih1 - ih0;
        }
      },
      conv::threads_for(work, rows));
}

template void conv2d_backward_input<float>(const Conv2dGeometry&, const float*, const float*, float*);
template void conv2d_backward_input<double>(const Conv2dGeometry&, const double*, const double*,
                                            double*);

}  // namespace nncore
