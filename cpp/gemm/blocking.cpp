// Cache sizes (from /sys on Linux) and the GEMM block sizes derived from them.
#include "blocking.h"

#include <cstdio>
#include <cstring>
#include <string>

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

CacheSizes detect() {
  // Defaults small enough for any x86-64 of the last decade.
  CacheSizes cs{32u << 10, 512u << 10, 8u << 20};
  for (int index = 0; index < 8; ++index) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
    const std::string level = read_word(dir + "level");
    if (level.empty()) break;
    const std::string type = read_word(dir + "type");
    const std::size_t size = read_size(dir + "size");
    if (size == 0 || type == "Instruction") continue;
    if (level == "1") cs.l1d = size;
    if (level == "2") cs.l2 = size;
    if (level == "3") cs.l3 = size;
  }
  return cs;
}

index_t clamp(index_t v, index_t lo, index_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

}  // namespace

const CacheSizes& cache_sizes() {
  static const CacheSizes cs = detect();
  return cs;
}

GemmBlocking gemm_blocking(int mr, int nr, std::size_t elem) {
  const CacheSizes& cs = cache_sizes();
  const auto e = static_cast<index_t>(elem);
  GemmBlocking b{};
  b.kc = clamp(static_cast<index_t>(cs.l1d / 2) / (mr * e), 64, 1024) / 8 * 8;
  b.nc = clamp(static_cast<index_t>(cs.l2 / 2) / (b.kc * e), nr, 8192) / nr * nr;
  b.mc = clamp(static_cast<index_t>(cs.l3 / 4) / (b.kc * e), mr, 1 << 16) / mr * mr;
  return b;
}

}  // namespace nncore
