// gm-train diffusion: an EDM diffusion model (Karras et al. 2022) on vector data.
#pragma once

#include <cstdint>
#include <string>

#include "gm/base/context.hpp"
#include "gm/cli/subcommands.hpp"

namespace gm::train {

struct DiffusionTrainOptions {
  std::string data;    // dataset file with /x [N, D]
  std::string output;  // model file
  std::int64_t steps = 20000;
  std::int64_t batch = 512;
  double learning_rate = 1e-3;
  double ema_decay = 0.999;
  std::int64_t hidden = 256;
  std::int64_t depth = 3;
  std::int64_t checkpoint_every = 0;  // also write the model every N steps (0: only at the end)
  std::int64_t log_every = 100;       // steps per point of the /history curve

  void register_on(CLI::App& app);
};

void train_diffusion(const DiffusionTrainOptions& options, const Context& context);

cli::Verb diffusion_verb();

}  // namespace gm::train
