// gm-train gan: a GAN on vector data, with non-saturating or hinge loss, R1 and PacGAN.
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
  std::int64_t latent = 16;
  std::int64_t hidden = 128;
  std::int64_t depth = 3;

  void register_on(CLI::App& app);
};

void train_gan(const GanTrainOptions& options, const Context& context);

cli::Verb gan_verb();

}  // namespace gm::train
