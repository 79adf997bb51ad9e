// Binding of the pool2d ops (registered by module.cpp).
#include "bindings.h"

namespace nncore::bind {

void bind_pool2d(pybind11::module_& m) { (void)m; }

}  // namespace nncore::bind
