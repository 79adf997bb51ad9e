// The sum of two arrays of one shape, optionally followed by ReLU or ReLU6: a residual block's add
// and the activation after it in one pass over memory.
#pragma once
#include "nncore/common.h"

namespace nncore {

enum class AddAct { none, relu, relu6 };

// y = act(a + b) over n contiguous elements; y may be a or b (in place), threads split the range.
template <typename T>
void add_act(const T* a, const T* b, T* y, index_t n, AddAct act);

}  // namespace nncore
