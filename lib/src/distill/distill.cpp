#include "gm/distill/distill.hpp"

namespace gm::distill {

// Methods add themselves here as they land (progressive, consistency, lcm).
std::vector<cli::Verb> methods() { return {}; }

}  // namespace gm::distill
