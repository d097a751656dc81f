#include "gm/distill/distill.hpp"

#include "gm/distill/consistency.hpp"

namespace gm::distill {

// Methods add themselves here as they land (progressive, lcm).
std::vector<cli::Verb> methods() { return {consistency_verb()}; }

}  // namespace gm::distill
