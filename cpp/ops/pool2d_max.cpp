// Max pooling: forward (optionally with argmax), backward by recomputing the argmax from x, and
// backward from a stored argmax. Loops run over channels innermost (NHWC), which vectorizes.
#include <atomic>
#include <cstring>

#include "nncore/aligned_buffer.h"
#include "pool2d_internal.h"

namespace nncore {
namespace {

// Channels handled together per window: the running maxima and positions stay on the stack.
constexpr index_t kChannelChunk = 64;

// Max over the window of rows rs x cols cs of one image, channels [c0, c0 + nc): best[] and the
// flat positions pos[] (pixel * channels + channel). NaN wins and stays; ties keep the first.
template <typename T>
inline void window_max(const T* img, index_t w, index_t ch, pool::Span rs, pool::Span cs, index_t c0, index_t nc,
                       T* best, std::int32_t* pos) {
  {
    const index_t p = (rs.lo * w + cs.lo) * ch + c0;
    const T* v = img + p;
    for (index_t c = 0; c < nc; ++c) {
      best[c] = v[c];
      pos[c] = static_cast<std::int32_t>(p + c);
    }
  }
  for (index_t i = rs.lo; i < rs.hi; ++i)
    for (index_t j = (i == rs.lo ? cs.lo + 1 : cs.lo); j < cs.hi; ++j) {
      const index_t p = (i * w + j) * ch + c0;
      const T* v = img + p;
      for (index_t c = 0; c < nc; ++c) {
        const T b = best[c];
        const bool take = v[c] > b || (v[c] != v[c] && b == b);
        best[c] = take ? v[c] : b;
        pos[c] = take ? static_cast<std::int32_t>(p + c) : pos[c];
      }
    }
}

}  // namespace

std::string pool2d_check(const Pool2dGeometry& g) {
  if (g.n < 0 || g.h < 0 || g.w < 0 || g.c < 0 || g.out_h < 0 || g.out_w < 0)
    return "sizes must not be negative";
  if (g.pool_h < 1 || g.pool_w < 1) return "pool_size must be >= 1";
  if (g.stride_h < 1 || g.stride_w < 1) return "strides must be >= 1";
  if (g.pad_top < 0 || g.pad_left < 0 || g.pad_top >= g.pool_h || g.pad_left >= g.pool_w)
    return "padding must be >= 0 and smaller than the window";
  if (g.out_h > 0 && g.out_w > 0) {
    // Every window must hold at least one input element: the last starts inside the input.
    if ((g.out_h - 1) * g.stride_h - g.pad_top >= g.h || (g.out_w - 1) * g.stride_w - g.pad_left >= g.w)
      return "the output is larger than the windows that fit into the input";
  }
  return {};
}

template <typename T>
void max_pool2d_forward(const Pool2dGeometry& g, const T* x, T* y, std::int32_t* argmax) {
  const index_t rows = g.n * g.out_h;
  if (rows == 0 || g.out_w == 0 || g.c == 0) return;
  const index_t image = g.h * g.w * g.c;
  const double bytes = double(g.n) * image * sizeof(T);
  parallel_for(
      0, rows, 1,
      [&](index_t lo, index_t hi) {
        T best[kChannelChunk];
        std::int32_t pos[kChannelChunk];
        for (index_t r = lo; r < hi; ++r) {
          const index_t n = r / g.out_h, oh = r % g.out_h;
          const pool::Span rs = pool::window(oh, g.stride_h, g.pad_top, g.pool_h, g.h);
          const T* img = x + n * image;
          for (index_t ow = 0; ow < g.out_w; ++ow) {
            const pool::Span cs = pool::window(ow, g.stride_w, g.pad_left, g.pool_w, g.w);
            const index_t o = (r * g.out_w + ow) * g.c;
            for (index_t c0 = 0; c0 < g.c; c0 += kChannelChunk) {
              const index_t nc = std::min(kChannelChunk, g.c - c0);
              window_max(img, g.w, g.c, rs, cs, c0, nc, best, pos);
              std::memcpy(y + o + c0, best, static_cast<std::size_t>(nc) * sizeof(T));
              if (argmax) std::memcpy(argmax + o + c0, pos, static_cast<std::size_t>(nc) * sizeof(std::int32_t));
            }
          }
        }
      },
      pool::threads_for(bytes, rows));
}

template <typename T>
void max_pool2d_backward(const Pool2dGeometry& g, const T* dy, const T* x, T* dx) {
  if (g.n == 0 || g.h == 0 || g.w == 0 || g.c == 0) return;
  const index_t image = g.h * g.w * g.c;
  const index_t row = g.w * g.c;
  const pool::Units units = pool::backward_units(g);
  const double bytes = 2.0 * double(g.n) * image * sizeof(T);
  parallel_for(
      0, units.count, 1,
      [&](index_t u0, index_t u1) {
        T best[kChannelChunk];
        std::int32_t pos[kChannelChunk];
        pool::for_units(g, units, u0, u1, [&](index_t n, index_t oh0, index_t oh1, index_t r0, index_t r1) {
          T* dimg = dx + n * image;
          std::memset(dimg + r0 * row, 0, static_cast<std::size_t>((r1 - r0) * row) * sizeof(T));
          const T* img = x + n * image;
          for (index_t oh = oh0; oh < oh1; ++oh) {
            const pool::Span rs = pool::window(oh, g.stride_h, g.pad_top, g.pool_h, g.h);
            for (index_t ow = 0; ow < g.out_w; ++ow) {
              const pool::Span cs = pool::window(ow, g.stride_w, g.pad_left, g.pool_w, g.w);
              const T* gy = dy + ((n * g.out_h + oh) * g.out_w + ow) * g.c;
              for (index_t c0 = 0; c0 < g.c; c0 += kChannelChunk) {
                const index_t nc = std::min(kChannelChunk, g.c - c0);
                window_max(img, g.w, g.c, rs, cs, c0, nc, best, pos);
                for (index_t c = 0; c < nc; ++c) dimg[pos[c]] += gy[c0 + c];
              }
            }
          }
        });
      },
      pool::threads_for(bytes, units.count));
}

template <typename T>
bool max_pool2d_backward_argmax(index_t n, index_t image_size, index_t per_image, const T* dy,
                                const std::int32_t* argmax, T* dx) {
  if (n == 0 || image_size == 0) return true;
  const double bytes = double(n) * (image_size + per_image) * sizeof(T);
  // argmax comes from the caller: an index outside the image is skipped and reported (checking
  // it here costs one predictable branch; a separate pass would read argmax twice).
  std::atomic<bool> ok{true};
  parallel_for(
      0, n, 1,
      [&](index_t lo, index_t hi) {
        bool good = true;
        for (index_t i = lo; i < hi; ++i) {
          T* dimg = dx + i * image_size;
          std::memset(dimg, 0, static_cast<std::size_t>(image_size) * sizeof(T));
          const T* g = dy + i * per_image;
          const std::int32_t* am = argmax + i * per_image;
          for (index_t e = 0; e < per_image; ++e) {
            const auto k = static_cast<std::uint32_t>(am[e]);
            if (k < static_cast<std::uint64_t>(image_size))
              dimg[k] += g[e];
            else
              good = false;
          }
        }
        if (!good) ok.store(false);
      },
      pool::threads_for(bytes, n));
  return ok.load();
}

template void max_pool2d_forward<float>(const Pool2dGeometry&, const float*, float*, std::int32_t*);
template void max_pool2d_forward<double>(const Pool2dGeometry&, const double*, double*, std::int32_t*);
template void max_pool2d_backward<float>(const Pool2dGeometry&, const float*, const float*, float*);
template void max_pool2d_backward<double>(const Pool2dGeometry&, const double*, const double*, double*);
template bool max_pool2d_backward_argmax<float>(index_t, index_t, index_t, const float*,
                                                const std::int32_t*, float*);
template bool max_pool2d_backward_argmax<double>(index_t, index_t, index_t, const double*,
                                                 const std::int32_t*, double*);

}  // namespace nncore
