// Bindings of the fused losses: (mean loss, probabilities, d(mean loss)/d(logits)).
#include <cstdint>
#include <limits>

#include "bindings.h"
#include "nncore/ops/losses.h"
#include "validate.h"

namespace nncore::bind {
namespace {

struct LossOutputs {
  py::array probs, grad;
};

LossOutputs loss_outputs(py::handle out_obj, DType dt, const py::array& logits,
                         std::initializer_list<const py::array*> inputs) {
  auto outs = output_tuple(out_obj, 2, "probs, grad");
  LossOutputs o{output_array(outs[0], dt, shape_of(logits), "out[0] (probs)"),
                output_array(outs[1], dt, shape_of(logits), "out[1] (grad)")};
  for (const py::array* in : inputs) {
    require_disjoint(o.probs, "out[0] (probs)", *in, "an input");
    require_disjoint(o.grad, "out[1] (grad)", *in, "an input");
  }
  require_disjoint(o.probs, "out[0] (probs)", o.grad, "out[1] (grad)");
  return o;
}

index_t classes_of(const py::array& logits) {
  if (logits.ndim() < 1)
    throw ShapeError(concat("argument 'logits' must have at least 1 dimension (classes last), got "
                            "shape ", shape_str(logits)));
  return logits.shape(logits.ndim() - 1);
}

}  // namespace

void bind_losses(py::module_& m) {
  m.def(
      "softmax_cross_entropy",
      [](py::handle x_obj, py::handle t_obj, py::handle out_obj) {
        DType dt;
        py::array logits = float_input(x_obj, "logits", dt);
        py::array target = float_input(t_obj, "y_true", dt, "logits");
        require_same_shape(logits, target, "logits", "y_true");
        const index_t cols = classes_of(logits);
        LossOutputs o = loss_outputs(out_obj, dt, logits, {&logits, &target});
        const index_t rows = cols > 0 ? size_of(logits) / cols : 0;
        double total = 0.0;
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* px = cdata<T>(logits);
          const T* pt = cdata<T>(target);
          T *pp = mdata<T>(o.probs), *pg = mdata<T>(o.grad);
          GilRelease release(size_of(logits));
          total = softmax_cross_entropy<T>(px, pt, pp, pg, rows, cols, rows > 0 ? 1.0 / rows : 0.0);
        });
        const double mean = rows > 0 ? total / rows : std::numeric_limits<double>::quiet_NaN();
        return py::make_tuple(mean, o.probs, o.grad);
      },
      py::arg("logits"), py::arg("y_true"), py::arg("out") = py::none(),
      "Mean softmax cross-entropy over all rows, softmax(logits) and d(mean)/d(logits).");

  m.def(
      "sparse_softmax_cross_entropy",
      [](py::handle x_obj, py::handle l_obj, py::handle out_obj) {
        DType dt;
        py::array logits = float_input(x_obj, "logits", dt);
        const index_t cols = classes_of(logits);
        if (!py::isinstance<py::array>(l_obj))
          throw DTypeError("argument 'labels' must be an int64 array");
        auto labels = py::reinterpret_borrow<py::array>(l_obj);
        require_int_dtype(labels, 64, "labels");
        const index_t rows = cols > 0 ? size_of(logits) / cols : 0;
        // Same leading shape as logits (classes dropped), optionally with a trailing 1.
        bool ok = labels.ndim() == logits.ndim() - 1 ||
                  (labels.ndim() == logits.ndim() && labels.shape(labels.ndim() - 1) == 1);
        for (py::ssize_t i = 0; ok && i < logits.ndim() - 1; ++i)
          ok = labels.shape(i) == logits.shape(i);
        if (!ok)
          throw ShapeError(concat("argument 'labels' must have the shape of 'logits' without its ",
                                  "last axis, got labels ", shape_str(labels), " for logits ",
                                  shape_str(logits)));
        labels = contiguous(std::move(labels), "labels");
        const auto* pl = static_cast<const std::int64_t*>(labels.data());
        for (index_t r = 0; r < rows; ++r)
          if (pl[r] < 0 || pl[r] >= cols)
            throw std::invalid_argument(concat("labels[", r, "] = ", pl[r],
                                               " is out of range for ", cols, " classes (0..",
                                               cols - 1, ")"));
        LossOutputs o = loss_outputs(out_obj, dt, logits, {&logits, &labels});
        double total = 0.0;
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* px = cdata<T>(logits);
          T *pp = mdata<T>(o.probs), *pg = mdata<T>(o.grad);
          GilRelease release(size_of(logits));
          total = sparse_softmax_cross_entropy<T>(px, pl, pp, pg, rows, cols,
                                                  rows > 0 ? 1.0 / rows : 0.0);
        });
        const double mean = rows > 0 ? total / rows : std::numeric_limits<double>::quiet_NaN();
        return py::make_tuple(mean, o.probs, o.grad);
      },
      py::arg("logits"), py::arg("labels"), py::arg("out") = py::none(),
      "Mean softmax cross-entropy against int64 labels, softmax(logits) and d(mean)/d(logits).");

  m.def(
      "sigmoid_binary_cross_entropy",
      [](py::handle x_obj, py::handle t_obj, py::handle out_obj) {
        DType dt;
        py::array logits = float_input(x_obj, "logits", dt);
        py::array target = float_input(t_obj, "y_true", dt, "logits");
        require_same_shape(logits, target, "logits", "y_true");
        LossOutputs o = loss_outputs(out_obj, dt, logits, {&logits, &target});
        const index_t n = size_of(logits);
        double total = 0.0;
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* px = cdata<T>(logits);
          const T* pt = cdata<T>(target);
          T *pp = mdata<T>(o.probs), *pg = mdata<T>(o.grad);
          GilRelease release(n);
          total = sigmoid_binary_cross_entropy<T>(px, pt, pp, pg, n, n > 0 ? 1.0 / n : 0.0);
        });
        const double mean = n > 0 ? total / n : std::numeric_limits<double>::quiet_NaN();
        return py::make_tuple(mean, o.probs, o.grad);
      },
      py::arg("logits"), py::arg("y_true"), py::arg("out") = py::none(),
      "Mean logistic loss over all elements, sigmoid(logits) and d(mean)/d(logits).");
}

}  // namespace nncore::bind
