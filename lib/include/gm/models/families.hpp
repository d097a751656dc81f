// The model families this build knows, for tools that handle model files without sampling them.
#pragma once

#include <string>

#include "gm/io/model_file.hpp"

namespace gm::models {

// Builds the model a file describes (config, network, every tensor set) and fails, naming
// `where`, when it cannot: an unknown family or architecture, a bad config, a missing or
// misshapen tensor.
void check_model_file(const io::ModelFile& file, const std::string& where);

}  // namespace gm::models
