// Binding of the bias ops (registered by module.cpp).
#include "bindings.h"

namespace nncore::bind {

void bind_bias(pybind11::module_& m) { (void)m; }

}  // namespace nncore::bind
