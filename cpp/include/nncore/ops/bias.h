// Bias over the last axis of a channels-last array viewed as (rows, cols).
#pragma once
#include "nncore/common.h"

namespace nncore {

// y[r, c] = x[r, c] + b[c]; y may be x.
template <typename T>
void bias_add(const T* x, const T* b, T* y, index_t rows, index_t cols);

// gb[c] = sum_r gy[r, c], or gb[c] += that sum when `accumulate`. Rows are added in groups of 8
// in T, the group sums in double: error within a few eps of sum_r |gy[r, c]|.
template <typename T>
void bias_grad(const T* gy, T* gb, index_t rows, index_t cols, bool accumulate);

}  // namespace nncore
