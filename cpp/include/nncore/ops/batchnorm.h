// Batch normalization over the last axis (channels-last (rows, cols): NHWC or (N, C)), the
// seeds' algorithm 1: per channel, mu = mean, var = biased variance, y = gamma (x - mu) /
// sqrt(var + eps) + beta. gamma / beta may be null (scale 1 / shift 0).
#pragma once
#include "nncore/common.h"

namespace nncore {

// An activation applied by the batch norm itself (a BatchNormalization layer followed by ReLU or
// ReLU6): the output is written once, and the backward pass applies the activation's mask, which
// it recomputes from x, while it takes the channel sums.
enum class BnAct { none, relu, relu6 };

// Writes y and the per-channel mean, var (biased, divided by rows) and inv_std = 1/sqrt(var+eps).
// y may be x. With rows == 0 the statistics are NaN (0/0) and nothing else is written.
// With act, y = act(batch norm); the per-channel scale is gamma * inv_std with inv_std rounded to T
// first, so that the backward pass recomputes the same pre-activation from (x, mean, inv_std).
template <typename T>
void batch_norm_train(const T* x, const T* gamma, const T* beta, double epsilon, T* y, T* mean,
                      T* var, T* inv_std, index_t rows, index_t cols, BnAct act = BnAct::none);

// y = gamma (x - moving_mean) / sqrt(moving_var + eps) + beta; y may be x.
template <typename T>
void batch_norm_inference(const T* x, const T* gamma, const T* beta, const T* moving_mean,
                          const T* moving_var, double epsilon, T* y, index_t rows, index_t cols);

// With xhat = (x - mean) inv_std and m = rows:
//   grad_beta  = sum gy,  grad_gamma = sum gy xhat,
//   grad_x     = gamma inv_std (gy - grad_beta / m - xhat grad_gamma / m).
// grad_gamma / grad_beta are added to (accumulate) or overwritten. grad_x may be gy or x.
// With act, gy is the gradient of act(batch norm) and beta the forward's; gy is masked by act'
// first.
template <typename T>
void batch_norm_backward(const T* gy, const T* x, const T* gamma, const T* mean, const T* inv_std,
                         T* grad_x, T* grad_gamma, T* grad_beta, index_t rows, index_t cols,
                         bool accumulate, BnAct act = BnAct::none, const T* beta = nullptr);

}  // namespace nncore
