// What the checkpoint formats of other tools hold: named tensors and string metadata. safetensors
// and PyTorch .pt files both read into and write from it.
#pragma once

#include <map>
#include <string>

#include <torch/types.h>

namespace gm::io {

struct TensorFile {
  std::map<std::string, torch::Tensor> tensors;
  std::map<std::string, std::string> metadata;  // gm's root attributes, when gm wrote the file
};

}  // namespace gm::io
