// Instruction-set paths: detected once at run time, overridable with NNCORE_ISA, switchable in tests.
#pragma once
#include <string>
#include <vector>

namespace nncore {

enum class Isa : int { generic = 0, avx2 = 1, avx512 = 2 };

const char* isa_name(Isa isa);
// Parses "generic" / "avx2" / "avx512"; throws std::invalid_argument for anything else.
Isa parse_isa(const std::string& name);
// The best path this CPU (and OS) supports.
Isa detected_isa();
bool isa_supported(Isa isa);
std::vector<Isa> supported_isas();
// The path in use: NNCORE_ISA if set (refused with an error when the CPU lacks it), else detected.
Isa active_isa();
// Switches the path for the whole process (tests compare every path with the generic one).
void set_active_isa(Isa isa);

}  // namespace nncore
