// Dropout: keep bits from a counter-based hash of (seed, element index), then the inverted scale.
#include "nncore/ops/dropout.h"

#include <cmath>

#include "nncore/ops/eltwise_dispatch.h"
#include "nncore/parallel.h"

namespace nncore {
namespace {

constexpr index_t kGrain = index_t(1) << 15;

// An element is dropped when its 32-bit uniform u < threshold: P(drop) = threshold / 2^32, the rate
// to within 2^-32 (a rate that rounds to 2^32 is capped one below: dropped with p = 1 - 2^-32).
std::uint32_t drop_threshold(double rate) {
  const double t = std::nearbyint(rate * 4294967296.0);
  return t >= 4294967295.0 ? 0xFFFFFFFFu : static_cast<std::uint32_t>(t);
}

// The stream key: one round of the mix decorrelates the streams of nearby seeds (0, 1, 2, ...).
std::uint64_t stream_key(std::uint64_t seed) {
  std::uint64_t z = seed ^ 0x6A09E667F3BCC909ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

template <typename T>
void dropout_forward(const T* x, T* y, std::uint8_t* mask, index_t n, double rate,
                     std::uint64_t seed) {
  const std::uint64_t key = stream_key(seed);
  const std::uint32_t threshold = drop_threshold(rate);
  const T scale = static_cast<T>(1.0 / (1.0 - rate));
  const auto make_mask = eltwise_kernel_set().dropout_mask;
  const auto apply = eltwise_kernels<T>().mask_scale;
  parallel_for_fixed(n, kGrain, [&](index_t lo, index_t hi) {
    make_mask(key, threshold, lo, hi, mask);
    apply(x + lo, mask + lo, y + lo, hi - lo, scale);
  });
}

template <typename T>
void dropout_backward(const T* gy, const std::uint8_t* mask, T* gx, index_t n, double rate) {
  const T scale = static_cast<T>(1.0 / (1.0 - rate));
  const auto apply = eltwise_kernels<T>().mask_scale;
  parallel_for_fixed(n, kGrain, [&](index_t lo, index_t hi) {
    apply(gy + lo, mask + lo, gx + lo, hi - lo, scale);
  });
}

template void dropout_forward<float>(const float*, float*, std::uint8_t*, index_t, double,
                                     std::uint64_t);
template void dropout_forward<double>(const double*, double*, std::uint8_t*, index_t, double,
                                      std::uint64_t);
template void dropout_backward<float>(const float*, const std::uint8_t*, float*, index_t, double);
template void dropout_backward<double>(const double*, const std::uint8_t*, double*, index_t,
                                       double);

}  // namespace nncore
