// The elementwise kernel set, filled from the loops in eltwise/. Each
// cpp/kernels/<isa>/eltwise_kernels.cpp includes this file and compiles it with its own flags;
// everything has internal linkage so the copies never mix (see gemm_kernel.h for what goes wrong
// otherwise).
#pragma once
#include "nncore/kernels/eltwise/activation_loops.h"
#include "nncore/kernels/eltwise/channel_loops.h"
#include "nncore/kernels/eltwise/dropout_loops.h"
#include "nncore/kernels/eltwise/loss_loops.h"
#include "nncore/kernels/eltwise/optimizer_loops.h"
#include "nncore/kernels/eltwise/softmax_loops.h"
#include "nncore/kernels/eltwise/sum_loops.h"
#include "nncore/kernels/eltwise_kernel.h"

namespace nncore {
namespace {

template <typename T, class F>
void set_activation(ActivationKernels<T>& k, Activation a) {
  const int i = static_cast<int>(a);
  k.forward[i] = &activation_forward_loop<T, F>;
  k.backward[i] = &activation_backward_loop<T, F>;
  k.backward_from_output[i] = nullptr;
}

template <typename T, class F>
void set_activation_with_output_grad(ActivationKernels<T>& k, Activation a) {
  set_activation<T, F>(k, a);
  k.backward_from_output[static_cast<int>(a)] = &activation_backward_from_output_loop<T, F>;
}

template <typename T>
void fill_eltwise_kernels_for(EltwiseKernels<T>& k) {
  set_activation_with_output_grad<T, ReluFn>(k.act, Activation::relu);
  set_activation_with_output_grad<T, Relu6Fn>(k.act, Activation::relu6);
  set_activation<T, LeakyReluFn>(k.act, Activation::leaky_relu);
  set_activation_with_output_grad<T, EluFn>(k.act, Activation::elu);
  set_activation_with_output_grad<T, SeluFn>(k.act, Activation::selu);
  set_activation_with_output_grad<T, SigmoidFn>(k.act, Activation::sigmoid);
  set_activation<T, HardSigmoidFn>(k.act, Activation::hard_sigmoid);
  set_activation_with_output_grad<T, TanhFn>(k.act, Activation::tanh);
  set_activation<T, SoftplusFn>(k.act, Activation::softplus);
  set_activation<T, SoftsignFn>(k.act, Activation::softsign);
  set_activation_with_output_grad<T, ExponentialFn>(k.act, Activation::exponential);
  set_activation<T, SwishFn>(k.act, Activation::swish);
  set_activation<T, GeluFn>(k.act, Activation::gelu);
  set_activation<T, GeluTanhFn>(k.act, Activation::gelu_tanh);
  set_activation<T, ThresholdedReluFn>(k.act, Activation::thresholded_relu);
  set_activation<T, HeavisideFn>(k.act, Activation::heaviside);
  k.sum.add = &add_loop<T>;
  k.sum.add_clamp = &add_clamp_loop<T>;
  k.softmax_rows = &softmax_rows_loop<T>;
  k.softmax_xent = &softmax_xent_loop<T>;
  k.sigmoid_xent = &sigmoid_xent_loop<T>;
  k.mask_scale = &mask_scale_loop<T>;
  k.optim.sgd = &sgd_loop<T>;
  k.optim.adam = &adam_loop<T>;
  k.optim.rmsprop = &rmsprop_loop<T>;
  k.channel.sum = &channel_sum_loop<T>;
  k.channel.sum_fast = &channel_sum_fast_loop<T>;
  k.channel.sum_sq_dev = &channel_sum_sq_dev_loop<T>;
  k.channel.sum_shifted_sq = &channel_sum_shifted_sq_loop<T>;
  k.channel.sum_grad_dev = &channel_sum_grad_dev_loop<T>;
  k.channel.add = &channel_add_loop<T>;
  k.channel.affine = &channel_affine_loop<T>;
  k.channel.grad_affine = &channel_grad_affine_loop<T>;
  k.channel.affine_act = &channel_affine_act_loop<T>;
  k.channel.sum_grad_dev_act = &channel_sum_grad_dev_act_loop<T>;
  k.channel.grad_affine_act = &channel_grad_affine_act_loop<T>;
}

inline void fill_eltwise_kernels_impl(EltwiseKernelSet& set) {
  fill_eltwise_kernels_for(set.f32);
  fill_eltwise_kernels_for(set.f64);
  set.dropout_mask = &dropout_mask_loop;
}

}  // namespace
}  // namespace nncore
