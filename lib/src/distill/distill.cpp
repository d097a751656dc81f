#include "gm/distill/distill.hpp"

#include "gm/distill/consistency.hpp"
#include "gm/distill/progressive.hpp"

namespace gm::distill {

// Methods add themselves here as they land (lcm).
std::vector<cli::Verb> methods() { return {progressive_verb(), consistency_verb()}; }

}  // namespace gm::distill
