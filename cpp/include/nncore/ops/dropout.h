// Inverted dropout with a counter-based random stream: the keep decision of element i is a pure
// function of (seed, i), so masks do not depend on the thread count or on how work is split.
#pragma once
#include <cstdint>

#include "nncore/common.h"

namespace nncore {

// keep[i] = u_i >= rate, u_i uniform in [0, 1) with 32 bits, from splitmix64 (Steele, Lea and
// Flood 2014) at counter i / 2 of the stream keyed by seed (each 64-bit output gives the 32-bit
// uniforms of two consecutive elements).
// y = x * keep / (1 - rate) (Keras semantics: the expected value is unchanged); mask = keep (0/1).
// y may be x. rate in [0, 1).
template <typename T>
void dropout_forward(const T* x, T* y, std::uint8_t* mask, index_t n, double rate,
                     std::uint64_t seed);

// gx = gy * mask / (1 - rate); gx may be gy.
template <typename T>
void dropout_backward(const T* gy, const std::uint8_t* mask, T* gx, index_t n, double rate);

}  // namespace nncore
