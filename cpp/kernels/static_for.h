// Compile-time loops for the ISA kernel files: static_for<B, E>(f) calls f(Int<I>{}) for I in
// [B, E), so that a register tile's indices can be template arguments (fixed offsets, unrolled
// accumulators). In an anonymous namespace: every ISA file gets its own copy, compiled with its
// own flags, and nothing is shared through the linker (see nncore/kernels/gemm_kernel.h).
#pragma once

namespace nncore {
namespace {

template <int I>
struct Int {
  static constexpr int value = I;
};

template <int B, int E, class F>
inline void static_for(F&& f) {
  if constexpr (B < E) {
    f(Int<B>{});
    static_for<B + 1, E>(f);
  }
}

}  // namespace
}  // namespace nncore
