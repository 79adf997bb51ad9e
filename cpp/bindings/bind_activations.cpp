// Bindings of the activations: <name>(x, [params,] out), <name>_backward(grad_y, x, [params,] out)
// and <name>_backward_from_output(grad_y, y, [params,] out) where that exists.
#include "bindings.h"
#include "nncore/ops/activations.h"
#include "validate.h"

namespace nncore::bind {
namespace {

py::array forward(Activation a, py::handle x_obj, double p0, double p1, py::handle out_obj) {
  DType dt;
  py::array x = float_input(x_obj, "x", dt);
  py::array y = output_array(out_obj, dt, shape_of(x), "out");
  require_disjoint(y, "out", x, "x", true);
  const index_t n = size_of(x);
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    const T* px = cdata<T>(x);
    T* py_ = mdata<T>(y);
    GilRelease release(n);
    activation_forward<T>(a, px, py_, n, static_cast<T>(p0), static_cast<T>(p1));
  });
  return y;
}

// `second` is x (backward) or y (backward_from_output).
py::array backward(Activation a, bool from_output, py::handle gy_obj, py::handle second_obj,
                   double p0, double p1, py::handle out_obj) {
  const char* second_name = from_output ? "y" : "x";
  DType dt;
  py::array gy = float_input(gy_obj, "grad_y", dt);
  py::array second = float_input(second_obj, second_name, dt, "grad_y");
  require_same_shape(gy, second, "grad_y", second_name);
  py::array gx = output_array(out_obj, dt, shape_of(gy), "out");
  require_disjoint(gx, "out", gy, "grad_y", true);
  require_disjoint(gx, "out", second, second_name, true);
  const index_t n = size_of(gy);
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    const T* pg = cdata<T>(gy);
    const T* ps = cdata<T>(second);
    T* po = mdata<T>(gx);
    GilRelease release(n);
    if (from_output)
      activation_backward_from_output<T>(a, pg, ps, po, n, static_cast<T>(p0), static_cast<T>(p1));
    else
      activation_backward<T>(a, pg, ps, po, n, static_cast<T>(p0), static_cast<T>(p1));
  });
  return gx;
}

struct Entry {
  const char* name;
  Activation act;
  const char* param;  // name of p0, or nullptr for none
};

void define(py::module_& m, const Entry& e) {
  const Activation a = e.act;
  const std::string name = e.name;
  const std::string doc_fwd = "y = " + name + "(x) into out (a new array when None).";
  const std::string doc_bwd = "grad_x = grad_y * " + name + "'(x).";
  const std::string doc_bwo =
      "grad_x = grad_y * " + name + "'(x), computed from y = " + name + "(x).";
  const bool from_y = has_backward_from_output(a);
  if (e.param) {
    m.def(
        e.name,
        [a](py::handle x, double p, py::handle out) { return forward(a, x, p, 0.0, out); },
        py::arg("x"), py::arg(e.param), py::arg("out") = py::none(), doc_fwd.c_str());
    m.def((name + "_backward").c_str(),
          [a](py::handle gy, py::handle x, double p, py::handle out) {
            return backward(a, false, gy, x, p, 0.0, out);
          },
          py::arg("grad_y"), py::arg("x"), py::arg(e.param), py::arg("out") = py::none(),
          doc_bwd.c_str());
    if (from_y)
      m.def((name + "_backward_from_output").c_str(),
            [a](py::handle gy, py::handle y, double p, py::handle out) {
              return backward(a, true, gy, y, p, 0.0, out);
            },
            py::arg("grad_y"), py::arg("y"), py::arg(e.param), py::arg("out") = py::none(),
            doc_bwo.c_str());
  } else {
    m.def(e.name, [a](py::handle x, py::handle out) { return forward(a, x, 0.0, 0.0, out); },
          py::arg("x"), py::arg("out") = py::none(), doc_fwd.c_str());
    m.def((name + "_backward").c_str(),
          [a](py::handle gy, py::handle x, py::handle out) {
            return backward(a, false, gy, x, 0.0, 0.0, out);
          },
          py::arg("grad_y"), py::arg("x"), py::arg("out") = py::none(), doc_bwd.c_str());
    if (from_y)
      m.def((name + "_backward_from_output").c_str(),
            [a](py::handle gy, py::handle y, py::handle out) {
              return backward(a, true, gy, y, 0.0, 0.0, out);
            },
            py::arg("grad_y"), py::arg("y"), py::arg("out") = py::none(), doc_bwo.c_str());
  }
}

}  // namespace

void bind_activations(py::module_& m) {
  const Entry entries[] = {
      {"relu", Activation::relu, nullptr},
      {"relu6", Activation::relu6, nullptr},
      {"leaky_relu", Activation::leaky_relu, "negative_slope"},
      {"elu", Activation::elu, "alpha"},
      {"selu", Activation::selu, nullptr},
      {"sigmoid", Activation::sigmoid, nullptr},
      {"hard_sigmoid", Activation::hard_sigmoid, nullptr},
      {"tanh", Activation::tanh, nullptr},
      {"softplus", Activation::softplus, nullptr},
      {"softsign", Activation::softsign, nullptr},
      {"exponential", Activation::exponential, nullptr},
      {"swish", Activation::swish, nullptr},
      {"gelu", Activation::gelu, nullptr},
      {"gelu_tanh", Activation::gelu_tanh, nullptr},
      {"thresholded_relu", Activation::thresholded_relu, "theta"},
      {"heaviside", Activation::heaviside, nullptr},
  };
  for (const Entry& e : entries) define(m, e);
}

}  // namespace nncore::bind
