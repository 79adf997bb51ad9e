// One registration function per binding file (bind_<family>.inc); module.cpp, which all of them are
// compiled into, calls them all.
#pragma once
#include <pybind11/pybind11.h>

namespace nncore::bind {

void bind_runtime(pybind11::module_& m);
void bind_gemm(pybind11::module_& m);
void bind_conv2d(pybind11::module_& m);
void bind_depthwise_conv2d(pybind11::module_& m);
void bind_pool2d(pybind11::module_& m);
void bind_activations(pybind11::module_& m);
void bind_add(pybind11::module_& m);
void bind_softmax(pybind11::module_& m);
void bind_bias(pybind11::module_& m);
void bind_batchnorm(pybind11::module_& m);
void bind_norm(pybind11::module_& m);
void bind_upsample(pybind11::module_& m);
void bind_dropout(pybind11::module_& m);
void bind_losses(pybind11::module_& m);
void bind_optim(pybind11::module_& m);

}  // namespace nncore::bind
