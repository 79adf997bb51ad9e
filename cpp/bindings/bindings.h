// One registration function per op family (bind_<family>.inc, compiled together as bind_ops.cpp)
// and for the run-time facts (module.cpp); the module definition in module.cpp calls them all.
#pragma once
#include <pybind11/pybind11.h>

namespace nncore::bind {

void bind_runtime(pybind11::module_& m);
void bind_gemm(pybind11::module_& m);
void bind_conv2d(pybind11::module_& m);
void bind_pool2d(pybind11::module_& m);
void bind_activations(pybind11::module_& m);
void bind_softmax(pybind11::module_& m);
void bind_bias(pybind11::module_& m);
void bind_batchnorm(pybind11::module_& m);
void bind_dropout(pybind11::module_& m);
void bind_losses(pybind11::module_& m);
void bind_optim(pybind11::module_& m);

}  // namespace nncore::bind
