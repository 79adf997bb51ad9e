// Cache sizes of the machine and the GEMM block sizes derived from them.
#pragma once
#include <cstddef>

#include "nncore/common.h"

namespace nncore {

struct CacheSizes {
  std::size_t l1d, l2, l3;  // bytes: L1 data and L2 of one core, the whole L3
};

// Read once from /sys (Linux); conservative defaults elsewhere or when unreadable.
const CacheSizes& cache_sizes();

struct GemmBlocking {
  index_t mc, kc, nc;
};

// Block sizes for a kernel with an mr x nr register tile on elements of `elem` bytes:
// kc so that an A panel (mr x kc) takes half of L1 (it is reused against every B panel),
// nc so that a B block (kc x nc) takes half of L2 (it streams past every A panel),
// mc so that an A block (mc x kc) takes a share of L3.
GemmBlocking gemm_blocking(int mr, int nr, std::size_t elem);

}  // namespace nncore
