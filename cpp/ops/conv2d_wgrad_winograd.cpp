// Weight gradient by Winograd F(2x2, 3x3). With the transforms B, G, A of Lavin & Gray, a 2x2
// output tile of a 4x4 input patch d is Y = A^T [(G w G^T) . (B^T d B)] A, so the gradient with
// respect to G w G^T is (B^T d B) . (A dY A^T) summed over tiles: 16 products M[xi] (C_in x C_out)
// of transformed inputs and transformed gradients over every tile, then dw = G^T M G for each
// channel pair. 16 multiply-adds per tile and channel pair where the direct sum takes 36.
//
// Threads own disjoint parts of M (rows of the 4x4 transform positions x input-channel slices)
// and sum over every tile in tile order, so the bits do not depend on the thread count. A thread
// computes only its rows of the transforms: up to 4 threads, no transform is done twice (past 4,
// threads sharing a row each transform its grad_y part). The products run on the direct wgrad
// kernel, which is a GEMM over pixels: here the pixels are tiles, x the transformed inputs, dy the
// transformed gradients; the transforms are per-ISA kernels too. Tiles go in blocks whose
// transforms stay in L2. The relu mask and the bias sums are applied to each grad_y tile as it is
// transformed (the owner of row 0 and input-channel slice 0 writes them).
#include "conv2d_wgrad_winograd.h"

#include <atomic>
#include <cstring>
#include <type_traits>
#include <vector>

#include "conv2d_backward_epilogue.h"
#include "conv2d_internal.h"
#include "nncore/aligned_buffer.h"

