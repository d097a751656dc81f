#include "gm/distill/distill.hpp"

#include "gm/distill/consistency.hpp"
#include "gm/distill/lcm.hpp"
#include "gm/distill/progressive.hpp"

namespace gm::distill {

std::vector<cli::Verb> methods() { return {progressive_verb(), consistency_verb(), lcm_verb()}; }

}  // namespace gm::distill
