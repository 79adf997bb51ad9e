// Binding of the activations ops (registered by module.cpp).
#include "bindings.h"

namespace nncore::bind {

void bind_activations(pybind11::module_& m) { (void)m; }

}  // namespace nncore::bind
