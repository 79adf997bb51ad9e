// Dropout: a keep mask from a counter-based hash of (seed, element index), and the inverted scale.
#include "nncore/ops/dropout.h"

#include <cmath>

#include "nncore/kernels/simd_pragma.h"
#include "nncore/parallel.h"

namespace nncore {
namespace {

constexpr index_t kGrain = index_t(1) << 15;
constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ull;  // splitmix64's stream increment

// The splitmix64 output function: a bijective 64-bit mix (xor-shift / multiply rounds).
inline std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// u < threshold <=> dropped, for u uniform on 32 bits: P(drop) = threshold / 2^32 (rate to 2^-32).
std::uint64_t drop_threshold(double rate) {
  return static_cast<std::uint64_t>(std::llround(rate * 4294967296.0));
}

// Writes keep bits for elements [lo, hi). Elements 2j and 2j + 1 use the low and high halves of
// the j-th stream value, so any split of the range gives the same bits.
void keep_mask(std::uint64_t key, std::uint64_t threshold, index_t lo, index_t hi,
               std::uint8_t* mask) {
  index_t i = lo;
  if (i < hi && (i & 1)) {
    const std::uint64_t z = mix64(key + static_cast<std::uint64_t>(i / 2 + 1) * kGolden);
    mask[i] = (z >> 32) >= threshold;
    ++i;
  }
  const index_t pairs = (hi - i) / 2;
  std::uint8_t* m = mask + i;
  const std::uint64_t base = static_cast<std::uint64_t>(i / 2 + 1);
  NNCORE_SIMD
  for (index_t j = 0; j < pairs; ++j) {
    const std::uint64_t z = mix64(key + (base + static_cast<std::uint64_t>(j)) * kGolden);
    m[2 * j] = (z & 0xFFFFFFFFull) >= threshold;
    m[2 * j + 1] = (z >> 32) >= threshold;
  }
  i += 2 * pairs;
  if (i < hi) {
    const std::uint64_t z = mix64(key + static_cast<std::uint64_t>(i / 2 + 1) * kGolden);
    mask[i] = (z & 0xFFFFFFFFull) >= threshold;
  }
}

}  // namespace

template <typename T>
void dropout_forward(const T* x, T* y, std::uint8_t* mask, index_t n, double rate,
                     std::uint64_t seed) {
  // Keying through one mix decorrelates the streams of nearby seeds (0, 1, 2, ...).
  const std::uint64_t key = mix64(seed ^ 0x6A09E667F3BCC909ull);
  const std::uint64_t threshold = drop_threshold(rate);
  const T scale = static_cast<T>(1.0 / (1.0 - rate));
  parallel_for(0, n, kGrain, [&](index_t lo, index_t hi) {
    keep_mask(key, threshold, lo, hi, mask);
    // x * 0 rather than 0 for dropped elements: NaN / inf in x stay visible, as x * mask in Keras.
    NNCORE_SIMD
    for (index_t i = lo; i < hi; ++i) y[i] = x[i] * (mask[i] ? scale : T(0));
  });
}

template <typename T>
void dropout_backward(const T* gy, const std::uint8_t* mask, T* gx, index_t n, double rate) {
  const T scale = static_cast<T>(1.0 / (1.0 - rate));
  parallel_for(0, n, kGrain, [&](index_t lo, index_t hi) {
    NNCORE_SIMD
    for (index_t i = lo; i < hi; ++i) gx[i] = gy[i] * (mask[i] ? scale : T(0));
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
