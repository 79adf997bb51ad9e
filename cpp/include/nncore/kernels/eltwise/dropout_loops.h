// Dropout: keep bits from a splitmix64 stream indexed by element, and the masked scale.
// Internal linkage, builtins only: compiled once per ISA through eltwise_kernels_impl.h.
#pragma once
#include <cstddef>
#include <cstdint>

#include "nncore/kernels/simd_pragma.h"

namespace nncore {
namespace {

template <typename T>
void mask_scale_loop(const T* x, const std::uint8_t* mask, T* y, std::ptrdiff_t n, T scale) {
  // x * 0 (not 0) where dropped: NaN / inf in x stay visible, as Keras's x * mask.
  NNCORE_SIMD
  for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = x[i] * (static_cast<T>(mask[i] != 0) * scale);
}

// The splitmix64 output function (Steele, Lea and Flood 2014): a bijective 64-bit mix.
inline std::uint64_t splitmix64_mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

constexpr std::uint64_t kSplitmixGamma = 0x9E3779B97F4A7C15ull;  // the stream increment

// Output j of the stream keyed by `key` is mix(key + (j + 1) gamma); element i uses the low
// (i even) or high (i odd) half of output i / 2.
inline std::uint32_t dropout_uniform(std::uint64_t key, std::uint64_t i) {
  const std::uint64_t z = splitmix64_mix(key + (i / 2 + 1) * kSplitmixGamma);
  return static_cast<std::uint32_t>((i & 1) ? z >> 32 : z);
}

void dropout_mask_loop(std::uint64_t key, std::uint32_t threshold, std::ptrdiff_t lo,
                       std::ptrdiff_t hi, std::uint8_t* mask) {
  std::ptrdiff_t i = lo;
  if (i < hi && (i & 1)) {
    mask[i] = dropout_uniform(key, static_cast<std::uint64_t>(i)) >= threshold;
    ++i;
  }
  // Whole pairs: one 64-bit output per two elements.
  const std::ptrdiff_t pairs = (hi - i) / 2;
  const std::uint64_t first = static_cast<std::uint64_t>(i / 2 + 1);
  std::uint8_t* m = mask + i;
  NNCORE_SIMD
  for (std::ptrdiff_t j = 0; j < pairs; ++j) {
    const std::uint64_t counter = first + static_cast<std::uint64_t>(j);
    const std::uint64_t z = splitmix64_mix(key + counter * kSplitmixGamma);
    m[2 * j] = static_cast<std::uint32_t>(z) >= threshold;
    m[2 * j + 1] = static_cast<std::uint32_t>(z >> 32) >= threshold;
  }
  i += 2 * pairs;
  if (i < hi) mask[i] = dropout_uniform(key, static_cast<std::uint64_t>(i)) >= threshold;
}

}  // namespace
}  // namespace nncore
