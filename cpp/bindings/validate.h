// Argument validation for every binding: dtype and byte order, rank and shape, layout, memory
// overlap, and the input/output coercions of the elementwise bindings that are built on them.
// A binding runs these while it holds the GIL, before any parallel region (DESIGN.md 2 and 5).
#pragma once
#include <optional>
#include <vector>

#include "bind_common.h"

namespace nncore::bind {

// ---- dtype

// The dtype of a float32/float64 array in native byte order; anything else (other dtypes,
// byte-swapped floats) raises DTypeError naming the argument.
DType dtype_of(const py::array& a, const char* name);
// Raises DTypeError unless `a` is a native float array of dtype `d` (the dtype of argument `ref`).
void require_dtype(const py::array& a, DType d, const char* name, const char* ref);
// Raises DTypeError unless `a` holds native-order signed integers of `bits` bits (int32 argmax,
// int64 labels).
void require_int_dtype(const py::array& a, int bits, const char* name);

// ---- rank and shape

void require_ndim(const py::array& a, int ndim, const char* name);
// Raises ShapeError unless a.shape == shape.
void require_shape(const py::array& a, std::initializer_list<index_t> shape, const char* name);
// ShapeError naming both arguments unless a.shape == b.shape.
void require_same_shape(const py::array& a, const py::array& b, const char* a_name,
                        const char* b_name);
std::vector<py::ssize_t> shape_of(const py::array& a);

// ---- layout

// C-contiguous and aligned: the kernels index raw pointers. nncore.ops copies other layouts first.
void require_contiguous(const py::array& a, const char* name);
void require_writeable(const py::array& a, const char* name);
// A float array argument of a kernel binding: dtype d (that of `ref`), `ndim` dimensions,
// C-contiguous and aligned.
void require_float_array(const py::array& a, DType d, const char* name, const char* ref, int ndim);

// How a 2-D GEMM operand is stored: rows contiguous (row_major) with row stride ld, or columns
// contiguous, in which case the array is the transpose of a row-major matrix with row stride ld
// (the kernels then read it with the transpose flag flipped, without a copy). Raises ShapeError
// for any other layout (nncore.ops copies those).
struct MatrixLayout {
  index_t ld;
  bool row_major;
};
MatrixLayout matrix_layout(const py::array& a, const char* name, bool allow_column_major);

// ---- overlap

// ValueError when the memory `out` may write overlaps the memory of `in` (byte ranges spanned by
// the elements, whatever the strides); with allow_same, exactly the same memory is allowed (the
// elementwise kernels run in place).
void require_disjoint(const py::array& out, const char* out_name, const py::array& in,
                      const char* in_name, bool allow_same = false);

// ---- coercions of the elementwise bindings

// An input as a C-contiguous, aligned float32/float64 array. Arrays in other layouts (strided or
// reversed views, misaligned buffers) are copied, so every view gives a correct result; other
// dtypes raise DTypeError (never converted: the caller chose the precision). The first form
// reports the dtype; the second requires dtype `dt`, that of argument `ref`.
py::array float_input(py::handle obj, const char* name, DType& dt);
py::array float_input(py::handle obj, const char* name, DType dt, const char* ref);

// `a` itself when C-contiguous and aligned, else a copy that is (MemoryError if it cannot be made).
py::array contiguous(py::array a, const char* name);

// An in-place operand: must already be a writeable, C-contiguous array of dtype dt (nncore.ops
// copies other layouts in and out).
py::array inplace_array(py::handle obj, const char* name, DType dt, const char* ref);

// An output: None gives a new array of `shape`; otherwise `out` must be an array of exactly that
// shape and dtype, C-contiguous and writeable (ShapeError / DTypeError / ValueError otherwise).
py::array output_array(py::handle out, DType dt, const std::vector<py::ssize_t>& shape,
                       const char* name);

// The `out=` argument of an op with several outputs: None or a tuple/list of `count` entries,
// each None or an array. Returns the entries (None where not given).
std::vector<py::handle> output_tuple(py::handle out, std::size_t count, const char* names);

// Releases the GIL for work large enough that another Python thread could use the time; for a few
// thousand elements the release and re-acquire would cost more than the computation.
class GilRelease {
 public:
  explicit GilRelease(index_t elements) {
    if (elements >= kMinElements) release_.emplace();
  }
  static constexpr index_t kMinElements = 4096;

 private:
  std::optional<py::gil_scoped_release> release_;
};

inline index_t size_of(const py::array& a) { return static_cast<index_t>(a.size()); }

}  // namespace nncore::bind
