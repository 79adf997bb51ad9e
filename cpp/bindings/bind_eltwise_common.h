// Argument handling shared by the elementwise bindings (activations, softmax, bias, batch norm,
// dropout, losses, optimizer steps): coercion of inputs, checked or freshly allocated outputs,
// aliasing rules and when to release the GIL.
#pragma once
#include <optional>
#include <vector>

#include "bind_common.h"

namespace nncore::bind {

// An input as a C-contiguous, aligned float32/float64 array. Arrays in other layouts (strided or
// reversed views, misaligned buffers) are copied, so every view gives a correct result; other
// dtypes raise DTypeError (never converted: the caller chose the precision). The first form
// reports the dtype; the second requires dtype `dt`, that of argument `ref`.
py::array float_input(py::handle obj, const char* name, DType& dt);
py::array float_input(py::handle obj, const char* name, DType dt, const char* ref);

// An in-place operand: must already be a writeable, C-contiguous array of dtype dt (nncore.ops
// copies other layouts in and out).
py::array inplace_array(py::handle obj, const char* name, DType dt, const char* ref);

// An output: None gives a new array of `shape`; otherwise `out` must be an array of exactly that
// shape and dtype, C-contiguous and writeable (ShapeError / DTypeError / ValueError otherwise).
py::array output_array(py::handle out, DType dt, const std::vector<py::ssize_t>& shape,
                       const char* name);
std::vector<py::ssize_t> shape_of(const py::array& a);

// ShapeError naming both arguments unless a.shape == b.shape.
void require_same_shape(const py::array& a, const py::array& b, const char* a_name,
                        const char* b_name);

// ValueError if `out` shares memory with `in`, except (when allow_same) being exactly the same
// memory, which the elementwise kernels support (in place).
void check_alias(const py::array& out, const py::array& in, bool allow_same, const char* out_name,
                 const char* in_name);

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
