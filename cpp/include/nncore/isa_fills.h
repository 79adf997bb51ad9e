// NNCORE_ISA_FILL(name, isa): the address of fill_<name>_<isa>, or nullptr in a build without the
// x86 kernels (what non-x86 targets compile), so that kernel registries name their fill functions
// once whatever the build.
#pragma once

#ifdef NNCORE_HAVE_X86_KERNELS
#define NNCORE_ISA_FILL(name, isa) (&::nncore::fill_##name##_##isa)
#else
#define NNCORE_ISA_FILL(name, isa) nullptr
#endif
