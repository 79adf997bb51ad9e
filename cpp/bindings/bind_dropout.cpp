// Binding of the dropout ops (registered by module.cpp).
#include "bindings.h"

namespace nncore::bind {

void bind_dropout(pybind11::module_& m) { (void)m; }

}  // namespace nncore::bind
