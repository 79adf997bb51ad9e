// Run-time CPU feature detection and the choice of ISA path (NNCORE_ISA overrides it).
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

#include "nncore/dispatch.h"
#include "nncore/errors.h"

namespace nncore {
namespace {

bool cpu_has(Isa isa) {
#if defined(NNCORE_HAVE_X86_KERNELS) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  switch (isa) {
    case Isa::generic:
      return true;
    case Isa::avx2:
      // __builtin_cpu_supports also checks that the OS saves the YMM/ZMM state (XGETBV).
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("fma");
  }
  return false;
#else
  return isa == Isa::generic;
#endif
}

// Why `isa` cannot be used here: the build has no kernels for it, or the CPU lacks it.
std::string unsupported_reason(Isa isa) {
#ifndef NNCORE_HAVE_X86_KERNELS
  if (isa != Isa::generic)
    return concat("this build of nncore has no ", isa_name(isa),
                  " kernels (built without the x86 kernels: NNCORE_X86_KERNELS=OFF or a non-x86 target)");
#endif
  return concat("this CPU does not support ", isa_name(isa), " (best available: ",
                isa_name(detected_isa()), ")");
}

std::atomic<int> g_active{-1};
std::once_flag g_init;

void init_active() {
  Isa chosen = detected_isa();
  if (const char* env = std::getenv("NNCORE_ISA"); env && *env) {
    const Isa wanted = parse_isa(env);
    if (!cpu_has(wanted)) throw std::runtime_error(concat("NNCORE_ISA=", env, " but ", unsupported_reason(wanted)));
    chosen = wanted;
  }
  g_active.store(static_cast<int>(chosen));
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::generic: return "generic";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
  }
  return "unknown";
}

Isa parse_isa(const std::string& name) {
  if (name == "generic") return Isa::generic;
  if (name == "avx2") return Isa::avx2;
  if (name == "avx512") return Isa::avx512;
  throw std::invalid_argument(
      concat("unknown ISA '", name, "': expected one of generic, avx2, avx512"));
}

Isa detected_isa() {
  static const Isa best = cpu_has(Isa::avx512) ? Isa::avx512
                          : cpu_has(Isa::avx2) ? Isa::avx2
                                               : Isa::generic;
  return best;
}

bool isa_supported(Isa isa) { return cpu_has(isa); }

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::generic, Isa::avx2, Isa::avx512})
    if (cpu_has(isa)) out.push_back(isa);
  return out;
}

Isa active_isa() {
  int v = g_active.load(std::memory_order_acquire);
  if (v < 0) {
    std::call_once(g_init, init_active);
    v = g_active.load(std::memory_order_acquire);
  }
  return static_cast<Isa>(v);
}

void set_active_isa(Isa isa) {
  if (!cpu_has(isa)) throw std::invalid_argument(concat("cannot use the ", isa_name(isa), " path: ", unsupported_reason(isa)));
  active_isa();  // make sure the one-time initialisation does not overwrite this choice later
  g_active.store(static_cast<int>(isa), std::memory_order_release);
}

}  // namespace nncore
