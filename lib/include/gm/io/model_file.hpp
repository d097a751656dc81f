// Model files (DESIGN §3): family, config, /params, /ema, /buffers and the /history curve.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "gm/base/context.hpp"
#include "gm/io/gmfile.hpp"
#include "gm/io/tensor_file.hpp"

namespace gm::io {

struct ModelFile {
  std::string family;  // gan, diffusion, consistency, vae, vqvae, classifier
  nlohmann::json config;
  std::map<std::string, torch::Tensor> params, ema, buffers;
  std::map<std::string, torch::Tensor> history;  // curves over training: "step", "loss", ...
  std::map<std::string, torch::Tensor> resume;   // a checkpoint's optimiser, RNG and data-order state
};

// Writes a complete model file to `target` ("-" for stdout), atomically.
void write_model(const std::string& target, const Context& context, const std::vector<nlohmann::json>& inputs,
                 const ModelFile& model);

// Reads a model file opened with open_gm; validates its layout.
ModelFile read_model(const Input& input);

// A model as named tensors for safetensors or .pt: "params/NAME", "ema/NAME", "buffers/NAME",
// "history/NAME" (the HDF5 paths), and as metadata the root attributes `stamp`, family and config.
TensorFile model_to_tensor_file(const ModelFile& model, std::map<std::string, std::string> stamp);
// The model that a file gm wrote holds; fails, naming `where`, on any other file.
ModelFile model_from_tensor_file(const TensorFile& file, const std::string& where);

}  // namespace gm::io
