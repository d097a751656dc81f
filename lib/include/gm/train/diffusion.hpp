// gm-train diffusion: an EDM (Karras et al. 2022) or DDPM (Ho et al. 2020) diffusion model, an
// MLP on vectors or a UNet on images, optionally class-conditional with classifier-free guidance.
#pragma once

#include "gm/cli/subcommands.hpp"
#include "gm/train/loop.hpp"

namespace gm::train {

struct DiffusionTrainOptions {
  LoopOptions loop;
  std::string parametrisation = "edm";
  double learning_rate = 1e-3;
  EmaOptions ema;
  std::string arch = "auto";  // mlp, unet, or auto: unet for images, mlp for vectors
  std::int64_t hidden = 128;
  std::int64_t depth = 3;
  ConditioningOptions conditioning;
  UNetOptions unet;

  void register_on(CLI::App& app);
};

void train_diffusion(const DiffusionTrainOptions& options, const Context& context);

cli::Verb diffusion_verb();

}  // namespace gm::train
