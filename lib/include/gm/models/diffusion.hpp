// The diffusion model family: a denoiser network with EDM preconditioning, and its model-file
// form (family "diffusion"; consistency students reuse it).
#pragma once

#include <string>

#include "gm/io/model_file.hpp"
#include "gm/models/edm.hpp"
#include "gm/nn/noise_mlp.hpp"

namespace gm::models {

struct DiffusionModel {
  nn::NoiseMlp net{nullptr};
  EdmConfig edm;
  std::vector<std::int64_t> data_shape;
  // The sigmas (ending in 0) a progressively distilled student was trained to sample on with
  // Euler (DDIM) steps; empty for a model that samples on any Karras schedule.
  std::vector<double> grid;

  RawNet raw() const;
  Denoiser denoiser() const;
  nlohmann::json config() const;

  // Rebuilds the network from a model file of `family` (diffusion, or consistency for a distilled
  // student, which shares the network), with the EMA weights when `use_ema` and present.
  static DiffusionModel from_file(const io::ModelFile& file, const std::string& where, bool use_ema,
                                  const std::string& family = "diffusion");
};

}  // namespace gm::models
