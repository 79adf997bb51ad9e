// Bindings of bias_add (bias over the last axis) and bias_grad (sum over all other axes).
#include "bindings.h"
#include "nncore/ops/bias.h"
#include "validate.h"

namespace nncore::bind {

void bind_bias(py::module_& m) {
  m.def(
      "bias_add",
      [](py::handle x_obj, py::handle b_obj, py::handle out_obj) {
        DType dt;
        py::array x = float_input(x_obj, "x", dt);
        py::array b = float_input(b_obj, "bias", dt, "x");
        if (x.ndim() < 1)
          throw ShapeError(concat("argument 'x' must have at least 1 dimension, got shape ",
                                  shape_str(x)));
        const index_t cols = x.shape(x.ndim() - 1);
        if (b.ndim() != 1 || b.shape(0) != cols)
          throw ShapeError(concat("argument 'bias' must have shape (", cols,
                                  ",) to match the last axis of 'x' with shape ", shape_str(x),
                                  ", got ", shape_str(b)));
        py::array y = output_array(out_obj, dt, shape_of(x), "out");
        require_disjoint(y, "out", x, "x", true);
        require_disjoint(y, "out", b, "bias");
        const index_t rows = cols > 0 ? size_of(x) / cols : 0;
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* px = cdata<T>(x);
          const T* pb = cdata<T>(b);
          T* py_ = mdata<T>(y);
          GilRelease release(size_of(x));
          bias_add<T>(px, pb, py_, rows, cols);
        });
        return y;
      },
      py::arg("x"), py::arg("bias"), py::arg("out") = py::none(),
      "y = x + bias, bias broadcast over the last axis.");

  m.def(
      "bias_grad",
      [](py::handle gy_obj, py::handle out_obj, bool accumulate) {
        DType dt;
        py::array gy = float_input(gy_obj, "grad_y", dt);
        if (gy.ndim() < 1)
          throw ShapeError(concat("argument 'grad_y' must have at least 1 dimension, got shape ",
                                  shape_str(gy)));
        const index_t cols = gy.shape(gy.ndim() - 1);
        if (accumulate && out_obj.is_none())
          throw std::invalid_argument(
              "bias_grad: accumulate=True needs an 'out' array to add into");
        py::array gb = output_array(out_obj, dt, {static_cast<py::ssize_t>(cols)}, "out");
        require_disjoint(gb, "out", gy, "grad_y");
        const index_t rows = cols > 0 ? size_of(gy) / cols : 0;
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* pg = cdata<T>(gy);
          T* po = mdata<T>(gb);
          GilRelease release(size_of(gy));
          bias_grad<T>(pg, po, rows, cols, accumulate);
        });
        return gb;
      },
      py::arg("grad_y"), py::arg("out") = py::none(), py::arg("accumulate") = false,
      "Sum of grad_y over all axes but the last (into out, or added to it when accumulate).");
}

}  // namespace nncore::bind
