// gm-distill consistency: consistency distillation (Song et al. 2023) of an EDM teacher.
#pragma once

#include "gm/cli/subcommands.hpp"
#include "gm/train/loop.hpp"

namespace gm::distill {

struct ConsistencyOptions {
  std::string teacher;  // diffusion model file
  train::LoopOptions loop;
  double learning_rate = 1e-4;
  double target_ema = 0.95;  // mu of the target network theta^-
  train::EmaOptions ema;     // the weights sampled with
  int grid = 18;             // N: Karras discretisation of [sigma_min, sigma_max]
  double huber_c = 0;        // pseudo-Huber c; 0 picks 0.00054 sqrt(d) (iCT)

  void register_on(CLI::App& app);
};

void distill_consistency(const ConsistencyOptions& options, const Context& context);

cli::Verb consistency_verb();

}  // namespace gm::distill
