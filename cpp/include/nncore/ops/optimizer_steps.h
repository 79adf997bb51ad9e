// Fused optimizer updates, in place over one flat parameter buffer, with the formulas of Keras 3
// (keras/src/optimizers/{sgd,adam,rmsprop}.py). Decoupled weight decay, when wd != 0, is applied
// first as Keras's base optimizer does: param -= lr * wd * param.
#pragma once
#include "nncore/common.h"

namespace nncore {

// velocity == nullptr: param -= lr * g. Otherwise (Keras's sign convention for the velocity):
//   velocity = momentum * velocity - lr * g
//   param += velocity                               (plain)
//   param += momentum * velocity - lr * g           (nesterov)
template <typename T>
void sgd_step(T* param, const T* grad, T* velocity, index_t n, double lr, double momentum,
              bool nesterov, double weight_decay);

// m += (g - m)(1 - beta1);  v += (g^2 - v)(1 - beta2);  vhat = max(vhat, v) when vhat != nullptr
// (AMSGrad) and used instead of v;  param -= m * alpha / (sqrt(v) + epsilon) with
// alpha = lr sqrt(1 - beta2^step) / (1 - beta1^step), step = 1 on the first update.
template <typename T>
void adam_step(T* param, const T* grad, T* m, T* v, T* vhat, index_t n, double lr, double beta1,
               double beta2, double epsilon, double step, double weight_decay);

// rms = rho rms + (1 - rho) g^2;  centered: mg = rho mg + (1 - rho) g, denom = rms - mg^2 + eps,
// else denom = rms + eps;  increment = lr g / sqrt(denom);
// momentum_buf == nullptr: param -= increment; else buf = momentum buf + increment, param -= buf.
template <typename T>
void rmsprop_step(T* param, const T* grad, T* rms, T* momentum_buf, T* mg, index_t n, double lr,
                  double rho, double momentum, double epsilon, double weight_decay);

}  // namespace nncore
