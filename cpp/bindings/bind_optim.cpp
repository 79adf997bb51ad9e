// Bindings of the fused optimizer steps (in place on param and the optimizer state).
#include <cmath>

#include "bindings.h"
#include "nncore/ops/optimizer_steps.h"
#include "validate.h"

namespace nncore::bind {
namespace {

// The state array `name` (or null when None and optional): in place, same shape as param.
py::array state_array(py::handle obj, const char* name, DType dt, const py::array& param,
                      bool optional) {
  if (optional && obj.is_none()) return py::reinterpret_borrow<py::array>(py::handle());
  py::array a = inplace_array(obj, name, dt, "param");
  require_same_shape(a, param, name, "param");
  require_disjoint(a, name, param, "param");
  return a;
}

template <typename T>
T* opt_mdata(py::array& a) {
  return a ? static_cast<T*>(a.mutable_data()) : nullptr;
}

// param, grad and the state arrays must not share memory with each other.
void check_distinct(std::initializer_list<std::pair<const py::array*, const char*>> arrays) {
  for (auto i = arrays.begin(); i != arrays.end(); ++i)
    for (auto j = std::next(i); j != arrays.end(); ++j)
      if (*i->first && *j->first) require_disjoint(*i->first, i->second, *j->first, j->second);
}

}  // namespace

void bind_optim(py::module_& m) {
  m.def(
      "sgd_step",
      [](py::handle p_obj, py::handle g_obj, py::handle v_obj, double lr, double momentum,
         bool nesterov, double weight_decay) {
        if (!py::isinstance<py::array>(p_obj))
          throw std::invalid_argument("argument 'param' must be a NumPy array (updated in place)");
        DType dt;
        float_input(p_obj, "param", dt);
        py::array param = inplace_array(p_obj, "param", dt, "param");
        py::array grad = float_input(g_obj, "grad", dt, "param");
        require_same_shape(grad, param, "grad", "param");
        py::array vel = state_array(v_obj, "velocity", dt, param, true);
        check_distinct({{&param, "param"}, {&grad, "grad"}, {&vel, "velocity"}});
        const index_t n = size_of(param);
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          T* pp = mdata<T>(param);
          const T* pg = cdata<T>(grad);
          T* pv = opt_mdata<T>(vel);
          GilRelease release(n);
          sgd_step<T>(pp, pg, pv, n, lr, momentum, nesterov, weight_decay);
        });
      },
      py::arg("param"), py::arg("grad"), py::arg("velocity"), py::arg("lr"), py::arg("momentum"),
      py::arg("nesterov"), py::arg("weight_decay"), "One SGD update, in place (Keras 3 formula).");

  m.def(
      "adam_step",
      [](py::handle p_obj, py::handle g_obj, py::handle m_obj, py::handle v_obj,
         py::handle vhat_obj, double lr, double beta1, double beta2, double epsilon, double step,
         double weight_decay) {
        if (!py::isinstance<py::array>(p_obj))
          throw std::invalid_argument("argument 'param' must be a NumPy array (updated in place)");
        DType dt;
        float_input(p_obj, "param", dt);
        py::array param = inplace_array(p_obj, "param", dt, "param");
        py::array grad = float_input(g_obj, "grad", dt, "param");
        require_same_shape(grad, param, "grad", "param");
        py::array m_ = state_array(m_obj, "m", dt, param, false);
        py::array v = state_array(v_obj, "v", dt, param, false);
        py::array vhat = state_array(vhat_obj, "amsgrad_vhat", dt, param, true);
        check_distinct({{&param, "param"}, {&grad, "grad"}, {&m_, "m"}, {&v, "v"},
                        {&vhat, "amsgrad_vhat"}});
        const index_t n = size_of(param);
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          T* pp = mdata<T>(param);
          const T* pg = cdata<T>(grad);
          T *pm = mdata<T>(m_), *pv = mdata<T>(v), *pvh = opt_mdata<T>(vhat);
          GilRelease release(n);
          adam_step<T>(pp, pg, pm, pv, pvh, n, lr, beta1, beta2, epsilon, step, weight_decay);
        });
      },
      py::arg("param"), py::arg("grad"), py::arg("m"), py::arg("v"), py::arg("amsgrad_vhat"),
      py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("epsilon"), py::arg("step"),
      py::arg("weight_decay"), "One Adam / AdamW update, in place (Keras 3 formula).");

  m.def(
      "rmsprop_step",
      [](py::handle p_obj, py::handle g_obj, py::handle rms_obj, py::handle mom_obj,
         py::handle mg_obj, double lr, double rho, double momentum, double epsilon,
         double weight_decay) {
        if (!py::isinstance<py::array>(p_obj))
          throw std::invalid_argument("argument 'param' must be a NumPy array (updated in place)");
        DType dt;
        float_input(p_obj, "param", dt);
        py::array param = inplace_array(p_obj, "param", dt, "param");
        py::array grad = float_input(g_obj, "grad", dt, "param");
        require_same_shape(grad, param, "grad", "param");
        py::array rms = state_array(rms_obj, "rms", dt, param, false);
        py::array mom = state_array(mom_obj, "momentum_buf", dt, param, true);
        py::array mg = state_array(mg_obj, "mg", dt, param, true);
        check_distinct({{&param, "param"}, {&grad, "grad"}, {&rms, "rms"}, {&mom, "momentum_buf"},
                        {&mg, "mg"}});
        const index_t n = size_of(param);
        dispatch_dtype(dt, [&](auto tag) {
          using T = decltype(tag);
          T* pp = mdata<T>(param);
          const T* pg = cdata<T>(grad);
          T *pr = mdata<T>(rms), *pmo = opt_mdata<T>(mom), *pmg = opt_mdata<T>(mg);
          GilRelease release(n);
          rmsprop_step<T>(pp, pg, pr, pmo, pmg, n, lr, rho, momentum, epsilon, weight_decay);
        });
      },
      py::arg("param"), py::arg("grad"), py::arg("rms"), py::arg("momentum_buf"), py::arg("mg"),
      py::arg("lr"), py::arg("rho"), py::arg("momentum"), py::arg("epsilon"),
      py::arg("weight_decay"), "One RMSprop update, in place (Keras 3 formula).");
}

}  // namespace nncore::bind
