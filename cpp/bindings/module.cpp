// The extension module nncore._core: error translation and the registration of every binding.
#include <pybind11/pybind11.h>

#include "bindings.h"
#include "nncore/errors.h"

namespace py = pybind11;

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
