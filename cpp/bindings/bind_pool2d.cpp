// Bindings of max / average / global-average pooling, forward and backward (NHWC).
// nncore.ops computes output sizes and padding; these re-check what memory safety depends on.
#include <pybind11/stl.h>

#include <array>
#include <cstdint>
#include <optional>

#include "bindings.h"
#include "nncore/ops/pool2d.h"
#include "validate.h"

namespace nncore::bind {

namespace {

using Pair = std::array<index_t, 2>;

void require_index_array(const py::array& a, const char* name) {
  require_int_dtype(a, 32, name);
  require_ndim(a, 4, name);
  require_contiguous(a, name);
}

// Max pooling stores and reads positions inside an image (pixel * channels + channel) as int32:
// an image of more elements could not be indexed (and would be written out of bounds).
void require_int32_positions(const py::array& image_like, const char* name, const char* what) {
  const index_t elements =
      static_cast<index_t>(image_like.shape(1)) * image_like.shape(2) * image_like.shape(3);
  if (elements > INT32_MAX)
    throw ShapeError(concat(what, ": '", name, "' with shape ", shape_str(image_like), " has ",
                            elements, " elements per image, more than int32 positions can index"));
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
        require_disjoint(y, "y", x, "x");
        const Pool2dGeometry g = geometry(x, "x", y, "y", pool, strides, pads);
        std::int32_t* am = nullptr;
        if (argmax) {
          require_index_array(*argmax, "argmax");
          require_writeable(*argmax, "argmax");
          if (argmax->shape(0) != y.shape(0) || argmax->shape(1) != y.shape(1) ||
              argmax->shape(2) != y.shape(2) || argmax->shape(3) != y.shape(3))
            throw ShapeError(concat("max_pool2d: 'argmax' must have the shape of 'y' ", shape_str(y),
                                    ", got ", shape_str(*argmax)));
          require_int32_positions(x, "x", "max_pool2d");
          require_disjoint(*argmax, "argmax", x, "x");
          require_disjoint(*argmax, "argmax", y, "y");
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
        require_ndim(x, 4, "x");
        // The argmax of each window is recomputed as int32 positions; checked before the layout
        // (no array of that size has to exist to be refused).
        require_int32_positions(x, "x", "max_pool2d_backward");
        require_float_array(dy, dt, "grad_y", "grad_y", 4);
        require_float_array(x, dt, "x", "grad_y", 4);
        require_float_array(dx, dt, "grad_x", "grad_y", 4);
        require_writeable(dx, "grad_x");
        require_shape(dx, {static_cast<index_t>(x.shape(0)), static_cast<index_t>(x.shape(1)),
                           static_cast<index_t>(x.shape(2)), static_cast<index_t>(x.shape(3))},
                      "grad_x");
        require_disjoint(dx, "grad_x", dy, "grad_y");
        require_disjoint(dx, "grad_x", x, "x");
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
      [](const py::array& dy, const py::array& argmax, py::array& dx, std::optional<Pair> pool,
         Pair strides, Pair pads) {
        const DType dt = dtype_of(dy, "grad_y");
        require_ndim(dx, 4, "grad_x");
        // int32 positions cannot address a larger image: no argmax for it can exist.
        require_int32_positions(dx, "grad_x", "max_pool2d_backward_argmax");
        require_float_array(dy, dt, "grad_y", "grad_y", 4);
        require_index_array(argmax, "argmax");
        require_float_array(dx, dt, "grad_x", "grad_y", 4);
        require_writeable(dx, "grad_x");
        require_disjoint(dx, "grad_x", dy, "grad_y");
        require_disjoint(dx, "grad_x", argmax, "argmax");
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
        std::optional<Pool2dGeometry> g;
        if (pool) g = geometry(dx, "grad_x", dy, "grad_y", *pool, strides, pads);
        bool ok = true;
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* pdy = cdata<T>(dy);
          const auto* pam = static_cast<const std::int32_t*>(argmax.data());
          T* pdx = mdata<T>(dx);
          py::gil_scoped_release release;
          ok = g ? max_pool2d_backward_argmax_windows<T>(*g, pdy, pam, pdx)
                 : max_pool2d_backward_argmax<T>(n, image, per_image, pdy, pam, pdx);
        });
        if (!ok)
          throw ShapeError(concat("max_pool2d_backward_argmax: 'argmax' holds indices outside ",
                                  g ? "their windows in" : "an", " an input of shape ", shape_str(dx),
                                  " (use the argmax returned by max_pool2d_with_argmax with the "
                                  "same pooling settings)"));
      },
      py::arg("grad_y"), py::arg("argmax"), py::arg("grad_x"), py::arg("pool_size") = py::none(),
      py::arg("strides") = Pair{1, 1}, py::arg("padding") = Pair{0, 0},
      "Gradient of max pooling routed through a stored argmax; written into grad_x. With the "
      "pooling geometry, windows that do not overlap are written in one pass.");

  m.def(
      "avg_pool2d_forward",
      [](const py::array& x, py::array& y, Pair pool, Pair strides, Pair pads) {
        const DType dt = dtype_of(x, "x");
        require_float_array(x, dt, "x", "x", 4);
        require_float_array(y, dt, "y", "x", 4);
        require_writeable(y, "y");
        require_disjoint(y, "y", x, "x");
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
        require_disjoint(dx, "grad_x", dy, "grad_y");
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
        const index_t n = x.shape(0), hw = x.shape(1) * x.shape(2), c = x.shape(3);
        require_shape(y, {n, c}, "y");
        require_disjoint(y, "y", x, "x");
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* px = cdata<T>(x);
          T* py_ = mdata<T>(y);
          py::gil_scoped_release release;
          global_avg_pool2d_forward<T>(n, hw, c, px, py_);
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
        const index_t n = dx.shape(0), hw = dx.shape(1) * dx.shape(2), c = dx.shape(3);
        require_shape(dy, {n, c}, "grad_y");
        require_disjoint(dx, "grad_x", dy, "grad_y");
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* pdy = cdata<T>(dy);
          T* pdx = mdata<T>(dx);
          py::gil_scoped_release release;
          global_avg_pool2d_backward<T>(n, hw, c, pdy, pdx);
        });
      },
      py::arg("grad_y"), py::arg("grad_x"), "grad_x[n, h, w, c] = grad_y[n, c] / (H * W).");
}

}  // namespace nncore::bind
