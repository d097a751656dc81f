// gm-distill as a library: one verb per distillation method.
#pragma once

#include <vector>

#include "gm/cli/subcommands.hpp"

namespace gm::distill {

// The distillation methods this build has, as gm-distill verbs.
std::vector<cli::Verb> methods();

}  // namespace gm::distill
