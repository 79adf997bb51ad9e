// Thread-count control and a description of the OpenMP runtime in use.
#include <string>

#include "nncore/parallel.h"

#if defined(_OPENMP) && defined(__linux__)
#include <dlfcn.h>
#endif

namespace nncore {

int num_threads() {
#ifdef _OPENMP
  if (omp_in_parallel()) return 1;
  const int n = omp_get_max_threads();
  return n > 0 ? n : 1;
#else
  return 1;
#endif
}

void set_num_threads(int n) {
#ifdef _OPENMP
  omp_set_num_threads(n > 0 ? n : 1);
#else
  (void)n;
#endif
}

bool have_openmp() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

const char* openmp_runtime() {
#if defined(_OPENMP) && defined(__linux__)
  static const std::string name = [] {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&omp_get_max_threads), &info) && info.dli_fname) {
      std::string path = info.dli_fname;
      const auto slash = path.find_last_of('/');
      return slash == std::string::npos ? path : path.substr(slash + 1);
    }
    return std::string("unknown OpenMP runtime");
  }();
  return name.c_str();
#elif defined(_OPENMP)
  return "OpenMP (runtime name unknown on this platform)";
#else
  return "none";
#endif
}

}  // namespace nncore
