// add_act: the active ISA's sum kernel on fixed chunks of the range, so the bits never depend on
// the thread count (each element is one addition and a clamp anyway).
#include "nncore/ops/add.h"

#include <limits>

#include "nncore/ops/eltwise_dispatch.h"
#include "nncore/parallel.h"

namespace nncore {

template <typename T>
void add_act(const T* a, const T* b, T* y, index_t n, AddAct act) {
  const SumKernels<T>& k = eltwise_kernels<T>().sum;
  // Two reads and a write per element at memory speed: as cheap per element as relu.
  constexpr index_t kGrain = index_t(1) << 15;
  if (act == AddAct::none) {
    parallel_for_fixed(n, kGrain, [&](index_t lo, index_t hi) { k.add(a + lo, b + lo, y + lo, hi - lo); });
    return;
  }
  const T cap = act == AddAct::relu6 ? T(6) : std::numeric_limits<T>::infinity();
  parallel_for_fixed(n, kGrain, [&](index_t lo, index_t hi) {
    k.add_clamp(a + lo, b + lo, y + lo, hi - lo, cap);
  });
}

template void add_act<float>(const float*, const float*, float*, index_t, AddAct);
template void add_act<double>(const double*, const double*, double*, index_t, AddAct);

}  // namespace nncore
