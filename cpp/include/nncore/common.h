// Basic types shared by every part of the C++ core.
#pragma once
#include <cstddef>
#include <cstdint>

namespace nncore {

// Signed on purpose: loop bounds like `n - k` must not wrap around.
using index_t = std::ptrdiff_t;

// Scratch and packed panels are aligned to a cache line, which is also the widest vector (AVX-512).
constexpr std::size_t kAlignment = 64;

inline index_t round_up(index_t x, index_t to) { return (x + to - 1) / to * to; }
inline index_t ceil_div(index_t x, index_t d) { return (x + d - 1) / d; }

}  // namespace nncore
