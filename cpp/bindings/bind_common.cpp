// Argument checks shared by every binding.
#include "bind_common.h"

#include <sstream>

namespace nncore::bind {

std::string shape_str(const py::array& a) {
  std::ostringstream os;
  os << "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    if (i) os << ", ";
    os << a.shape(i);
  }
  if (a.ndim() == 1) os << ",";
  os << ")";
  return os.str();
}

const char* dtype_name(DType d) { return d == DType::f32 ? "float32" : "float64"; }

DType dtype_of(const py::array& a, const char* name) {
  const py::dtype dt = a.dtype();
  if (dt.is(py::dtype::of<float>()) || (dt.kind() == 'f' && dt.itemsize() == 4)) return DType::f32;
  if (dt.is(py::dtype::of<double>()) || (dt.kind() == 'f' && dt.itemsize() == 8)) return DType::f64;
  throw DTypeError(concat("argument '", name, "' must be float32 or float64, got ",
                          std::string(py::str(dt))));
}

void require_dtype(const py::array& a, DType d, const char* name, const char* ref) {
  const DType got = dtype_of(a, name);
  if (got != d)
    throw DTypeError(concat("argument '", name, "' has dtype ", dtype_name(got), " but '", ref,
                            "' has dtype ", dtype_name(d), "; both must match"));
}

void require_ndim(const py::array& a, int ndim, const char* name) {
  if (a.ndim() != ndim)
    throw ShapeError(concat("argument '", name, "' must be ", ndim, "-D, got shape ", shape_str(a)));
}

void require_contiguous(const py::array& a, const char* name) {
  const int flags = a.flags();
  if (!(flags & py::array::c_style) || !(flags & py::detail::npy_api::NPY_ARRAY_ALIGNED_))
    throw ShapeError(concat("argument '", name, "' with shape ", shape_str(a),
                            " must be C-contiguous and aligned (nncore.ops copies other layouts)"));
}

void require_writeable(const py::array& a, const char* name) {
  if (!a.writeable())
    throw std::invalid_argument(concat("argument '", name, "' must be writeable"));
}

void require_shape(const py::array& a, std::initializer_list<index_t> shape, const char* name) {
  bool ok = a.ndim() == static_cast<py::ssize_t>(shape.size());
  if (ok) {
    py::ssize_t i = 0;
    for (index_t s : shape) ok = ok && a.shape(i++) == s;
  }
  if (!ok) {
    std::ostringstream want;
    want << "(";
    std::size_t i = 0;
    for (index_t s : shape) want << (i++ ? ", " : "") << s;
    if (shape.size() == 1) want << ",";
    want << ")";
    throw ShapeError(concat("argument '", name, "' must have shape ", want.str(), ", got ",
                            shape_str(a)));
  }
}

}  // namespace nncore::bind
