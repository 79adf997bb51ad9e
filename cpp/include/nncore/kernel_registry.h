// One lazily built table of kernels per ISA path, filled only for paths this CPU supports.
//
// A kernel set is filled by functions compiled with that path's -m flags (cpp/kernels/<isa>/), and
// filling it is already code of that path: GCC stores the function pointers with the widest
// vector moves it may use (zmm stores in the AVX-512 fill functions, vinserti128 in the AVX2 ones).
// So a fill function must never run on a CPU that lacks its path, not even to build a table that
// is never used: each path's set is built on its first use, after the run-time CPU check.
#pragma once
#include <mutex>
#include <stdexcept>
#include <string>

#include "nncore/dispatch.h"

namespace nncore {

template <class Set>
class KernelRegistry {
 public:
  using Fill = void (*)(Set&);

  // generic fills every entry; avx2 / avx512 (nullptr: the path has none of its own) override the
  // entries they implement on top of the generic ones.
  KernelRegistry(Fill generic, Fill avx2, Fill avx512) : fills_{generic, avx2, avx512} {}
  KernelRegistry(const KernelRegistry&) = delete;
  KernelRegistry& operator=(const KernelRegistry&) = delete;

  const Set& get(Isa isa) {
    const int i = static_cast<int>(isa);
    if (i < 0 || i >= kPaths) throw std::invalid_argument("unknown ISA path");
    std::call_once(once_[i], [&] {
      if (!isa_supported(isa))
        throw std::invalid_argument(std::string("this CPU does not support the ") + isa_name(isa) +
                                    " path");
      Set set{};
      fills_[0](set);
      if (i > 0 && fills_[i]) fills_[i](set);
      sets_[i] = set;
    });
    return sets_[i];
  }

  const Set& active() { return get(active_isa()); }

 private:
  static constexpr int kPaths = 3;
  Fill fills_[kPaths];
  std::once_flag once_[kPaths];
  Set sets_[kPaths]{};
};

}  // namespace nncore
