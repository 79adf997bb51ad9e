// Bindings of max / average / global-average pooling, forward and backward (NHWC).
// nncore.ops computes output sizes and padding; these re-check what memory safety depends on.
#include <pybind11/stl.h>

#include <array>
#include <optional>

#include "bind_common.h"
#include "bindings.h"
#include "nncore/ops/pool2d.h"

namespace nncore::bind {

namespace {

using Pair = std::array<index_t, 2>;

void require_float_array(const py::array& a, DType dt, const char* name, const char* ref, int ndim) {
  require_dtype(a, dt, name, ref);
  require_ndim(a, ndim, name);
  require_contiguous(a, name);
}

void require_disjoint(const py::array& out, const py::array& in, const char* out_name,
                      const char* in_name) {
  if (out.nbytes() == 0 || in.nbytes() == 0) return;
  const auto* o = static_cast<const char*>(out.data());
  const auto* i = static_cast<const char*>(in.data());
  if (o < i + in.nbytes() && i < o + out.nbytes())
    throw std::invalid_argument(
        concat("argument '", out_name, "' must not share memory with '", in_name, "'"));
}

void require_index_array(const py::array& a, const char* name) {
  if (!a.dtype().is(py::dtype::of<std::int32_t>()))
    throw DTypeError(concat("argument '", name, "' must be int32, got ", std::string(py::str(a.dtype()))));
  require_ndim(a, 4, name);
  require_contiguous(a, name);
}

// Geometry of x (N, H, W, C) pooled into y_like (N, OH, OW, C).
Pool2dGeometry geometry(const py::array& x_like, const char* x_name, const py::array& y_like,
                        const char* y_name, Pair pool, Pair strides, Pair pads) {
  Pool2dGeometry g;
  g.n = x_like.shape(0);
  g.h = x_like.shape(1);
  g.w = x_like.shape(2);
  g.c = x_like.shape(3);
  g.pool_h = pool[0];
  g.pool_w = pool[1];
  g.stride_h = strides[0];
  g.stride_w = strides[1];
  g.pad_top = pads[0];
  g.pad_left = pads[1];
  g.out_h = y_like.shape(1);
  g.out_w = y_like.shape(2);
  if (y_like.shape(0) != g.n || y_like.shape(3) != g.c)
    throw ShapeError(concat("pool2d: '", y_name, "' with shape ", shape_str(y_like),
                            " does not match '", x_name, "' with shape ", shape_str(x_like),
                            " in batch size and channels"));
  const std::string err = pool2d_check(g);
  if (!err.empty())
    throw ShapeError(concat("pool2d: ", err, " ('", x_name, "' has shape ", shape_str(x_like), ", '",
                            y_name, "' has shape ", shape_str(y_like), ")"));
  return g;
}

}  // namespace

void bind_pool2d(py::module_& m) {
  m.def(
      "max_pool2d_forward",
      [](const py::array& x, py::array& y, std::optional<py::array> argmax, Pair pool, Pair strides,
         Pair pads) {
        const DType dt = dtype_of(x, "x");
        require_float_array(x, dt, "x", "x", 4);
        require_float_array(y, dt, "y", "x", 4);
        require_writeable(y, "y");
        require_disjoint(y, x, "y", "x");
        const Pool2dGeometry g = geometry(x, "x", y, "y", pool, strides, pads);
        std::int32_t* am = nullptr;
        if (argmax) {
          require_index_array(*argmax, "argmax");
          require_writeable(*argmax, "argmax");
          if (argmax->shape(0) != y.shape(0) || argmax->shape(1) != y.shape(1) ||
              argmax->shape(2) != y.shape(2) || argmax->shape(3) != y.shape(3))
            throw ShapeError(concat("max_pool2d: 'argmax' must have the shape of 'y' ", shape_str(y),
                                    ", got ", shape_str(*argmax)));
          if (g.h * g.w * g.c > INT32_MAX)
            throw ShapeError(concat("max_pool2d: an image of shape ", shape_str(x),
                                    " has too many elements for int32 argmax indices"));
          require_disjoint(*argmax, x, "argmax", "x");
          require_disjoint(*argmax, y, "argmax", "y");
          am = static_cast<std::int32_t*>(argmax->mutable_data());
        }
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* px = cdata<T>(x);
          T* py_ = mdata<T>(y);
          py::gil_scoped_release release;
          max_pool2d_forward<T>(g, px, py_, am);
        });
      },
      py::arg("x"), py::arg("y"), py::arg("argmax"), py::arg("pool_size"), py::arg("strides"),
      py::arg("padding"),
      "y = max over windows (padding = (top, left)); argmax (int32, shape of y) or None.");

  m.def(
      "max_pool2d_backward",
      [](const py::array& dy, const py::array& x, py::array& dx, Pair pool, Pair strides, Pair pads) {
        const DType dt = dtype_of(dy, "grad_y");
        require_float_array(dy, dt, "grad_y", "grad_y", 4);
        require_float_array(x, dt, "x", "grad_y", 4);
        require_float_array(dx, dt, "grad_x", "grad_y", 4);
        require_writeable(dx, "grad_x");
        require_shape(dx, {static_cast<index_t>(x.shape(0)), static_cast<index_t>(x.shape(1)),
                           static_cast<index_t>(x.shape(2)), static_cast<index_t>(x.shape(3))},
                      "grad_x");
        require_disjoint(dx, dy, "grad_x", "grad_y");
        require_disjoint(dx, x, "grad_x", "x");
        const Pool2dGeometry g = geometry(x, "x", dy, "grad_y", pool, strides, pads);
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* pdy = cdata<T>(dy);
          const T* px = cdata<T>(x);
          T* pdx = mdata<T>(dx);
          py::gil_scoped_release release;
          max_pool2d_backward<T>(g, pdy, px, pdx);
        });
      },
      py::arg("grad_y"), py::arg("x"), py::arg("grad_x"), py::arg("pool_size"), py::arg("strides"),
      py::arg("padding"), "Gradient of max pooling, argmax recomputed from x; written into grad_x.");

  m.def(
      "max_pool2d_backward_argmax",
      [](const py::array& dy, const py::array& argmax, py::array& dx) {
        const DType dt = dtype_of(dy, "grad_y");
        require_float_array(dy, dt, "grad_y", "grad_y", 4);
        require_index_array(argmax, "argmax");
        require_float_array(dx, dt, "grad_x", "grad_y", 4);
        require_writeable(dx, "grad_x");
        require_disjoint(dx, dy, "grad_x", "grad_y");
        require_disjoint(dx, argmax, "grad_x", "argmax");
        for (int i = 0; i < 4; ++i)
          if (argmax.shape(i) != dy.shape(i))
            throw ShapeError(concat("max_pool2d_backward_argmax: 'argmax' has shape ",
                                    shape_str(argmax), " but 'grad_y' has shape ", shape_str(dy)));
        if (dx.shape(0) != dy.shape(0) || dx.shape(3) != dy.shape(3))
          throw ShapeError(concat("max_pool2d_backward_argmax: 'grad_y' with shape ", shape_str(dy),
                                  " does not match the input shape ", shape_str(dx),
                                  " in batch size and channels"));
        const index_t n = dx.shape(0);
        const index_t image = dx.shape(1) * dx.shape(2) * dx.shape(3);
        const index_t per_image = dy.shape(1) * dy.shape(2) * dy.shape(3);
        bool ok = true;
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* pdy = cdata<T>(dy);
          const auto* pam = static_cast<const std::int32_t*>(argmax.data());
          T* pdx = mdata<T>(dx);
          py::gil_scoped_release release;
          ok = max_pool2d_backward_argmax<T>(n, image, per_image, pdy, pam, pdx);
        });
        if (!ok)
          throw ShapeError(concat("max_pool2d_backward_argmax: 'argmax' holds indices outside an "
                                  "input image of shape ", shape_str(dx), " (flat index per image "
                                  "expected, as returned by max_pool2d_with_argmax)"));
      },
      py::arg("grad_y"), py::arg("argmax"), py::arg("grad_x"),
      "Gradient of max pooling routed through a stored argmax; written into grad_x.");

  m.def(
      "avg_pool2d_forward",
      [](const py::array& x, py::array& y, Pair pool, Pair strides, Pair pads) {
        const DType dt = dtype_of(x, "x");
        require_float_array(x, dt, "x", "x", 4);
        require_float_array(y, dt, "y", "x", 4);
        require_writeable(y, "y");
        require_disjoint(y, x, "y", "x");
        const Pool2dGeometry g = geometry(x, "x", y, "y", pool, strides, pads);
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* px = cdata<T>(x);
          T* py_ = mdata<T>(y);
          py::gil_scoped_release release;
          avg_pool2d_forward<T>(g, px, py_);
        });
      },
      py::arg("x"), py::arg("y"), py::arg("pool_size"), py::arg("strides"), py::arg("padding"),
      "y = mean over the input elements of each window (padding = (top, left)).");

  m.def(
      "avg_pool2d_backward",
      [](const py::array& dy, py::array& dx, Pair pool, Pair strides, Pair pads) {
        const DType dt = dtype_of(dy, "grad_y");
        require_float_array(dy, dt, "grad_y", "grad_y", 4);
        require_float_array(dx, dt, "grad_x", "grad_y", 4);
        require_writeable(dx, "grad_x");
        require_disjoint(dx, dy, "grad_x", "grad_y");
        const Pool2dGeometry g = geometry(dx, "grad_x", dy, "grad_y", pool, strides, pads);
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* pdy = cdata<T>(dy);
          T* pdx = mdata<T>(dx);
          py::gil_scoped_release release;
          avg_pool2d_backward<T>(g, pdy, pdx);
        });
      },
      py::arg("grad_y"), py::arg("grad_x"), py::arg("pool_size"), py::arg("strides"),
      py::arg("padding"), "Gradient of average pooling, written into grad_x.");

  m.def(
      "global_avg_pool2d_forward",
      [](const py::array& x, py::array& y) {
        const DType dt = dtype_of(x, "x");
        require_float_array(x, dt, "x", "x", 4);
        require_float_array(y, dt, "y", "x", 2);
        require_writeable(y, "y");
        require_shape(y, {static_cast<index_t>(x.shape(0)), static_cast<index_t>(x.shape(3))}, "y");
        require_disjoint(y, x, "y", "x");
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* px = cdata<T>(x);
          T* py_ = mdata<T>(y);
          py::gil_scoped_release release;
          global_avg_pool2d_forward<T>(x.shape(0), x.shape(1) * x.shape(2), x.shape(3), px, py_);
        });
      },
      py::arg("x"), py::arg("y"), "y[n, c] = mean of x[n, :, :, c].");

  m.def(
      "global_avg_pool2d_backward",
      [](const py::array& dy, py::array& dx) {
        const DType dt = dtype_of(dy, "grad_y");
        require_float_array(dy, dt, "grad_y", "grad_y", 2);
        require_float_array(dx, dt, "grad_x", "grad_y", 4);
        require_writeable(dx, "grad_x");
        require_shape(dy, {static_cast<index_t>(dx.shape(0)), static_cast<index_t>(dx.shape(3))}, "grad_y");
        require_disjoint(dx, dy, "grad_x", "grad_y");
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* pdy = cdata<T>(dy);
          T* pdx = mdata<T>(dx);
          py::gil_scoped_release release;
          global_avg_pool2d_backward<T>(dx.shape(0), dx.shape(1) * dx.shape(2), dx.shape(3), pdy, pdx);
        });
      },
      py::arg("grad_y"), py::arg("grad_x"), "grad_x[n, h, w, c] = grad_y[n, c] / (H * W).");
}

}  // namespace nncore::bind
