// Bindings of softmax / log_softmax along any axis, forward and backward (from the output).
#include "bindings.h"
#include "nncore/ops/softmax.h"
#include "validate.h"

namespace nncore::bind {
namespace {

struct AxisSplit {
  index_t outer = 1, len = 1, inner = 1;
};

AxisSplit split_at_axis(const py::array& a, int axis, const char* name) {
  const int nd = static_cast<int>(a.ndim());
  if (axis < -nd || axis >= nd || nd == 0)
    throw ShapeError(concat("axis ", axis, " is out of bounds for argument '", name, "' of shape ",
                            shape_str(a)));
  if (axis < 0) axis += nd;
  AxisSplit s;
  for (int i = 0; i < axis; ++i) s.outer *= a.shape(i);
  s.len = a.shape(axis);
  for (int i = axis + 1; i < nd; ++i) s.inner *= a.shape(i);
  return s;
}

py::array forward(bool log, py::handle x_obj, int axis, py::handle out_obj) {
  DType dt;
  py::array x = float_input(x_obj, "x", dt);
  const AxisSplit s = split_at_axis(x, axis, "x");
  py::array y = output_array(out_obj, dt, shape_of(x), "out");
  require_disjoint(y, "out", x, "x", true);
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    const T* px = cdata<T>(x);
    T* py_ = mdata<T>(y);
    GilRelease release(size_of(x));
    softmax_forward<T>(px, py_, s.outer, s.len, s.inner, log);
  });
  return y;
}

py::array backward(bool log, py::handle gy_obj, py::handle y_obj, int axis, py::handle out_obj) {
  DType dt;
  py::array gy = float_input(gy_obj, "grad_y", dt);
  py::array y = float_input(y_obj, "y", dt, "grad_y");
  require_same_shape(gy, y, "grad_y", "y");
  const AxisSplit s = split_at_axis(y, axis, "y");
  py::array gx = output_array(out_obj, dt, shape_of(gy), "out");
  require_disjoint(gx, "out", gy, "grad_y", true);
  require_disjoint(gx, "out", y, "y", true);
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    const T* pg = cdata<T>(gy);
    const T* pyv = cdata<T>(y);
    T* po = mdata<T>(gx);
    GilRelease release(size_of(gy));
    softmax_backward<T>(pg, pyv, po, s.outer, s.len, s.inner, log);
  });
  return gx;
}

}  // namespace

void bind_softmax(py::module_& m) {
  m.def("softmax",
        [](py::handle x, int axis, py::handle out) { return forward(false, x, axis, out); },
        py::arg("x"), py::arg("axis") = -1, py::arg("out") = py::none(),
        "exp(x - max) / sum(exp(x - max)) along axis.");
  m.def("log_softmax",
        [](py::handle x, int axis, py::handle out) { return forward(true, x, axis, out); },
        py::arg("x"), py::arg("axis") = -1, py::arg("out") = py::none(),
        "(x - max) - log(sum(exp(x - max))) along axis.");
  m.def("softmax_backward",
        [](py::handle gy, py::handle y, int axis, py::handle out) {
          return backward(false, gy, y, axis, out);
        },
        py::arg("grad_y"), py::arg("y"), py::arg("axis") = -1, py::arg("out") = py::none(),
        "grad_x = y * (grad_y - sum(grad_y * y, axis)) from the softmax output y.");
  m.def("log_softmax_backward",
        [](py::handle gy, py::handle y, int axis, py::handle out) {
          return backward(true, gy, y, axis, out);
        },
        py::arg("grad_y"), py::arg("y"), py::arg("axis") = -1, py::arg("out") = py::none(),
        "grad_x = grad_y - exp(y) * sum(grad_y, axis) from the log_softmax output y.");
}

}  // namespace nncore::bind
