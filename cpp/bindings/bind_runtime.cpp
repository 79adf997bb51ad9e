// Bindings for run-time facts and settings: version, compiler, ISA paths, threads.
#include <pybind11/stl.h>

#include "bindings.h"
#include "nncore/dispatch.h"
#include "nncore/parallel.h"

namespace nncore::bind {

namespace py = pybind11;

namespace {

std::string compiler() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("gcc ") + __VERSION__;
#elif defined(_MSC_VER)
  return "msvc " + std::to_string(_MSC_VER);
#else
  return "unknown";
#endif
}

}  // namespace

void bind_runtime(py::module_& m) {
#ifdef NNCORE_VERSION
  m.attr("__version__") = NNCORE_VERSION;
#else
  m.attr("__version__") = "unknown";
#endif
  m.attr("compiler") = compiler();
  m.attr("have_openmp") = have_openmp();
#ifdef _OPENMP
  m.attr("openmp_version") = static_cast<int>(_OPENMP);
#else
  m.attr("openmp_version") = 0;
#endif

  m.def("openmp_runtime", [] { return std::string(openmp_runtime()); },
        "Name of the OpenMP runtime library in use, or 'none'.");
  m.def("get_num_threads", [] { return num_threads(); });
  m.def("set_num_threads", [](int n) {
    if (n < 1) throw std::invalid_argument("set_num_threads: n must be >= 1, got " + std::to_string(n));
    set_num_threads(n);
  }, py::arg("n"));
  m.def("active_isa", [] { return std::string(isa_name(active_isa())); },
        "ISA path in use (NNCORE_ISA overrides the detected one).");
  m.def("detected_isa", [] { return std::string(isa_name(detected_isa())); });
  m.def("supported_isas", [] {
    std::vector<std::string> out;
    for (Isa isa : supported_isas()) out.emplace_back(isa_name(isa));
    return out;
  });
  m.def("set_isa", [](const std::string& name) { set_active_isa(parse_isa(name)); }, py::arg("name"),
        "Switch the ISA path for the whole process (testing).");
}

}  // namespace nncore::bind