namespace nncore::conv {
namespace {

std::atomic<bool> g_enabled{true};

constexpr index_t kMinSliceChannels = 4;
constexpr index_t kMaxSlices = 64;
// A thread's transformed tiles of one block (kept in L2; 768 KiB measured faster than 256).
constexpr std::size_t kBlockBytes = 768 * 1024;
// Fewer channels than this and the transforms cost more than the products save: ResNet-20's
// layers at batch 128, 2 threads, Zen 4, time against the direct sum: 16->16 1.7 (avx512, avx2)
// and 0.76 (generic); 32->32 0.88-0.90 (avx512, avx2), 0.54 (generic); 64->64 0.54-0.62.
constexpr index_t kMinChannels = 32;
// The 16 transformed-domain sums M are 16/9 of dw: past this, the direct sum (no scratch) instead.
constexpr index_t kMaxTransformedBytes = index_t(8) << 20;

}  // namespace

template <typename T>
bool wgrad_winograd_applies(const Conv2dGeometry& g) {
  return std::is_same_v<T, float> && g.kh == 3 && g.kw == 3 && g.stride_h == 1 && g.stride_w == 1 &&
         g.dil_h == 1 && g.dil_w == 1 && g.cin >= kMinChannels && g.cout >= kMinChannels &&
         16 * g.cin * g.cout * static_cast<index_t>(sizeof(T)) <= kMaxTransformedBytes;
}

template <typename T>
void wgrad_winograd(const Conv2dGeometry& g, const T* x, const T* dy, const T* relu_y, T* dw, bool accumulate,
                    T* db, bool db_accumulate, T* dy_out) {
  const index_t cin = g.cin, cout = g.cout;
  const index_t th = ceil_div(g.out_h, 2), tw = ceil_div(g.out_w, 2);
  const index_t tiles = g.n * th * tw;
  const index_t slices = std::clamp<index_t>(cin / kMinSliceChannels, 1, kMaxSlices);
  const index_t mstride = cin * cout;  // one of the 16 matrices M[xi], [ci][co]
  T* m = scratch(Scratch::op_temp).get<T>(static_cast<std::size_t>(16 * mstride));
  std::vector<double> bias(db ? static_cast<std::size_t>(cout) : 0, 0.0);
  const ConvKernels<T>& kern = kernels_for<T>();
  const std::vector<T> zeros(static_cast<std::size_t>(std::max(cin, cout)), T(0));

  // Rows r0 <= r < r1 of the 4x4 transform positions (xi = r * 4 + j) x input channels [c0, c1)
  // of M, summed over every tile: a row's transforms need only their own share of each patch.
  auto rect = [&](int r0, int r1, index_t c0, index_t c1) {
    const index_t cs = c1 - c0, nxi = 4 * (r1 - r0);
    const bool owner = r0 == 0 && c0 == 0;
    const index_t tb = std::clamp<index_t>(
        static_cast<index_t>(kBlockBytes / (nxi * (cs + cout) * sizeof(T))), 8, 256);
    T* v = scratch(Scratch::conv_im2col).get<T>(static_cast<std::size_t>(nxi * tb * cs));
    T* u = scratch(Scratch::conv_col_grad).get<T>(static_cast<std::size_t>(nxi * tb * cout + 4 * cout));
    T* masked = u + nxi * tb * cout;  // a tile's 4 masked grad_y pixels (threads without dy_out)
    std::vector<T> tmp(static_cast<std::size_t>(16 * cs));
    for (index_t xi = 4 * r0; xi < 4 * r1; ++xi)
      std::memset(m + xi * mstride + c0 * cout, 0, static_cast<std::size_t>(cs * cout) * sizeof(T));
    ConvWgradArgs<T> a{};
    a.x_px = cs;
    a.rows = 1;
    a.len = cs;
    a.nruns = 1;
    a.cout = cout;
    for (index_t t0 = 0; t0 < tiles; t0 += tb) {
      const index_t nb = std::min(tb, tiles - t0);
      for (index_t b = 0; b < nb; ++b) {
        const index_t t = t0 + b;
        const index_t n = t / (th * tw), ty = t / tw % th, tx = t % tw;
        const T* p[16];
        for (index_t r = 0; r < 4; ++r)
          for (index_t q = 0; q < 4; ++q) {
            const index_t ih = 2 * ty - g.pad_top + r, iw = 2 * tx - g.pad_left + q;
            p[r * 4 + q] = ih >= 0 && ih < g.h && iw >= 0 && iw < g.w
                               ? x + ((n * g.h + ih) * g.w + iw) * cin + c0
                               : zeros.data();
          }
        kern.wino_input(p, cs, tmp.data(), v + b * cs, tb * cs, r0, r1);
        const T* gp[4];
        for (index_t k = 0; k < 4; ++k) {
          const index_t oh = 2 * ty + k / 2, ow = 2 * tx + k % 2;
          if (oh >= g.out_h || ow >= g.out_w) {
            gp[k] = zeros.data();
            continue;
          }
          const index_t off = ((n * g.out_h + oh) * g.out_w + ow) * cout;
          gp[k] = dy + off;
          if (relu_y) {
            T* dst = owner && dy_out ? dy_out + off : masked + k * cout;
            mask_relu(dy + off, relu_y + off, cout, dst);
            gp[k] = dst;
          }
          if (owner && db) add_pixels(gp[k], 1, cout, bias.data());
        }
        kern.wino_grad(gp, cout, u + b * cout, tb * cout, r0, r1);
      }
      a.cols = nb;
      for (index_t k = 0; k < nxi; ++k) {
        a.x = v + k * tb * cs;
        a.dy = u + k * tb * cout;
        a.dw = m + (4 * r0 + k) * mstride + c0 * cout;
        kern.wgrad(a);
      }
    }
  };
  // Pieces: (transform row r, input-channel slice s), r-major. A thread's contiguous run of
  // pieces is at most a partial row, whole rows, and a partial row: one pass over the tiles each.
  auto share = [&](index_t p0, index_t p1) {
    const index_t first = p0 / slices, last = (p1 - 1) / slices;
    auto ch = [&](index_t s) { return cin * s / slices; };
    index_t r = first;
    if (p0 % slices != 0 || first == last) {
      const index_t s1 = first == last ? (p1 - 1) % slices + 1 : slices;
      rect(static_cast<int>(first), static_cast<int>(first + 1), ch(p0 % slices), ch(s1));
      r = first + 1;
    }
    if (r > last) return;
    const bool last_whole = p1 % slices == 0;
    const index_t whole_end = last_whole ? last + 1 : last;
    if (r < whole_end) rect(static_cast<int>(r), static_cast<int>(whole_end), 0, cin);
    if (!last_whole) rect(static_cast<int>(last), static_cast<int>(last + 1), 0, ch(p1 % slices));
  };
  const double work = 16.0 * double(tiles) * double(cin) * double(cout);
  parallel_for(
      0, 4 * slices, 1, [&](index_t p0, index_t p1) { share(p0, p1); }, threads_for(work, 4 * slices));

  // dw = G^T M G, by input-channel slices.
  const index_t tap = cin * cout;
  auto finish = [&](index_t s0, index_t s1) {
    for (index_t c = cin * s0 / slices; c < cin * s1 / slices; ++c)
      for (index_t o = 0; o < cout; ++o) {
        const T* mc = m + c * cout + o;
        T r[3][4];
        for (int q = 0; q < 4; ++q) {
          const T m0 = mc[(0 + q) * mstride], m1 = mc[(4 + q) * mstride];
          const T m2 = mc[(8 + q) * mstride], m3 = mc[(12 + q) * mstride];
          r[0][q] = m0 + T(0.5) * (m1 + m2);
          r[1][q] = T(0.5) * (m1 - m2);
          r[2][q] = T(0.5) * (m1 + m2) + m3;
        }
        for (int i = 0; i < 3; ++i) {
          const T w3[3] = {r[i][0] + T(0.5) * (r[i][1] + r[i][2]), T(0.5) * (r[i][1] - r[i][2]),
                           T(0.5) * (r[i][1] + r[i][2]) + r[i][3]};
          for (int j = 0; j < 3; ++j) {
            T& d = dw[(i * 3 + j) * tap + c * cout + o];
            d = accumulate ? d + w3[j] : w3[j];
          }
        }
      }
  };
  parallel_for(0, slices, 1, finish, threads_for(double(tap) * 40.0, slices));
  if (db) write_bias(bias.data(), 1, cout, db, db_accumulate);
}

template bool wgrad_winograd_applies<float>(const Conv2dGeometry&);
template bool wgrad_winograd_applies<double>(const Conv2dGeometry&);
template void wgrad_winograd<float>(const Conv2dGeometry&, const float*, const float*, const float*, float*,
                                    bool, float*, bool, float*);
template void wgrad_winograd<double>(const Conv2dGeometry&, const double*, const double*, const double*,
                                     double*, bool, double*, bool, double*);

}  // namespace nncore::conv

namespace nncore {
void conv2d_set_wgrad_winograd(bool enabled) { conv::g_enabled.store(enabled); }
bool conv2d_wgrad_winograd_enabled() { return conv::g_enabled.load(); }
}  // namespace nncore
