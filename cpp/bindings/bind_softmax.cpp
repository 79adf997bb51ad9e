// Binding of the softmax ops (registered by module.cpp).
#include "bindings.h"

namespace nncore::bind {

void bind_softmax(pybind11::module_& m) { (void)m; }

}  // namespace nncore::bind
