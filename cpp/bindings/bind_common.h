// Helpers the bindings share: dtype dispatch, shape and layout checks with readable messages.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "nncore/common.h"
#include "nncore/errors.h"

namespace nncore::bind {

namespace py = pybind11;

enum class DType { f32, f64 };

// "(32, 3, 3)"
std::string shape_str(const py::array& a);
const char* dtype_name(DType d);

// The dtype of a float32/float64 array; anything else raises DTypeError naming the argument.
DType dtype_of(const py::array& a, const char* name);
// Raises DTypeError unless `a` has dtype `d` (the dtype of argument `ref`).
void require_dtype(const py::array& a, DType d, const char* name, const char* ref);
void require_ndim(const py::array& a, int ndim, const char* name);
// C-contiguous and aligned: the kernels index raw pointers. nncore.ops copies other layouts first.
void require_contiguous(const py::array& a, const char* name);
void require_writeable(const py::array& a, const char* name);
// Raises ShapeError unless a.shape == shape.
void require_shape(const py::array& a, std::initializer_list<index_t> shape, const char* name);

template <typename T>
const T* cdata(const py::array& a) {
  return static_cast<const T*>(a.data());
}
template <typename T>
T* mdata(py::array& a) {
  return static_cast<T*>(a.mutable_data());
}

// Calls fn(T{}) with T = float or double according to d.
template <class F>
decltype(auto) dispatch_dtype(DType d, F&& fn) {
  if (d == DType::f32) return fn(float{});
  return fn(double{});
}

}  // namespace nncore::bind
