// Binding of GEMM: C = alpha * op(A) op(B) + beta * C on 2-D arrays with unit column stride.
#include "bind_common.h"
#include "bindings.h"
#include "nncore/gemm.h"

namespace nncore::bind {

namespace {

// Row stride in elements of a 2-D array whose rows are contiguous; raises otherwise.
index_t row_stride(const py::array& a, const char* name) {
  const auto item = static_cast<index_t>(a.itemsize());
  // An empty matrix is never read or written: any layout is fine.
  if (a.size() == 0) return a.shape(1) > 0 ? static_cast<index_t>(a.shape(1)) : 1;
  const index_t s0 = static_cast<index_t>(a.strides(0)), s1 = static_cast<index_t>(a.strides(1));
  const bool aligned = (reinterpret_cast<std::uintptr_t>(a.data()) % item) == 0;
  const bool unit_cols = s1 == item || a.shape(1) <= 1;
  const index_t cols = a.shape(1) > 0 ? static_cast<index_t>(a.shape(1)) : 1;
  // A single row may have any row stride; otherwise rows must not overlap.
  const bool rows_ok = a.shape(0) <= 1 || (s0 % item == 0 && s0 >= cols * item);
  if (!aligned || !unit_cols || !rows_ok)
    throw ShapeError(concat("argument '", name, "' with shape ", shape_str(a),
                            " must have contiguous, aligned rows (nncore.ops copies other layouts)"));
  return a.shape(0) <= 1 ? cols : s0 / item;
}

}  // namespace

void bind_gemm(py::module_& m) {
  m.def(
      "gemm",
      [](const py::array& a, const py::array& b, py::array& c, double alpha, double beta,
         bool trans_a, bool trans_b) {
        const DType dt = dtype_of(a, "a");
        require_dtype(b, dt, "b", "a");
        require_dtype(c, dt, "c", "a");
        require_ndim(a, 2, "a");
        require_ndim(b, 2, "b");
        require_ndim(c, 2, "c");
        require_writeable(c, "c");
        const index_t m_ = trans_a ? a.shape(1) : a.shape(0);
        const index_t k = trans_a ? a.shape(0) : a.shape(1);
        const index_t kb = trans_b ? b.shape(1) : b.shape(0);
        const index_t n = trans_b ? b.shape(0) : b.shape(1);
        if (k != kb)
          throw ShapeError(concat("gemm: op(a) is ", m_, "x", k, " (a has shape ", shape_str(a),
                                  ") but op(b) is ", kb, "x", n, " (b has shape ", shape_str(b),
                                  "): inner dimensions differ"));
        if (c.shape(0) != m_ || c.shape(1) != n)
          throw ShapeError(concat("gemm: c must have shape (", m_, ", ", n, "), got ", shape_str(c)));
        const index_t lda = row_stride(a, "a"), ldb = row_stride(b, "b"), ldc = row_stride(c, "c");
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* pa = cdata<T>(a);
          const T* pb = cdata<T>(b);
          T* pc = mdata<T>(c);
          py::gil_scoped_release release;
          gemm<T>(trans_a, trans_b, m_, n, k, static_cast<T>(alpha), pa, lda, pb, ldb,
                  static_cast<T>(beta), pc, ldc);
        });
      },
      py::arg("a"), py::arg("b"), py::arg("c"), py::arg("alpha"), py::arg("beta"),
      py::arg("trans_a"), py::arg("trans_b"),
      "C = alpha * op(A) op(B) + beta * C, in place on c.");
}

}  // namespace nncore::bind
