// Every op binding, compiled as one translation unit. Each op family keeps its own file
// (bind_<family>.inc beside this one), but every translation unit that includes pybind11 compiles
// pybind11's own dispatch machinery again: about 4 s of the 5-7 s each family took as a file of
// its own, paid once here instead of ten times.
#include "bind_gemm.inc"
#include "bind_conv2d.inc"
#include "bind_pool2d.inc"
#include "bind_activations.inc"
#include "bind_softmax.inc"
#include "bind_bias.inc"
#include "bind_batchnorm.inc"
#include "bind_dropout.inc"
#include "bind_losses.inc"
#include "bind_optim.inc"
