// A module's tensors by their registered names, the names stored in model files.
#pragma once

#include <map>
#include <string>

#include <torch/torch.h>

namespace gm::nn {

using NamedTensors = std::map<std::string, torch::Tensor>;

NamedTensors parameters_of(const torch::nn::Module& module);
NamedTensors buffers_of(const torch::nn::Module& module);

// Copies tensors into the module's parameters (or buffers), checking that names and shapes
// match exactly; `where` names the source in errors.
void load_parameters(torch::nn::Module& module, const NamedTensors& tensors, const std::string& where);
void load_buffers(torch::nn::Module& module, const NamedTensors& tensors, const std::string& where);

}  // namespace gm::nn
