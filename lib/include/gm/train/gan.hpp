// gm-train gan: a GAN, MLPs on vectors or DCGAN on images, with non-saturating or hinge loss, R1
// and PacGAN; class-conditional on labelled images.
#pragma once

#include "gm/cli/subcommands.hpp"
#include "gm/train/loop.hpp"

namespace gm::train {

struct GanTrainOptions {
  LoopOptions loop;
  double learning_rate = 1e-4;
  std::string loss = "ns";
  double r1 = 0;
  std::int64_t pack = 1;
  std::int64_t latent = 0;  // 0: 16 for the MLP, 64 for DCGAN
  std::string arch = "auto";
  std::int64_t hidden = 128;
  std::int64_t depth = 3;
  std::int64_t width = 64;  // DCGAN
  std::string conditional = "auto";

  void register_on(CLI::App& app);
};

void train_gan(const GanTrainOptions& options, const Context& context);

cli::Verb gan_verb();

}  // namespace gm::train
