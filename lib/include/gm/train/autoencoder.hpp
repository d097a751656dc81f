// gm-train vae and gm-train vqvae: the conv autoencoders of images that latent diffusion and
// latent consistency models work in, and likelihood models in their own right.
#pragma once

#include "gm/cli/subcommands.hpp"
#include "gm/train/loop.hpp"

namespace gm::train {

// What both autoencoders share: the loop, the optimiser and the network's shape.
struct AutoencoderOptions {
  LoopOptions loop;
  double learning_rate = 1e-3;
  std::int64_t width = 32;
  std::string multipliers = "1,2,2";
  std::int64_t latent_channels = 4;
  void register_on(CLI::App& app);
};

struct VaeTrainOptions {
  AutoencoderOptions autoencoder;
  double kl_weight = 1;
  void register_on(CLI::App& app);
};

struct VqVaeTrainOptions {
  AutoencoderOptions autoencoder;
  std::int64_t codebook = 256;
  double commitment = 0.25;
  double codebook_decay = 0.99;
  double dead_threshold = 1;  // codes whose averaged cluster size falls below this restart
  void register_on(CLI::App& app);
};

void train_vae(const VaeTrainOptions& options, const Context& context);
void train_vqvae(const VqVaeTrainOptions& options, const Context& context);

cli::Verb vae_verb();
cli::Verb vqvae_verb();

}  // namespace gm::train
