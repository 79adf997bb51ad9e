// Binding of the batchnorm ops (registered by module.cpp).
#include "bindings.h"

namespace nncore::bind {

void bind_batchnorm(pybind11::module_& m) { (void)m; }

}  // namespace nncore::bind
