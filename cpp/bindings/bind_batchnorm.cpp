// Bindings of batch normalization over the last axis: train (batch statistics), inference
// (moving statistics) and backward. gamma / beta may be None (scale 1 / offset 0).
#include <cmath>

#include "bindings.h"
#include "nncore/ops/batchnorm.h"
#include "validate.h"

namespace nncore::bind {
namespace {

index_t channels_of(const py::array& x, const char* name) {
  if (x.ndim() < 1)
    throw ShapeError(concat("argument '", name, "' must have at least 1 dimension, got shape ",
                            shape_str(x)));
  return x.shape(x.ndim() - 1);
}

// A per-channel vector (C,) of dtype dt, or a null handle (false in `if`) when None is allowed and
// given.
py::array channel_vector(py::handle obj, const char* name, DType dt, index_t c, bool optional,
                         const py::array& x, const char* x_name) {
  if (optional && obj.is_none()) return py::reinterpret_borrow<py::array>(py::handle());
  py::array v = float_input(obj, name, dt, x_name);
  if (v.ndim() != 1 || v.shape(0) != c)
    throw ShapeError(concat("argument '", name, "' must have shape (", c,
                            ",) to match the last axis of '", x_name, "' with shape ", shape_str(x),
                            ", got ", shape_str(v)));
  return v;
}

void check_epsilon(double eps) {
  if (!(eps > 0.0) || !std::isfinite(eps))
    throw std::invalid_argument(concat("epsilon must be a finite number > 0, got ", eps));
}

template <typename T>
const T* opt_data(const py::array& a) {
  return a ? static_cast<const T*>(a.data()) : nullptr;
}

}  // namespace

void bind_batchnorm(py::module_& m) {
  m.def(
      "batch_norm_train",
      [](py::handle x_obj, py::handle g_obj, py::handle b_obj, double eps, py::handle out_obj) {
        check_epsilon(eps);
        DType dt;
        py::array x = float_input(x_obj, "x", dt);
        const index_t c = channels_of(x, "x");
        py::array gamma = channel_vector(g_obj, "gamma", dt, c, true, x, "x");
        py::array beta = channel_vector(b_obj, "beta", dt, c, true, x, "x");
        auto outs = output_tuple(out_obj, 4, "y, mean, var, inv_std");
        py::array y = output_array(outs[0], dt, shape_of(x), "out[0] (y)");
        const std::vector<py::ssize_t> cshape{static_cast<py::ssize_t>(c)};
        py::array mean = output_array(outs[1], dt, cshape, "out[1] (mean)");
        py::array var = output_array(outs[2], dt, cshape, "out[2] (var)");
        py::array inv_std = output_array(outs[3], dt, cshape, "out[3] (inv_std)");
        require_disjoint(y, "out[0] (y)", x, "x", true);
        for (const py::array* s : {&mean, &var, &inv_std}) {
          require_disjoint(*s, "out (statistics)", x, "x");
          require_disjoint(*s, "out (statistics)", y, "y");
          if (gamma) require_disjoint(*s, "out (statistics)", gamma, "gamma");
          if (beta) require_disjoint(*s, "out (statistics)", beta, "beta");
        }
        require_disjoint(mean, "out[1] (mean)", var, "out[2] (var)");
        require_disjoint(mean, "out[1] (mean)", inv_std, "out[3] (inv_std)");
        require_disjoint(var, "out[2] (var)", inv_std, "out[3] (inv_std)");
        const index_t rows = c > 0 ? size_of(x) / c : 0;
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* px = cdata<T>(x);
          const T* pg = opt_data<T>(gamma);
          const T* pb = opt_data<T>(beta);
          T *py_ = mdata<T>(y), *pm = mdata<T>(mean), *pv = mdata<T>(var), *pi = mdata<T>(inv_std);
          GilRelease release(size_of(x));
          batch_norm_train<T>(px, pg, pb, eps, py_, pm, pv, pi, rows, c);
        });
        return py::make_tuple(y, mean, var, inv_std);
      },
      py::arg("x"), py::arg("gamma"), py::arg("beta"), py::arg("epsilon"),
      py::arg("out") = py::none(),
      "Batch norm with batch statistics over all axes but the last: (y, mean, var, inv_std).");

  m.def(
      "batch_norm_inference",
      [](py::handle x_obj, py::handle g_obj, py::handle b_obj, py::handle mm_obj, py::handle mv_obj,
         double eps, py::handle out_obj) {
        check_epsilon(eps);
        DType dt;
        py::array x = float_input(x_obj, "x", dt);
        const index_t c = channels_of(x, "x");
        py::array gamma = channel_vector(g_obj, "gamma", dt, c, true, x, "x");
        py::array beta = channel_vector(b_obj, "beta", dt, c, true, x, "x");
        py::array mm = channel_vector(mm_obj, "moving_mean", dt, c, false, x, "x");
        py::array mv = channel_vector(mv_obj, "moving_var", dt, c, false, x, "x");
        py::array y = output_array(out_obj, dt, shape_of(x), "out");
        require_disjoint(y, "out", x, "x", true);
        for (const py::array* p : {&gamma, &beta, &mm, &mv})
          if (*p) require_disjoint(y, "out", *p, "a per-channel argument");
        const index_t rows = c > 0 ? size_of(x) / c : 0;
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* px = cdata<T>(x);
          const T* pg = opt_data<T>(gamma);
          const T* pb = opt_data<T>(beta);
          const T* pmm = cdata<T>(mm);
          const T* pmv = cdata<T>(mv);
          T* py_ = mdata<T>(y);
          GilRelease release(size_of(x));
          batch_norm_inference<T>(px, pg, pb, pmm, pmv, eps, py_, rows, c);
        });
        return y;
      },
      py::arg("x"), py::arg("gamma"), py::arg("beta"), py::arg("moving_mean"),
      py::arg("moving_var"), py::arg("epsilon"), py::arg("out") = py::none(),
      "Batch norm with the moving statistics: gamma (x - mean) / sqrt(var + eps) + beta.");

  m.def(
      "batch_norm_backward",
      [](py::handle gy_obj, py::handle x_obj, py::handle g_obj, py::handle mean_obj,
         py::handle is_obj, py::handle out_obj, bool accumulate) {
        DType dt;
        py::array gy = float_input(gy_obj, "grad_y", dt);
        py::array x = float_input(x_obj, "x", dt, "grad_y");
        require_same_shape(gy, x, "grad_y", "x");
        const index_t c = channels_of(x, "x");
        py::array gamma = channel_vector(g_obj, "gamma", dt, c, true, x, "x");
        py::array mean = channel_vector(mean_obj, "batch_mean", dt, c, false, x, "x");
        py::array inv_std = channel_vector(is_obj, "inv_std", dt, c, false, x, "x");
        auto outs = output_tuple(out_obj, 3, "grad_x, grad_gamma, grad_beta");
        if (accumulate && (outs[1].is_none() || outs[2].is_none()))
          throw std::invalid_argument(
              "batch_norm_backward: accumulate=True needs out arrays for grad_gamma and grad_beta");
        py::array gx = output_array(outs[0], dt, shape_of(x), "out[0] (grad_x)");
        const std::vector<py::ssize_t> cshape{static_cast<py::ssize_t>(c)};
        py::array gg = output_array(outs[1], dt, cshape, "out[1] (grad_gamma)");
        py::array gb = output_array(outs[2], dt, cshape, "out[2] (grad_beta)");
        require_disjoint(gx, "out[0] (grad_x)", gy, "grad_y", true);
        require_disjoint(gx, "out[0] (grad_x)", x, "x", true);
        for (const py::array* p : {&gamma, &mean, &inv_std})
          if (*p) require_disjoint(gx, "out[0] (grad_x)", *p, "a per-channel argument");
        for (const py::array* o : {&gg, &gb}) {
          require_disjoint(*o, "out (parameter gradients)", gx, "grad_x");
          require_disjoint(*o, "out (parameter gradients)", gy, "grad_y");
          require_disjoint(*o, "out (parameter gradients)", x, "x");
          for (const py::array* p : {&gamma, &mean, &inv_std})
            if (*p)
              require_disjoint(*o, "out (parameter gradients)", *p, "a per-channel argument");
        }
        require_disjoint(gg, "out[1] (grad_gamma)", gb, "out[2] (grad_beta)");
        const index_t rows = c > 0 ? size_of(x) / c : 0;
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* pg = cdata<T>(gy);
          const T* px = cdata<T>(x);
          const T* pgam = opt_data<T>(gamma);
          const T* pm = cdata<T>(mean);
          const T* pis = cdata<T>(inv_std);
          T *pgx = mdata<T>(gx), *pgg = mdata<T>(gg), *pgb = mdata<T>(gb);
          GilRelease release(size_of(x));
          batch_norm_backward<T>(pg, px, pgam, pm, pis, pgx, pgg, pgb, rows, c, accumulate);
        });
        return py::make_tuple(gx, gg, gb);
      },
      py::arg("grad_y"), py::arg("x"), py::arg("gamma"), py::arg("batch_mean"), py::arg("inv_std"),
      py::arg("out") = py::none(), py::arg("accumulate") = false,
      "Gradients of batch_norm_train: (grad_x, grad_gamma, grad_beta).");
}

}  // namespace nncore::bind
