// Cache sizes (from /sys on Linux, else from CPUID) and the GEMM block sizes derived from them.
#include "blocking.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define NNCORE_HAVE_CPUID 1
#endif

namespace nncore {
namespace {

// "48K" / "1024K" / "32M" -> bytes; 0 when unreadable.
std::size_t read_size(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return 0;
  unsigned long long v = 0;
  char unit = 0;
  const int got = std::fscanf(f, "%llu%c", &v, &unit);
  std::fclose(f);
  if (got < 1) return 0;
  if (unit == 'K') v <<= 10;
  if (unit == 'M') v <<= 20;
  return static_cast<std::size_t>(v);
}

std::string read_word(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return {};
  char buf[32] = {};
  const int got = std::fscanf(f, "%31s", buf);
  std::fclose(f);
  return got == 1 ? std::string(buf) : std::string();
}

// Number of CPUs in a list like "0-3,8-11" (the CPUs sharing a cache); 1 when unreadable.
std::size_t count_cpus(const std::string& list) {
  std::size_t count = 0;
  std::size_t pos = 0;
  while (pos < list.size()) {
    std::size_t end = list.find(',', pos);
    if (end == std::string::npos) end = list.size();
    const std::string item = list.substr(pos, end - pos);
    const std::size_t dash = item.find('-');
    if (dash == std::string::npos) {
      count += 1;
    } else {
      const long lo = std::atol(item.substr(0, dash).c_str());
      const long hi = std::atol(item.substr(dash + 1).c_str());
      count += hi >= lo ? static_cast<std::size_t>(hi - lo + 1) : 1;
    }
    pos = end + 1;
  }
  return count ? count : 1;
}

// Records a data or unified cache of `level` (1-3); the first one seen of each level wins.
void record(CacheSizes& cs, int level, std::size_t size) {
  if (size == 0) return;
  std::size_t* slot = level == 1 ? &cs.l1d : level == 2 ? &cs.l2 : level == 3 ? &cs.l3 : nullptr;
  if (slot && *slot == 0) *slot = size;
}

// Linux: /sys/devices/system/cpu/cpu0/cache/index*/ (absent in some containers and sandboxes).
void from_sysfs(CacheSizes& cs) {
  for (int index = 0; index < 8; ++index) {
    const std::string dir =
        "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
    const std::string level = read_word(dir + "level");
    if (level.empty()) break;
    if (read_word(dir + "type") == "Instruction") continue;
    record(cs, std::atoi(level.c_str()),
           read_size(dir + "size") / count_cpus(read_word(dir + "shared_cpu_list")));
  }
}

#ifdef NNCORE_HAVE_CPUID
// x86: the deterministic cache parameters, CPUID leaf 4 (Intel, Zhaoxin) or 0x8000001D (AMD and
// Hygon with topology extensions). Each subleaf describes one cache: type, level, ways,
// partitions, line size, sets, and how many logical CPUs share it (an upper bound, so shared
// caches come out a little small, which is the safe side).
void from_cpuid_leaf(CacheSizes& cs, unsigned leaf) {
  for (unsigned sub = 0; sub < 16; ++sub) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    __cpuid_count(leaf, sub, a, b, c, d);
    const unsigned type = a & 0x1F;  // 0: no more caches, 1: data, 2: instruction, 3: unified
    if (type == 0) break;
    if (type == 2) continue;
    const std::size_t ways = ((b >> 22) & 0x3FF) + 1;
    const std::size_t partitions = ((b >> 12) & 0x3FF) + 1;
    const std::size_t line = (b & 0xFFF) + 1;
    const std::size_t sets = static_cast<std::size_t>(c) + 1;
    const std::size_t sharing = ((a >> 14) & 0xFFF) + 1;
    record(cs, static_cast<int>((a >> 5) & 7), ways * partitions * line * sets / sharing);
  }
}

void from_cpuid(CacheSizes& cs) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return;
  if (a >= 4) from_cpuid_leaf(cs, 4);
  if (cs.l1d && cs.l2) return;
  // AMD answers leaf 4 with zeros; its leaf needs the topology extensions (0x80000001 ECX bit 22).
  if (!__get_cpuid(0x80000000, &a, &b, &c, &d) || a < 0x8000001D) return;
  if (!__get_cpuid(0x80000001, &a, &b, &c, &d) || !(c & (1u << 22))) return;
  from_cpuid_leaf(cs, 0x8000001D);
}
#endif

}  // namespace

CacheSizes detect_cache_sizes(CacheSource source) {
  CacheSizes cs{0, 0, 0};
  if (source != CacheSource::cpuid) from_sysfs(cs);
#ifdef NNCORE_HAVE_CPUID
  if (source != CacheSource::sysfs && (!cs.l1d || !cs.l2 || !cs.l3)) from_cpuid(cs);
#endif
  // What is still unknown: sizes small enough for any x86-64 or ARM core of the last decade.
  if (!cs.l1d) cs.l1d = 32u << 10;
  if (!cs.l2) cs.l2 = 256u << 10;
  if (!cs.l3) cs.l3 = cs.l2 > (2u << 20) ? cs.l2 : (2u << 20);
  return cs;
}

const CacheSizes& cache_sizes() {
  static const CacheSizes cs = detect_cache_sizes(CacheSource::any);
  return cs;
}

namespace {
index_t clamp(index_t v, index_t lo, index_t hi) { return v < lo ? lo : (v > hi ? hi : v); }
}  // namespace

GemmBlocking gemm_blocking_for(const CacheSizes& cs, int mr, int nr, std::size_t elem) {
  const auto e = static_cast<index_t>(elem);
  GemmBlocking b{};
  b.kc = clamp(static_cast<index_t>(cs.l1d / 2) / (mr * e), 64, 1024) / 8 * 8;
  b.nc = clamp(static_cast<index_t>(cs.l2 / 2) / (b.kc * e), nr, 8192) / nr * nr;
  b.mc = clamp(static_cast<index_t>(cs.l3 / 4) / (b.kc * e), mr, 1 << 14) / mr * mr;
  return b;
}

GemmBlocking gemm_blocking(int mr, int nr, std::size_t elem) {
  return gemm_blocking_for(cache_sizes(), mr, nr, elem);
}

}  // namespace nncore
