// Losses fused with their gradient for the training loop: one pass gives the loss, the
// probabilities and d(loss)/d(logits).
#pragma once
#include <cstdint>

#include "nncore/common.h"

namespace nncore {

// Softmax cross-entropy over rows of `cols` logits against target distributions (one-hot or any
// probabilities): loss_r = -sum_c t_c log softmax(x)_c, computed as sum_c t_c (lse - x_c) with
// lse = max + log sum exp(x - max) (stable for any finite logits; terms with t_c = 0 are skipped
// so -inf logits of absent classes are fine). probs = softmax(x);
// grad = grad_scale * (probs * sum_c t_c - t). Returns sum_r loss_r.
template <typename T>
double softmax_cross_entropy(const T* logits, const T* target, T* probs, T* grad, index_t rows,
                             index_t cols, double grad_scale);

// The same with integer class labels (0 <= label < cols, checked by the caller):
// loss_r = lse - x_label, grad = grad_scale * (probs - onehot(label)).
template <typename T>
double sparse_softmax_cross_entropy(const T* logits, const std::int64_t* labels, T* probs, T* grad,
                                    index_t rows, index_t cols, double grad_scale);

// Elementwise logistic loss of logits x against targets z in [0, 1]:
// loss = (1 - z) max(x, 0) + z max(-x, 0) + log(1 + exp(-|x|))  (= -z log p - (1-z) log(1-p)
// with p = sigmoid(x), without evaluating log p); probs = p; grad = grad_scale * (p - z).
// The first two terms are dropped when their weight is exactly 0, so x = +-inf with a matching
// 0/1 target gives a finite loss. Returns the sum of the losses.
template <typename T>
double sigmoid_binary_cross_entropy(const T* logits, const T* target, T* probs, T* grad, index_t n,
                                    double grad_scale);

}  // namespace nncore
