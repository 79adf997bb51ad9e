// Bindings of conv2d forward / backward-input / backward-weight / backward-bias (NHWC, HWIO).
// nncore.ops computes output sizes and padding; these re-check everything cheaply so that a direct
// call with inconsistent arguments raises instead of touching memory it should not.
#include <pybind11/stl.h>

#include <array>
#include <optional>

#include "bindings.h"
#include "nncore/ops/conv2d.h"
#include "validate.h"

namespace nncore::bind {

namespace {

using Pair = std::array<index_t, 2>;
using Pads = std::array<index_t, 4>;  // top, bottom, left, right

std::string tuple_str(std::initializer_list<index_t> v) {
  std::string s = "(";
  std::size_t i = 0;
  for (index_t e : v) s += (i++ ? ", " : "") + std::to_string(e);
  return s + ")";
}

// Geometry from an NHWC input shape, an HWIO weight shape and the layer settings; raises
// ShapeError naming both shapes when they do not fit together.
Conv2dGeometry geometry(const py::array& x_like, const char* x_name, const py::array& w, Pair strides,
                        Pads pads, Pair dilation) {
  Conv2dGeometry g;
  g.n = x_like.shape(0);
  g.h = x_like.shape(1);
  g.w = x_like.shape(2);
  g.cin = x_like.shape(3);
  g.kh = w.shape(0);
  g.kw = w.shape(1);
  g.cout = w.shape(3);
  g.stride_h = strides[0];
  g.stride_w = strides[1];
  g.dil_h = dilation[0];
  g.dil_w = dilation[1];
  g.pad_top = pads[0];
  g.pad_bottom = pads[1];
  g.pad_left = pads[2];
  g.pad_right = pads[3];
  if (w.shape(2) != g.cin)
    throw ShapeError(concat("conv2d: '", x_name, "' with shape ", shape_str(x_like), " has ", g.cin,
                            " channels but the kernel 'w' with shape ", shape_str(w), " expects ",
                            w.shape(2)));
  const std::string err = conv2d_fill_output_size(g);
  if (!err.empty())
    throw ShapeError(concat("conv2d: ", err, " ('", x_name, "' has shape ", shape_str(x_like),
                            ", 'w' has shape ", shape_str(w), ")"));
  return g;
}

void require_dy_shape(const py::array& dy, const Conv2dGeometry& g, const char* what) {
  if (dy.shape(0) != g.n || dy.shape(1) != g.out_h || dy.shape(2) != g.out_w || dy.shape(3) != g.cout)
    throw ShapeError(concat("conv2d: 'grad_y' has shape ", shape_str(dy), " but ", what,
                            " gives an output of shape ",
                            tuple_str({g.n, g.out_h, g.out_w, g.cout})));
}

}  // namespace

void bind_conv2d(py::module_& m) {
  m.def(
      "conv2d_forward",
      [](const py::array& x, const py::array& w, const std::optional<py::array>& bias, py::array& y,
         Pair strides, Pads pads, Pair dilation, bool relu) {
        const DType dt = dtype_of(x, "x");
        require_float_array(x, dt, "x", "x", 4);
        require_float_array(w, dt, "w", "x", 4);
        require_float_array(y, dt, "y", "x", 4);
        require_writeable(y, "y");
        const Conv2dGeometry g = geometry(x, "x", w, strides, pads, dilation);
        require_shape(y, {g.n, g.out_h, g.out_w, g.cout}, "y");
        if (bias) {
          require_float_array(*bias, dt, "bias", "x", 1);
          require_shape(*bias, {g.cout}, "bias");
          require_disjoint(y, "y", *bias, "bias");
        }
        require_disjoint(y, "y", x, "x");
        require_disjoint(y, "y", w, "w");
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* pb = bias ? cdata<T>(*bias) : nullptr;
          const T* px = cdata<T>(x);
          const T* pw = cdata<T>(w);
          T* py_ = mdata<T>(y);
          py::gil_scoped_release release;
          conv2d_forward<T>(g, px, pw, pb, py_, relu ? Conv2dActivation::relu : Conv2dActivation::none);
        });
      },
      py::arg("x"), py::arg("w"), py::arg("bias"), py::arg("y"), py::arg("strides"),
      py::arg("padding"), py::arg("dilation"), py::arg("relu"),
      "y = conv2d(x, w) + bias (then relu if asked), written into y. NHWC x, HWIO w; padding is "
      "(top, bottom, left, right).");

  m.def(
      "conv2d_backward_input",
      [](const py::array& dy, const py::array& w, py::array& dx, Pair strides, Pads pads,
         Pair dilation) {
        const DType dt = dtype_of(dy, "grad_y");
        require_float_array(dy, dt, "grad_y", "grad_y", 4);
        require_float_array(w, dt, "w", "grad_y", 4);
        require_float_array(dx, dt, "grad_x", "grad_y", 4);
        require_writeable(dx, "grad_x");
        const Conv2dGeometry g = geometry(dx, "grad_x", w, strides, pads, dilation);
        require_dy_shape(dy, g, "the input shape with this kernel");
        require_disjoint(dx, "grad_x", dy, "grad_y");
        require_disjoint(dx, "grad_x", w, "w");
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* pdy = cdata<T>(dy);
          const T* pw = cdata<T>(w);
          T* pdx = mdata<T>(dx);
          py::gil_scoped_release release;
          conv2d_backward_input<T>(g, pdy, pw, pdx);
        });
      },
      py::arg("grad_y"), py::arg("w"), py::arg("grad_x"), py::arg("strides"), py::arg("padding"),
      py::arg("dilation"), "Gradient of conv2d with respect to its input, written into grad_x.");

  m.def(
      "conv2d_backward_weight",
      [](const py::array& x, const py::array& dy, py::array& dw, Pair strides, Pads pads,
         Pair dilation, bool accumulate) {
        const DType dt = dtype_of(x, "x");
        require_float_array(x, dt, "x", "x", 4);
        require_float_array(dy, dt, "grad_y", "x", 4);
        require_float_array(dw, dt, "grad_w", "x", 4);
        require_writeable(dw, "grad_w");
        const Conv2dGeometry g = geometry(x, "x", dw, strides, pads, dilation);
        require_dy_shape(dy, g, "'x' with a kernel of the shape of 'grad_w'");
        require_disjoint(dw, "grad_w", x, "x");
        require_disjoint(dw, "grad_w", dy, "grad_y");
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* px = cdata<T>(x);
          const T* pdy = cdata<T>(dy);
          T* pdw = mdata<T>(dw);
          py::gil_scoped_release release;
          conv2d_backward_weight<T>(g, px, pdy, pdw, accumulate);
        });
      },
      py::arg("x"), py::arg("grad_y"), py::arg("grad_w"), py::arg("strides"), py::arg("padding"),
      py::arg("dilation"), py::arg("accumulate"),
      "Gradient of conv2d with respect to its HWIO kernel, written into (or added to) grad_w.");
}

}  // namespace nncore::bind
