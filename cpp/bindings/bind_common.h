// What every binding file uses: the pybind11 headers, dtype dispatch, typed data pointers and
// readable shapes. The argument checks are in validate.h.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "nncore/common.h"
#include "nncore/errors.h"

namespace nncore::bind {

namespace py = pybind11;

enum class DType { f32, f64 };

inline const char* dtype_name(DType d) { return d == DType::f32 ? "float32" : "float64"; }

// "(32, 3, 3)"
inline std::string shape_str(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

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
