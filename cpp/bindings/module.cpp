// The extension module nncore._core: error translation, run-time facts and settings (version,
// compiler, ISA paths, threads), and the registration of every binding.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "nncore/dispatch.h"
#include "nncore/errors.h"
#include "nncore/parallel.h"

namespace py = pybind11;

namespace nncore::bind {

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

PYBIND11_MODULE(_core, m) {
  m.doc() = "nncore C++ core (use it through nncore.ops)";

  // The exception classes are defined in Python (nncore.errors) so that users can import and
  // catch them without touching the extension; C++ raises them through this translator.
  py::module_ errors = py::module_::import("nncore.errors");
  static PyObject* shape_error = errors.attr("ShapeError").ptr();
  static PyObject* dtype_error = errors.attr("DTypeError").ptr();
  Py_INCREF(shape_error);
  Py_INCREF(dtype_error);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const nncore::ShapeError& e) {
      PyErr_SetString(shape_error, e.what());
    } catch (const nncore::DTypeError& e) {
      PyErr_SetString(dtype_error, e.what());
    }
  });

  nncore::bind::bind_runtime(m);
  nncore::bind::bind_gemm(m);
  nncore::bind::bind_conv2d(m);
  nncore::bind::bind_pool2d(m);
  nncore::bind::bind_activations(m);
  nncore::bind::bind_softmax(m);
  nncore::bind::bind_bias(m);
  nncore::bind::bind_batchnorm(m);
  nncore::bind::bind_dropout(m);
  nncore::bind::bind_losses(m);
  nncore::bind::bind_optim(m);
}
