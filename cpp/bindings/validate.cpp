// Argument validation for every binding (see validate.h).
#include "validate.h"

#include <cstdint>

namespace nncore::bind {
namespace {

constexpr int kNpyFloat = 11, kNpyDouble = 12;  // NumPy type numbers of float32 / float64

// The kernels read raw memory in the machine's byte order; a byte-swapped array (dtype '>f4' on
// a little-endian machine) would be read as garbage, so it is refused, never silently converted.
bool native_order(const py::dtype& dt) {
  const char order = dt.byteorder();
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return order != '<';
#else
  return order != '>';
#endif
}

std::string dtype_str(const py::dtype& dt) {
  return std::string(py::str(dt)) + (native_order(dt) ? "" : " (non-native byte order)");
}

std::string shape_vec_str(const std::vector<py::ssize_t>& s) {
  std::string out = "(";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

bool contiguous_aligned(const py::array& a) {
  const int need = py::array::c_style | py::detail::npy_api::NPY_ARRAY_ALIGNED_;
  return (a.flags() & need) == need;
}

// Byte range [lo, hi) the elements of an array occupy, whatever its strides (negative ones
// included); empty for an array without elements.
struct Extent {
  std::uintptr_t lo = 0, hi = 0;
};

Extent extent_of(const py::array& a) {
  if (a.size() == 0) return {};
  auto lo = reinterpret_cast<std::intptr_t>(a.data());
  std::intptr_t hi = lo + static_cast<std::intptr_t>(a.itemsize());
  for (py::ssize_t d = 0; d < a.ndim(); ++d) {
    const std::intptr_t span = static_cast<std::intptr_t>(a.shape(d) - 1) * a.strides(d);
    (span < 0 ? lo : hi) += span;
  }
  return {static_cast<std::uintptr_t>(lo), static_cast<std::uintptr_t>(hi)};
}

py::array as_array(py::handle obj, const char* name) {
  if (py::isinstance<py::array>(obj)) return py::reinterpret_borrow<py::array>(obj);
  if (obj.is_none()) throw DTypeError(concat("argument '", name, "' must be an array, got None"));
  py::array arr = py::array::ensure(obj);
  if (!arr) throw py::error_already_set();
  return arr;
}

// More bytes than a 48-bit address space (as nncore.ops._checks.MAX_BYTES): zero-stride views can
// claim such shapes, but no copy or result of them can exist.
void require_addressable(const py::array& a, const char* name) {
  if (static_cast<double>(a.size()) * static_cast<double>(a.itemsize()) > 281474976710656.0)
    throw ShapeError(concat("argument '", name, "' has shape ", shape_str(a),
                            ": more elements than any memory can hold"));
}

}  // namespace

// ---- dtype

DType dtype_of(const py::array& a, const char* name) {
  const py::dtype dt = a.dtype();
  const int num = dt.num();
  const bool native = native_order(dt);
  if (native && num == kNpyFloat) return DType::f32;
  if (native && num == kNpyDouble) return DType::f64;
  throw DTypeError(concat("argument '", name, "' must be a float32 or float64 array, got dtype ",
                          dtype_str(dt),
                          native ? "" : "; convert it with astype(x.dtype.newbyteorder('='))"));
}

void require_dtype(const py::array& a, DType d, const char* name, const char* ref) {
  const DType got = dtype_of(a, name);
  if (got != d)
    throw DTypeError(concat("argument '", name, "' has dtype ", dtype_name(got), " but '", ref,
                            "' has dtype ", dtype_name(d), "; both must match"));
}

void require_int_dtype(const py::array& a, int bits, const char* name) {
  const py::dtype dt = a.dtype();
  if (dt.kind() != 'i' || dt.itemsize() * 8 != bits || !native_order(dt))
    throw DTypeError(concat("argument '", name, "' must have dtype int", bits, ", got ",
                            dtype_str(dt)));
}

// ---- rank and shape

void require_ndim(const py::array& a, int ndim, const char* name) {
  if (a.ndim() != ndim)
    throw ShapeError(
        concat("argument '", name, "' must be ", ndim, "-D, got shape ", shape_str(a)));
}

void require_shape(const py::array& a, std::initializer_list<index_t> shape, const char* name) {
  bool ok = a.ndim() == static_cast<py::ssize_t>(shape.size());
  if (ok) {
    py::ssize_t i = 0;
    for (index_t s : shape) ok = ok && a.shape(i++) == s;
  }
  if (!ok)
    throw ShapeError(concat("argument '", name, "' must have shape ",
                            shape_vec_str(std::vector<py::ssize_t>(shape.begin(), shape.end())),
                            ", got ", shape_str(a)));
}

void require_same_shape(const py::array& a, const py::array& b, const char* a_name,
                        const char* b_name) {
  bool same = a.ndim() == b.ndim();
  for (py::ssize_t i = 0; same && i < a.ndim(); ++i) same = a.shape(i) == b.shape(i);
  if (!same)
    throw ShapeError(concat("arguments '", a_name, "' and '", b_name,
                            "' must have the same shape, got ", shape_str(a), " and ",
                            shape_str(b)));
}

std::vector<py::ssize_t> shape_of(const py::array& a) {
  return std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim());
}

// ---- layout

void require_contiguous(const py::array& a, const char* name) {
  if (!contiguous_aligned(a))
    throw ShapeError(concat("argument '", name, "' with shape ", shape_str(a),
                            " must be C-contiguous and aligned (nncore.ops copies other layouts)"));
}

void require_writeable(const py::array& a, const char* name) {
  if (!a.writeable())
    throw std::invalid_argument(concat("argument '", name, "' is read-only: it must be writeable"));
}

void require_float_array(const py::array& a, DType d, const char* name, const char* ref, int ndim) {
  require_dtype(a, d, name, ref);
  require_ndim(a, ndim, name);
  require_contiguous(a, name);
}

MatrixLayout matrix_layout(const py::array& a, const char* name, bool allow_column_major) {
  const auto item = static_cast<index_t>(a.itemsize());
  const index_t rows = a.shape(0), cols = a.shape(1);
  // An empty matrix is never read or written: any layout is fine.
  if (rows == 0 || cols == 0) return {cols > 0 ? cols : 1, true};
  const index_t s0 = a.strides(0), s1 = a.strides(1);
  const bool aligned = (reinterpret_cast<std::uintptr_t>(a.data()) % item) == 0;
  if (aligned) {
    // Rows contiguous; a single row may have any row stride, otherwise rows must not overlap.
    if ((s1 == item || cols == 1) && (rows == 1 || (s0 % item == 0 && s0 >= cols * item)))
      return {rows == 1 ? cols : s0 / item, true};
    if (allow_column_major && (s0 == item || rows == 1) &&
        (cols == 1 || (s1 % item == 0 && s1 >= rows * item)))
      return {cols == 1 ? rows : s1 / item, false};
  }
  throw ShapeError(concat("argument '", name, "' with shape ", shape_str(a), " and strides (", s0,
                          ", ", s1, ") must have contiguous rows",
                          allow_column_major ? " or columns" : "",
                          " and be aligned (nncore.ops copies other layouts)"));
}

// ---- overlap

void require_disjoint(const py::array& out, const char* out_name, const py::array& in,
                      const char* in_name, bool allow_same) {
  const Extent o = extent_of(out), i = extent_of(in);
  if (o.lo >= i.hi || i.lo >= o.hi) return;  // disjoint, or one of them empty
  if (allow_same && o.lo == i.lo && o.hi == i.hi) return;
  throw std::invalid_argument(concat(
      "argument '", out_name, "' shares memory with '", in_name, "' (it overlaps its memory); ",
      allow_same
          ? "pass the very same array for in place, or one that does not share memory with it"
          : "pass an output that does not share memory with any input"));
}

// ---- coercions of the elementwise bindings

py::array float_input(py::handle obj, const char* name, DType& dt) {
  py::array a = as_array(obj, name);
  dt = dtype_of(a, name);
  require_addressable(a, name);
  return contiguous(std::move(a), name);
}

py::array float_input(py::handle obj, const char* name, DType dt, const char* ref) {
  py::array a = as_array(obj, name);
  require_dtype(a, dt, name, ref);
  require_addressable(a, name);
  return contiguous(std::move(a), name);
}

py::array contiguous(py::array a, const char* name) {
  if (contiguous_aligned(a)) return a;
  py::array c = py::array::ensure(a, py::array::c_style | py::detail::npy_api::NPY_ARRAY_ALIGNED_);
  if (!c) {
    // ensure() clears NumPy's error; the only way a copy of a valid array fails is memory.
    const std::string msg = concat("cannot copy argument '", name, "' of shape ", shape_str(a),
                                   " into contiguous memory: not enough memory");
    PyErr_SetString(PyExc_MemoryError, msg.c_str());
    throw py::error_already_set();
  }
  return c;
}

py::array inplace_array(py::handle obj, const char* name, DType dt, const char* ref) {
  if (!py::isinstance<py::array>(obj))
    throw std::invalid_argument(
        concat("argument '", name, "' must be a NumPy array (updated in place)"));
  auto a = py::reinterpret_borrow<py::array>(obj);
  require_dtype(a, dt, name, ref);
  if (!contiguous_aligned(a))
    throw ShapeError(concat("argument '", name, "' with shape ", shape_str(a),
                            " must be C-contiguous and aligned to be updated in place"));
  require_writeable(a, name);
  return a;
}

py::array output_array(py::handle out, DType dt, const std::vector<py::ssize_t>& shape,
                       const char* name) {
  if (out.is_none()) {
    return dt == DType::f32 ? py::array(py::dtype::of<float>(), shape)
                            : py::array(py::dtype::of<double>(), shape);
  }
  if (!py::isinstance<py::array>(out))
    throw std::invalid_argument(concat("argument '", name, "' must be a NumPy array or None, got ",
                                       std::string(py::str(py::type::of(out).attr("__name__")))));
  auto a = py::reinterpret_borrow<py::array>(out);
  const DType got = dtype_of(a, name);
  if (got != dt)
    throw DTypeError(concat("argument '", name, "' has dtype ", dtype_name(got),
                            " but the result is ", dtype_name(dt)));
  bool same = a.ndim() == static_cast<py::ssize_t>(shape.size());
  for (std::size_t i = 0; same && i < shape.size(); ++i) same = a.shape(i) == shape[i];
  if (!same)
    throw ShapeError(concat("argument '", name, "' must have shape ", shape_vec_str(shape),
                            ", got ", shape_str(a)));
  if (!contiguous_aligned(a))
    throw ShapeError(concat("argument '", name, "' with shape ", shape_str(a),
                            " must be C-contiguous and aligned"));
  require_writeable(a, name);
  return a;
}

std::vector<py::handle> output_tuple(py::handle out, std::size_t count, const char* names) {
  std::vector<py::handle> items(count, py::none());
  if (out.is_none()) return items;
  if (!py::isinstance<py::tuple>(out) && !py::isinstance<py::list>(out))
    throw std::invalid_argument(concat("argument 'out' must be None or a tuple (", names, ")"));
  auto seq = py::reinterpret_borrow<py::sequence>(out);
  if (static_cast<std::size_t>(seq.size()) != count)
    throw std::invalid_argument(concat("argument 'out' must have ", count, " entries (", names,
                                       "), got ", seq.size()));
  for (std::size_t k = 0; k < count; ++k) items[k] = seq[k].ptr();
  return items;
}

}  // namespace nncore::bind
