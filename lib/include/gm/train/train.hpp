// gm-train as a library: one verb per trainable model family.
#pragma once

#include <vector>

#include "gm/cli/subcommands.hpp"

namespace gm::train {

// The model families this build can train, as gm-train verbs.
std::vector<cli::Verb> families();

}  // namespace gm::train
