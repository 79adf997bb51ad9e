// Cache sizes of the machine and the GEMM block sizes derived from them.
#pragma once
#include <cstddef>

#include "nncore/common.h"

namespace nncore {

struct CacheSizes {
  std::size_t l1d, l2, l3;  // bytes per core: a cache shared by several cores counts its share
};

// Where detect_cache_sizes looks: /sys (Linux), then CPUID (x86) for what /sys did not give;
// a single source is for testing each one.
enum class CacheSource { any, sysfs, cpuid };

// Sizes from the given source; what it cannot tell falls back to small defaults (32 KiB L1,
// 256 KiB L2, 2 MiB L3).
CacheSizes detect_cache_sizes(CacheSource source);

// This machine's sizes, detected once.
const CacheSizes& cache_sizes();

struct GemmBlocking {
  index_t mc, kc, nc;
};

// Block sizes for a kernel with an mr x nr register tile on elements of `elem` bytes, matching
// the block kernel's tile order for packed operands (each A panel against every B panel):
// kc so that an A panel (mr x kc) takes half of L1 (it is reused against every B panel while B
// panels stream through the other half),
// nc so that a B block (kc x nc) takes half of L2 (it streams past every A panel),
// mc so that an A block (mc x kc) takes a quarter of the core's share of L3 (B blocks are
// repacked for every A block, so it should not be small either).
// AVX2, float32, 6 x 16 tile: kc = 680 (16 KiB A panels in a 32 KiB L1), nc = 96 with a 512 KiB
// L2 (Zen 3) and 192 with 1 MiB (Zen 4): B blocks of 255 / 510 KiB.
GemmBlocking gemm_blocking_for(const CacheSizes& caches, int mr, int nr, std::size_t elem);

// gemm_blocking_for(cache_sizes(), ...).
GemmBlocking gemm_blocking(int mr, int nr, std::size_t elem);

}  // namespace nncore
