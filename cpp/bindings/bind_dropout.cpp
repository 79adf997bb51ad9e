// Bindings of dropout: the forward pass returns (y, mask) with mask a bool array; the backward
// pass takes that mask back.
#include <cstdint>

#include "bindings.h"
#include "nncore/ops/dropout.h"
#include "validate.h"

namespace nncore::bind {
namespace {

void check_rate(double rate) {
  if (!(rate >= 0.0 && rate < 1.0))
    throw std::invalid_argument(concat("dropout rate must be in [0, 1), got ", rate));
}

constexpr int kNpyBool = 0, kNpyUint8 = 2;

}  // namespace

void bind_dropout(py::module_& m) {
  m.def(
      "dropout",
      [](py::handle x_obj, double rate, std::uint64_t seed, py::handle out_obj) {
        check_rate(rate);
        DType dt;
        py::array x = float_input(x_obj, "x", dt);
        auto outs = output_tuple(out_obj, 2, "y, mask");
        py::array y = output_array(outs[0], dt, shape_of(x), "out[0] (y)");
        py::array mask;
        if (outs[1].is_none()) {
          mask = py::array(py::dtype("bool"), shape_of(x));
        } else {
          if (!py::isinstance<py::array>(outs[1]))
            throw std::invalid_argument("out[1] (mask) must be a NumPy bool array or None");
          mask = py::reinterpret_borrow<py::array>(outs[1]);
          if (mask.dtype().num() != kNpyBool)
            throw DTypeError(concat("out[1] (mask) must have dtype bool, got ",
                                    std::string(py::str(mask.dtype()))));
          require_same_shape(mask, x, "out[1] (mask)", "x");
          require_contiguous(mask, "out[1] (mask)");
          require_writeable(mask, "out[1] (mask)");
        }
        require_disjoint(y, "out[0] (y)", x, "x", true);
        require_disjoint(mask, "out[1] (mask)", x, "x");
        require_disjoint(mask, "out[1] (mask)", y, "out[0] (y)");
        const index_t n = size_of(x);
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* px = cdata<T>(x);
          T* py_ = mdata<T>(y);
          auto* pm = static_cast<std::uint8_t*>(mask.mutable_data());
          GilRelease release(n);
          dropout_forward<T>(px, py_, pm, n, rate, seed);
        });
        return py::make_tuple(y, mask);
      },
      py::arg("x"), py::arg("rate"), py::arg("seed"), py::arg("out") = py::none(),
      "Inverted dropout: (y = x * mask / (1 - rate), mask); mask depends only on (seed, index).");

  m.def(
      "dropout_backward",
      [](py::handle gy_obj, py::handle mask_obj, double rate, py::handle out_obj) {
        check_rate(rate);
        DType dt;
        py::array gy = float_input(gy_obj, "grad_y", dt);
        if (!py::isinstance<py::array>(mask_obj))
          throw DTypeError("argument 'mask' must be the bool array returned by dropout");
        auto mask = py::reinterpret_borrow<py::array>(mask_obj);
        const int num = mask.dtype().num();
        if (num != kNpyBool && num != kNpyUint8)
          throw DTypeError(concat("argument 'mask' must have dtype bool or uint8, got ",
                                  std::string(py::str(mask.dtype()))));
        require_same_shape(mask, gy, "mask", "grad_y");
        mask = contiguous(std::move(mask), "mask");
        py::array gx = output_array(out_obj, dt, shape_of(gy), "out");
        require_disjoint(gx, "out", gy, "grad_y", true);
        require_disjoint(gx, "out", mask, "mask");
        const index_t n = size_of(gy);
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          const T* pg = cdata<T>(gy);
          const auto* pm = static_cast<const std::uint8_t*>(mask.data());
          T* po = mdata<T>(gx);
          GilRelease release(n);
          dropout_backward<T>(pg, pm, po, n, rate);
        });
        return gx;
      },
      py::arg("grad_y"), py::arg("mask"), py::arg("rate"), py::arg("out") = py::none(),
      "grad_x = grad_y * mask / (1 - rate).");
}

}  // namespace nncore::bind
