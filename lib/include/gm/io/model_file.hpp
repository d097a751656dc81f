// Model files (DESIGN §3): family, config, /params, /ema, /buffers and the /history curve.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "gm/base/context.hpp"
#include "gm/io/gmfile.hpp"

namespace gm::io {

struct ModelFile {
  std::string family;  // gan, diffusion, consistency, vae, vqvae, classifier
  nlohmann::json config;
  std::map<std::string, torch::Tensor> params, ema, buffers;
  std::map<std::string, torch::Tensor> history;  // curves over training: "step", "loss", ...
};

// Writes a complete model file to `target` ("-" for stdout), atomically.
void write_model(const std::string& target, const Context& context, const std::vector<nlohmann::json>& inputs,
                 const ModelFile& model);

// Reads a model file opened with open_gm; validates its layout.
ModelFile read_model(const Input& input);

}  // namespace gm::io
