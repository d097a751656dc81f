// gm-distill progressive: progressive distillation (Salimans & Ho 2022) of an EDM teacher.
#pragma once

#include "gm/cli/subcommands.hpp"
#include "gm/train/loop.hpp"

namespace gm::distill {

struct ProgressiveOptions {
  std::string teacher;  // diffusion model file
  train::LoopOptions loop;  // --steps is the total over all rounds
  int from_steps = 64;      // the teacher's Euler (DDIM) steps in the first round
  int to_steps = 1;         // the final student's steps
  double learning_rate = 1e-4;
  train::EmaOptions ema;

  void register_on(CLI::App& app);
};

// The Euler (DDIM) grids of each round: from_steps, from_steps / 2, ... to_steps, each the
// even-indexed sigmas of the one before, starting from the Karras schedule.
std::vector<std::vector<double>> progressive_grids(int from_steps, int to_steps, double sigma_min, double sigma_max,
                                                   double rho);

void distill_progressive(const ProgressiveOptions& options, const Context& context);

cli::Verb progressive_verb();

}  // namespace gm::distill
