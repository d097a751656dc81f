// The diffusion model family: a denoiser network (MLP or UNet) with EDM preconditioning, and
// its model-file form (family "diffusion"; consistency students reuse it).
#pragma once

#include <string>

#include "gm/io/model_file.hpp"
#include "gm/models/data_info.hpp"
#include "gm/models/edm.hpp"
#include "gm/nn/denoiser.hpp"

namespace gm::models {

struct DiffusionModel {
  nn::Denoiser net;
  EdmConfig edm;
  DataInfo data;
  // The sigmas (ending in 0) a progressively distilled student was trained to sample on with
  // Euler (DDIM) steps; empty for a model that samples on any Karras schedule.
  std::vector<double> grid;

  // F(x, c_noise) for a batch with these labels (undefined: the "no label" token). With
  // guidance w != 0, classifier-free guidance (Ho & Salimans 2022):
  // (1 + w) F(x, c_noise, labels) - w F(x, c_noise, no label), both in one batched call. A
  // network that takes the guidance scale as an input (an LCM student) gets w instead.
  RawNet raw(const torch::Tensor& labels = {}, double guidance = 0) const;
  Denoiser denoiser(const torch::Tensor& labels = {}, double guidance = 0) const;
  nlohmann::json config() const;

  // Rebuilds the network from a model file of `family` (diffusion, or consistency for a distilled
  // student, which shares the network), with the EMA weights when `use_ema` and present.
  static DiffusionModel from_file(const io::ModelFile& file, const std::string& where, bool use_ema,
                                  const std::string& family = "diffusion");
};

}  // namespace gm::models
