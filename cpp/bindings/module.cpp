// The extension module nncore._core: error translation and the registration of every binding.
//
// All binding code compiles as this one translation unit: the argument checks (validate.inc) and
// each binding family (bind_<family>.inc) keep a file of their own, but every translation unit
// that includes pybind11 compiles pybind11's own dispatch machinery again (an empty file including
// pybind11.h and numpy.h takes 5 s at -O3 with GCC 12), paid once here instead of per file.
#include <pybind11/pybind11.h>

#include "bindings.h"
#include "nncore/errors.h"

#include "validate.inc"
#include "bind_runtime.inc"
#include "bind_gemm.inc"
#include "bind_conv2d.inc"
#include "bind_depthwise_conv2d.inc"
#include "bind_pool2d.inc"
#include "bind_activations.inc"
#include "bind_add.inc"
#include "bind_softmax.inc"
#include "bind_bias.inc"
#include "bind_batchnorm.inc"
#include "bind_norm.inc"
#include "bind_upsample.inc"
#include "bind_dropout.inc"
#include "bind_losses.inc"
#include "bind_optim.inc"

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
  nncore::bind::bind_depthwise_conv2d(m);
  nncore::bind::bind_pool2d(m);
  nncore::bind::bind_activations(m);
  nncore::bind::bind_add(m);
  nncore::bind::bind_softmax(m);
  nncore::bind::bind_bias(m);
  nncore::bind::bind_batchnorm(m);
  nncore::bind::bind_norm(m);
  nncore::bind::bind_upsample(m);
  nncore::bind::bind_dropout(m);
  nncore::bind::bind_losses(m);
  nncore::bind::bind_optim(m);
}
