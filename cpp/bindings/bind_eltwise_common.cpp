// Argument handling shared by the elementwise bindings.
#include "bind_eltwise_common.h"

#include <cstdint>

namespace nncore::bind {
namespace {

constexpr int kNpyFloat = 11, kNpyDouble = 12;  // NumPy type numbers of float32 / float64

// float32 / float64 in native byte order, else DTypeError.
DType float_dtype(const py::array& a, const char* name) {
  const py::dtype dt = a.dtype();
  const char order = dt.byteorder();
  const bool native = order == '=' || order == '|' ||
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
                      order == '>';
#else
                      order == '<';
#endif
  const int num = dt.num();
  if (native && num == kNpyFloat) return DType::f32;
  if (native && num == kNpyDouble) return DType::f64;
  const bool swapped = num == kNpyFloat || num == kNpyDouble;
  throw DTypeError(concat("argument '", name, "' must be a float32 or float64 array, got dtype ",
                          std::string(py::str(dt)), swapped ? " (non-native byte order)" : ""));
}

py::array as_array(py::handle obj, const char* name) {
  if (py::isinstance<py::array>(obj)) return py::reinterpret_borrow<py::array>(obj);
  if (obj.is_none()) throw DTypeError(concat("argument '", name, "' must be an array, got None"));
  py::array arr = py::array::ensure(obj);
  if (!arr) throw py::error_already_set();
  return arr;
}

bool contiguous_aligned(const py::array& a) {
  const int need = py::array::c_style | py::detail::npy_api::NPY_ARRAY_ALIGNED_;
  return (a.flags() & need) == need;
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

}  // namespace

// More bytes than a 48-bit address space (as nncore.ops._checks.MAX_BYTES): zero-stride views can
// claim such shapes, but no copy or result of them can exist.
static void require_addressable(const py::array& a, const char* name) {
  if (static_cast<double>(a.size()) * static_cast<double>(a.itemsize()) > 281474976710656.0)
    throw ShapeError(concat("argument '", name, "' has shape ", shape_str(a),
                            ": more elements than any memory can hold"));
}

py::array float_input(py::handle obj, const char* name, DType& dt) {
  py::array a = as_array(obj, name);
  dt = float_dtype(a, name);
  require_addressable(a, name);
  return contiguous(std::move(a), name);
}

py::array float_input(py::handle obj, const char* name, DType dt, const char* ref) {
  py::array a = as_array(obj, name);
  const DType got = float_dtype(a, name);
  if (got != dt)
    throw DTypeError(concat("argument '", name, "' has dtype ", dtype_name(got), " but '", ref,
                            "' has dtype ", dtype_name(dt), "; both must match"));
  require_addressable(a, name);
  return contiguous(std::move(a), name);
}

py::array inplace_array(py::handle obj, const char* name, DType dt, const char* ref) {
  if (!py::isinstance<py::array>(obj))
    throw std::invalid_argument(
        concat("argument '", name, "' must be a NumPy array (updated in place)"));
  auto a = py::reinterpret_borrow<py::array>(obj);
  const DType got = float_dtype(a, name);
  if (got != dt)
    throw DTypeError(concat("argument '", name, "' has dtype ", dtype_name(got), " but '", ref,
                            "' has dtype ", dtype_name(dt), "; both must match"));
  if (!contiguous_aligned(a))
    throw ShapeError(concat("argument '", name, "' with shape ", shape_str(a),
                            " must be C-contiguous and aligned to be updated in place"));
  if (!a.writeable()) throw std::invalid_argument(concat("argument '", name, "' is read-only"));
  return a;
}

std::vector<py::ssize_t> shape_of(const py::array& a) {
  return std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim());
}

namespace {
std::string shape_vec_str(const std::vector<py::ssize_t>& s) {
  std::string out = "(";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}
}  // namespace

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
  const DType got = float_dtype(a, name);
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
  if (!a.writeable()) throw std::invalid_argument(concat("argument '", name, "' is read-only"));
  return a;
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

void check_alias(const py::array& out, const py::array& in, bool allow_same, const char* out_name,
                 const char* in_name) {
  if (out.size() == 0 || in.size() == 0) return;
  const auto o = reinterpret_cast<std::uintptr_t>(out.data());
  const auto i = reinterpret_cast<std::uintptr_t>(in.data());
  const auto o_end = o + static_cast<std::uintptr_t>(out.nbytes());
  const auto i_end = i + static_cast<std::uintptr_t>(in.nbytes());
  if (o >= i_end || i >= o_end) return;
  if (allow_same && o == i && o_end == i_end) return;
  throw std::invalid_argument(concat(
      "argument '", out_name, "' shares memory with '", in_name, "'",
      allow_same ? "; pass the very same array for in place, or a separate one" : ""));
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
