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
// Copies every parameter and buffer of `from` into the tensor of the same name and shape in
// `to`, which may have more (a network grown by an input); fails when one is missing.
void copy_matching(torch::nn::Module& to, const torch::nn::Module& from);

}  // namespace gm::nn
